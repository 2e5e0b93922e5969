"""Deadlines, suspension, extension and the traffic light on the shipped 2024-2026 calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dashboard.domain.calendar import WorkingCalendar, load_calendar
from dashboard.domain.deadlines import (
    Light,
    TimeLimit,
    TimeUnit,
    deadline_for,
    elapsed_ratio,
    extend_deadline,
    is_overdue,
    resume_deadline,
    stage_light,
    yellow_moment,
)
from dashboard.domain.errors import CalendarError, DeadlineError

SH = ZoneInfo("Asia/Shanghai")
H, D = TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS
US = timedelta(microseconds=1)


@cache
def cal() -> WorkingCalendar:
    text = resources.files("dashboard").joinpath("data/calendar_cn.toml").read_text("utf-8")
    return load_calendar(text)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


# --- TimeLimit ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [("4h", 4, H), ("15d", 15, D), (" 2 D ", 2, D), ("1H", 1, H), ("120h", 120, H)],
)
def test_parse_limit(text: str, amount: int, unit: TimeUnit) -> None:
    limit = TimeLimit.parse(text)
    assert limit == TimeLimit(amount, unit)
    assert TimeLimit.parse(str(limit)) == limit


@pytest.mark.parametrize("text", ["0h", "-1d", "4x", "", "h", "4.5h", "4hd", "4 working hours"])
def test_parse_refuses_bad_limits(text: str) -> None:
    with pytest.raises(DeadlineError) as info:
        TimeLimit.parse(text)
    assert info.value.code == "bad_limit"


@pytest.mark.parametrize(
    ("amount", "unit"), [(0, H), (-3, D), (True, D), (1.5, H), (2, "working_days")]
)
def test_time_limit_validates_itself(amount: object, unit: object) -> None:
    with pytest.raises(DeadlineError):
        TimeLimit(amount, unit)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("limit", "en", "zh"),
    [
        (TimeLimit(1, H), "1 working hour", "1个工作时"),
        (TimeLimit(4, H), "4 working hours", "4个工作时"),
        (TimeLimit(1, D), "1 working day", "1个工作日"),
        (TimeLimit(15, D), "15 working days", "15个工作日"),
    ],
)
def test_describe(limit: TimeLimit, en: str, zh: str) -> None:
    assert (limit.describe(), limit.describe_zh()) == (en, zh)


# --- deadline_for -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        (local(2025, 3, 10, 10), "4h", local(2025, 3, 10, 15, 30)),  # exposed garbage, lunch
        (local(2025, 3, 14, 16), "4h", local(2025, 3, 17, 11)),  # over a weekend
        (local(2025, 3, 15, 11), "4h", local(2025, 3, 17, 14)),  # Saturday: from Mon 08:30
        (local(2025, 3, 10, 8, 30), "8h", local(2025, 3, 11, 9)),  # 7.5 h a day
        (local(2025, 1, 27, 16), "4h", local(2025, 2, 5, 11)),  # over Spring Festival
        (local(2025, 3, 14, 18), "1d", local(2025, 3, 18, 8, 30)),  # reported after hours
        (local(2025, 1, 20, 10), "15d", local(2025, 2, 14, 10)),  # illegal construction, 春节
        (local(2025, 9, 22, 9), "15d", local(2025, 10, 17, 9)),  # 15 d over National Day
        (local(2025, 9, 26, 10), "1d", local(2025, 9, 28, 10)),  # 调休 Sunday counts
    ],
)
def test_deadline_for(start: datetime, limit: str, expected: datetime) -> None:
    deadline = deadline_for(start, TimeLimit.parse(limit), cal())
    assert deadline == expected
    assert deadline.tzinfo is UTC


# --- suspension and extension -------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "suspended", "resumed", "expected", "why"),
    [
        (
            local(2025, 3, 11, 10),
            local(2025, 3, 10, 10),
            local(2025, 3, 13, 10),
            local(2025, 3, 14, 10),
            "a full day left at suspension is granted again from Thursday",
        ),
        (
            local(2025, 3, 10, 15, 30),
            local(2025, 3, 10, 11),
            local(2025, 3, 10, 14),
            local(2025, 3, 10, 17),
            "suspended on working time: 1.5 h lost, moved by 1.5 h",
        ),
        (
            local(2025, 3, 17, 11),
            local(2025, 3, 14, 17, 30),
            local(2025, 3, 17, 8, 30),
            local(2025, 3, 17, 11),
            "suspended over the weekend only: nothing moves",
        ),
        (
            local(2025, 3, 17, 11),
            local(2025, 3, 14, 17),
            local(2025, 3, 17, 9),
            local(2025, 3, 17, 12),
            "over the weekend, but 30 min Friday and 30 min Monday were working time",
        ),
        (
            local(2025, 1, 27, 17),
            local(2025, 1, 27, 16),
            local(2025, 2, 5, 8, 30),
            local(2025, 2, 5, 9, 30),
            "suspended over Spring Festival: one working hour still due",
        ),
        (
            local(2025, 3, 10, 10),
            local(2025, 3, 10, 11),
            local(2025, 3, 11, 9),
            local(2025, 3, 10, 10),
            "already overdue at suspension: deadline kept",
        ),
        (
            local(2025, 3, 10, 15),
            local(2025, 3, 10, 11),
            local(2025, 3, 10, 11),
            local(2025, 3, 10, 15),
            "resumed at once: unchanged",
        ),
        (
            local(2025, 3, 12, 8, 30),
            local(2025, 3, 11, 17, 30),
            local(2025, 3, 12, 8, 30),
            local(2025, 3, 12, 8, 30),
            "working-days deadline at 08:30, suspended overnight: not pulled back to 17:30",
        ),
    ],
)
def test_resume_deadline(
    deadline: datetime, suspended: datetime, resumed: datetime, expected: datetime, why: str
) -> None:
    assert resume_deadline(deadline, suspended, resumed, cal()) == expected, why


def test_resume_before_suspension_is_refused() -> None:
    with pytest.raises(DeadlineError) as info:
        resume_deadline(local(2025, 3, 12), local(2025, 3, 10, 11), local(2025, 3, 10, 10), cal())
    assert info.value.code == "bad_suspension"


def test_extend_deadline() -> None:
    current, requested = local(2025, 3, 10, 15), local(2025, 3, 14, 17, 30)
    extended = extend_deadline(current, requested)
    assert extended == requested
    assert extended.tzinfo is UTC


@pytest.mark.parametrize("requested", [local(2025, 3, 10, 15), local(2025, 3, 10, 9)])
def test_extension_must_be_later(requested: datetime) -> None:
    with pytest.raises(DeadlineError) as info:
        extend_deadline(local(2025, 3, 10, 15), requested)
    assert info.value.code == "bad_extension"
    assert "not later" in info.value.message


def test_extension_refuses_naive_datetimes() -> None:
    with pytest.raises(CalendarError):
        extend_deadline(local(2025, 3, 10, 15), datetime(2025, 3, 12))


# --- the traffic light --------------------------------------------------------------------

# 10 working hours (600 min) from Monday 08:30: 450 min Monday, 150 min Tuesday → Tue 11:00.
START = local(2025, 3, 10, 8, 30)
DEADLINE = local(2025, 3, 11, 11)


def test_ten_hour_deadline_used_by_the_light_table() -> None:
    assert deadline_for(START, TimeLimit(10, H), cal()) == DEADLINE


@pytest.mark.parametrize(
    ("used_minutes", "light"),
    [
        (0, Light.GREEN),
        (300, Light.GREEN),
        (479.4, Light.GREEN),  # 79.9 %
        (480, Light.YELLOW),  # exactly 80 %
        (599.4, Light.YELLOW),  # 99.9 %
        (600, Light.RED),  # exactly the deadline is red
        (700, Light.RED),
    ],
)
def test_stage_light(used_minutes: float, light: Light) -> None:
    now = cal().add_working_minutes(START, used_minutes)
    assert stage_light(START, DEADLINE, now, cal()) is light
    assert elapsed_ratio(START, DEADLINE, now, cal()) == pytest.approx(used_minutes / 600)
    assert is_overdue(DEADLINE, now) is (light is Light.RED)


def test_light_before_start_and_overnight() -> None:
    assert stage_light(START, DEADLINE, START - timedelta(hours=1), cal()) is Light.GREEN
    # Monday evening: 450/600 = 75 % used, and the clock does not run overnight.
    assert stage_light(START, DEADLINE, local(2025, 3, 10, 23), cal()) is Light.GREEN


def test_custom_yellow_threshold() -> None:
    now = cal().add_working_minutes(START, 300)  # 50 %
    assert stage_light(START, DEADLINE, now, cal(), yellow_at=0.5) is Light.YELLOW
    assert stage_light(START, DEADLINE, now - US, cal(), yellow_at=0.5) is Light.GREEN


@pytest.mark.parametrize("yellow_at", [0.0, 1.0, 1.5, -0.2])
def test_bad_yellow_threshold(yellow_at: float) -> None:
    with pytest.raises(DeadlineError):
        stage_light(START, DEADLINE, START, cal(), yellow_at=yellow_at)


def test_deadline_without_working_time_is_refused() -> None:
    with pytest.raises(DeadlineError) as info:
        elapsed_ratio(local(2025, 3, 15), local(2025, 3, 16), local(2025, 3, 16), cal())
    assert info.value.code == "bad_deadline"


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        (START, "10h", local(2025, 3, 11, 9)),  # 480 min: 450 Monday + 30 Tuesday
        (local(2025, 3, 10, 10), "4h", local(2025, 3, 10, 14, 42)),  # 192 min over lunch
        (local(2025, 1, 20, 10), "15d", local(2025, 2, 11, 10)),  # 12 working days, 春节
    ],
)
def test_yellow_moment_is_exact(start: datetime, limit: str, expected: datetime) -> None:
    deadline = deadline_for(start, TimeLimit.parse(limit), cal())
    moment = yellow_moment(start, deadline, cal())
    assert moment == expected
    assert stage_light(start, deadline, moment, cal()) is Light.YELLOW
    assert stage_light(start, deadline, moment - US, cal()) is Light.GREEN


# --- properties ---------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SH)
)
limits = st.builds(TimeLimit, st.integers(min_value=1, max_value=60), st.sampled_from(TimeUnit))


@given(start=moments, unit=st.sampled_from(TimeUnit), a=st.integers(1, 40), b=st.integers(1, 40))
def test_deadlines_are_monotonic_in_the_limit(
    start: datetime, unit: TimeUnit, a: int, b: int
) -> None:
    assume(a < b)
    assert deadline_for(start, TimeLimit(a, unit), cal()) < deadline_for(
        start, TimeLimit(b, unit), cal()
    )


@given(start=moments, limit=limits, yellow_at=st.floats(min_value=0.05, max_value=0.95))
def test_light_turns_yellow_exactly_at_yellow_moment(
    start: datetime, limit: TimeLimit, yellow_at: float
) -> None:
    deadline = deadline_for(start, limit, cal())
    moment = yellow_moment(start, deadline, cal(), yellow_at)
    assert stage_light(start, deadline, moment - US, cal(), yellow_at=yellow_at) is Light.GREEN
    assert stage_light(start, deadline, moment, cal(), yellow_at=yellow_at) is Light.YELLOW
    assert stage_light(start, deadline, deadline - US, cal(), yellow_at=yellow_at) is Light.YELLOW
    assert stage_light(start, deadline, deadline, cal(), yellow_at=yellow_at) is Light.RED


@given(start=moments, limit=limits, pause=st.timedeltas(timedelta(0), timedelta(days=20)))
def test_suspension_never_shortens_and_keeps_remaining_time(
    start: datetime, limit: TimeLimit, pause: timedelta
) -> None:
    deadline = deadline_for(start, limit, cal())
    suspended = cal().add_working_time(start, cal().working_time_between(start, deadline) / 2)
    resumed = suspended + pause
    moved = resume_deadline(deadline, suspended, resumed, cal())
    assert moved >= deadline
    if not cal().working_time_between(suspended, resumed):
        assert moved == deadline
    remaining = cal().working_time_between(suspended, deadline)
    assert cal().working_time_between(resumed, moved) == remaining
