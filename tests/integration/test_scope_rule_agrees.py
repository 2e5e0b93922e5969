"""The scoping rule in SQL (``storage.scoping.case_scope``) and for one row in Python
(``security.scoping.case_in_scope``) choose the same cases, for every kind of scope (issue 12:
the copies had drifted apart)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.security.principal import Principal
from dashboard.security.scoping import case_in_scope
from dashboard.services.cases import CaseReport
from dashboard.storage.models import Case
from dashboard.storage.scoping import case_scope
from tests.integration.support import TOWN_NOW, Town


def _report(town: Town, grid: int) -> int:
    g = town.grid(grid)
    report = CaseReport(
        lon=g.lon,
        lat=g.lat,
        actor="gw-0001",
        role=Role.GRID_WORKER,
        category_code="05001",
        description="路边垃圾堆积",
        source=Source.GRID_WORKER,
    )
    return town.cases.report(report).id


def test_sql_and_python_scoping_choose_the_same_cases(town: Town) -> None:
    ids = [_report(town, grid) for grid in (0, 1, 60, 61)]
    # assigned to "urban": dispatched (0, 2) or not yet (1); another department (3)
    values = [
        {"department_code": "urban", "dispatched_at": TOWN_NOW},
        {"department_code": "urban", "dispatched_at": None},
        {"department_code": "urban", "dispatched_at": TOWN_NOW + timedelta(minutes=1)},
        {"department_code": "police", "dispatched_at": TOWN_NOW},
    ]
    with town.db.transaction() as session:
        for case_id, changes in zip(ids, values, strict=True):
            session.execute(update(Case).where(Case.id == case_id).values(**changes))
    village, other = town.grid(0).village_code, town.grid(60).village_code
    scopes = [
        Scope(),
        Scope(area_code=village),
        Scope(area_code=other),
        Scope(area_code=village[:9]),
        Scope(department_code="urban"),
        Scope(area_code=village, department_code="urban"),
        Scope(department_code="police"),
        Scope(area_code=village[:-1] + "_"),  # a wildcard character matches nothing
    ]
    chosen = {}
    with town.db.read() as session:
        for scope in scopes:
            in_sql = set(
                session.scalars(select(Case.id).where(Case.id.in_(ids), *case_scope(scope)))
            )
            who = Principal("x", Role.COMMANDER, "user", 1, scope)
            rows = session.scalars(select(Case).where(Case.id.in_(ids))).all()
            in_python = {row.id for row in rows if case_in_scope(who, row)}
            assert in_sql == in_python, scope
            chosen[scope] = in_sql
    assert chosen[Scope(department_code="urban")] == {ids[0], ids[2]}
    assert chosen[Scope(area_code=village, department_code="urban")] == {ids[0]}
    assert chosen[Scope(area_code=village[:-1] + "_")] == set()
