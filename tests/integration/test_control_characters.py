"""A NUL (or another control character) in any text gives a 422 naming the field, never a 500
or a truncated export; nothing is stored (issue 11 Medium 6)."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.domain.text import InvalidText
from tests.integration.support import request
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    case_body,
    lite_api_fixture,  # noqa: F401
)

NUL = "\x00"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", f"井盖{NUL}缺失"),
        ("address", f"枫桥镇{NUL}"),
        ("reporter", f"张{NUL}三"),
        ("category", f"01{NUL}02"),
        ("description", "\x1b[2Jcleared"),
    ],
)
def test_a_report_with_a_control_character_is_a_422(api: Api, field: str, value: str) -> None:
    phone = api.token(Role.GRID_WORKER, "phone")
    response = api.post("/api/v1/cases", json=case_body(api, **{field: value}), headers=phone)
    assert response.status_code == 422, response.json
    assert (response.json["error"], response.json["field"]) == ("control_character", field)
    form = api.post("/api/v1/cases", data=case_body(api, **{field: value}), headers=phone)
    assert form.status_code == 422 and form.json["error"] == "control_character"
    assert api.counts()["cases"] == 0


def test_actions_positions_and_searches_refuse_control_characters(api: Api) -> None:
    phone = api.token(Role.GRID_WORKER, "phone")
    case_id = api.post("/api/v1/cases", json=case_body(api), headers=phone).json["id"]
    desk = api.token(Role.COMMANDER, "desk")
    bodies: list[dict[str, Any]] = [
        {"action": "accept", "note": f"ok{NUL}"},
        {"action": "void", "reason": f"dup{NUL}"},
        {"action": "dispatch", "department": f"just{NUL}ice"},
    ]
    for body in bodies:
        answer = api.post(f"/api/v1/cases/{case_id}/actions", json=body, headers=desk)
        assert answer.status_code == 422 and answer.json["error"] == "control_character", body
    assert [h["action"] for h in api.services.cases.get(case_id).history] == ["report"]

    feed = api.token(Role.INTEGRATION, "feed")
    fix = {"worker": f"gw{NUL}1", "lat": 29.7, "lon": 120.2, "time": "2026-11-23T08:00:00+08:00"}
    sent = api.post("/api/v1/positions", json={"fixes": [fix]}, headers=feed)
    assert sent.status_code == 422 and sent.json["field"] == "fixes.0.worker"

    for path in (
        "/api/v1/cases?text=a%00b",
        "/api/v1/cases.csv?text=a%00b",
        "/api/v1/cases?%00=1",
        "/api/v1/cameras/%00/snapshot.jpg",  # path parameters too (found by test_api_fuzz)
        "/video/cameras/CAM%00/live.mjpg",
    ):
        answer = api.get(path, headers=desk)
        assert answer.status_code == 422, (path, answer.data[:200])
        assert answer.json["error"] == "control_character"


def test_the_pages_path_through_the_service_refuses_them_too(lite_api: Api) -> None:
    """The case workspace calls CaseService directly: the same rule, in the domain."""
    phone = lite_api.token(Role.GRID_WORKER, "phone")
    case_id = lite_api.post("/api/v1/cases", json=case_body(lite_api), headers=phone).json["id"]
    with pytest.raises(InvalidText) as refused:
        lite_api.services.cases.act(case_id, request(Action.ACCEPT, note=f"好{NUL}"))
    assert refused.value.field == "note"
    assert lite_api.services.cases.get(case_id).status == "reported"
