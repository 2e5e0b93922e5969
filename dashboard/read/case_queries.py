"""Searching cases: the one query behind the case list, its CSV, ``GET /api/v1/cases``, the
department view and the supervisors' overdue / soon-due table.

``search_cases(session, scope, filters, now, calendar, sort=..., page=..., per_page=...)`` answers
one page of rows and the total; ``iter_case_rows`` streams every matching row (CSV export).
Everything is narrowed by SQL, inside the caller's ``Scope`` (area prefix and department, by
``dashboard.storage.scoping.case_scope``): overdue and soon-due are ranges on the ``(open,
deadline)`` index, the light filter and sort are exact SQL conditions built by ``case_light_sql``
(only the few cases near the yellow boundary are judged one by one in Python). The light of each
returned row comes from the domain's ``case_light``. The session is the caller's (opened and closed
there).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.case_light import case_light
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT, Light
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Scope
from dashboard.domain.status import CLOSED_STATUSES, CaseStatus
from dashboard.domain.time_bounds import TimeOutOfBounds, check_query_time
from dashboard.read.case_light_sql import (
    has_light,
    light_condition,
    red_condition,
    yellow_condition,
)
from dashboard.storage.models import Case, Department, Town, Village
from dashboard.storage.scoping import case_scope

MAX_PER_PAGE = 500
SORT_KEYS = ("id", "reported_at", "deadline", "status", "village", "category", "light", "overdue")
LIGHTS = tuple(light.value for light in Light)
STATUS_GROUPS = ("open", "closed")  # "closed": closed or evaluated (结案, incl. rated)
_STREAM_BATCH = 500


class InvalidQuery(DomainError):
    """A filter, sort or page the search cannot take; ``field`` names it (→ 422)."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(code, message)
        self.field = field


@dataclass(frozen=True)
class CaseFilters:
    text: str = ""  # description / address / reporter substring
    case_id: int | None = None
    place: str = ""  # village/town/grid code prefix, or village/town name substring
    category: str | None = None  # sub- (5 digits) or main-category (2 digits) code
    status: str | None = None  # a CaseStatus value, or "open" / "closed"
    town: str | None = None
    department: str | None = None
    light: str | None = None  # "green" | "yellow" | "red" (current stage light)
    overdue: bool = False  # open, clock running, and at/past its deadline now
    due_within_hours: float | None = None  # open, not overdue, deadline within N hours
    emergency: bool | None = None
    reported_from: datetime | None = None  # inclusive
    reported_to: datetime | None = None  # exclusive


@dataclass(frozen=True)
class CasePage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def check_filters(filters: CaseFilters) -> CaseFilters:
    """Refuse values the query cannot mean (InvalidQuery); trims the text fields."""
    if (
        filters.status
        and filters.status not in STATUS_GROUPS
        and filters.status not in set(CaseStatus)
    ):
        raise InvalidQuery("bad_status", f"unknown status {filters.status!r}", "status")
    if filters.light and filters.light not in LIGHTS:
        raise InvalidQuery("bad_light", "light is green, yellow or red", "light")
    hours = filters.due_within_hours
    if hours is not None and not 0 < hours <= 24 * 366:
        raise InvalidQuery("bad_hours", "due_within_hours must be > 0 (hours)", "due_within_hours")
    start, end = filters.reported_from, filters.reported_to
    for name, moment in (("reported_from", start), ("reported_to", end)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidQuery("naive_time", f"{name} needs a time zone", name)
    if start and end and end <= start:
        raise InvalidQuery("bad_range", "reported_to must be after reported_from", "reported_to")
    return replace(filters, text=filters.text.strip(), place=filters.place.strip())


def check_filter_times(filters: CaseFilters, now: datetime) -> None:
    """The dates searched lie in the domain's window (dashboard.domain.time_bounds)."""
    for field, moment in (("from", filters.reported_from), ("to", filters.reported_to)):
        if moment is None:
            continue
        try:
            check_query_time(moment, now, field)
        except TimeOutOfBounds as err:
            raise InvalidQuery(err.code, err.message, field) from None


def check_sort(sort: str) -> str:
    """``sort`` is a key of SORT_KEYS, ``-`` in front for descending; else InvalidQuery."""
    if sort.removeprefix("-") not in SORT_KEYS:
        keys = ", ".join(SORT_KEYS)
        raise InvalidQuery("bad_sort", f"sort by one of {keys} (- in front: descending)", "sort")
    return sort


def scope_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """The scope as conditions (``dashboard.storage.scoping.case_scope``, the one home)."""
    return case_scope(scope)


def _place(place: str) -> ColumnElement[bool]:
    if place.isdigit():  # grid codes start with their village's code, which starts with the town's
        return Case.grid_code.startswith(place, autoescape=True)
    names = (
        select(Village.code)
        .join(Town, Town.code == Village.town_code)
        .where(
            or_(
                Village.name.contains(place, autoescape=True),
                Town.name.contains(place, autoescape=True),
            )
        )
    )
    return Case.village_code.in_(names)


def _status(status: str) -> ColumnElement[bool]:
    if status == "open":
        return Case.open.is_(True)
    if status == "closed":
        return Case.status.in_([s.value for s in CLOSED_STATUSES])
    return Case.status == status


def _running() -> list[ColumnElement[bool]]:
    """Open with its clock running (a suspended case's clock stands still: never overdue)."""
    return [Case.open.is_(True), Case.status != CaseStatus.SUSPENDED.value]


def filter_conditions(filters: CaseFilters, now: datetime) -> list[ColumnElement[bool]]:
    """Every filter except the light (which needs the session: see ``case_light_sql``)."""
    f, where = filters, []
    if f.case_id is not None:
        where.append(Case.id == f.case_id)
    if f.text:
        where.append(
            or_(
                *(
                    col.icontains(f.text, autoescape=True)
                    for col in (Case.description, Case.address, Case.reporter)
                )
            )
        )
    if f.place:
        where.append(_place(f.place))
    if f.category:
        category = func.coalesce(Case.category_code, Case.reported_category)
        where.append(category.startswith(f.category, autoescape=True))
    if f.status:
        where.append(_status(f.status))
    if f.town:
        where.append(Case.town_code == f.town)
    if f.department:
        where.append(Case.department_code == f.department)
    if f.emergency is not None:
        where.append(Case.emergency.is_(f.emergency))
    if f.reported_from is not None:
        where.append(Case.reported_at >= f.reported_from)
    if f.reported_to is not None:
        where.append(Case.reported_at < f.reported_to)
    if f.overdue:
        where += [*_running(), Case.deadline <= now]
    if f.due_within_hours is not None:
        soon = now + timedelta(hours=f.due_within_hours)
        where += [*_running(), Case.deadline > now, Case.deadline <= soon]
    return where


@dataclass(frozen=True)
class _Query:
    where: list[ColumnElement[bool]]
    order: list[Any]


def _prepare(
    session: Session,
    scope: Scope,
    filters: CaseFilters,
    now: datetime,
    calendar: WorkingCalendar,
    sort: str,
    yellow_at: float,
) -> _Query:
    filters = check_filters(filters)
    check_filter_times(filters, now)
    check_sort(sort)
    where = scope_conditions(scope) + filter_conditions(filters, now)
    if filters.light:
        where.append(light_condition(filters.light, session, where, now, calendar, yellow_at))
    return _Query(where, _order(sort, session, where, now, calendar, yellow_at))


def _order(
    sort: str,
    session: Session,
    where: list[ColumnElement[bool]],
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float,
) -> list[Any]:
    key = check_sort(sort).removeprefix("-")
    desc = sort.startswith("-")
    no_deadline = Case.deadline.is_(None)  # rows without a deadline go last either way
    if key == "light":
        yellow = yellow_condition(session, where, now, calendar, yellow_at)
        rank = case((red_condition(now), 0), (yellow, 1), (has_light(), 2), else_=3)
        columns: list[Any] = [rank, no_deadline, Case.deadline]
    elif key == "overdue":  # overdue first, the most overdue first; then the nearest deadline
        late = and_(*_running(), Case.deadline <= now)
        columns = [case((late, 0), else_=1), no_deadline, Case.deadline]
    elif key == "deadline":
        columns = [no_deadline, Case.deadline]
    elif key == "category":
        columns = [func.coalesce(Case.category_code, Case.reported_category)]
    else:
        columns = [
            {
                "id": Case.id,
                "reported_at": Case.reported_at,
                "status": Case.status,
                "village": Case.village_code,
            }[key]
        ]
    ordered = [c.desc() if desc and c is not no_deadline else c for c in columns]
    return [*ordered, Case.id.desc() if desc else Case.id]


# A case with its village, town and department names (zh, en): what case_row reads.
CaseRowSelect = Select[Case, str, str, str, str]


def _row_select(where: list[ColumnElement[bool]]) -> CaseRowSelect:
    return (
        select(Case, Village.name, Town.name, Department.name_zh, Department.name_en)
        .join(Village, Village.code == Case.village_code)
        .outerjoin(Town, Town.code == Case.town_code)
        .outerjoin(Department, Department.code == Case.department_code)
        .where(*where)
    )


def case_row(
    row: Case,
    names: tuple[str | None, ...],
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
    lang: str = "zh",
) -> dict[str, Any]:
    village_name, town_name, dept_zh, dept_en = names
    light = case_light(
        row.registered_at, row.deadline, row.suspended_at, row.open, now, calendar, yellow_at
    )
    deadline, overdue_minutes = row.deadline, None
    if row.open and row.status != CaseStatus.SUSPENDED and deadline is not None and deadline <= now:
        overdue_minutes = int((now - deadline) / timedelta(minutes=1))
    return {
        "id": row.id,
        "status": row.status,
        "source": row.source,
        "emergency": row.emergency,
        "category": row.category_code or row.reported_category,
        "description": row.description,
        "address": row.address,
        "village": row.village_code,
        "village_name": village_name or "",
        "town": row.town_code,
        "town_name": town_name or "",
        "department": row.department_code,
        "department_name": (dept_en if lang == "en" else dept_zh) or "",
        "reporter": row.reporter,
        "reported_at": row.reported_at,
        "deadline": row.deadline,
        "light": None if light is None else light.value,
        "overdue_minutes": overdue_minutes,
        "open": row.open,
    }


def search_cases(
    session: Session,
    scope: Scope,
    filters: CaseFilters,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    sort: str = "-reported_at",
    page: int = 1,
    per_page: int = 50,
    yellow_at: float = DEFAULT_YELLOW_AT,
    lang: str = "zh",
) -> CasePage:
    """One page of matching cases (newest first by default) and how many match in all."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidQuery("bad_per_page", f"per_page must be 1-{MAX_PER_PAGE}", "per_page")
    if page < 1:
        raise InvalidQuery("bad_page", "page must be 1 or more", "page")
    query = _prepare(session, scope, filters, now, calendar, sort, yellow_at)
    total = session.scalar(select(func.count()).select_from(Case).where(*query.where)) or 0
    result = session.execute(
        _row_select(query.where)
        .order_by(*query.order)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    rows = [case_row(r[0], tuple(r[1:]), now, calendar, yellow_at, lang) for r in result]
    return CasePage(rows=rows, total=int(total), page=page, per_page=per_page)


def iter_case_rows(
    session: Session,
    scope: Scope,
    filters: CaseFilters,
    now: datetime,
    calendar: WorkingCalendar,
    sort: str = "-reported_at",
    *,
    yellow_at: float = DEFAULT_YELLOW_AT,
    lang: str = "zh",
) -> Generator[dict[str, Any]]:
    """Every matching row in order, fetched in batches (for the CSV export); keep the session
    open while iterating. Filters and sort are checked before the first row is produced."""
    query = _prepare(session, scope, filters, now, calendar, sort, yellow_at)
    statement = (
        _row_select(query.where).order_by(*query.order).execution_options(yield_per=_STREAM_BATCH)
    )
    return _stream(session, statement, now, calendar, yellow_at, lang)


def _stream(
    session: Session,
    statement: CaseRowSelect,
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float,
    lang: str,
) -> Generator[dict[str, Any]]:
    for r in session.execute(statement):
        yield case_row(r[0], tuple(r[1:]), now, calendar, yellow_at, lang)
        session.expunge(r[0])  # keep the identity map small on long exports


__all__ = [
    "MAX_PER_PAGE",
    "SORT_KEYS",
    "CaseFilters",
    "CasePage",
    "InvalidQuery",
    "case_row",
    "check_filter_times",
    "check_filters",
    "check_sort",
    "filter_conditions",
    "iter_case_rows",
    "scope_conditions",
    "search_cases",
]
