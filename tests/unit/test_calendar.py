"""The working calendar against the real 2024-2026 State Council holiday data."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.calendar import CalendarGap, WorkingCalendar, calendar_gap, load_calendar
from dashboard.domain.errors import CalendarError, DomainError

SH = ZoneInfo("Asia/Shanghai")


@cache
def cal() -> WorkingCalendar:
    text = resources.files("dashboard").joinpath("data/calendar_cn.toml").read_text("utf-8")
    return load_calendar(text)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: float = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH) + timedelta(seconds=s)


def in_working_time(c: WorkingCalendar, t: datetime, *, end_ok: bool) -> bool:
    """Inside a work period of a working day; ``end_ok`` also accepts a period's end."""
    lt = t.astimezone(c.tz)
    clock = lt.time()
    if not c.is_working_day(lt.date()):
        return False
    return any(s <= clock < e or (end_ok and clock == e) for s, e in c.work_periods)


# --- days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        (date(2025, 3, 10), True, "ordinary Monday"),
        (date(2025, 3, 8), False, "ordinary Saturday"),
        (date(2025, 3, 9), False, "ordinary Sunday"),
        (date(2025, 1, 1), False, "New Year 2025 (Wednesday)"),
        (date(2025, 1, 28), False, "2025 Spring Festival, 除夕"),
        (date(2025, 2, 4), False, "2025 Spring Festival, last day"),
        (date(2025, 1, 26), True, "2025 调休 Sunday before Spring Festival"),
        (date(2025, 2, 8), True, "2025 调休 Saturday after Spring Festival"),
        (date(2025, 10, 8), False, "2025 National Day + Mid-Autumn, 8th day"),
        (date(2025, 9, 28), True, "2025 调休 Sunday before National Day"),
        (date(2025, 10, 11), True, "2025 调休 Saturday after National Day"),
        (date(2024, 2, 9), True, "2024 除夕 was not a public holiday"),
        (date(2024, 5, 11), True, "2024 调休 Saturday after Labour Day"),
        (date(2024, 6, 10), False, "2024 Dragon Boat (Monday)"),
        (date(2026, 1, 4), True, "2026 调休 Sunday after New Year"),
        (date(2026, 2, 23), False, "2026 Spring Festival, 初七 (Monday)"),
        (date(2026, 2, 28), True, "2026 调休 Saturday"),
        (date(2026, 10, 10), True, "2026 调休 Saturday after National Day"),
        (date(2027, 10, 1), True, "2027 not covered: weekends-only, Friday works"),
        (date(2027, 10, 2), False, "2027 not covered: Saturday"),
    ],
)
def test_is_working_day(day: date, working: bool, why: str) -> None:
    assert cal().is_working_day(day) is working, why


@pytest.mark.parametrize(
    ("year", "covered"), [(2023, False), (2024, True), (2026, True), (2027, False)]
)
def test_covers(year: int, covered: bool) -> None:
    assert cal().covers(year) is covered


def test_shipped_file_timezone_and_periods() -> None:
    c = cal()
    assert c.tz == SH
    assert c.work_periods == ((time(8, 30), time(12)), (time(13, 30), time(17, 30)))


# --- moments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (local(2025, 3, 10, 10), local(2025, 3, 10, 10)),  # inside: unchanged
        (local(2025, 3, 10, 8, 30), local(2025, 3, 10, 8, 30)),  # a period start is working
        (local(2025, 3, 10, 7), local(2025, 3, 10, 8, 30)),  # before office hours
        (local(2025, 3, 10, 12), local(2025, 3, 10, 13, 30)),  # 12:00 is lunch (half-open)
        (local(2025, 3, 10, 12, 45), local(2025, 3, 10, 13, 30)),  # lunch break
        (local(2025, 3, 10, 17, 30), local(2025, 3, 11, 8, 30)),  # evening
        (local(2025, 3, 14, 18), local(2025, 3, 17, 8, 30)),  # Friday evening → Monday
        (local(2025, 1, 27, 18), local(2025, 2, 5, 8, 30)),  # over Spring Festival
        (local(2025, 9, 27, 10), local(2025, 9, 28, 8, 30)),  # Saturday → 调休 Sunday
        (datetime(2025, 3, 10, 0, tzinfo=UTC), local(2025, 3, 10, 8, 30)),  # 08:00 local
    ],
)
def test_next_working_moment(t: datetime, expected: datetime) -> None:
    result = cal().next_working_moment(t)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (local(2025, 3, 10, 9), 60, local(2025, 3, 10, 10)),
        (local(2025, 3, 10, 11), 90, local(2025, 3, 10, 14)),  # across lunch
        (local(2025, 3, 10, 11), 60, local(2025, 3, 10, 12)),  # ends at 12:00, not 13:30
        (local(2025, 3, 10, 17), 60, local(2025, 3, 11, 9)),  # overnight
        (local(2025, 3, 14, 16), 240, local(2025, 3, 17, 11)),  # over a weekend
        (local(2025, 3, 15, 10), 30, local(2025, 3, 17, 9)),  # starts on Saturday
        (local(2025, 3, 10, 7), 30, local(2025, 3, 10, 9)),  # starts before hours
        (local(2025, 1, 27, 16), 240, local(2025, 2, 5, 11)),  # over Spring Festival
        (local(2025, 9, 26, 16), 240, local(2025, 9, 28, 11)),  # into a 调休 Sunday
        (local(2025, 9, 30, 17), 60, local(2025, 10, 9, 9)),  # over National Day
        (local(2025, 3, 10, 12, 30), 0, local(2025, 3, 10, 13, 30)),  # zero: next moment
    ],
)
def test_add_working_minutes(start: datetime, minutes: float, expected: datetime) -> None:
    assert cal().add_working_minutes(start, minutes) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (local(2025, 3, 10, 10), 1, local(2025, 3, 11, 10)),
        (local(2025, 3, 14, 10), 1, local(2025, 3, 17, 10)),  # Friday → Monday
        (local(2025, 3, 14, 18), 1, local(2025, 3, 18, 8, 30)),  # outside hours: moved first
        (local(2025, 3, 10, 12, 30), 1, local(2025, 3, 11, 13, 30)),  # lunch: moved first
        (local(2025, 3, 15, 10), 0, local(2025, 3, 17, 8, 30)),  # zero days: moved start
        (local(2025, 1, 24, 16), 3, local(2025, 2, 5, 16)),  # 调休 Sunday Jan 26 counts
        (local(2025, 1, 20, 10), 15, local(2025, 2, 14, 10)),  # 15 days over Spring Festival
        (local(2025, 9, 22, 9), 15, local(2025, 10, 17, 9)),  # 15 days over National Day
        (local(2024, 4, 30, 10), 1, local(2024, 5, 6, 10)),  # Labour Day 2024
        (local(2024, 5, 10, 10), 1, local(2024, 5, 11, 10)),  # 调休 Saturday 2024
        (local(2026, 2, 13, 10), 1, local(2026, 2, 14, 10)),  # 调休 Saturday 2026
        (local(2026, 2, 14, 10), 1, local(2026, 2, 24, 10)),  # 2026 Spring Festival
    ],
)
def test_add_working_days(start: datetime, days: int, expected: datetime) -> None:
    assert cal().add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [
        (local(2025, 3, 10, 9), local(2025, 3, 10, 10), 60),
        (local(2025, 3, 10, 11), local(2025, 3, 10, 14), 90),  # lunch does not count
        (local(2025, 3, 10, 12), local(2025, 3, 10, 13, 30), 0),  # only lunch
        (local(2025, 3, 10, 10), local(2025, 3, 10, 9), 0),  # b before a
        (local(2025, 3, 10, 10), local(2025, 3, 10, 10), 0),
        (local(2025, 3, 14, 17), local(2025, 3, 17, 9), 60),  # over a weekend
        (local(2025, 3, 10, 8, 30), local(2025, 3, 17, 8, 30), 5 * 450),  # a full week
        (local(2025, 3, 15), local(2025, 3, 16, 23), 0),  # weekend only
        (local(2025, 1, 27, 17), local(2025, 2, 5, 9), 60),  # over Spring Festival
        (local(2025, 1, 25), local(2025, 1, 27), 450),  # the 调休 Sunday counts
    ],
)
def test_working_minutes_between(a: datetime, b: datetime, minutes: float) -> None:
    assert cal().working_minutes_between(a, b) == minutes


def test_big_jumps_iterate_days_not_minutes() -> None:
    # Ten years of working time: would take minutes if stepped minute by minute.
    start = local(2024, 1, 2, 9)
    end = cal().add_working_days(start, 2500)
    assert cal().working_minutes_between(start, end) == 2500 * 450
    assert cal().add_working_minutes(start, 2500 * 450) == end


# --- errors -------------------------------------------------------------------------------

NAIVE = datetime(2025, 3, 10, 9)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.next_working_moment(NAIVE),
        lambda c: c.add_working_minutes(NAIVE, 10),
        lambda c: c.add_working_days(NAIVE, 1),
        lambda c: c.working_minutes_between(NAIVE, local(2025, 3, 11)),
        lambda c: c.working_minutes_between(local(2025, 3, 9), NAIVE),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    with pytest.raises(CalendarError) as info:
        call(cal())  # type: ignore[operator]
    assert info.value.code == "naive_datetime"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.add_working_minutes(local(2025, 3, 10), -1), "negative_duration"),
        (lambda c: c.add_working_days(local(2025, 3, 10), -1), "negative_duration"),
    ],
)
def test_negative_durations_are_refused(call: object, code: str) -> None:
    with pytest.raises(CalendarError) as info:
        call(cal())  # type: ignore[operator]
    assert info.value.code == code


@pytest.mark.parametrize(
    ("text", "code", "mentions"),
    [
        ("timezone = ", "calendar_toml", "not valid TOML"),
        ('timezone = "Mars/Olympus"', "calendar_timezone", "Mars/Olympus"),
        ("work_periods = [[12:00:00, 08:30:00]]", "calendar_periods", "12:00-08:30"),
        ('work_periods = [["08:30"]]', "calendar_periods", "not [start, end]"),
        ('work_periods = [["8h", "12:00"]]', "calendar_periods", "'8h'"),
        ("[years.25]\nholidays = []", "calendar_year", "years.25"),
        ("[years.2025]\nholidays = ['2025-01-01']", "calendar_date", "years.2025.holidays"),
        ("[years.2025]\nholidays = [[2025-02-04, 2025-01-28]]", "calendar_date", "holidays"),
        ("[years.2025]\nholidays = [2031-01-01]", "calendar_date", "off-year"),
        ("[years.2025]\nadjusted_workdays = [2025-01-27]", "calendar_workday", "2025-01-27"),
        (
            "[years.2025]\nholidays = [2025-01-26]\nadjusted_workdays = [2025-01-26]",
            "calendar_conflict",
            "2025-01-26",
        ),
    ],
)
def test_bad_calendar_files(text: str, code: str, mentions: str) -> None:
    with pytest.raises(CalendarError) as info:
        load_calendar(text)
    assert info.value.code == code
    assert mentions in info.value.message


def test_empty_file_gives_weekends_only_default() -> None:
    c = load_calendar("")
    assert c == WorkingCalendar()
    assert not c.covers(2025)
    assert c.is_working_day(date(2025, 1, 28))  # no holiday data: a plain Tuesday


def test_domain_error_carries_code_message_and_pickles() -> None:
    err = CalendarError("naive_datetime", "no time zone")
    assert isinstance(err, DomainError)
    assert (err.code, err.message) == ("naive_datetime", "no time zone")
    assert "no time zone" in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is CalendarError
    assert (copy.code, copy.message) == (err.code, err.message)


# --- a year without holiday data (1 January before the State Council's notice is loaded) -------


@pytest.mark.parametrize(
    ("now", "gap"),
    [
        pytest.param(local(2026, 11, 30, 23, 59), None, id="november: no warning yet"),
        pytest.param(local(2026, 12, 1), CalendarGap(2027, current=False), id="december: soon"),
        pytest.param(local(2026, 12, 31, 23, 59), CalendarGap(2027, current=False), id="eve"),
        pytest.param(local(2027, 1, 1), CalendarGap(2027, current=True), id="1-january"),
        # 1 January 00:30 local is still 31 December in UTC: the local year is the one that counts
        pytest.param(local(2027, 1, 1, 0, 30), CalendarGap(2027, current=True), id="local-date"),
        pytest.param(local(2026, 6, 1), None, id="covered"),
    ],
)
def test_calendar_gap_warns_from_december_and_in_an_uncovered_year(
    now: datetime, gap: CalendarGap | None
) -> None:
    assert calendar_gap(cal(), now) == gap


def test_deadlines_in_an_uncovered_year_count_weekends_only() -> None:
    """2027 has no data: 1 January (元旦) counts as a working Friday, the weekend does not."""
    assert not cal().covers(2027)
    thursday_noon = local(2026, 12, 31, 16, 30)
    end = cal().add_working_days(thursday_noon, 2)  # Friday 1 Jan, then Monday 4 Jan
    assert end == local(2027, 1, 4, 16, 30)
    assert cal().working_time_between(local(2027, 1, 1), local(2027, 1, 2)) == timedelta(hours=7.5)


# --- properties ---------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2023, 12, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.sampled_from([UTC, SH]),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=450))


@given(start=moments, amount=durations)
def test_add_then_measure_round_trips(start: datetime, amount: timedelta) -> None:
    end = cal().add_working_time(start, amount)
    assert cal().working_time_between(start, end) == amount
    assert end >= start


@given(start=moments, amount=durations.filter(lambda d: d > timedelta(0)))
def test_added_time_ends_inside_a_period_or_at_its_end(start: datetime, amount: timedelta) -> None:
    assert in_working_time(cal(), cal().add_working_time(start, amount), end_ok=True)


@given(start=moments, days=st.integers(min_value=0, max_value=40))
def test_added_days_land_inside_a_period(start: datetime, days: int) -> None:
    end = cal().add_working_days(start, days)
    assert in_working_time(cal(), end, end_ok=False)
    moved = cal().next_working_moment(start)
    assert cal().working_minutes_between(moved, end) == days * 450


@given(t=moments)
def test_next_working_moment_is_working_and_idempotent(t: datetime) -> None:
    moment = cal().next_working_moment(t)
    assert moment >= t
    assert in_working_time(cal(), moment, end_ok=False)
    assert cal().next_working_moment(moment) == moment
    assert cal().working_time_between(t, moment) == timedelta(0)
