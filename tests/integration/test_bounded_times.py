"""Times the API accepts are bounded, and one bad stored deadline cannot stop the others (issue 11
High 1; issue 10 §4). Through the real app on both backends, the clock fixed at TOWN_NOW."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.services.watchers import run_deadline_watch, run_patrol_watch, run_village_watch
from dashboard.storage.models import (
    CallListEntry,
    CallLogEntry,
    Case,
    PatrolFlag,
    Reminder,
    SupervisionOrder,
)
from tests.integration.support import TOWN_NOW, request
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    case_body,
    lite_api_fixture,  # noqa: F401
)

YEAR_9999 = datetime(9999, 12, 31, tzinfo=UTC)
_WATCHED = (Reminder, SupervisionOrder, CallLogEntry, CallListEntry, PatrolFlag)


@pytest.fixture
def watched(api: Api) -> Iterator[Api]:
    """The API, with what the watchers write removed afterwards (it points at the cases)."""
    yield api
    with api.services.db.transaction() as session:
        for model in _WATCHED:
            session.execute(delete(model))


def _dispatched(api: Api, grid: int) -> int:
    worker = api.token(Role.GRID_WORKER, f"gw-{grid}")
    response = api.post("/api/v1/cases", json=case_body(api, grid), headers=worker)
    assert response.status_code == 201, response.json
    case_id = int(response.json["id"])
    for action in (Action.ACCEPT, Action.REGISTER, Action.DISPATCH):
        api.services.cases.act(case_id, request(action))
    return case_id


def _act(api: Api, case_id: int, role: Role, body: dict[str, object]) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = api.post(
        f"/api/v1/cases/{case_id}/actions", json=body, headers=api.token(role, f"{role}-act")
    )
    return response.status_code, response.json


def test_a_deadline_in_year_9999_in_the_database_stops_nothing_else(watched: Api) -> None:
    api = watched
    api.clock.set(TOWN_NOW - timedelta(days=10))
    bad, good = _dispatched(api, 0), _dispatched(api, 1)
    with api.services.db.transaction() as session:  # as an attacker's request did before the fix
        session.execute(update(Case).where(Case.id == bad).values(deadline=YEAR_9999))
    api.clock.set(TOWN_NOW)

    db, reference = api.services.db, api.services.reference
    result = run_deadline_watch(db, reference, TOWN_NOW)
    assert result.inserted == {"reminder": 1, "supervision_order": 1}
    with db.read() as session:
        for model in (Reminder, SupervisionOrder):
            assert [r.case_id for r in session.query(model)] == [good]
    assert run_village_watch(db, reference, TOWN_NOW) is not None
    assert run_patrol_watch(db, reference, TOWN_NOW) is not None

    desk = api.token(Role.COMMANDER, "desk")
    for query in ("", "status=open", "sort=-deadline", "sort=light", "light=green", "light=red"):
        response = api.get(f"/api/v1/cases?{query}", headers=desk)
        assert response.status_code == 200, (query, response.json)
    listed = {c["id"]: c["light"] for c in api.get("/api/v1/cases", headers=desk).json["cases"]}
    assert listed == {bad: None, good: "red"}
    assert api.get("/api/v1/cases.csv", headers=desk).status_code == 200
    view = api.get(f"/api/v1/cases/{bad}", headers=desk)
    assert view.status_code == 200 and view.json["light"] is None
    assert api.get(f"/api/v1/cases/{good}", headers=desk).json["light"] == "red"


def test_register_and_extend_refuse_deadlines_out_of_bounds_and_change_nothing(
    lite_api: Api,
) -> None:
    api = lite_api
    worker = api.token(Role.GRID_WORKER, "gw")
    case_id = api.post("/api/v1/cases", json=case_body(api), headers=worker).json["id"]
    api.services.cases.act(case_id, request(Action.ACCEPT))
    before = api.services.cases.get(case_id)

    for deadline, status, code in (
        ("9999-12-31T00:00:00+00:00", 422, "time_out_of_range"),
        ("9999-12-31T23:00:00-05:00", 422, "time_out_of_range"),  # year 10000 in UTC
        ("5000-01-01T00:00:00+08:00", 422, "time_out_of_range"),
        ("2000-01-01T00:00:00+08:00", 422, "time_out_of_range"),
        ((TOWN_NOW - timedelta(hours=1)).isoformat(), 409, "deadline_passed"),
    ):
        body = {"action": "register", "category": "01002", "deadline": deadline}
        answer = _act(api, case_id, Role.COMMANDER, body)
        assert answer[0] == status and answer[1]["error"] == code, (deadline, answer)
        assert answer[1]["message"]
    assert api.services.cases.get(case_id).history == before.history

    api.services.cases.act(case_id, request(Action.REGISTER))
    api.services.cases.act(case_id, request(Action.DISPATCH))
    registered = api.services.cases.get(case_id)
    assert registered.deadline is not None
    # Overdue now: an extension must end after now (issue 10 §4), not only after the old one.
    api.clock.set(registered.deadline + timedelta(hours=3))
    for deadline, status, code in (
        ("9999-12-31T00:00:00+00:00", 422, "time_out_of_range"),
        ((registered.deadline + timedelta(hours=1)).isoformat(), 409, "deadline_passed"),
        ((registered.deadline - timedelta(hours=1)).isoformat(), 409, "deadline_passed"),
    ):
        body = {"action": "extend", "deadline": deadline, "reason": "需要更多时间"}
        answer = _act(api, case_id, Role.COMMANDER, body)
        assert answer[0] == status and answer[1]["error"] == code, (deadline, answer)
    assert api.services.cases.get(case_id).deadline == registered.deadline
    later = (registered.deadline + timedelta(days=5)).isoformat()
    answer = _act(
        api, case_id, Role.COMMANDER, {"action": "extend", "deadline": later, "reason": "需要"}
    )
    assert answer[0] == 200, answer


def test_occurred_at_and_position_times_are_bounded(lite_api: Api) -> None:
    api = lite_api
    worker = api.token(Role.GRID_WORKER, "gw")
    for occurred in ("0001-01-01T00:00:00+00:00", "0001-01-01T00:30:00+08:00", "2020-01-01T08:00Z"):
        response = api.post(
            "/api/v1/cases", json=case_body(api, occurred_at=occurred), headers=worker
        )
        assert response.status_code == 422, (occurred, response.json)
        assert response.json["field"] == "occurred_at"
    (gw,) = api.workers(1)
    fix = {"worker": gw.id, "lat": 29.7, "lon": 120.2, "time": "0001-01-01T00:00:00+00:00"}
    feed = api.token(Role.INTEGRATION)
    response = api.post("/api/v1/positions", json={"fixes": [fix]}, headers=feed)
    assert response.status_code == 422 and response.json["field"] == "fixes.0.time"
    assert api.counts()["cases"] == 0 and api.counts()["position_fixes"] == 0


def test_search_dates_are_bounded_in_the_list_and_the_csv(lite_api: Api) -> None:
    desk = lite_api.token(Role.COMMANDER, "desk")
    for query in ("to=9999-12-31", "from=0001-01-01", "from=9000-01-01T00:00:00%2B08:00"):
        for path in ("/api/v1/cases", "/api/v1/cases.csv"):
            response = lite_api.get(f"{path}?{query}", headers=desk)
            assert response.status_code == 422, (path, query, response.data[:200])
            assert response.json["field"] in ("from", "to")
