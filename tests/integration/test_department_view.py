"""The department view's read side on both backends: a department's open cases (overdue first,
with row versions), its open supervision orders, and who looks at which department."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.read.department_view import department_cases, department_scope, open_orders
from dashboard.storage.models import SupervisionOrder
from tests.integration.support import TOWN_NOW, Town, act, make_report, walk

KNOWN = frozenset({"urban", "police"})


def _dispatched(town: Town, grid: int, department: str, category: str = "01002") -> int:
    case_id = town.cases.report(make_report(town, grid, category_code=category)).id
    walk(town, case_id, (Action.ACCEPT, Action.REGISTER))
    act(town, case_id, Action.DISPATCH, department_code=department)
    return case_id


def _other_village_grid(town: Town) -> int:
    first = town.grid(0).village_code
    return next(i for i in range(1, 90) if town.grid(i).village_code != first)


def test_department_cases_are_its_own_open_ones_overdue_first(town: Town) -> None:
    town.clock.set(TOWN_NOW - timedelta(days=3))
    late = _dispatched(town, 0, "urban", "05003")  # 4 working hours: overdue by now
    town.clock.set(TOWN_NOW - timedelta(hours=1))
    fresh = _dispatched(town, _other_village_grid(town), "urban")
    other = _dispatched(town, 2, "police")
    closed = _dispatched(town, 3, "urban", "05003")
    walk(town, closed, (Action.START, Action.HANDLED, Action.CHECK_PASS, Action.CLOSE))
    town.clock.set(TOWN_NOW)
    with town.db.read() as session:
        found = department_cases(
            session, Scope(department_code="urban"), TOWN_NOW, town.reference.calendar
        )
        assert [r["id"] for r in found.rows] == [late, fresh] and found.overdue == 1
        assert found.rows[0]["version"] == town.case(late).version
        area = Scope(area_code=town.case(fresh).village_code, department_code="urban")
        assert [
            r["id"] for r in department_cases(session, area, TOWN_NOW, town.reference.calendar).rows
        ] == [fresh]
        police = department_cases(
            session, Scope(department_code="police"), TOWN_NOW, town.reference.calendar
        )
        assert [r["id"] for r in police.rows] == [other]


def test_open_orders_are_the_departments_not_closed_ones(town: Town) -> None:
    mine = _dispatched(town, 0, "urban")
    theirs = _dispatched(town, _other_village_grid(town), "police")
    try:
        _orders_and_checks(town, mine, theirs)
    finally:  # the town fixture empties cases, not orders
        with town.db.transaction() as session:
            session.execute(delete(SupervisionOrder))


def _orders_and_checks(town: Town, mine: int, theirs: int) -> None:
    row = town.case(mine)
    with town.db.transaction() as session:
        for case_id, dept, stage, status in (
            (mine, "urban", "dispatched", "open"),
            (mine, "urban", "handling", "closed"),
            (theirs, "police", "dispatched", "open"),
        ):
            session.add(
                SupervisionOrder(
                    case_id=case_id,
                    stage=stage,
                    deadline=TOWN_NOW,
                    due_at=TOWN_NOW,
                    issued_at=TOWN_NOW,
                    supervisor="system",
                    department_code=dept,
                    town_code=row.town_code,
                    opinion="请尽快处置",
                    status=status,
                )
            )
    with town.db.read() as session:
        orders = open_orders(session, Scope(department_code="urban"))
        assert [(o["case_id"], o["status"]) for o in orders] == [(mine, "open")]
        elsewhere = Scope(area_code=town.case(theirs).village_code, department_code="urban")
        assert open_orders(session, elsewhere) == []  # the order's case is in another village


def test_who_looks_at_which_department() -> None:
    own = Scope(area_code="330681", department_code="urban")
    assert department_scope(Role.DEPARTMENT, own, "police", KNOWN) == own  # cannot widen
    assert department_scope(Role.DEPARTMENT, Scope(), "police", KNOWN) is None  # none assigned
    picked = department_scope(Role.COMMANDER, Scope(area_code="330681"), "police", KNOWN)
    assert picked == Scope(area_code="330681", department_code="police")
    assert department_scope(Role.ADMIN, Scope(), "nope", KNOWN) is None
