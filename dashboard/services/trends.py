"""The trend figures of a period and area, from the roll-ups only.

``TrendQueries.figures(period, scope, by=...)`` answers ``{key: Figures}``: the additive part
summed from the narrowest roll-up that holds the dimensions asked (dashboard.services.
trend_rollups; whole months from its month twin), the state part (open overdue at the cutoff,
dashboard.domain.trend_figures.AtCutoff) from ``trend_overdue`` for a period that has ended and
from the cases open now (an index range) — both grouped by the same key. ``matrix`` and
``cells`` give the hour × weekday matrix and the map's cells from their roll-ups. ``summary``
is the JSON contract of ``GET /api/v1/trends/summary`` with its 环比 and 同比
(dashboard.domain.trend_periods). Every read refreshes the roll-ups first (a no-op costs two
index look-ups).

The dimensions a breakdown may group by (``DIMENSIONS``): ``town`` (9 digits of the village
code), ``village``, ``major`` (大类, 2 digits of the category), ``category`` (小类), ``department``,
``source``, ``day``. The state part has no day: grouped by day, only the additive part counts.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.metrics import Period
from dashboard.domain.permissions import Scope
from dashboard.domain.status import CaseStatus
from dashboard.domain.trend_figures import (
    ADDITIVE,
    AtCutoff,
    DayParts,
    Figures,
    at_cutoff,
    cell_centre,
)
from dashboard.domain.trend_periods import Comparison, DateRange, PeriodKind, compare
from dashboard.services.trend_rollups import (
    CELLS,
    COLUMNS,
    FINE,
    HOURS,
    NARROWER,
    SERIES,
    Spec,
    TrendCase,
    monday,
    refresh,
    trend_case,
)
from dashboard.storage.db import Database
from dashboard.storage.models import Case, TrendOverdue, TrendRollup
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


NARROW = {"town", "village", "department", "day"}  # what the matrix and the map can narrow by
_COLUMN = {
    "town": "village_code",
    "village": "village_code",
    "major": "category_code",
    "category": "category_code",
    "department": "department_code",
    "source": "source",
}


def spans(dates: DateRange, months: bool = True) -> list[tuple[str, str, str]]:
    """``dates`` as (``day`` or ``month``, first key, last key): its whole local months as
    months (when ``months``), the days before and after them as days."""
    first, last = dates.first, dates.last
    days = [("day", first.isoformat(), last.isoformat())]
    if not months:
        return days
    start = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    after = last + timedelta(days=1)
    end = after if after.day == 1 else after.replace(day=1)  # the day after the last whole month
    if start >= end:
        return days
    result = []
    if first < start:
        result.append(("day", first.isoformat(), (start - timedelta(days=1)).isoformat()))
    result.append(("month", start.isoformat()[:7], (end - timedelta(days=1)).isoformat()[:7]))
    if end <= last:
        result.append(("day", end.isoformat(), last.isoformat()))
    return result


def week_spans(dates: DateRange) -> list[tuple[str, str, str]]:
    """``dates`` as (``day`` or ``week``, first key, last key): its whole weeks (Monday to
    Sunday) as weeks keyed by their Monday, the days before and after them as days."""
    first, last = dates.first, dates.last
    start = first + timedelta(days=-first.weekday() % 7)  # the first Monday on or after first
    after = last + timedelta(days=1)
    end = after - timedelta(days=after.weekday())  # the Monday after the last whole week
    if start >= end:
        return [("day", first.isoformat(), last.isoformat())]
    result = []
    if first < start:
        result.append(("day", first.isoformat(), (start - timedelta(days=1)).isoformat()))
    result.append(("week", start.isoformat(), (end - timedelta(days=7)).isoformat()))
    if end <= last:
        result.append(("day", end.isoformat(), last.isoformat()))
    return result


def _model(spec: Spec, kind: str) -> Any:
    return {"day": spec.model, "month": spec.months, "week": spec.weeks}[kind]


def _rollup_column(dim: str, model: Any = TrendRollup) -> Any:
    if dim == "town":
        return func.substr(model.village_code, 1, TOWN)
    if dim == "major":
        return func.substr(model.category_code, 1, MAJOR)
    column = {
        "village": "village_code",
        "category": "category_code",
        "department": "department_code",
        "source": "source",
        "day": "day",
    }[dim]
    return getattr(model, column)


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
    """Reads the trend figures; refreshes the roll-ups before each read, or once for a group
    of reads (``once``: a page's dozen queries)."""

    def __init__(self, db: Database, calendar: WorkingCalendar) -> None:
        self.db, self.calendar = db, calendar
        self._held = threading.local()

    def refresh(self) -> int:
        return refresh(self.db, self.calendar)

    def _refresh(self) -> None:
        if not getattr(self._held, "on", False):
            self.refresh()

    @contextmanager
    def once(self) -> Iterator[None]:
        """One refresh for every read inside (in this thread)."""
        self.refresh()
        held = getattr(self._held, "on", False)
        self._held.on = True
        try:
            yield
        finally:
            self._held.on = held

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
        self._refresh()
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
        with self.once():
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
        # The narrowest roll-up holding every dimension asked; whole months from its twin.
        wanted = {_COLUMN[d] for d in (*by, *where) if d != "day"}
        spec = next(s for s in (*NARROWER, FINE) if wanted <= set(s.keys))
        daily = "day" in by or "day" in where
        result: dict[Key, DayParts] = {}
        for kind, low, high in spans(dates, not daily):
            model = _model(spec, kind)
            columns = [_rollup_column(d, model) for d in by]
            sums = [func.sum(getattr(model, n)) for n in ADDITIVE]
            conditions: list[ColumnElement[bool]] = [
                model.day >= low,
                model.day <= high,
                *in_area(model.village_code, scope.area_code),
                *in_department(model.department_code, scope),
            ]
            conditions += [_rollup_column(d, model) == v for d, v in where.items()]
            query = select(*columns, *sums).where(*conditions)
            if columns:
                query = query.group_by(*columns)
            for row in session.execute(query):
                values = dict(zip(ADDITIVE, row[len(columns) :], strict=True))
                if all(v is None for v in values.values()):
                    continue
                key = tuple(str(v) for v in row[: len(columns)])
                parts = DayParts.of(values)
                result[key] = result[key] + parts if key in result else parts
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
        """Open and overdue at the cutoff, in two parts that never overlap:

        * the cases with a closing time: a period evaluated after its end (the cutoff is its
          end, a local midnight) sums ``trend_overdue`` of that one day; a period holding
          ``now`` reads the cases closed at or after ``now`` (an index range: none, or a few
          written with a future time);
        * the cases without one, i.e. open now: read through the index on (open, deadline) —
          the live workload, whatever the length of the history.

        Each case read is judged by ``at_cutoff`` (metrics' rule)."""
        cutoff = min(now, period.end)
        result: dict[Key, AtCutoff] = defaultdict(AtCutoff)
        if cutoff == period.end:
            day = period.end.astimezone(self.calendar.tz).date().isoformat()
            for key, state in self._overdue_rollup(session, day, scope, by, where or {}).items():
                result[key] = result[key] + state
            closed_part: list[ColumnElement[bool]] = []
        else:
            closed_part = [Case.closed_at.is_not(None), Case.closed_at >= cutoff]
        base = [
            Case.status.not_in([CaseStatus.VOIDED.value, CaseStatus.SUSPENDED.value]),
            *in_area(Case.village_code, scope.area_code),
            *in_department(Case.department_code, scope),
            Case.deadline < cutoff,
            Case.registered_at < period.end,
        ]
        queries = [select(*COLUMNS).where(*base, Case.open.is_(True), Case.closed_at.is_(None))]
        if closed_part:
            queries.append(select(*COLUMNS).where(*base, *closed_part))
        keys = [_case_key(d) for d in by]
        filters = [(_case_key(d), v) for d, v in (where or {}).items()]
        for query in queries:  # small sets: no server-side cursor (its plan aims at first rows)
            for row in session.execute(query):
                case = trend_case(row)
                if any(get(case) != value for get, value in filters):
                    continue
                state = at_cutoff(case.facts, period, now)
                if state.open_overdue:
                    key = tuple(k(case) or "" for k in keys)
                    result[key] = result[key] + state
        return dict(result)

    def _overdue_rollup(
        self, session: Session, day: str, scope: Scope, by: Sequence[str], where: dict[str, str]
    ) -> dict[Key, AtCutoff]:
        columns = [_rollup_column(d, TrendOverdue) for d in by]
        query = select(
            *columns,
            func.sum(TrendOverdue.open_overdue),
            func.sum(TrendOverdue.unhandled_overdue),
            func.sum(TrendOverdue.reworks),
        ).where(
            TrendOverdue.day == day,
            *in_area(TrendOverdue.village_code, scope.area_code),
            *in_department(TrendOverdue.department_code, scope),
            *(_rollup_column(d, TrendOverdue) == v for d, v in where.items()),
        )
        if columns:
            query = query.group_by(*columns)
        result: dict[Key, AtCutoff] = {}
        for row in session.execute(query):
            n = len(columns)
            if row[n] is None:
                continue
            result[tuple(str(v) for v in row[:n])] = AtCutoff(
                int(row[n]), int(row[n + 1]), int(row[n + 2])
            )
        return result

    # --- the page's other reads ----------------------------------------------------------------

    def _spots(
        self,
        spec: Spec,
        parts: list[tuple[str, str, str]],
        scope: Scope,
        where: dict[str, str],
        by: Sequence[str],
    ) -> dict[tuple[Any, ...], int]:
        """Reports summed per ``by`` columns of a reports-only roll-up over ``parts`` (see
        ``spans``), each part from the table of its time (days, months, weeks)."""
        for dim in where:
            if dim not in NARROW or dim == "day":
                raise ValueError(f"the matrix, the map and the series cannot narrow by {dim!r}")
        self._refresh()
        found: dict[tuple[Any, ...], int] = defaultdict(int)
        with self.db.read() as session:
            for kind, low, high in parts:
                model = _model(spec, kind)
                columns = [getattr(model, c) for c in by]
                query = (
                    select(*columns, func.sum(model.reported))
                    .where(
                        model.day >= low,
                        model.day <= high,
                        *in_area(model.village_code, scope.area_code),
                        *in_department(model.department_code, scope),
                        *(_rollup_column(d, model) == v for d, v in where.items()),
                    )
                    .group_by(*columns)
                )
                for row in session.execute(query):
                    found[tuple(row[:-1])] += int(row[-1] or 0)
        return {key: n for key, n in found.items() if n}

    def series(
        self, dates: DateRange, scope: Scope, where: dict[str, str], weekly: bool
    ) -> dict[tuple[str, str], int]:
        """Reports per (day, 大类) of ``dates`` — per (the week's Monday, 大类) when ``weekly``:
        the whole weeks from ``trend_series_weeks``, the days around them from
        ``trend_series``."""
        parts = week_spans(dates) if weekly else spans(dates, months=False)
        found = self._spots(SERIES, parts, scope, where, ("day", "major_code"))
        result: dict[tuple[str, str], int] = defaultdict(int)
        for (day, major), n in found.items():
            result[(monday(day) if weekly else day, major)] += n
        return dict(result)

    def matrix(self, dates: DateRange, scope: Scope, where: dict[str, str]) -> list[list[int]]:
        """Reports per [weekday 0..6][hour 0..23] of ``dates`` (local), from ``trend_hours``."""
        matrix = [[0] * 24 for _ in range(7)]
        found = self._spots(HOURS, spans(dates), scope, where, ("weekday", "hour"))
        for (weekday, hour), n in found.items():
            matrix[int(weekday)][int(hour)] += n
        return matrix

    def cells(
        self, dates: DateRange, scope: Scope, where: dict[str, str]
    ) -> list[tuple[float, float, int]]:
        """Reports per map cell of ``dates``: (lon, lat of the cell's centre, count), from
        ``trend_cells``."""
        found = self._spots(CELLS, spans(dates), scope, where, ("cell_x", "cell_y"))
        return [(*cell_centre(int(x), int(y)), n) for (x, y), n in sorted(found.items())]

    def cases_in(
        self,
        session: Session,
        dates: DateRange,
        scope: Scope,
        where: dict[str, str],
        limit: int | None = None,
    ) -> list[tuple[TrendCase, float, float]]:
        """The cases reported in ``dates`` with their place, oldest first (the village's case
        list; ``limit`` of them)."""
        period = period_of(dates, self.calendar)
        conditions = [
            Case.reported_at >= period.start,
            Case.reported_at < period.end,
            *in_area(Case.village_code, scope.area_code),
            *in_department(Case.department_code, scope),
        ]
        for dim, value in where.items():
            if dim in ("town", "village"):
                conditions += in_area(Case.village_code, value)
        query = select(*COLUMNS).where(*conditions).order_by(Case.reported_at, Case.id)
        filters = [(_case_key(d), v) for d, v in where.items() if d != "day"]
        if limit is not None and all(d in ("town", "village") for d in where):
            query = query.limit(limit)  # every condition is in the SQL
        else:
            query = query.execution_options(yield_per=5000)
        found: list[tuple[TrendCase, float, float]] = []
        for row in session.execute(query):
            case = trend_case(row)
            if all(get(case) == v for get, v in filters):
                found.append((case, case.lon, case.lat))
                if limit is not None and len(found) >= limit:
                    break
        return found
