"""The figures of the trends page: the closure metrics of ``dashboard.domain.metrics`` plus the
reported count and the average handling time, split so that they can be rolled up by day.

Pure. Everything counted here is defined in ``dashboard.domain.metrics``; this module only says
which parts of ``ClosureCounts`` are *additive over days* (an event inside the period: closed,
closed on time, registered, extended, dispatched, right first time, handled, handled on time —
each is "its time lies in the period", so a period's count is the sum of its days' counts) and
which part is a *state at the period's cutoff* (open overdue, its unhandled part, and the reworks
among them), which no sum of days can give and is computed from the cases at query time.

``day_parts(case, ...)`` gives, per local day, the additive counts of one case, by calling
``metrics.case_tally`` (``closure_counts`` of that single case) on that case and day, so the
definitions cannot drift; the
roll-up (dashboard.services.trend_rollups) stores their sums per day × village × category ×
department × source.

Two figures are the page's own (DOMAIN.md has no formula for them):

* **reported** (上报数): every case whose ``reported_at`` lies in the period, voided ones too
  (they were reported; they are judged in the grid-worker metrics);
* **average handling time** (平均办理时长): over the cases closed in the period that were
  registered, the working time (the working calendar's hours) from registration to closure,
  in working hours with one decimal; None when no such case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.metrics import (
    CaseFacts,
    ClosureCounts,
    Period,
    case_tally,
    closure_counts,
    closure_rate,
    extension_rate,
    on_time_closure_rate,
    rate,
    rework_rate,
)
from dashboard.domain.status import CaseStatus
from dashboard.domain.time_bounds import measurable
from dashboard.domain.working_index import WorkingIndex

__all__ = [
    "ADDITIVE",
    "CELL_DEGREES",
    "DayParts",
    "Figures",
    "cell_centre",
    "day_bounds",
    "day_parts",
    "handling_seconds",
    "local_day",
    "overdue_days",
    "report_spot",
]

# The map's bins: positions are rolled up per cell of this many degrees (about 500 m).
CELL_DEGREES = 0.005

# The additive counts a roll-up row holds, in this order (column names of ``trend_rollups``).
ADDITIVE = (
    "reported",
    "emergencies",
    "registered",
    "extensions",
    "dispatched",
    "right_first_time",
    "closed",
    "closed_on_time",
    "closed_reworked",
    "handled",
    "handled_on_time",
    "handling_cases",
    "handling_seconds",
)


@dataclass(frozen=True, slots=True)
class DayParts:
    """The additive counts of some cases on some day (or summed over a period)."""

    reported: int = 0
    emergencies: int = 0
    registered: int = 0
    extensions: int = 0
    dispatched: int = 0
    right_first_time: int = 0
    closed: int = 0
    closed_on_time: int = 0
    closed_reworked: int = 0  # closed in the period with at least one rework
    handled: int = 0
    handled_on_time: int = 0
    handling_cases: int = 0  # closed in the period, registered: the average's denominator
    handling_seconds: int = 0  # their working time registration → closure, summed

    def __add__(self, other: DayParts) -> DayParts:
        return DayParts(*(getattr(self, n) + getattr(other, n) for n in ADDITIVE))

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> DayParts:
        return cls(**{n: int(values.get(n) or 0) for n in ADDITIVE})


@dataclass(frozen=True, slots=True)
class AtCutoff:
    """The state part: open overdue at the cutoff, its unhandled part, its reworked cases."""

    open_overdue: int = 0
    unhandled_overdue: int = 0
    reworks: int = 0

    def __add__(self, other: AtCutoff) -> AtCutoff:
        return AtCutoff(
            self.open_overdue + other.open_overdue,
            self.unhandled_overdue + other.unhandled_overdue,
            self.reworks + other.reworks,
        )


def at_cutoff(case: CaseFacts, period: Period, now: datetime) -> AtCutoff:
    """The state part of one case for ``period`` evaluated at ``now`` (metrics' own rule)."""
    counts = closure_counts([case], period, now)
    if counts.open_overdue == 0:
        return AtCutoff()
    return AtCutoff(counts.open_overdue, counts.unhandled_overdue, counts.reworks)


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure of one unit (the whole area, a town, a category…) for one period."""

    parts: DayParts = field(default_factory=DayParts)
    cutoff: AtCutoff = field(default_factory=AtCutoff)

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.parts + other.parts, self.cutoff + other.cutoff)

    @property
    def counts(self) -> ClosureCounts:
        p, c = self.parts, self.cutoff
        return ClosureCounts(
            closed=p.closed,
            closed_on_time=p.closed_on_time,
            open_overdue=c.open_overdue,
            registered=p.registered,
            reworks=p.closed_reworked + c.reworks,
            extensions=p.extensions,
            dispatched=p.dispatched,
            dispatched_right_first_time=p.right_first_time,
            handled=p.handled,
            handled_on_time=p.handled_on_time,
            unhandled_overdue=c.unhandled_overdue,
        )

    @property
    def average_handling_hours(self) -> float | None:
        """Working hours registration → closure, one decimal, half up; None without cases."""
        n = self.parts.handling_cases
        if n == 0:
            return None
        tenths, remainder = divmod(self.parts.handling_seconds * 10, 3600 * n)
        if 2 * remainder >= 3600 * n:
            tenths += 1
        return tenths / 10

    def contract(self) -> dict[str, Any]:
        """The keys of ``GET /api/v1/trends/summary`` (without from/to and the comparisons)."""
        counts = self.counts
        return {
            "reported": self.parts.reported,
            "registered": counts.registered,
            "closed": counts.closed,
            "closed_on_time": counts.closed_on_time,
            "should_be_closed": counts.should_be_closed,
            "closure_rate": closure_rate(counts),
            "on_time_closure_rate": on_time_closure_rate(counts),
            "rework_rate": rework_rate(counts),
        }

    def page(self) -> dict[str, Any]:
        """The contract's keys plus the page's own: extensions, rates, average hours."""
        counts = self.counts
        return self.contract() | {
            "reworks": counts.reworks,
            "extensions": counts.extensions,
            "extension_rate": extension_rate(counts),
            "emergencies": self.parts.emergencies,
            "handling_cases": self.parts.handling_cases,
            "average_handling_hours": self.average_handling_hours,
        }


def change(now_value: float | int | None, before: float | int | None) -> float | None:
    """The relative change in percent (two decimals) from ``before`` to ``now_value``; None
    when either is missing or ``before`` is 0."""
    if now_value is None or before is None or before == 0:
        return None
    # rate() works on non-negative integers: scale to hundredths.
    a, b = round(now_value * 100), round(before * 100)
    if a >= b:
        return rate(a - b, b)
    down = rate(b - a, b)
    return None if down is None else -down


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


@lru_cache(maxsize=4096)
def day_bounds(day: date, tz: ZoneInfo) -> Period:
    """The half-open instants of the local ``day`` (cached: the roll-ups ask for the same days
    over and over)."""
    start = datetime.combine(day, time(0), tz)
    return Period(start, datetime.combine(day + timedelta(days=1), time(0), tz))


class WorkingTimer:
    """``calendar.working_time_between`` in whole seconds, over a ``WorkingIndex`` of the years
    asked about (a binary search instead of a walk over the days; the index follows the
    calendar exactly). The index grows to cover every instant it is asked about."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.index: WorkingIndex | None = None
        self.first = self.last = date.max

    def seconds(self, a: datetime, b: datetime) -> int:
        tz = self.calendar.tz
        first, last = local_day(a, tz), local_day(b, tz)
        if self.index is None or first < self.first or last > self.last:
            low = date(min(first.year, self.first.year if self.index else first.year), 1, 1)
            high = date(max(last.year, self.last.year if self.index else last.year), 12, 31)
            self.index = WorkingIndex(self.calendar, low - timedelta(days=1), high)
            self.first, self.last = low, high
        worked = self.index.worked
        return (worked(_us(b)) - worked(_us(a))) // 1_000_000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


def handling_seconds(
    case: CaseFacts, calendar: WorkingCalendar, timer: WorkingTimer | None = None
) -> int | None:
    """Working seconds from registration to closure; None when not both, or not measurable."""
    if case.registered_at is None or case.closed_at is None or case.status is CaseStatus.VOIDED:
        return None
    if case.closed_at < case.registered_at or not measurable(case.registered_at, case.closed_at):
        return None
    if timer is not None:
        return timer.seconds(case.registered_at, case.closed_at)
    return int(calendar.working_time_between(case.registered_at, case.closed_at).total_seconds())


def day_parts(
    case: CaseFacts,
    emergency: bool,
    calendar: WorkingCalendar,
    timer: WorkingTimer | None = None,
) -> dict[date, DayParts]:
    """The additive counts of one case, per local day of the calendar's zone."""
    tz = calendar.tz
    moments = [case.reported_at, case.registered_at, case.handled_at, case.closed_at]
    days = sorted({local_day(m, tz) for m in moments if m is not None})
    result: dict[date, DayParts] = {}
    for day in days:
        period = day_bounds(day, tz)
        # The event counts do not depend on the cutoff; evaluate at the day's end.
        t = case_tally(case, period, period.end)
        reported = 1 if case.reported_at in period else 0
        closed_here = t[_T["closed"]]
        seconds = handling_seconds(case, calendar, timer) if closed_here else None
        parts = DayParts(
            reported,
            reported if emergency else 0,
            t[_T["registered"]],
            t[_T["extensions"]],
            t[_T["dispatched"]],
            t[_T["dispatched_right_first_time"]],
            closed_here,
            t[_T["closed_on_time"]],
            1 if closed_here and case.rework_count > 0 else 0,
            t[_T["handled"]],
            t[_T["handled_on_time"]],
            0 if seconds is None else 1,
            seconds or 0,
        )
        # Every other part is a part of one of these four.
        if reported or closed_here or t[_T["registered"]] or t[_T["handled"]]:
            result[day] = parts
    return result


# The positions of ClosureCounts' fields in a ``case_tally``.
_T = {f.name: i for i, f in enumerate(fields(ClosureCounts))}


def overdue_days(case: CaseFacts, tz: ZoneInfo) -> dict[date, AtCutoff]:
    """The state part of one case *that has a closing time*, at each local midnight between its
    deadline and its closure: ``{day: at_cutoff(case, [day - 1, day), day 00:00)}``, the days
    where it is not zero. A period ending at that midnight (and evaluated after it) counts
    exactly these (``metrics.closure_counts``' own rule, called per day): its closed-in-period
    branch cannot apply to a case closed at or after the period's end. Cases without a closing
    time are open: they are read from the open cases at query time."""
    if case.closed_at is None or case.deadline is None or case.closed_at <= case.deadline:
        return {}
    result: dict[date, AtCutoff] = {}
    day = local_day(case.deadline, tz) + timedelta(days=1)
    last = local_day(case.closed_at, tz)
    while day <= last:
        midnight = day_bounds(day, tz).start
        state = at_cutoff(case, Period(day_bounds(day - timedelta(days=1), tz).start, midnight),
                          midnight)  # fmt: skip
        if state.open_overdue:
            result[day] = state
        day += timedelta(days=1)
    return result


def report_spot(
    reported_at: datetime, lon: float, lat: float, tz: ZoneInfo
) -> tuple[date, int, int, int, int]:
    """Where and when a report counts in the hour × weekday matrix and the map: its local day,
    weekday (Monday 0), hour, and the map cell of its position."""
    moment = reported_at.astimezone(tz)
    return (
        moment.date(),
        moment.weekday(),
        moment.hour,
        math.floor(lon / CELL_DEGREES),
        math.floor(lat / CELL_DEGREES),
    )


def cell_centre(cell_x: int, cell_y: int) -> tuple[float, float]:
    """The lon, lat of a map cell's centre."""
    return ((cell_x + 0.5) * CELL_DEGREES, (cell_y + 0.5) * CELL_DEGREES)
