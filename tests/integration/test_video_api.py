"""The camera API against a real capture process (``run.py capture``, synthetic cameras).

The web app is the real one in-process (the security tests' ``secure`` app, on SQLite and
PostgreSQL) with its ``services.capture`` pointed at the capture process of this module,
which reads the seeded town's SQLite database (both backends hold the same seeded cameras). One
camera row carries a credentialed RTSP URL to nowhere (``LEAKY_URL``): it must never show up in
any answer, header or log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import cv2
import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from werkzeug.test import TestResponse

from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.services.cases import CaseReport
from dashboard.storage.models import Attachment, Camera, CameraLayout, Grid
from streams.capture.client import CaptureClient
from tests.integration import test_security_support as support
from tests.integration.live_helpers import free_port, wait_until
from tests.integration.support import SeededTown
from tests.integration.test_security_support import SecureApp
from tests.integration.video_helpers import (
    CAPTURE_SECRET,
    LEAKY_ID,
    LEAKY_PASSWORD,
    CaptureProcess,
    leaky_camera,
    running_capture,
)

_secure_apps, secure, lite_secure = support._secure_apps, support.secure, support.lite_secure

SECRETS = (LEAKY_PASSWORD, "rtsp://", "stream1", "synthetic:")


@pytest.fixture(scope="module")
def capture(
    _town_sqlite: SeededTown, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CaptureProcess]:
    db = _town_sqlite.db
    with leaky_camera(db, _first_village(db)):
        url = db.engine.url.render_as_string(hide_password=False)
        with running_capture(tmp_path_factory.mktemp("capture"), url) as process:
            yield process


# CaptureClient keeps a keep-alive connection per thread that only the end of the process
# closes: one client for the whole run (never dropped) keeps those from being garbage-collected
# open inside a test, which pytest would report as a ResourceWarning.
_CLIENTS: dict[str, CaptureClient] = {}


def _client_for(capture: CaptureProcess) -> CaptureClient:
    if capture.url not in _CLIENTS:
        _CLIENTS[capture.url] = CaptureClient([capture.url], CAPTURE_SECRET)
    return _CLIENTS[capture.url]


@pytest.fixture
def video(secure: SecureApp, capture: CaptureProcess) -> Iterator[Video]:
    """The app on each backend with the capture process."""
    yield from _video(secure, capture)


@pytest.fixture
def lite_video(lite_secure: SecureApp, capture: CaptureProcess) -> Iterator[Video]:
    """The same on SQLite alone (what the backend cannot change; offline cameras are slow)."""
    yield from _video(lite_secure, capture)


def _video(app: SecureApp, capture: CaptureProcess) -> Iterator[Video]:
    services = app.services
    before = services.capture
    services.capture = _client_for(capture)
    with ExitStack() as stack:
        if app.backend != "sqlite":  # the SQLite town has it already (the capture fixture)
            stack.enter_context(leaky_camera(services.db, _first_village(services.db)))
        try:
            yield Video(app, capture)
        finally:
            services.capture = before
            with services.db.transaction() as session:
                session.execute(delete(CameraLayout))


def _first_village(db: Any) -> str:
    with db.read() as session:
        return str(session.scalar(select(Camera.village_code).order_by(Camera.id).limit(1)))


class Video:
    """The app, the capture process, and every answer seen (for the leak check)."""

    def __init__(self, app: SecureApp, capture: CaptureProcess) -> None:
        self.app = app
        self.capture = capture
        self.seen: list[TestResponse] = []
        self.tokens: dict[str, str] = {}

    def token(self, role: Role = Role.ADMIN, area: str | None = None) -> str:
        key = f"{role.value}-{area or 'all'}"
        if key not in self.tokens:
            self.tokens[key] = self.app.token(role, f"video-{key}", area_code=area)
        return self.tokens[key]

    def get(self, path: str, role: Role = Role.ADMIN, area: str | None = None) -> TestResponse:
        auth = {"Authorization": f"Bearer {self.token(role, area)}"}
        response = self.app.client().get(path, headers=auth)
        self.seen.append(response)
        return response

    def send(
        self, method: str, path: str, body: Any, role: Role = Role.ADMIN, area: str | None = None
    ) -> TestResponse:
        auth = {"Authorization": f"Bearer {self.token(role, area)}"}
        response = self.app.client().open(path, method=method, json=body, headers=auth)
        self.seen.append(response)
        return response

    def cameras(self, query: str = "", **kwargs: Any) -> list[dict[str, Any]]:
        response = self.get(f"/api/v1/cameras{query}", **kwargs)
        assert response.status_code == 200, response.get_json()
        return list(response.get_json()["cameras"])

    def camera_ids(self, village_prefix: str = "") -> list[str]:
        with self.app.services.db.read() as session:
            query = select(Camera.id).where(Camera.stream_url == "synthetic:")
            query = query.where(Camera.village_code.startswith(village_prefix))
            return list(session.scalars(query.order_by(Camera.id)))

    def report_case(self, index: int = 0) -> tuple[int, Grid]:
        with self.app.services.db.read() as session:
            grid = session.scalars(select(Grid).order_by(Grid.code).offset(index).limit(1)).one()
        record = self.app.services.cases.report(
            CaseReport(
                "01002", "视频核查", grid.lon, grid.lat, Source.GRID_WORKER, "gw", Role.GRID_WORKER
            )
        )
        return record.id, grid


def _leaks(response: TestResponse) -> list[str]:
    text = response.get_data(as_text=False).decode("latin-1")
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return [s for s in SECRETS if s in text or s in headers]


def _places(cameras: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(c["id"], c["distance_m"]) for c in cameras]


def _decodes(jpeg: bytes) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a decodable JPEG"
    return int(image.shape[1]), int(image.shape[0])


# --- the directory ------------------------------------------------------------------------------


def test_the_list_merges_the_live_status(video: Video) -> None:
    first = video.camera_ids()[0]
    assert video.get(f"/api/v1/cameras/{first}/snapshot.jpg?quality=tile").status_code == 200
    cameras = {c["id"]: c for c in video.cameras()}
    assert LEAKY_ID in cameras and len(cameras) == len(video.camera_ids()) + 1
    assert set(cameras[first]) == {
        "id", "name", "kind", "lon", "lat", "village", "village_name", "status", "fps", "age",
    }  # fmt: skip
    assert cameras[first]["status"] in ("online", "starting")
    states = {c["status"] for cid, c in cameras.items() if cid != LEAKY_ID}
    assert states <= {"idle", "starting", "online", "reconnecting", "offline"}
    # A row whose URL holds a clear password is not loaded by the capture service (issue 11).
    assert cameras[LEAKY_ID]["status"] == "unknown"


def test_capture_down_answers_unknown_status_and_503_frames(lite_video: Video) -> None:
    video = lite_video
    services = video.app.services
    services.capture = CaptureClient([f"http://127.0.0.1:{free_port()}"], "x")
    cameras = video.cameras()
    assert cameras and {c["status"] for c in cameras} == {"unknown"}
    camera = cameras[0]["id"]
    response = video.get(f"/api/v1/cameras/{camera}/snapshot.jpg")
    assert response.status_code == 503 and response.get_json()["error"] == "capture_unavailable"
    response = video.get(f"/video/cameras/{camera}/live.mjpg")
    assert response.status_code == 503 and response.get_json()["error"] == "capture_unavailable"


def test_nearest_cameras_of_a_point_a_case_and_a_village(video: Video) -> None:
    case_id, grid = video.report_case()
    by_case = video.cameras(f"?case={case_id}&radius_m=3000")
    by_point = video.cameras(f"?near={grid.lon},{grid.lat}&radius_m=3000")
    assert by_case and _places(by_case) == _places(by_point)
    distances = [c["distance_m"] for c in by_case]
    assert distances == sorted(distances) and distances[-1] <= 3000
    assert len(video.cameras(f"?case={case_id}&radius_m=50000&limit=5")) == 5
    # a wall screen (no case desk) starts a video check from a case of its feed
    assert _places(video.cameras(f"?case={case_id}&radius_m=3000", role=Role.WALL)) == _places(
        by_case
    )
    elsewhere = by_case[-1]["village"][:9] + "999"  # an area without this case
    assert video.get(f"/api/v1/cameras?case={case_id}", Role.WALL, elsewhere).status_code == 404
    village = by_case[0]["village"]
    by_village = video.cameras(f"?village={village}")
    assert all(c["distance_m"] <= 800 for c in by_village)  # the configured default radius
    assert by_village[0]["village"] == village


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("?near=120.3", 422, "near"),
        ("?near=abc,def", 422, "near"),
        ("?near=200,30", 422, "near"),
        ("?near=120.3,29.7&radius_m=0", 422, "radius_m"),
        ("?near=120.3,29.7&radius_m=nan", 422, "radius_m"),
        ("?near=120.3,29.7&limit=1000", 422, "limit"),
        ("?near=120.3,29.7&village=330681", 422, "village"),
        ("?village=999999999999", 404, "village"),
        ("?case=999999", 404, "case"),
        ("?case=abc", 404, "case"),
    ],
)
def test_bad_places_are_clear_errors(
    lite_video: Video, query: str, status: int, field: str
) -> None:
    video = lite_video
    response = video.get(f"/api/v1/cameras{query}")
    assert response.status_code == status
    assert response.get_json()["field"] == field


def test_area_scoping(lite_video: Video) -> None:
    video = lite_video
    mine, other = video.camera_ids()[0], video.camera_ids()[-1]
    area = mine.split("-")[1]  # CAM-<village code>-nn
    assert not other.startswith(f"CAM-{area}")
    scoped = video.cameras(role=Role.LEADER, area=area)
    assert scoped and all(c["village"].startswith(area) for c in scoped)
    response = video.get(f"/api/v1/cameras/{other}/snapshot.jpg", role=Role.LEADER, area=area)
    assert response.status_code == 404 and response.get_json()["error"] == "camera_not_found"
    assert video.get(f"/video/cameras/{other}/live.mjpg", Role.LEADER, area).status_code == 404
    far = video.cameras(
        f"?near={scoped[0]['lon']},{scoped[0]['lat']}&radius_m=50000&limit=100",
        role=Role.LEADER,
        area=area,
    )
    assert {c["id"] for c in far} == {c["id"] for c in scoped} - {LEAKY_ID}  # it is far away


# --- frames ---------------------------------------------------------------------------------------


def test_a_snapshot_is_a_decodable_jpeg_and_audited(lite_video: Video) -> None:
    video = lite_video
    camera = video.camera_ids()[1]
    response = video.get(f"/api/v1/cameras/{camera}/snapshot.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    width, height = _decodes(response.get_data())
    assert width > 320 and height > 180  # full size by default
    assert _decodes(video.get(f"/api/v1/cameras/{camera}/snapshot.jpg?quality=tile").data) == (
        320,
        180,
    )
    audit = video.app.audit("camera_snapshot")
    assert [a.target for a in audit] == [f"camera:{camera}"] * 2
    assert video.get("/api/v1/cameras/NO-SUCH/snapshot.jpg").status_code == 404
    assert video.get(f"/api/v1/cameras/{camera}/snapshot.jpg?quality=huge").status_code == 422


def test_the_full_size_stream_is_mjpeg_and_closes_upstream(lite_video: Video) -> None:
    video = lite_video
    camera = video.camera_ids()[2]
    response = video.get(f"/video/cameras/{camera}/live.mjpg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
    body = b""
    parts = iter(response.response)
    while body.count(b"\xff\xd9") < 2:
        body += next(parts)
    start = body.index(b"\xff\xd8")
    width, _ = _decodes(body[start : body.index(b"\xff\xd9", start) + 2])
    assert width > 320 and b"--frame" in body
    wait_until(lambda: _decoding(video.capture, camera) == "full", 10, "full decoding")
    response.close()  # the browser left
    wait_until(lambda: _decoding(video.capture, camera) != "full", 20, "the full reader to stop")
    assert [a.target for a in video.app.audit("camera_fullscreen")] == [f"camera:{camera}"]


def _decoding(capture: CaptureProcess, camera: str) -> str:
    status = capture.camera(camera)
    return "" if status is None else str(status["decoding"])


# --- evidence -----------------------------------------------------------------------------------


def _signed_in(video: Video, role: Role, area: str | None = None) -> tuple[FlaskClient, dict]:
    name = f"video-{role.value}-{area or 'all'}"
    video.app.user(name, role, area_code=area)
    client, csrf = video.app.signed_in(name)
    return client, video.app.csrf_headers(csrf)


def test_evidence_becomes_an_attachment_and_a_trail_step(video: Video) -> None:
    case_id, _ = video.report_case()
    camera = video.cameras(f"?case={case_id}&radius_m=5000")[0]["id"]
    client, headers = _signed_in(video, Role.DISPATCHER)
    url = f"/api/v1/cases/{case_id}/evidence"
    response = client.post(url, json={"camera_id": camera}, headers=headers)
    video.seen.append(response)
    assert response.status_code == 201, response.get_json()
    saved = response.get_json()
    assert saved["camera_id"] == camera and len(saved["attachment_id"]) == 64
    photo = client.get(f"/api/v1/attachments/{saved['attachment_id']}")
    assert photo.status_code == 200 and _decodes(photo.data)[0] > 320
    photo.close()  # a file response
    case = client.get(f"/api/v1/cases/{case_id}").get_json()
    assert saved["attachment_id"] in case["attachments"]
    step = case["history"][-1]
    assert step["action"] == "evidence" and step["actor"] == "video-dispatcher-all"
    assert step["attachments"] == [saved["attachment_id"]]
    assert step["details"]["camera_id"] == camera and step["from"] == step["to"] == "reported"
    trail = video.app.audit("case.evidence")
    assert [(a.actor, a.target) for a in trail] == [("video-dispatcher-all", f"case:{case_id}")]
    assert [a.target for a in video.app.audit("camera_evidence")] == [f"camera:{camera}"]


def test_evidence_refusals_write_nothing(video: Video) -> None:
    case_id, _ = video.report_case()
    camera = video.camera_ids()[0]
    client, headers = _signed_in(video, Role.DISPATCHER)
    url = f"/api/v1/cases/{case_id}/evidence"
    cases = [
        (client.post(url, json={"camera_id": "NOPE"}, headers=headers), 422, "unknown_camera"),
        (client.post(url, json={"camera": camera}, headers=headers), 422, "invalid_field"),
        (client.post(url, data="x", headers=headers), 400, "malformed_json"),
        (
            client.post(
                "/api/v1/cases/999999/evidence", json={"camera_id": camera}, headers=headers
            ),
            404,
            "case_not_found",
        ),
    ]
    for response, status, code in cases:
        video.seen.append(response)
        assert (response.status_code, response.get_json()["error"]) == (status, code)
    leader = video.send("POST", url, {"camera_id": camera}, role=Role.LEADER)
    assert leader.status_code == 403  # reads cameras and cases, never changes a case
    with video.app.services.db.read() as session:
        assert session.scalars(select(Attachment)).all() == []
    assert not video.app.audit("case.evidence")


def test_evidence_on_a_case_outside_the_area_is_not_found(lite_video: Video) -> None:
    video = lite_video
    case_id, grid = video.report_case()
    camera = next(c for c in video.camera_ids() if not c.startswith(f"CAM-{grid.village_code}"))
    area = camera.split("-")[1]
    client, headers = _signed_in(video, Role.DISPATCHER, area)
    response = client.post(
        f"/api/v1/cases/{case_id}/evidence", json={"camera_id": camera}, headers=headers
    )
    assert response.status_code == 404


# --- layouts ------------------------------------------------------------------------------------


def _layout(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "主屏", "columns": 3, "rows": 2, "camera_ids": []}
    return body | overrides


def test_layouts_crud(video: Video) -> None:
    ids = video.camera_ids()[:6]
    created = video.send("POST", "/api/v1/camera-layouts", _layout(camera_ids=ids, shared=True))
    assert created.status_code == 201, created.get_json()
    layout = created.get_json()
    assert layout["camera_ids"] == ids and layout["mine"] and layout["shared"]
    assert created.headers["Location"].endswith(f"/camera-layouts/{layout['id']}")
    private = video.send("POST", "/api/v1/camera-layouts", _layout(name="我的", camera_ids=ids[:1]))
    assert private.status_code == 201
    mine = video.get("/api/v1/camera-layouts").get_json()["layouts"]
    assert [x["name"] for x in mine] == ["主屏", "我的"]
    # another viewer sees the shared one only, and may not change it
    theirs = video.get("/api/v1/camera-layouts", role=Role.WALL).get_json()["layouts"]
    assert [(x["name"], x["mine"]) for x in theirs] == [("主屏", False)]
    url = f"/api/v1/camera-layouts/{layout['id']}"
    refused = video.send("PUT", url, _layout(camera_ids=ids[:2]), role=Role.WALL)
    assert refused.status_code == 403 and refused.get_json()["error"] == "not_owner"
    hidden = f"/api/v1/camera-layouts/{private.get_json()['id']}"
    assert video.send("DELETE", hidden, None, role=Role.WALL).status_code == 404
    # the owner changes and deletes it
    updated = video.send("PUT", url, _layout(columns=8, rows=8, camera_ids=ids[::-1]))
    assert updated.status_code == 200 and updated.get_json()["camera_ids"] == ids[::-1]
    assert updated.get_json()["columns"] == 8
    assert video.send("DELETE", url, None).status_code == 204
    assert video.send("DELETE", url, None).status_code == 404
    assert video.send("PUT", url, _layout()).status_code == 404


def test_a_shared_layout_shows_each_viewer_only_cameras_of_their_area(video: Video) -> None:
    ids = video.camera_ids()
    mixed = [ids[0], ids[-1]]
    assert video.send("POST", "/api/v1/camera-layouts", _layout(camera_ids=mixed, shared=True))
    area = ids[0].split("-")[1]
    seen = video.get("/api/v1/camera-layouts", role=Role.LEADER, area=area).get_json()["layouts"]
    assert seen[0]["camera_ids"] == [ids[0]]
    refused = video.send(
        "POST", "/api/v1/camera-layouts", _layout(camera_ids=mixed), role=Role.LEADER, area=area
    )
    assert refused.status_code == 422 and refused.get_json()["error"] == "unknown_camera"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (_layout(columns=1), 422, "invalid_field", "columns"),
        (_layout(rows=9), 422, "invalid_field", "rows"),
        (_layout(columns="3"), 422, "invalid_field", "columns"),
        (_layout(name=""), 422, "invalid_field", "name"),
        (_layout(name="x" * 61), 422, "invalid_field", "name"),
        (_layout(cycle_seconds=3), 422, "invalid_field", "cycle_seconds"),
        (_layout(camera_ids=["NO-SUCH-CAMERA"]), 422, "unknown_camera", "camera_ids"),
        (_layout(camera_ids="CAM"), 422, "invalid_field", "camera_ids"),
        (_layout(color="red"), 422, "invalid_field", "color"),
        ({"name": "x"}, 422, "invalid_field", "columns"),
    ],
)
def test_layout_validation(
    lite_video: Video, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    video = lite_video
    response = video.send("POST", "/api/v1/camera-layouts", body)
    assert response.status_code == status
    assert (response.get_json()["error"], response.get_json()["field"]) == (code, field)
    assert video.get("/api/v1/camera-layouts").get_json()["layouts"] == []


def test_layout_duplicates_are_refused(lite_video: Video) -> None:
    video = lite_video
    camera = video.camera_ids()[0]
    twice = video.send("POST", "/api/v1/camera-layouts", _layout(camera_ids=[camera, camera]))
    assert (twice.status_code, twice.get_json()["error"]) == (422, "duplicate_camera")
    assert video.send("POST", "/api/v1/camera-layouts", _layout()).status_code == 201
    again = video.send("POST", "/api/v1/camera-layouts", _layout())
    assert (again.status_code, again.get_json()["error"]) == (409, "layout_exists")


# --- no stream URL anywhere ---------------------------------------------------------------------


def test_no_answer_header_or_log_carries_a_stream_url(lite_video: Video) -> None:
    video = lite_video
    case_id, _ = video.report_case()
    client, headers = _signed_in(video, Role.DISPATCHER)
    video.token()  # issued here: the threads below only read
    # The capture service waits ~5 s for a first frame of an unreachable camera: in parallel.
    with ThreadPoolExecutor(3) as pool:
        snapshot = pool.submit(video.get, f"/api/v1/cameras/{LEAKY_ID}/snapshot.jpg")
        mjpeg = pool.submit(video.get, f"/video/cameras/{LEAKY_ID}/live.mjpg")
        evidence = pool.submit(
            client.post,
            f"/api/v1/cases/{case_id}/evidence",
            json={"camera_id": LEAKY_ID},
            headers=headers,
        )
    video.seen.append(evidence.result())
    for answer in (snapshot, mjpeg, evidence):
        response = answer.result()
        assert (response.status_code, response.get_json()["error"]) == (503, "camera_offline")
    assert not video.app.audit("camera_snapshot")  # nothing was seen, nothing saved
    assert not video.app.audit("case.evidence")
    video.cameras()
    video.cameras(f"?village={_first_village(video.app.services.db)}&radius_m=50000")
    video.send("POST", "/api/v1/camera-layouts", _layout(camera_ids=[LEAKY_ID]))
    video.get("/api/v1/camera-layouts")
    leaks = [(r.request.path, _leaks(r)) for r in video.seen if _leaks(r)]
    assert not leaks and len(video.seen) == 7
    assert LEAKY_PASSWORD not in video.capture.log_text()
