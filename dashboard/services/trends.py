"""The trend figures of a period and area, from the roll-up plus the state at the cutoff.

``TrendQueries.figures(period, scope, by=...)`` answers ``{key: Figures}``: the additive part
summed from ``trend_rollups`` (refreshed first, dashboard.services.trend_rollups), the state part
(open overdue at the cutoff, dashboard.domain.trend_figures.AtCutoff) from the few cases it can
concern, both grouped by the same key. ``summary`` is the JSON contract of
``GET /api/v1/trends/summary`` with its 环比 and 同比 (dashboard.domain.trend_periods).

The dimensions a breakdown may group by (``DIMENSIONS``): ``town`` (9 digits of the village
code), ``village``, ``major`` (大类, 2 digits of the category), ``category`` (小类), ``department``,
``source``, ``day``. The state part has no day: grouped by day, only the additive part counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.metrics import Period
from dashboard.domain.permissions import Scope
from dashboard.domain.status import CaseStatus
from dashboard.domain.trend_figures import ADDITIVE, AtCutoff, DayParts, Figures, at_cutoff
from dashboard.domain.trend_periods import Comparison, DateRange, PeriodKind, compare
from dashboard.services.trend_rollups import COLUMNS, TrendCase, refresh, trend_case
from dashboard.storage.db import Database
from dashboard.storage.models import Case, TrendRollup
from dashboard.storage.scoping import in_area, in_department

DIMENSIONS = ("town", "village", "major", "category", "department", "source", "day")
TOWN, MAJOR = 9, 2

Key = tuple[str, ...]


def period_of(dates: DateRange, calendar: WorkingCalendar) -> Period:
    """The instants ``[first 00:00, last + 1 day 00:00)`` of the command room's zone."""
    tz = calendar.tz
    return Period(
        datetime.combine(dates.first, time(0), tz),
        datetime.combine(dates.last + timedelta(days=1), time(0), tz),
    )


def _rollup_column(dim: str) -> Any:
    return {
        "town": func.substr(TrendRollup.village_code, 1, TOWN),
        "village": TrendRollup.village_code,
        "major": func.substr(TrendRollup.category_code, 1, MAJOR),
        "category": TrendRollup.category_code,
        "department": TrendRollup.department_code,
        "source": TrendRollup.source,
        "day": TrendRollup.day,
    }[dim]


def _case_key(dim: str) -> Callable[[TrendCase], str | None]:
    getters: dict[str, Callable[[TrendCase], str | None]] = {
        "town": lambda c: (c.facts.village_code or "")[:TOWN],
        "village": lambda c: c.facts.village_code or "",
        "major": lambda c: c.category[:MAJOR],
        "category": lambda c: c.category,
        "department": lambda c: c.facts.department_code or "",
        "source": lambda c: c.facts.source,
        "day": lambda c: None,
    }
    return getters[dim]


@dataclass(frozen=True)
class Summary:
    comparison: Comparison
    current: Figures
    previous: Figures
    last_year: Figures

    def contract(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "from": c.current.first.isoformat(),
            "to": c.current.last.isoformat(),
            **self.current.contract(),
            "previous": _with_dates(c.previous, self.previous.contract()),
            "last_year": _with_dates(c.last_year.range, self.last_year.contract()),
        }


def _with_dates(dates: DateRange, body: dict[str, Any]) -> dict[str, Any]:
    return {"from": dates.first.isoformat(), "to": dates.last.isoformat(), **body}


class TrendQueries:
    """Reads the trend figures; refreshes the roll-up first (at most every ``fresh_for``)."""

    def __init__(self, db: Database, calendar: WorkingCalendar) -> None:
        self.db, self.calendar = db, calendar

    def refresh(self) -> int:
        return refresh(self.db, self.calendar)

    def figures(
        self,
        dates: DateRange,
        scope: Scope,
        now: datetime,
        by: Sequence[str] = (),
        where: dict[str, str] | None = None,
    ) -> dict[Key, Figures]:
        """Figures per ``by`` key (``()``: one key, the whole scope) for ``dates`` at ``now``;
        ``where`` narrows by dimension values (e.g. ``{"town": "330681109"}``)."""
        for dim in (*by, *(where or {})):
            if dim not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dim!r}")
        self.refresh()
        period = period_of(dates, self.calendar)
        result: dict[Key, Figures] = defaultdict(Figures)
        with self.db.read() as session:
            for key, parts in self._additive(session, dates, scope, by, where or {}).items():
                result[key] = result[key] + Figures(parts=parts)
            if "day" not in by:
                for key, state in self._at_cutoff(session, period, now, scope, by, where).items():
                    result[key] = result[key] + Figures(cutoff=state)
        return dict(result)

    def total(
        self, dates: DateRange, scope: Scope, now: datetime, where: dict[str, str] | None = None
    ) -> Figures:
        return self.figures(dates, scope, now, (), where).get((), Figures())

    def summary(
        self,
        dates: DateRange,
        scope: Scope,
        now: datetime,
        kind: PeriodKind | None = None,
        where: dict[str, str] | None = None,
    ) -> Summary:
        comparison = compare(dates, kind)
        return Summary(
            comparison,
            self.total(comparison.current, scope, now, where),
            self.total(comparison.previous, scope, now, where),
            self.total(comparison.last_year.range, scope, now, where),
        )

    # --- the two parts ---------------------------------------------------------------------

    def _additive(
        self,
        session: Session,
        dates: DateRange,
        scope: Scope,
        by: Sequence[str],
        where: dict[str, str],
    ) -> dict[Key, DayParts]:
        columns = [_rollup_column(d) for d in by]
        sums = [func.sum(getattr(TrendRollup, n)) for n in ADDITIVE]
        conditions: list[ColumnElement[bool]] = [
            TrendRollup.day >= dates.first.isoformat(),
            TrendRollup.day <= dates.last.isoformat(),
            *in_area(TrendRollup.village_code, scope.area_code),
            *in_department(TrendRollup.department_code, scope),
        ]
        conditions += [_rollup_column(d) == v for d, v in where.items()]
        query = select(*columns, *sums).where(*conditions)
        if columns:
            query = query.group_by(*columns)
        result: dict[Key, DayParts] = {}
        for row in session.execute(query):
            values = dict(zip(ADDITIVE, row[len(columns) :], strict=True))
            if all(v is None for v in values.values()):
                continue
            result[tuple(str(v) for v in row[: len(columns)])] = DayParts.of(values)
        return result

    def _at_cutoff(
        self,
        session: Session,
        period: Period,
        now: datetime,
        scope: Scope,
        by: Sequence[str],
        where: dict[str, str] | None,
    ) -> dict[Key, AtCutoff]:
        cutoff = min(now, period.end)
        query = select(*COLUMNS).where(
            Case.status.not_in([CaseStatus.VOIDED.value, CaseStatus.SUSPENDED.value]),
            *in_area(Case.village_code, scope.area_code),
            *in_department(Case.department_code, scope),
            Case.deadline < cutoff,
            Case.registered_at < period.end,
            or_(Case.open.is_(True), and_(Case.closed_at.is_not(None), Case.closed_at >= cutoff)),
        )
        keys = [_case_key(d) for d in by]
        filters = [(_case_key(d), v) for d, v in (where or {}).items()]
        result: dict[Key, AtCutoff] = defaultdict(AtCutoff)
        for row in session.execute(query.execution_options(yield_per=5000)):
            case = trend_case(row)
            if any(get(case) != value for get, value in filters):
                continue
            state = at_cutoff(case.facts, period, now)
            if state.open_overdue:
                key = tuple(k(case) or "" for k in keys)
                result[key] = result[key] + state
        return dict(result)

    # --- the page's other reads ----------------------------------------------------------------

    def cases_in(
        self, session: Session, dates: DateRange, scope: Scope, where: dict[str, str]
    ) -> list[tuple[TrendCase, float, float]]:
        """The cases reported in ``dates`` with their place (the hour × weekday matrix, the
        map, the case list)."""
        period = period_of(dates, self.calendar)
        conditions = [
            Case.reported_at >= period.start,
            Case.reported_at < period.end,
            *in_area(Case.village_code, scope.area_code),
            *in_department(Case.department_code, scope),
        ]
        query = select(*COLUMNS, Case.lon, Case.lat).where(*conditions)
        filters = [(_case_key(d), v) for d, v in where.items() if d != "day"]
        found = []
        for row in session.execute(query.execution_options(yield_per=5000)):
            case = trend_case(row)
            if all(get(case) == v for get, v in filters):
                found.append((case, float(row.lon), float(row.lat)))
        return found
