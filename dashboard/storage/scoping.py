"""Row scoping as SQL: the one home for turning a principal's ``Scope`` into conditions.

A town's staff see their town, a department sees the cases dispatched to it (issue 12: this rule
was written by hand ~20 times and had drifted — the wall forgot ``dispatched_at IS NOT NULL`` and
five copies did not escape ``LIKE``). Codes nest by prefix (province 2, city 4, county 6, town 9,
village 12, grid 15 digits), so "inside the area" is "the code starts with the area code".

- ``case_scope(scope)``: the conditions on ``cases`` (area prefix; department and dispatched).
- ``in_area(column, area)``: any code column (a village, camera, grid, call-list row…) inside
  the area; the prefix is ``LIKE``-escaped.
- ``around_area(column, area)``: a county or town column inside the area *or enclosing it*.
- ``towns_of_area(column, area)``: the towns a screen of ``area`` may pick (a village's own town).
- ``in_department(column, scope)``: a department column (orders, reminders) of the scope's
  department.

Every helper answers a list of conditions (empty: no limit), for ``.where(*conditions)``.
``tests/unit/test_one_scoping.py`` fails when a hand-written copy appears elsewhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal

from dashboard.domain.permissions import Scope
from dashboard.storage.models import Case, ServiceRequest

TOWN_LENGTH = 9


def in_area(column: Any, area: str | None) -> list[ColumnElement[bool]]:
    """``column`` inside ``area`` (None or "": everywhere); ``%`` and ``_`` in it are literal."""
    return [column.startswith(area, autoescape=True)] if area else []


def around_area(column: Any, area: str | None) -> list[ColumnElement[bool]]:
    """A county/town ``column`` below ``area`` or the one containing it (its parents)."""
    if not area:
        return []
    return [column.startswith(area, autoescape=True) | literal(area).startswith(column)]


def towns_of_area(column: Any, area: str | None) -> list[ColumnElement[bool]]:
    """The towns inside ``area``; for a village, its own town."""
    return in_area(column, (area or "")[:TOWN_LENGTH])


def in_department(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """``column`` (a department code) is the scope's department, when it has one."""
    return [] if scope.department_code is None else [column == scope.department_code]


def case_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """The cases ``scope`` may see: inside its area; for a department, dispatched to it."""
    conditions = in_area(Case.village_code, scope.area_code)
    if scope.department_code:
        conditions += [
            Case.department_code == scope.department_code,
            Case.dispatched_at.is_not(None),
        ]
    return conditions


VILLAGE_COMMITTEE = "village"  # departments.toml: the village committee (村两委) opens requests


def service_request_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """The service requests (代办) ``scope`` may see: inside its area; a department sees those
    it handles, except the village committee, which sees every request of its village (it
    accepts them in the village for the departments)."""
    conditions = in_area(ServiceRequest.village_code, scope.area_code)
    if scope.department_code and scope.department_code != VILLAGE_COMMITTEE:
        conditions.append(ServiceRequest.department_code == scope.department_code)
    return conditions
