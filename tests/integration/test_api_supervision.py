"""``GET /api/v1/supervision/orders`` and ``/calls`` over the real app: filters, paging, scope
(area; a department reads only the orders addressed to it), 422 on bad parameters; and the live
routing of the watchers' events by place and department."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.security.principal import Principal
from dashboard.security.scoping import event_visible
from dashboard.services.cases import CaseReport
from dashboard.services.villages import rule_from_config
from dashboard.services.watch_common import WatchSettings
from dashboard.services.watchers import run_deadline_watch, run_village_watch
from dashboard.storage.models import (
    CallListEntry,
    CallLogEntry,
    Case,
    Grid,
    OutboxEvent,
    Reminder,
    SupervisionOrder,
    WatcherRun,
)
from tests.integration import test_security_support as support
from tests.integration.support import request
from tests.integration.test_security_support import SecureApp, department_codes

_secure_apps, lite_secure = support._secure_apps, support.lite_secure  # fixtures


def _clear(app: SecureApp) -> None:
    with app.services.db.transaction() as session:
        for model in (Reminder, SupervisionOrder, CallLogEntry, CallListEntry, WatcherRun):
            session.execute(delete(model))


@pytest.fixture
def sup(lite_secure: SecureApp) -> Iterator[SecureApp]:
    _clear(lite_secure)
    yield lite_secure
    _clear(lite_secure)


def _case(app: SecureApp, department: str, grid: int = 0) -> int:
    with app.services.db.read() as session:
        g = session.scalars(select(Grid).order_by(Grid.code).offset(grid).limit(1)).one()
    case_id = app.services.cases.report(
        CaseReport("01002", "排水沟堵塞", g.lon, g.lat, Source.GRID_WORKER, "gw", Role.GRID_WORKER)
    ).id
    for action, extra in (
        (Action.ACCEPT, {}),
        (Action.REGISTER, {"department_code": department}),
        (Action.DISPATCH, {"department_code": department}),
    ):
        app.services.cases.act(case_id, request(action, **extra))
    return case_id


def _get(app: SecureApp, username: str, role: Role, path: str, **user: Any) -> Any:
    app.user(username, role, **user)
    client, _ = app.signed_in(username)
    return client.get(path)


def _overdue_orders(app: SecureApp) -> tuple[int, int, list[str]]:
    depts = department_codes(app.services)[:2]
    first, second = _case(app, depts[0]), _case(app, depts[1], grid=5)
    with app.services.db.read() as session:
        deadline = max(session.get(Case, i).deadline for i in (first, second))  # type: ignore[union-attr]
    run_deadline_watch(app.services.db, app.services.reference, deadline)
    return first, second, depts


def test_orders_filters_paging_and_department_scope(sup: SecureApp) -> None:
    first, second, depts = _overdue_orders(sup)
    with sup.generous():
        body = _get(sup, "s1", Role.SUPERVISOR, "/api/v1/supervision/orders").get_json()
        assert {o["case_id"] for o in body["orders"]} == {first, second}
        assert all(o["status"] == "open" and o["opinion"] for o in body["orders"])
        mine = _get(sup, "s2", Role.SUPERVISOR, f"/api/v1/supervision/orders?department={depts[0]}")
        assert [o["case_id"] for o in mine.get_json()["orders"]] == [first]
        page = _get(sup, "s3", Role.SUPERVISOR, "/api/v1/supervision/orders?limit=1&offset=1")
        assert len(page.get_json()["orders"]) == 1
        replied = _get(sup, "s4", Role.SUPERVISOR, "/api/v1/supervision/orders?status=replied")
        assert replied.get_json()["orders"] == []

        dept = _get(
            sup, "d1", Role.DEPARTMENT, "/api/v1/supervision/orders", department_code=depts[1]
        )
        assert [o["case_id"] for o in dept.get_json()["orders"]] == [second]
        asked = _get(
            sup,
            "d2",
            Role.DEPARTMENT,
            f"/api/v1/supervision/orders?department={depts[0]}",
            department_code=depts[1],
        )
        assert asked.get_json()["orders"] == []  # another department's orders stay hidden
        assert _get(sup, "op", Role.DISPATCHER, "/api/v1/supervision/orders").status_code == 403
        elsewhere = _get(
            sup, "s5", Role.SUPERVISOR, "/api/v1/supervision/orders", area_code="999999999"
        )
        assert elsewhere.get_json()["orders"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=late", "status"), ("limit=0", "limit"), ("offset=-1", "offset"), ("x=1", "x")],
)
def test_bad_parameters_are_422_naming_the_field(sup: SecureApp, query: str, field: str) -> None:
    with sup.generous():
        response = _get(sup, "s1", Role.SUPERVISOR, f"/api/v1/supervision/orders?{query}")
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_call_list_endpoint(sup: SecureApp) -> None:
    depts = department_codes(sup.services)
    ids = []
    for minute in range(5):
        sup.clock.set(sup.clock.now() + timedelta(minutes=minute))
        ids.append(_case(sup, depts[0]))
    with sup.services.db.read() as session:
        village = session.get(Case, ids[0]).village_code  # type: ignore[union-attr]
    rule = rule_from_config(sup.services.config.rules.village)
    later = sup.clock.now() + rule.call_after
    sup.clock.set(later)
    run_village_watch(
        sup.services.db, sup.services.reference, later, WatchSettings(village_rule=rule)
    )
    with sup.generous():
        body = _get(sup, "s1", Role.SUPERVISOR, "/api/v1/supervision/calls").get_json()
        (row,) = body["calls"]
        assert row["village"] == village and row["contact_phone"] and row["open_cases"] == 5
        assert row["red_for_minutes"] >= 120 and row["last_call"] is None
        other = _get(sup, "s2", Role.SUPERVISOR, "/api/v1/supervision/calls", area_code="999")
        assert other.get_json()["calls"] == []
        assert _get(sup, "d1", Role.DEPARTMENT, "/api/v1/supervision/calls").status_code == 403
        bad = _get(sup, "s3", Role.SUPERVISOR, "/api/v1/supervision/calls?status=x")
        assert bad.status_code == 422


def test_live_events_route_by_village_and_department(sup: SecureApp) -> None:
    first, _second, depts = _overdue_orders(sup)
    with sup.services.db.read() as session:
        events = list(
            session.scalars(
                select(OutboxEvent).where(OutboxEvent.topic.in_(("reminder", "supervision_order")))
            )
        )
        case = session.get(Case, first)
    assert case is not None and len(events) == 4

    def screen(role: Role, **scope: Any) -> Principal:
        return Principal("p", role, "user", 1, Scope(**scope))

    town_wall = screen(Role.WALL, area_code=case.village_code[:9])
    far_wall = screen(Role.WALL, area_code="999999999")
    for event in events:
        assert event_visible(screen(Role.WALL), event.topic, event.payload)
        inside = event.payload["village"].startswith(case.village_code[:9])
        assert event_visible(town_wall, event.topic, event.payload) == inside
        assert not event_visible(far_wall, event.topic, event.payload)
    commander = screen(Role.COMMANDER, department_code=depts[0])
    mine = [e for e in events if event_visible(commander, e.topic, e.payload)]
    assert {e.payload["case_id"] for e in mine} == {first}
