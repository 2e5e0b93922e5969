"""POST /api/v1/cases/{id}/actions: the state machine over HTTP, with roles, scope and errors."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.domain.roles import Role
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    case_body,
    image,
    lite_api_fixture,  # noqa: F401
)


def _new_case(api: Api) -> int:
    response = api.post("/api/v1/cases", json=case_body(api), headers=api.token(Role.GRID_WORKER))
    assert response.status_code == 201
    return int((response.json or {})["id"])


def _act(api: Api, case_id: int, role: Role, action: str, **fields: Any) -> Any:
    return api.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"action": action, **fields},
        headers=api.token(role, f"{role.value}-actor"),
    )


def test_the_closed_loop_over_http(api: Api) -> None:
    case_id = _new_case(api)
    steps: list[tuple[Role, str, dict[str, Any]]] = [
        (Role.DISPATCHER, "accept", {}),
        (Role.COMMANDER, "register", {"note": "立案"}),
        (Role.DISPATCHER, "dispatch", {}),
        (Role.DEPARTMENT, "start", {}),
    ]
    for role, action, fields in steps:
        response = _act(api, case_id, role, action, **fields)
        assert response.status_code == 200, response.json
    registered = (response.json or {})["deadline"]
    assert registered is not None and (response.json or {})["category"] == "01002"

    department = api.token(Role.DEPARTMENT, "dept-justice")
    upload = api.post(
        f"/api/v1/cases/{case_id}/attachments",
        data={"photos": [(image(seed=11), "result.jpg")]},
        headers=department,
    )
    photo = (upload.json or {})["attachments"]
    handled = _act(api, case_id, Role.DEPARTMENT, "handled", attachments=photo)
    assert handled.status_code == 200 and (handled.json or {})["status"] == "handled"
    for role, action, fields in [
        (Role.GRID_WORKER, "check_pass", {}),
        (Role.COMMANDER, "close", {}),
        (Role.INTEGRATION, "evaluate", {"satisfaction": 5}),
    ]:
        response = _act(api, case_id, role, action, **fields)
        assert response.status_code == 200, response.json
    assert (response.json or {})["status"] == "evaluated"

    detail = api.get(f"/api/v1/cases/{case_id}", headers=api.token(Role.DISPATCHER)).json or {}
    assert [h["action"] for h in detail["history"]] == [
        "report", "accept", "register", "dispatch", "start", "handled", "check_pass", "close",
        "evaluate",
    ]  # fmt: skip
    assert detail["history"][5]["attachments"] == photo
    assert detail["history"][2]["role"] == "commander"
    assert detail["open"] is False and detail["light"] is None


def test_a_registered_case_shows_its_light(lite_api: Api) -> None:
    api = lite_api
    case_id = _new_case(api)
    _act(api, case_id, Role.DISPATCHER, "accept")
    _act(api, case_id, Role.COMMANDER, "register")
    detail = api.get(f"/api/v1/cases/{case_id}", headers=api.token(Role.DISPATCHER)).json or {}
    assert detail["light"] == "green" and detail["department"] == "justice"
    assert detail["department_name"]["en"]


def test_an_illegal_step_is_409_with_the_domain_code(api: Api) -> None:
    case_id = _new_case(api)
    before = api.counts()
    response = _act(api, case_id, Role.COMMANDER, "close")
    assert response.status_code == 409
    assert (response.json or {})["error"] == "illegal_transition"
    assert "cannot close a case that is reported" in (response.json or {})["message"]
    assert api.counts() == before


def test_a_step_missing_what_it_needs_is_409(lite_api: Api) -> None:
    api = lite_api
    case_id = _new_case(api)
    response = _act(api, case_id, Role.COMMANDER, "void")  # void needs a reason
    assert response.status_code == 409 and (response.json or {})["error"] == "reason_required"


def test_a_role_that_may_not_take_the_step_is_403(lite_api: Api) -> None:
    api = lite_api
    case_id = _new_case(api)
    before = api.counts()
    response = _act(api, case_id, Role.GRID_WORKER, "dispatch", department="justice")
    assert response.status_code == 403 and (response.json or {})["error"] == "forbidden"
    wall = api.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"action": "accept"},
        headers=api.token(Role.WALL),
    )
    assert wall.status_code == 403
    assert api.counts() == before


def test_an_unknown_case_is_404(lite_api: Api) -> None:
    response = _act(lite_api, 424242, Role.DISPATCHER, "accept")
    assert response.status_code == 404 and (response.json or {})["error"] == "case_not_found"


def test_a_case_outside_the_area_is_404(lite_api: Api) -> None:
    api = lite_api
    case_id = _new_case(api)
    other_village = next(
        api.grid(i).village_code
        for i in range(90)
        if api.grid(i).village_code != api.grid(0).village_code
    )
    area_desk = api.token(Role.DISPATCHER, "desk-elsewhere", area=other_village)
    response = api.post(
        f"/api/v1/cases/{case_id}/actions", json={"action": "accept"}, headers=area_desk
    )
    assert response.status_code == 404


BAD_ACTIONS: list[tuple[str, dict[str, Any], str, str]] = [
    # (what, body, error code, field)
    ("unknown action", {"action": "teleport"}, "invalid_field", "action"),
    ("rating out of range", {"action": "evaluate", "satisfaction": 7}, "invalid_field",
     "satisfaction"),
    ("rating not a number", {"action": "evaluate", "satisfaction": True}, "invalid_field",
     "satisfaction"),
    ("naive deadline", {"action": "extend", "deadline": "2026-12-01T09:00:00"}, "invalid_field",
     "deadline"),
    ("unknown department", {"action": "dispatch", "department": "nasa"}, "unknown_department",
     "department"),
    ("photo of no case", {"action": "handled", "attachments": ["f" * 64]}, "unknown_attachment",
     "attachments"),
    ("misspelt field", {"action": "accept", "notes": "x"}, "invalid_field", "notes"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code", "field"), [b[1:] for b in BAD_ACTIONS], ids=[b[0] for b in BAD_ACTIONS]
)
def test_a_bad_field_is_422_and_changes_nothing(
    lite_api: Api, body: dict[str, Any], code: str, field: str
) -> None:
    api = lite_api
    case_id = _new_case(api)
    before = api.counts()
    response = api.post(
        f"/api/v1/cases/{case_id}/actions", json=body, headers=api.token(Role.ADMIN)
    )
    assert response.status_code == 422
    assert (response.json or {})["error"] == code and (response.json or {})["field"] == field
    assert api.counts() == before


def test_a_malformed_action_body_is_400(lite_api: Api) -> None:
    api = lite_api
    case_id = _new_case(api)
    response = api.post(
        f"/api/v1/cases/{case_id}/actions", data=b"accept", headers=api.token(Role.ADMIN)
    )
    assert response.status_code == 400 and (response.json or {})["error"] == "malformed_json"
