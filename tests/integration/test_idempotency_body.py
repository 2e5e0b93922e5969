"""An Idempotency-Key reused with a different body is refused (422), not answered with the first
case while the second report is lost (issue 11 Medium 9); a true retry still gets 200."""

from __future__ import annotations

from dashboard.domain.roles import Role
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    case_body,
    image,
    lite_api_fixture,  # noqa: F401
)


def test_a_key_reused_with_another_body_is_a_422_and_stores_nothing(api: Api) -> None:
    phone = api.token(Role.GRID_WORKER, "phone") | {"Idempotency-Key": "report-0001"}
    first = api.post("/api/v1/cases", json=case_body(api), headers=phone)
    assert first.status_code == 201
    retry = api.post("/api/v1/cases", json=case_body(api), headers=phone)
    assert retry.status_code == 200 and retry.json == first.json

    other = case_body(api, description="另一起事件：路灯损坏")
    reused = api.post("/api/v1/cases", json=other, headers=phone)
    assert reused.status_code == 422, reused.json
    assert reused.json["error"] == "idempotency_key_reused"
    assert "different" in reused.json["message"]
    assert api.counts()["cases"] == 1


def test_a_retry_with_the_same_photos_is_a_retry_and_other_photos_are_not(lite_api: Api) -> None:
    api = lite_api
    phone = api.token(Role.GRID_WORKER, "phone") | {"Idempotency-Key": "with-photo"}
    body = {**case_body(api), "photos": [(image(seed=1), "a.jpg")]}
    assert api.post("/api/v1/cases", data=body, headers=phone).status_code == 201
    assert api.post("/api/v1/cases", data=body, headers=phone).status_code == 200
    changed = {**case_body(api), "photos": [(image(seed=2), "b.jpg")]}
    answer = api.post("/api/v1/cases", data=changed, headers=phone)
    assert answer.status_code == 422 and answer.json["error"] == "idempotency_key_reused"
    assert (api.counts()["cases"], api.counts()["attachments"]) == (1, 1)
