"""LightBatch gives exactly stage_light's answer (and working_time_between's sums) on the real
PRC calendar, including the yellow moment itself and one microsecond before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.calendar import load_calendar
from dashboard.domain.deadlines import stage_light, yellow_moment
from dashboard.domain.errors import DeadlineError
from dashboard.read.light_batch import LightBatch

CALENDAR = load_calendar(
    (Path(__file__).resolve().parents[2] / "dashboard/data/calendar_cn.toml").read_text("utf-8")
)
FIRST = datetime(2026, 9, 1, tzinfo=UTC)  # spans the National Day holiday and its 调休
LAST = datetime(2026, 11, 30, tzinfo=UTC)
BATCH = LightBatch(CALENDAR, FIRST, LAST)
SPAN_US = int((LAST - FIRST) / timedelta(microseconds=1))
moments = st.integers(0, SPAN_US).map(lambda us: FIRST + timedelta(microseconds=us))
minutes = st.integers(0, (LAST - FIRST) // timedelta(minutes=1)).map(
    lambda m: FIRST + timedelta(minutes=m)
)


def _expected(start: datetime, deadline: datetime, at: datetime) -> object:
    try:
        return stage_light(start, deadline, at, CALENDAR)
    except DeadlineError:
        return None


@given(moments, moments)
def test_between_equals_working_time_between(a: datetime, b: datetime) -> None:
    expected = CALENDAR.working_time_between(a, b) // timedelta(microseconds=1)
    assert BATCH.between(a, b) == expected


@given(st.one_of(moments, minutes), st.one_of(moments, minutes), st.one_of(moments, minutes))
def test_light_equals_stage_light(start: datetime, deadline: datetime, at: datetime) -> None:
    assert BATCH.light(start, deadline, at) == _expected(start, deadline, at)


@given(minutes, st.integers(1, 60 * 24 * 20))
def test_the_yellow_boundary_is_exact(start: datetime, limit_minutes: int) -> None:
    deadline = CALENDAR.add_working_time(start, timedelta(minutes=limit_minutes))
    if deadline > LAST:
        return
    turn = yellow_moment(start, deadline, CALENDAR)
    for at in (turn - timedelta(microseconds=1), turn, deadline - timedelta(microseconds=1)):
        assert BATCH.light(start, deadline, at) == _expected(start, deadline, at)
