"""Periods of the trends page and their comparisons: 环比 (the previous period) and 同比 (the
same period a year before), aligned on the working calendar (TRENDS.md, "Calendar facts").

Pure: dates in, dates out; the caller turns local dates into instants with the calendar's zone.

A period is a ``DateRange`` of local dates, both ends inclusive. Its kind is what the leader
picked (day, week Monday–Sunday, month, quarter, year) or ``custom``; ``kind_of`` recognises a
range that is exactly one of them (``/api/v1/trends/summary`` takes bare dates).

**环比** (``previous``): the period of the same kind just before (a month → the month before,
whatever its length); a custom range → the same number of days just before it.

**同比** (``last_year``):

* month, quarter, year: the same calendar month / quarter / year a year before (bulletins compare
  calendar months); ``Alignment.festival_moved`` says when the Spring Festival falls in one of the
  two periods and not in the other, so the page can say why the figures differ;
* a week: the week 52 weeks before (same weekdays, 364 days) — but a week touching the Spring
  Festival season is compared with the week holding the same day of last year's festival season
  (正月初一 to 正月初一), not with the same ISO week;
* a day or a custom range up to ``LUNAR_ALIGN_MAX_DAYS``: the same dates a year before, or,
  touching the festival season, the same days counted from last year's 正月初一.

The festival season is ``[正月初一 − 7 days, 正月初一 + 15 days]`` (小年 to 元宵 roughly): the
weeks whose report counts the festival visibly moves.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dashboard.domain.errors import DomainError

__all__ = [
    "SPRING_FESTIVAL",
    "Alignment",
    "DateRange",
    "InvalidPeriod",
    "PeriodKind",
    "compare",
    "kind_of",
    "last_year",
    "parse_range",
    "period_containing",
    "previous",
    "spring_festival",
]

# 正月初一 (Chinese New Year's Day), an astronomical fact fixed long in advance; the holidays
# around it come from the working calendar (calendar_cn.toml), which is updated every year.
SPRING_FESTIVAL: dict[int, date] = {
    y: date.fromisoformat(d)
    for y, d in (
        (2010, "2010-02-14"), (2011, "2011-02-03"), (2012, "2012-01-23"), (2013, "2013-02-10"),
        (2014, "2014-01-31"), (2015, "2015-02-19"), (2016, "2016-02-08"), (2017, "2017-01-28"),
        (2018, "2018-02-16"), (2019, "2019-02-05"), (2020, "2020-01-25"), (2021, "2021-02-12"),
        (2022, "2022-02-01"), (2023, "2023-01-22"), (2024, "2024-02-10"), (2025, "2025-01-29"),
        (2026, "2026-02-17"), (2027, "2027-02-06"), (2028, "2028-01-26"), (2029, "2029-02-13"),
        (2030, "2030-02-03"), (2031, "2031-01-23"), (2032, "2032-02-11"), (2033, "2033-01-31"),
        (2034, "2034-02-19"), (2035, "2035-02-08"), (2036, "2036-01-28"), (2037, "2037-02-15"),
        (2038, "2038-02-04"), (2039, "2039-01-24"), (2040, "2040-02-12"),
    )
}  # fmt: skip
SEASON_BEFORE = timedelta(days=7)
SEASON_AFTER = timedelta(days=15)
LUNAR_ALIGN_MAX_DAYS = 31
MAX_DAYS = 3 * 366 + 1  # the longest period the page and the API accept
FIRST_DAY, LAST_DAY = date(2010, 1, 1), date(2040, 12, 31)  # what SPRING_FESTIVAL covers
_WEEK = timedelta(days=7)


class InvalidPeriod(DomainError):
    """A period that cannot be asked for: bad dates, reversed, too long, out of range."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class DateRange:
    """Local dates ``first`` … ``last``, both inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidPeriod("period_reversed", f"{self.last} is before {self.first}", "to")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def shifted(self, delta: timedelta) -> DateRange:
        return DateRange(self.first + delta, self.last + delta)

    def overlaps(self, first: date, last: date) -> bool:
        return self.first <= last and first <= self.last

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


@dataclass(frozen=True, slots=True)
class Alignment:
    """A comparison period and how it was chosen (for the page's footnote)."""

    range: DateRange
    lunar: bool = False  # aligned on 正月初一, not on the calendar date
    festival_moved: bool = False  # the festival is inside one of the two periods only


def spring_festival(year: int) -> date | None:
    return SPRING_FESTIVAL.get(year)


def _season(year: int) -> tuple[date, date] | None:
    day = spring_festival(year)
    return None if day is None else (day - SEASON_BEFORE, day + SEASON_AFTER)


def _festival_touching(period: DateRange) -> date | None:
    """正月初一 of the festival season the period touches, if any."""
    for year in (period.first.year, period.last.year):
        season = _season(year)
        if season is not None and period.overlaps(*season):
            return spring_festival(year)
    return None


def _year_back(day: date) -> date:
    """The same calendar date a year before (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _month_end(year: int, month: int) -> date:
    return date(year, month, _cal.monthrange(year, month)[1])


def period_containing(kind: PeriodKind, day: date) -> DateRange:
    """The day / week / month / quarter / year holding ``day`` (custom: the day itself)."""
    if kind in (PeriodKind.DAY, PeriodKind.CUSTOM):
        return DateRange(day, day)
    if kind is PeriodKind.WEEK:
        monday = day - timedelta(days=day.weekday())
        return DateRange(monday, monday + timedelta(days=6))
    if kind is PeriodKind.MONTH:
        return DateRange(day.replace(day=1), _month_end(day.year, day.month))
    if kind is PeriodKind.QUARTER:
        first_month = 3 * ((day.month - 1) // 3) + 1
        return DateRange(date(day.year, first_month, 1), _month_end(day.year, first_month + 2))
    return DateRange(date(day.year, 1, 1), date(day.year, 12, 31))


def kind_of(period: DateRange) -> PeriodKind:
    """The kind a range is exactly (a single day, a Monday–Sunday week, …), else custom."""
    for kind in (PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH, PeriodKind.QUARTER):
        if period_containing(kind, period.first) == period:
            return kind
    if period_containing(PeriodKind.YEAR, period.first) == period:
        return PeriodKind.YEAR
    return PeriodKind.CUSTOM


def previous(period: DateRange, kind: PeriodKind | None = None) -> DateRange:
    """环比: the period of the same kind just before ``period``."""
    kind = kind or kind_of(period)
    before = period.first - timedelta(days=1)
    if kind in (PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.CUSTOM):
        return period.shifted(-timedelta(days=period.days))
    return period_containing(kind, before)


def last_year(period: DateRange, kind: PeriodKind | None = None) -> Alignment:
    """同比: the same period a year before, aligned on the working calendar (module docstring)."""
    kind = kind or kind_of(period)
    if kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
        back = period_containing(kind, _year_back(period.first))
        return Alignment(back, festival_moved=_holds_festival(period) != _holds_festival(back))
    festival = _festival_touching(period)
    before = spring_festival(festival.year - 1) if festival is not None else None
    if kind is PeriodKind.WEEK:
        if festival is None or before is None:
            return Alignment(period.shifted(-52 * _WEEK))
        same_day = period.first + (before - festival)  # the Monday, moved by the festival
        return Alignment(period_containing(PeriodKind.WEEK, same_day), lunar=True)
    if festival is not None and before is not None and period.days <= LUNAR_ALIGN_MAX_DAYS:
        return Alignment(period.shifted(before - festival), lunar=True)
    first = _year_back(period.first)
    return Alignment(DateRange(first, first + timedelta(days=period.days - 1)))


def _holds_festival(period: DateRange) -> bool:
    return any(
        (day := spring_festival(y)) is not None and period.first <= day <= period.last
        for y in range(period.first.year, period.last.year + 1)
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """A period with its 环比 and 同比."""

    kind: PeriodKind
    current: DateRange
    previous: DateRange
    last_year: Alignment


def compare(period: DateRange, kind: PeriodKind | None = None) -> Comparison:
    kind = kind or kind_of(period)
    return Comparison(kind, period, previous(period, kind), last_year(period, kind))


def parse_range(first: str | None, last: str | None, today: date) -> DateRange:
    """``from`` and ``to`` as given (``YYYY-MM-DD``), checked: both present, real dates, in
    order, at most ``MAX_DAYS`` long, within ``FIRST_DAY`` … ``LAST_DAY`` and not starting
    after ``today`` + 366 days. Every refusal names its field."""
    values: dict[str, date] = {}
    for field, raw in (("from", first), ("to", last)):
        if raw is None or raw == "":
            raise InvalidPeriod("missing_date", f"{field} is required (YYYY-MM-DD)", field)
        if len(raw) != 10:
            raise InvalidPeriod("bad_date", f"{field} must be a date YYYY-MM-DD", field)
        try:
            values[field] = date.fromisoformat(raw)
        except ValueError:
            raise InvalidPeriod("bad_date", f"{field} must be a date YYYY-MM-DD", field) from None
        if not FIRST_DAY <= values[field] <= LAST_DAY:
            raise InvalidPeriod(
                "date_out_of_range", f"{field} must lie within {FIRST_DAY} … {LAST_DAY}", field
            )
    start, end = values["from"], values["to"]
    if end < start:
        raise InvalidPeriod("period_reversed", "to must not be before from", "to")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidPeriod("period_too_long", f"a period has at most {MAX_DAYS} days", "to")
    if start > today + timedelta(days=366):
        raise InvalidPeriod("date_out_of_range", "from lies more than a year ahead", "from")
    return DateRange(start, end)
