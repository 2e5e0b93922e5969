"""Periods of the trends page: kinds, 环比, 同比 aligned on the Spring Festival, bounds."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.domain.trend_periods import (
    SPRING_FESTIVAL,
    DateRange,
    InvalidPeriod,
    PeriodKind,
    kind_of,
    last_year,
    parse_range,
    period_containing,
    previous,
)

K = PeriodKind
D = date


def r(a: str, b: str) -> DateRange:
    return DateRange(date.fromisoformat(a), date.fromisoformat(b))


def test_the_festival_dates_of_the_design_notes() -> None:
    for year, day in ((2023, "01-22"), (2024, "02-10"), (2025, "01-29"), (2026, "02-17")):
        assert SPRING_FESTIVAL[year] == date.fromisoformat(f"{year}-{day}")
    assert SPRING_FESTIVAL[2027] == D(2027, 2, 6)


@pytest.mark.parametrize(
    ("period", "kind"),
    [
        (r("2026-03-18", "2026-03-18"), K.DAY),
        (r("2026-02-16", "2026-02-22"), K.WEEK),
        (r("2026-02-17", "2026-02-23"), K.CUSTOM),  # seven days, not Monday to Sunday
        (r("2026-02-01", "2026-02-28"), K.MONTH),
        (r("2026-01-01", "2026-03-31"), K.QUARTER),
        (r("2025-01-01", "2025-12-31"), K.YEAR),
        (r("2025-01-01", "2025-12-30"), K.CUSTOM),
    ],
)
def test_kind_of(period: DateRange, kind: PeriodKind) -> None:
    assert kind_of(period) is kind


def test_previous_periods() -> None:
    assert previous(r("2026-03-01", "2026-03-31")) == r("2026-02-01", "2026-02-28")
    assert previous(r("2026-01-01", "2026-03-31")) == r("2025-10-01", "2025-12-31")
    assert previous(r("2026-02-16", "2026-02-22")) == r("2026-02-09", "2026-02-15")
    assert previous(r("2026-03-18", "2026-03-18")) == r("2026-03-17", "2026-03-17")
    assert previous(r("2026-03-05", "2026-03-14")) == r("2026-02-23", "2026-03-04")
    assert previous(r("2026-01-01", "2026-12-31")) == r("2025-01-01", "2025-12-31")


def test_a_festival_week_is_compared_with_last_years_festival_week() -> None:
    aligned = last_year(r("2026-02-16", "2026-02-22"))  # holds 正月初一 (Tue 17 Feb)
    assert aligned.range == r("2025-01-27", "2025-02-02") and aligned.lunar  # holds 29 Jan
    plain = last_year(r("2025-02-17", "2025-02-23"))  # ISO week 8 of 2025: outside the season
    assert plain.range == r("2024-02-19", "2024-02-25") and not plain.lunar  # 52 weeks back
    week_after = last_year(r("2026-02-23", "2026-03-01"))  # the week after the festival week
    assert week_after.range == r("2025-02-03", "2025-02-09")


def test_days_and_short_ranges_follow_the_festival() -> None:
    # 初三 of 2026 (19 Feb) ↔ 初三 of 2025 (31 Jan).
    assert last_year(r("2026-02-19", "2026-02-19")).range == r("2025-01-31", "2025-01-31")
    assert last_year(r("2026-07-01", "2026-07-01")).range == r("2025-07-01", "2025-07-01")
    assert last_year(r("2024-02-29", "2024-02-29")).range == r("2023-02-28", "2023-02-28")


def test_months_compare_calendar_months_and_say_when_the_festival_moved() -> None:
    january = last_year(r("2026-01-01", "2026-01-31"))
    assert january.range == r("2025-01-01", "2025-01-31") and january.festival_moved
    february = last_year(r("2026-02-01", "2026-02-28"))
    assert february.range == r("2025-02-01", "2025-02-28") and february.festival_moved
    quarter = last_year(r("2026-01-01", "2026-03-31"))
    assert quarter.range == r("2025-01-01", "2025-03-31") and not quarter.festival_moved
    leap = last_year(r("2024-02-01", "2024-02-29"))
    assert leap.range == r("2023-02-01", "2023-02-28")


def test_period_containing() -> None:
    day = D(2026, 2, 18)
    assert period_containing(K.WEEK, day) == r("2026-02-16", "2026-02-22")
    assert period_containing(K.MONTH, day) == r("2026-02-01", "2026-02-28")
    assert period_containing(K.QUARTER, D(2026, 11, 5)) == r("2026-10-01", "2026-12-31")
    assert period_containing(K.YEAR, day) == r("2026-01-01", "2026-12-31")


@pytest.mark.parametrize(
    ("first", "last", "code", "field"),
    [
        (None, "2026-01-01", "missing_date", "from"),
        ("2026-01-01", "", "missing_date", "to"),
        ("2026-1-1", "2026-01-02", "bad_date", "from"),
        ("2026-01-01", "2026-13-01", "bad_date", "to"),
        ("2026-01-02", "2026-01-01", "period_reversed", "to"),
        ("2020-01-01", "2024-01-01", "period_too_long", "to"),
        ("2009-12-31", "2010-01-01", "date_out_of_range", "from"),
        ("2028-06-01", "2028-06-02", "date_out_of_range", "from"),
    ],
)
def test_parse_range_refuses_clearly(
    first: str | None, last: str | None, code: str, field: str
) -> None:
    with pytest.raises(InvalidPeriod) as err:
        parse_range(first, last, D(2026, 12, 5))
    assert (err.value.code, err.value.field) == (code, field)


def test_parse_range_accepts() -> None:
    assert parse_range("2026-02-16", "2026-02-22", D(2026, 12, 5)) == r("2026-02-16", "2026-02-22")
