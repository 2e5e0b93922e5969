"""POST/GET /api/v1/cases and the case's photos, through the real app on both backends."""

from __future__ import annotations

import hashlib
from typing import Any

import cv2
import numpy as np
import pytest

from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.http.api_cases import MAX_PHOTOS
from dashboard.storage.models import Attachment
from tests.integration.support import TOWN_NOW, request
from tests.integration.test_api_support import (
    MAX_PHOTO_MB,
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    case_body,
    image,
    lite_api_fixture,  # noqa: F401
)


def _other_village_grid(api: Api) -> int:
    """The index of the first grid in another village than grid 0's."""
    first = api.grid(0).village_code
    return next(i for i in range(1, 90) if api.grid(i).village_code != first)


def _report(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/v1/cases", json=case_body(api, **overrides), headers=headers)
    assert response.status_code == 201, response.json
    return dict(response.json or {})


# --- the happy paths ----------------------------------------------------------------------


def test_report_as_json_then_read_it_back(api: Api) -> None:
    worker = api.token(Role.GRID_WORKER, "gw-test")
    grid = api.grid(2)
    body = case_body(api, 2, address="枫桥镇 2 号", occurred_at="2026-11-23T08:30:00+08:00")
    response = api.post("/api/v1/cases", json=body, headers=worker)

    assert response.status_code == 201
    created = response.json
    assert created is not None
    assert created["status"] == "reported"
    assert (created["village"], created["grid"]) == (grid.village_code, grid.code)
    assert created["town"] == grid.village_code[:9]
    assert created["deadline"] is None and created["emergency"] is False
    assert created["attachments"] == []
    assert response.headers["Location"] == f"/api/v1/cases/{created['id']}"
    assert api.counts()["cases"] == 1 and api.counts()["outbox"] == 1

    desk = api.token(Role.DISPATCHER)
    detail = api.get(response.headers["Location"], headers=desk).json
    assert detail is not None
    assert detail["id"] == created["id"] and detail["status"] == "reported"
    assert detail["category"] == "01002"
    assert detail["category_name"] == {"zh": "婚姻家庭纠纷", "en": "Marriage and family dispute"}
    assert detail["village_name"]
    assert detail["address"] == "枫桥镇 2 号" and detail["reporter"] == "gw-test"
    assert detail["occurred_at"] == "2026-11-23T00:30:00+00:00"
    assert detail["reported_at"] == TOWN_NOW.isoformat().replace("09:00:00+08:00", "01:00:00+00:00")
    assert detail["light"] is None  # not registered yet: no deadline
    assert [(h["action"], h["to"], h["actor"], h["role"]) for h in detail["history"]] == [
        ("report", "reported", "gw-test", "grid_worker")
    ]


def test_report_with_photos_stores_them_with_the_case(api: Api) -> None:
    jpeg, png = image(".jpg", seed=1), image(".png", seed=2)
    response = api.post(
        "/api/v1/cases",
        data={
            **{k: str(v) for k, v in case_body(api).items()},
            "emergency": "true",
            "photos": [((jpeg), "scene.jpg"), ((png), "close-up.png")],
        },
        headers=api.token(Role.GRID_WORKER),
        content_type="multipart/form-data",
    )

    assert response.status_code == 201, response.json
    created = response.json or {}
    ids = [hashlib.sha256(jpeg).hexdigest(), hashlib.sha256(png).hexdigest()]
    assert created["attachments"] == ids and created["emergency"] is True
    assert api.photo_files() == sorted([f"{ids[0]}.jpg", f"{ids[1]}.png"])
    assert api.counts()["attachments"] == 2

    desk = api.token(Role.DISPATCHER)
    detail = api.get(f"/api/v1/cases/{created['id']}", headers=desk).json or {}
    assert sorted(detail["attachments"]) == sorted(ids)
    served = api.get(f"/api/v1/attachments/{ids[0]}", headers=desk)
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg" and served.data == jpeg
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert api.get(f"/api/v1/attachments/{ids[1]}", headers=desk).mimetype == "image/png"


def _encoded(ext: str, channels: int, *params: int) -> bytes:
    pixels = np.random.default_rng(channels).integers(0, 255, (37, 53, channels), dtype=np.uint8)
    ok, encoded = cv2.imencode(ext, pixels, list(params))
    assert ok
    return bytes(encoded.tobytes())


FORMATS = {
    "progressive JPEG": (_encoded(".jpg", 3, cv2.IMWRITE_JPEG_PROGRESSIVE, 1), "image/jpeg"),
    "lossy WebP": (_encoded(".webp", 3, cv2.IMWRITE_WEBP_QUALITY, 80), "image/webp"),
    "lossless WebP": (_encoded(".webp", 3, cv2.IMWRITE_WEBP_QUALITY, 101), "image/webp"),
    "WebP with alpha": (_encoded(".webp", 4, cv2.IMWRITE_WEBP_QUALITY, 80), "image/webp"),
    "PNG with alpha": (_encoded(".png", 4), "image/png"),
}


@pytest.mark.parametrize(("data", "content_type"), FORMATS.values(), ids=FORMATS.keys())
def test_every_accepted_format_is_stored_and_served(
    lite_api: Api, data: bytes, content_type: str
) -> None:
    api = lite_api
    created = api.post(
        "/api/v1/cases",
        data={**case_body(api), "photos": [(data, "named-anything.bin")]},
        headers=api.token(Role.GRID_WORKER),
    )
    assert created.status_code == 201, created.json
    (photo,) = (created.json or {})["attachments"]
    served = api.get(f"/api/v1/attachments/{photo}", headers=api.token(Role.DISPATCHER))
    assert served.mimetype == content_type and served.data == data
    with api.services.db.read() as session:
        row = session.get(Attachment, photo)
        assert row is not None and (row.width, row.height, row.size) == (53, 37, len(data))


def test_a_retried_report_returns_the_first_answer_and_no_second_case(api: Api) -> None:
    phone = api.token(Role.GRID_WORKER, "gw-phone")
    headers = {**phone, "Idempotency-Key": "report-0001"}
    body = case_body(api)
    first = api.post("/api/v1/cases", json=body, headers=headers)
    again = api.post("/api/v1/cases", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert api.counts()["cases"] == 1

    # Keys are per client: another device using the same key reports its own case.
    other = {**api.token(Role.GRID_WORKER, "gw-other"), "Idempotency-Key": "report-0001"}
    third = api.post("/api/v1/cases", json=body, headers=other)
    assert third.status_code == 201 and (third.json or {})["id"] != (first.json or {})["id"]
    assert api.counts()["cases"] == 2


def test_a_retried_upload_returns_the_same_photos(lite_api: Api) -> None:
    api = lite_api
    headers = {**api.token(Role.GRID_WORKER), "Idempotency-Key": "with-photo"}
    jpeg = image(seed=5)

    def send() -> Any:
        data = {**case_body(api), "photos": [((jpeg), "a.jpg")]}
        return api.post("/api/v1/cases", data=data, headers=headers)

    first, again = send(), send()
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert api.counts()["attachments"] == 1


def test_photos_added_to_an_open_case(lite_api: Api) -> None:
    api = lite_api
    created = _report(api, api.token(Role.GRID_WORKER))
    for action in (Action.ACCEPT, Action.REGISTER, Action.DISPATCH):  # to justice, its default
        api.services.cases.act(created["id"], request(action))
    department = api.token(Role.DEPARTMENT)  # a department token sees only its cases
    photo = image(seed=9)
    path = f"/api/v1/cases/{created['id']}/attachments"

    response = api.post(path, data={"photos": [((photo), "result.jpg")]}, headers=department)
    assert response.status_code == 201
    assert response.json == {"attachments": [hashlib.sha256(photo).hexdigest()]}
    # The same photo again is the same attachment, not a second one.
    again = api.post(path, data={"photos": [((photo), "result.jpg")]}, headers=department)
    assert again.status_code == 201 and again.json == response.json
    assert api.counts()["attachments"] == 1


# --- refused reports write nothing ------------------------------------------------------------

BAD_REPORTS: list[tuple[str, Any, int, str, str | None]] = [
    # (what, body or raw bytes, status, error code, field)
    ("malformed JSON", b'{"category": ', 400, "malformed_json", None),
    ("not an object", b"[1, 2]", 400, "not_an_object", None),
    ("unknown category", {"category": "99999"}, 422, "unknown_category", "category"),
    ("blank description", {"description": "   "}, 422, "description_required", "description"),
    ("latitude out of range", {"lat": 91}, 422, "invalid_field", "lat"),
    ("outside the region", {"lon": 100.0, "lat": 40.0}, 422, "outside_region", "lat"),
    ("naive time", {"occurred_at": "2026-11-23T08:00:00"}, 422, "invalid_field", "occurred_at"),
    ("future time", {"occurred_at": "2026-11-24T08:00:00+08:00"}, 422, "future_time", None),
    ("unknown source", {"source": "rumour"}, 422, "invalid_field", "source"),
    ("misspelt field", {"lng": 120.2}, 422, "invalid_field", "lng"),
]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [case[1:] for case in BAD_REPORTS],
    ids=[case[0] for case in BAD_REPORTS],
)
def test_a_refused_report_writes_nothing(
    lite_api: Api, body: Any, status: int, code: str, field: str | None
) -> None:
    api = lite_api
    before = api.counts()
    headers = api.token(Role.GRID_WORKER)
    if isinstance(body, bytes):
        response = api.post("/api/v1/cases", data=body, headers=headers)
    else:
        response = api.post("/api/v1/cases", json=case_body(api, **body), headers=headers)

    assert response.status_code == status
    answer = response.json or {}
    assert answer["error"] == code and answer["message"]
    if field is not None:
        assert answer["field"] == field
    assert "Traceback" not in response.get_data(as_text=True)
    assert api.counts() == before


def test_a_missing_field_is_named(lite_api: Api) -> None:
    body = case_body(lite_api)
    del body["source"]
    response = lite_api.post("/api/v1/cases", json=body, headers=lite_api.token(Role.GRID_WORKER))
    assert response.status_code == 422 and (response.json or {})["field"] == "source"


_PNG = image(".png")
_GIANT_PNG = _PNG[:16] + (65536).to_bytes(4, "big") * 2 + _PNG[24:]  # IHDR: 65536 × 65536
BAD_PHOTOS: list[tuple[str, bytes, int, str]] = [
    ("a text file named .jpg", b"this is not a picture at all\n" * 10, 422, "not_an_image"),
    ("a truncated JPEG", image(width=200, height=150)[:400], 422, "corrupt_image"),
    ("a PNG claiming 4 gigapixels", _GIANT_PNG, 422, "image_too_large"),
    (
        "over the size limit",
        b"\xff\xd8\xff" + bytes(MAX_PHOTO_MB * 1024 * 1024),
        413,
        "photo_too_large",
    ),
]


@pytest.mark.parametrize(
    ("data", "status", "code"), [c[1:] for c in BAD_PHOTOS], ids=[c[0] for c in BAD_PHOTOS]
)
def test_a_bad_photo_refuses_the_whole_report(
    lite_api: Api, data: bytes, status: int, code: str
) -> None:
    api = lite_api
    good = image(seed=3)
    response = api.post(
        "/api/v1/cases",
        data={**case_body(api), "photos": [((good), "ok.jpg"), ((data), "bad.jpg")]},
        headers=api.token(Role.GRID_WORKER),
    )

    assert response.status_code == status
    assert (response.json or {})["error"] == code
    assert (response.json or {})["field"] == "photos"
    assert api.counts()["cases"] == 0 and api.counts()["attachments"] == 0
    assert api.photo_files() == []


def test_a_body_over_the_server_limit_is_413_json(lite_api: Api) -> None:
    api = lite_api
    limit = int(api.app.config["MAX_CONTENT_LENGTH"])
    huge = {**case_body(api), "photos": (b"\xff\xd8\xff" + bytes(limit), "huge.jpg")}
    response = api.post("/api/v1/cases", data=huge, headers=api.token(Role.GRID_WORKER))
    assert response.status_code == 413
    assert (response.json or {})["error"] == "request_entity_too_large"
    assert api.counts()["cases"] == 0


def test_too_many_photos_is_413(lite_api: Api) -> None:
    api = lite_api
    photos = [((image(seed=i)), f"{i}.jpg") for i in range(MAX_PHOTOS + 1)]
    response = api.post(
        "/api/v1/cases",
        data={**case_body(api), "photos": photos},
        headers=api.token(Role.GRID_WORKER),
    )
    assert response.status_code == 413 and (response.json or {})["error"] == "too_many_photos"
    assert api.counts()["cases"] == 0


def test_one_photo_cannot_prove_two_cases(lite_api: Api) -> None:
    api = lite_api
    headers = api.token(Role.GRID_WORKER)
    photo = image(seed=4)
    first = api.post(
        "/api/v1/cases",
        data={**case_body(api), "photos": [((photo), "a.jpg")]},
        headers=headers,
    )
    assert first.status_code == 201
    before = api.counts()
    second = api.post(
        "/api/v1/cases",
        data={**case_body(api, 1), "photos": [((photo), "a.jpg")]},
        headers=headers,
    )
    assert second.status_code == 409 and (second.json or {})["error"] == "duplicate_photo"
    assert api.counts() == before


def test_a_bad_idempotency_key_is_400(lite_api: Api) -> None:
    headers = {**lite_api.token(Role.GRID_WORKER), "Idempotency-Key": "has spaces"}
    response = lite_api.post("/api/v1/cases", json=case_body(lite_api), headers=headers)
    assert response.status_code == 400 and (response.json or {})["error"] == "bad_idempotency_key"
    assert lite_api.counts()["cases"] == 0


# --- who may report and see -------------------------------------------------------------------


def test_without_a_valid_token_401(lite_api: Api) -> None:
    api = lite_api
    assert api.post("/api/v1/cases", json=case_body(api)).status_code == 401
    bad = {"Authorization": "Bearer gcc_not-a-real-token"}
    response = api.post("/api/v1/cases", json=case_body(api), headers=bad)
    assert response.status_code == 401 and (response.json or {})["error"] == "unauthorized"
    assert api.counts()["cases"] == 0


def test_a_wall_token_cannot_report(lite_api: Api) -> None:
    api = lite_api
    response = api.post("/api/v1/cases", json=case_body(api), headers=api.token(Role.WALL))
    assert response.status_code == 403 and (response.json or {})["error"] == "forbidden"
    assert api.counts()["cases"] == 0


def test_an_area_token_reports_and_sees_only_inside_its_area(api: Api) -> None:
    inside = api.grid(0)
    outside_index = _other_village_grid(api)
    area = api.token(Role.GRID_WORKER, "gw-area", area=inside.village_code)

    refused = api.post("/api/v1/cases", json=case_body(api, outside_index), headers=area)
    assert refused.status_code == 403 and (refused.json or {})["error"] == "outside_scope"
    assert api.counts()["cases"] == 0

    own = _report(api, area)
    assert api.get(f"/api/v1/cases/{own['id']}", headers=area).status_code == 200
    elsewhere = _report(api, api.token(Role.INTEGRATION), grid_index=outside_index)
    hidden = api.get(f"/api/v1/cases/{elsewhere['id']}", headers=area)
    assert hidden.status_code == 404
    missing = api.get("/api/v1/cases/999999", headers=area)
    assert hidden.json == {**(missing.json or {}), "message": f"there is no case {elsewhere['id']}"}


def test_a_department_user_sees_only_cases_dispatched_to_it(lite_api: Api) -> None:
    from sqlalchemy import update

    from dashboard.security.sessions import SESSION_COOKIE
    from dashboard.security.web import security_of
    from dashboard.storage.models import Case

    api = lite_api
    api.user("dept-justice", Role.DEPARTMENT, department_code="justice")
    signed_in = security_of(api.app).sessions.sign_in(
        "dept-justice", "correct horse battery", "127.0.0.1"
    )
    reporter = api.token(Role.GRID_WORKER)
    ours, theirs, undispatched = (_report(api, reporter, grid_index=i) for i in range(3))
    # Set the dispatch directly: this test is about visibility, not the state machine.
    with api.services.db.transaction() as session:
        for case, department in ((ours, "justice"), (theirs, "market")):
            session.execute(
                update(Case)
                .where(Case.id == case["id"])
                .values(status="dispatched", department_code=department, dispatched_at=TOWN_NOW)
            )
    api.client.set_cookie(SESSION_COOKIE, signed_in.cookie)
    try:
        assert api.get(f"/api/v1/cases/{ours['id']}").status_code == 200
        assert api.get(f"/api/v1/cases/{theirs['id']}").status_code == 404
        assert api.get(f"/api/v1/cases/{undispatched['id']}").status_code == 404
    finally:
        api.client.delete_cookie(SESSION_COOKIE)


def test_attachments_are_scoped_like_their_case(lite_api: Api) -> None:
    api = lite_api
    photo = image(seed=7)
    outside_index = _other_village_grid(api)
    created = (
        api.post(
            "/api/v1/cases",
            data={**case_body(api, outside_index), "photos": [((photo), "a.jpg")]},
            headers=api.token(Role.INTEGRATION),
        ).json
        or {}
    )
    area = api.token(Role.DISPATCHER, "desk-area", area=api.grid(0).village_code)
    path = f"/api/v1/attachments/{created['attachments'][0]}"
    assert api.get(path, headers=area).status_code == 404
    assert api.get(path, headers=api.token(Role.WALL)).status_code == 403
    assert api.get("/api/v1/attachments/not-a-digest", headers=area).status_code == 404
    assert api.get("/api/v1/attachments/" + "0" * 64, headers=area).status_code == 404


# --- the edges of /api ------------------------------------------------------------------------


def test_unknown_paths_and_methods_answer_json(lite_api: Api) -> None:
    api = lite_api
    headers = api.token(Role.DISPATCHER)
    missing = api.get("/api/v1/no-such-thing", headers=headers)
    assert missing.status_code == 404 and (missing.json or {})["error"] == "not_found"
    wrong = api.request("DELETE", "/api/v1/cases", headers=headers)
    assert wrong.status_code == 405 and (wrong.json or {})["error"] == "method_not_allowed"
    assert api.get("/api/v1/cases/12345", headers=headers).status_code == 404
