"""The low findings of issue 11: path ids past 32 bits, loose booleans, the audit API's error
format, read-only roles sharing camera layouts, clear passwords in ``cameras`` rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from dashboard.config import VideoConfig
from dashboard.domain.roles import Role
from dashboard.storage.models import Camera, CameraLayout
from streams.capture.registry import load_cameras
from tests.integration.test_api_support import (
    Api,
    apps_fixture,  # noqa: F401 - the fixture lite_api and the apps it shares
    case_body,
    lite_api_fixture,  # noqa: F401
)


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_path_ids_beyond_32_bits_are_a_json_404(lite_api: Api, big: int) -> None:
    desk = lite_api.token(Role.COMMANDER, "desk")
    for method, path in (
        ("GET", f"/api/v1/cases/{big}"),
        ("POST", f"/api/v1/cases/{big}/actions"),
        ("POST", f"/api/v1/supervision/calls/{big}/log"),
        ("PUT", f"/api/v1/camera-layouts/{big}"),
    ):
        response = lite_api.request(method, path, json={"action": "accept"}, headers=desk)
        assert response.status_code == 404, (method, path, response.data[:200])
        assert response.json["error"] == "not_found"


@pytest.mark.parametrize("value", ["yes", "true", 1, "1", None])
def test_emergency_is_a_strict_boolean(lite_api: Api, value: object) -> None:
    phone = lite_api.token(Role.GRID_WORKER, "phone")
    body = case_body(lite_api, emergency=value)
    response = lite_api.post("/api/v1/cases", json=body, headers=phone)
    assert response.status_code == 422 and response.json["field"] == "emergency", response.json
    form = {**case_body(lite_api), "emergency": "yes"}
    assert lite_api.post("/api/v1/cases", data=form, headers=phone).status_code == 422
    assert lite_api.counts()["cases"] == 0
    ok = lite_api.post("/api/v1/cases", json=case_body(lite_api, emergency=False), headers=phone)
    assert ok.status_code == 201 and ok.json["emergency"] is False


def test_the_audit_api_answers_errors_in_json(lite_api: Api) -> None:
    admin = lite_api.token(Role.ADMIN, "admin-script")
    for query in (
        "since=9999-12-31T23:59:59-14:00",
        "until=0001-01-01T00:00:00%2B14:00",
        "since=not-a-time",
        "limit=0",
        "action=%00",  # a NUL reached PostgreSQL: a 500 (found by test_api_fuzz)
    ):
        response = lite_api.get(f"/api/v1/audit?{query}", headers=admin)
        assert response.status_code == 422, (query, response.data[:200])
        assert response.mimetype == "application/json" and response.json["field"]
    denied = lite_api.get("/api/v1/audit", headers=lite_api.token(Role.WALL, "screen"))
    assert denied.status_code == 403 and denied.json["error"] == "forbidden"


@pytest.fixture
def layouts(lite_api: Api) -> Iterator[Api]:
    yield lite_api
    with lite_api.services.db.transaction() as session:
        session.execute(delete(CameraLayout))


@pytest.mark.parametrize("role", [Role.WALL, Role.LEADER])
def test_read_only_roles_keep_own_layouts_but_share_none(layouts: Api, role: Role) -> None:
    token = layouts.token(role, f"{role}-screen")
    body = {"name": "大屏", "columns": 2, "rows": 2, "camera_ids": []}
    shared = layouts.post("/api/v1/camera-layouts", json=body | {"shared": True}, headers=token)
    assert shared.status_code == 403 and shared.json["error"] == "forbidden"
    own = layouts.post("/api/v1/camera-layouts", json=body, headers=token)
    assert own.status_code == 201, own.json
    path = f"/api/v1/camera-layouts/{own.json['id']}"
    assert (
        layouts.request("PUT", path, json=body | {"shared": True}, headers=token).status_code == 403
    )
    desk = layouts.token(Role.COMMANDER, "desk")
    body = body | {"name": "指挥大屏", "shared": True}
    assert layouts.post("/api/v1/camera-layouts", json=body, headers=desk).status_code == 201


def test_a_cameras_row_with_a_clear_password_is_not_loaded(lite_api: Api) -> None:
    village = lite_api.grid(0).village_code
    rows = {
        "CAM-CLEAR": "rtsp://admin:12345@10.0.0.8/main",
        "CAM-ENV": "rtsp://${CAM_USER}:${CAM_PASS}@10.0.0.9/main",
    }
    with lite_api.services.db.transaction() as session:
        for cid, url in rows.items():
            session.add(
                Camera(
                    id=cid,
                    name=cid,
                    lon=120.2,
                    lat=29.7,
                    village_code=village,
                    kind="road",
                    stream_url=url,
                )
            )
    try:
        cameras = load_cameras(lite_api.services.db, VideoConfig())
        assert "CAM-ENV" in cameras and "CAM-CLEAR" not in cameras
    finally:
        with lite_api.services.db.transaction() as session:
            session.execute(delete(Camera).where(Camera.id.in_(list(rows))))
