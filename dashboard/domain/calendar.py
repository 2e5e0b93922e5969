"""The working calendar: which moments count towards a case's time limit.

Limits are in working hours or working days (DOMAIN.md, "Time limits"), so the clock only runs
inside the daily work periods of working days. A day is a working day when it is a weekday and
not a public holiday, or when it is an adjusted working weekend (调休上班日). Dates in years the
data does not cover fall back to weekends-only; ``covers(year)`` lets start-up code warn.

Conventions used everywhere in this module:
- every input datetime must be timezone-aware (a naive one raises ``CalendarError``), and every
  output is an aware datetime in UTC; periods are local wall-clock times in ``tz``;
- work periods are half-open ``[start, end)``: 12:00 is not working time, so a case reported at
  12:00 starts its clock at 13:30; a computed deadline may however *end* exactly at 12:00;
- working time is summed in exact ``timedelta`` (integer microseconds), so adding and measuring
  round-trip without drift; the ``*_minutes`` helpers are float conveniences over that.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.domain.errors import CalendarError

_DAY = timedelta(days=1)
_ZERO = timedelta(0)
# A gap longer than this without a single working day means the data is wrong (e.g. a typo
# that marks a whole year as holiday); stop instead of looping for ever.
_MAX_NON_WORKING_RUN = 60

Period = tuple[time, time]
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_WORK_PERIODS: tuple[Period, ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)


def ensure_aware(t: datetime, what: str = "datetime") -> datetime:
    """Return ``t`` in UTC; refuse naive datetimes, whose meaning depends on the server's zone."""
    if t.tzinfo is None or t.tzinfo.utcoffset(t) is None:
        raise CalendarError("naive_datetime", f"{what} {t.isoformat()} has no time zone")
    return t.astimezone(UTC)


# The State Council publishes next year's holidays in October or November; from this month on a
# missing next year is worth a warning before it starts.
WARN_NEXT_YEAR_FROM_MONTH = 12


@dataclass(frozen=True)
class CalendarGap:
    """A year the holiday data does not cover, now or soon.

    ``current``: ``now`` is in that year, so deadlines already count weekends only (every weekday
    a working day, no 调休) and a public holiday counts as working time; otherwise the year starts
    within weeks. Deadlines are computed either way: a gap is a warning, never a stop.
    """

    year: int
    current: bool


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo = DEFAULT_TZ
    work_periods: tuple[Period, ...] = DEFAULT_WORK_PERIODS
    holidays: frozenset[date] = field(default_factory=frozenset)
    adjusted_workdays: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.work_periods:
            raise CalendarError("calendar_periods", "at least one work period is required")
        previous_end = time.min
        for start, end in self.work_periods:
            if not previous_end <= start < end:
                raise CalendarError(
                    "calendar_periods",
                    f"work period {start:%H:%M}-{end:%H:%M} must start before it ends and "
                    "after the previous period (periods are sorted and do not overlap)",
                )
            previous_end = end
        both = self.holidays & self.adjusted_workdays
        if both:
            raise CalendarError(
                "calendar_conflict",
                f"{min(both).isoformat()} is both a holiday and an adjusted working day",
            )

    # --- days -----------------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """True if holiday data for ``year`` is loaded (otherwise weekends-only is assumed)."""
        return year in self.years

    def is_working_day(self, d: date) -> bool:
        if d in self.holidays:
            return False
        if d in self.adjusted_workdays:
            return True
        return d.weekday() < 5

    def _periods_from(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        """UTC ``(start, end)`` of every work period ending after ``t``, in order, for ever."""
        day = t.astimezone(self.tz).date()
        idle = 0
        while True:
            if self.is_working_day(day):
                idle = 0
                for start, end in self.work_periods:
                    p_end = self._at(day, end)
                    if p_end > t:
                        yield self._at(day, start), p_end
            else:
                idle += 1
                if idle > _MAX_NON_WORKING_RUN:
                    raise CalendarError(
                        "calendar_no_working_day",
                        f"no working day in the {_MAX_NON_WORKING_RUN} days before {day}",
                    )
            day += _DAY

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    # --- moments and durations ------------------------------------------------------------

    def next_working_moment(self, t: datetime) -> datetime:
        """``t`` itself if it is working time, else the start of the next work period."""
        t = ensure_aware(t)
        start, _ = next(self._periods_from(t))
        return max(t, start)

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest moment by which ``amount`` of working time has elapsed since ``start``.

        The result lies inside a work period or exactly at its end (e.g. 12:00, never 13:30
        for a limit used up at lunch). A zero amount gives ``next_working_moment(start)``.
        """
        t = ensure_aware(start, "start")
        if amount < _ZERO:
            raise CalendarError("negative_duration", f"cannot add {amount} of working time")
        remaining = amount
        for p_start, p_end in self._periods_from(t):
            segment_start = max(t, p_start)
            available = p_end - segment_start
            if remaining <= available:
                return segment_start + remaining
            remaining -= available
        raise AssertionError("unreachable: _periods_from never ends")  # pragma: no cover

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        return self.add_working_time(start, timedelta(minutes=minutes))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local clock time on the ``days``-th following working day.

        Convention: a ``start`` outside working time is first moved to the next working moment
        (Friday 18:00 becomes Monday 08:30), so "1 working day" from Friday evening is Tuesday
        08:30 — one full working day, Monday, is granted. A start inside working time keeps
        its clock time (Tuesday 10:15 + 3 → Friday 10:15 when all are working days). The
        result is therefore always inside a work period; ``days == 0`` gives that moved start.
        """
        if days < 0:
            raise CalendarError("negative_duration", f"cannot add {days} working days")
        moved = self.next_working_moment(start).astimezone(self.tz)
        day, clock = moved.date(), moved.time()
        for _ in range(days):
            day = self._next_working_day(day)
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def _next_working_day(self, day: date) -> date:
        for _ in range(_MAX_NON_WORKING_RUN + 1):
            day += _DAY
            if self.is_working_day(day):
                return day
        raise CalendarError("calendar_no_working_day", f"no working day after {day}")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in ``[a, b)``; zero when ``b <= a``."""
        a, b = ensure_aware(a, "from"), ensure_aware(b, "to")
        total = _ZERO
        if b <= a:
            return total
        for p_start, p_end in self._periods_from(a):
            if p_start >= b:
                break
            total += min(p_end, b) - max(p_start, a)
        return total

    def working_minutes_between(self, a: datetime, b: datetime) -> float:
        return self.working_time_between(a, b) / timedelta(minutes=1)


# --- loading ------------------------------------------------------------------------------


def load_calendar(text: str) -> WorkingCalendar:
    """Parse ``calendar_cn.toml``-style text (see that file for the format)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CalendarError("calendar_toml", f"calendar file is not valid TOML: {err}") from err
    tz_name = data.get("timezone", "Asia/Shanghai")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise CalendarError("calendar_timezone", f"unknown timezone {tz_name!r}") from err
    periods = tuple(_period(p) for p in data.get("work_periods", DEFAULT_WORK_PERIODS))
    holidays: set[date] = set()
    workdays: set[date] = set()
    years: set[int] = set()
    for key, table in data.get("years", {}).items():
        year = _year(key)
        if not isinstance(table, dict):
            raise CalendarError("calendar_year", f"[years.{key}] must be a table")
        years.add(year)
        holidays |= _dates(table.get("holidays", []), year, "holidays")
        workdays |= _dates(table.get("adjusted_workdays", []), year, "adjusted_workdays")
    for d in workdays:
        if d.weekday() < 5:
            raise CalendarError(
                "calendar_workday",
                f"adjusted working day {d.isoformat()} is not a weekend day (调休 moves weekends)",
            )
    return WorkingCalendar(tz, periods, frozenset(holidays), frozenset(workdays), frozenset(years))


def _period(raw: Any) -> Period:
    if not (isinstance(raw, list | tuple) and len(raw) == 2):
        raise CalendarError("calendar_periods", f"work period {raw!r} is not [start, end]")
    start, end = (_clock(v) for v in raw)
    return start, end


def _clock(raw: Any) -> time:
    if isinstance(raw, time):
        return raw
    try:
        return time.fromisoformat(str(raw))
    except ValueError as err:
        raise CalendarError("calendar_periods", f"{raw!r} is not a clock time") from err


def _year(key: str) -> int:
    if not (key.isdigit() and len(key) == 4):
        raise CalendarError("calendar_year", f"[years.{key}] is not a four-digit year")
    return int(key)


def _dates(entries: Any, year: int, what: str) -> set[date]:
    """Dates from a list of TOML dates and ``[first, last]`` inclusive ranges."""
    result: set[date] = set()
    for entry in entries:
        first, last = entry if isinstance(entry, list) and len(entry) == 2 else (entry, entry)
        if not (type(first) is date and type(last) is date and first <= last):
            raise CalendarError(
                "calendar_date", f"years.{year}.{what}: {entry!r} is not a date or [first, last]"
            )
        # A notice may touch the previous year (a 元旦 make-up day on 31 December), never more.
        if not (year - 1 <= first.year and last.year <= year):
            raise CalendarError("calendar_date", f"years.{year}.{what}: {entry!r} is off-year")
        day = first
        while day <= last:
            result.add(day)
            day += _DAY
    return result


def calendar_gap(calendar: WorkingCalendar, now: datetime) -> CalendarGap | None:
    """The year (this one, or next from December on) whose holidays the calendar lacks, if any."""
    local = ensure_aware(now, "now").astimezone(calendar.tz)
    if not calendar.covers(local.year):
        return CalendarGap(local.year, current=True)
    if local.month >= WARN_NEXT_YEAR_FROM_MONTH and not calendar.covers(local.year + 1):
        return CalendarGap(local.year + 1, current=False)
    return None
