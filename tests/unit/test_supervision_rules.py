"""The supervision rules with a controlled clock: reminders at the yellow moment (on working time),
orders at the deadline, never twice, none while suspended, the call list at exactly the configured
red duration, patrol flags on shift time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.calendar import WorkingCalendar, load_calendar
from dashboard.domain.deadlines import (
    Light,
    TimeLimit,
    deadline_for,
    resume_deadline,
    stage_light,
    yellow_moment,
)
from dashboard.domain.errors import DeadlineError
from dashboard.domain.supervision import (
    OUTSIDE,
    SILENT,
    STAGE_REGISTERED,
    PatrolShift,
    RedVillage,
    WatchedCase,
    WorkerFix,
    call_entries_due,
    call_entry_resolved,
    deadline_items,
    flag_cleared,
    order_due,
    outside_due,
    outside_streak_start,
    reminder_due,
    silent_due,
)
from dashboard.domain.village_status import VillageRule
from dashboard.domain.working_index import yellow_moments

SH = ZoneInfo("Asia/Shanghai")
US = timedelta(microseconds=1)


@cache
def cal() -> WorkingCalendar:
    text = resources.files("dashboard").joinpath("data/calendar_cn.toml").read_text("utf-8")
    return load_calendar(text)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def registered(
    start: datetime, limit: str, status: str = "dispatched", case_id: int = 1
) -> WatchedCase:
    return WatchedCase(case_id, status, start, deadline_for(start, TimeLimit.parse(limit), cal()))


# --- reminders: exactly at the yellow moment, on working time -------------------------------

# (registered at, limit, the yellow moment by hand): 80 % of the limit's working time, counted on
# the shipped calendar (08:30-12:00, 13:30-17:30; weekends, holidays and 调休 workdays).
YELLOW_CASES = [
    # 4 h from Monday 09:00: 3 h before lunch, the remaining 12 min after it → 13:42.
    (local(2026, 11, 23, 9), "4h", local(2026, 11, 23, 13, 42)),
    # Friday 16:00: 1.5 h on Friday, the weekend does not count, 1 h 42 min on Monday.
    (local(2026, 11, 27, 16), "4h", local(2026, 11, 30, 10, 12)),
    # The eve of National Day: 1.5 h on 30 Sep, then 1-7 Oct are holidays → 8 Oct 10:12.
    (local(2026, 9, 30, 16), "4h", local(2026, 10, 8, 10, 12)),
    # Registered during lunch: the clock starts at 13:30; 80 % of 2 h = 96 min → 15:06.
    (local(2026, 11, 23, 12, 15), "2h", local(2026, 11, 23, 15, 6)),
]


@pytest.mark.parametrize(("start", "limit", "moment"), YELLOW_CASES)
def test_reminder_exactly_at_the_yellow_moment(
    start: datetime, limit: str, moment: datetime
) -> None:
    case = registered(start, limit)
    assert reminder_due(case, moment - US, cal()) is None
    item = reminder_due(case, moment, cal())
    assert item is not None
    assert item.due_at == moment
    assert (item.case_id, item.stage, item.deadline) == (1, STAGE_REGISTERED, case.deadline)
    # A watcher that runs late still dates the reminder at the yellow moment.
    late = reminder_due(case, moment + timedelta(hours=30), cal())
    assert late is not None and late.due_at == moment


def test_no_reminder_over_the_weekend_before_the_yellow_moment() -> None:
    case = registered(local(2026, 11, 27, 16), "4h")
    for hour in range(0, 48, 3):
        now = local(2026, 11, 28) + timedelta(hours=hour)  # Saturday and Sunday
        assert reminder_due(case, now, cal()) is None


def test_working_days_limit_yellow_moment_on_the_calendar() -> None:
    case = registered(local(2026, 11, 23, 9), "5d")  # deadline: Monday 30 Nov 09:00
    assert case.deadline == local(2026, 11, 30, 9)
    moment = yellow_moment(case.start, case.deadline, cal())  # type: ignore[arg-type]
    assert stage_light(case.start, case.deadline, moment, cal()) is Light.YELLOW  # type: ignore[arg-type]
    assert reminder_due(case, moment - US, cal()) is None
    assert reminder_due(case, moment, cal()) is not None
    assert cal().is_working_day(moment.astimezone(SH).date())


# --- orders: exactly at the deadline ------------------------------------------------------------


@pytest.mark.parametrize(("start", "limit", "_moment"), YELLOW_CASES)
def test_order_exactly_at_the_deadline(start: datetime, limit: str, _moment: datetime) -> None:
    case = registered(start, limit)
    assert case.deadline is not None
    assert order_due(case, case.deadline - US) is None
    item = order_due(case, case.deadline)
    assert item is not None and item.due_at == case.deadline == item.deadline


def test_a_late_watcher_gets_both_reminder_and_order_with_their_own_moments() -> None:
    case = registered(local(2026, 11, 23, 9), "4h")
    reminders, orders = deadline_items([case], local(2026, 11, 25, 9), cal())
    assert [r.due_at for r in reminders] == [local(2026, 11, 23, 13, 42)]
    assert [o.due_at for o in orders] == [local(2026, 11, 23, 14, 30)]


# --- never twice, none while suspended, again after a resume or an extension --------------------


def test_the_same_case_twice_gives_one_item_per_key() -> None:
    case = registered(local(2026, 11, 23, 9), "4h")
    reminders, orders = deadline_items([case, case], local(2026, 11, 24, 9), cal())
    assert len(reminders) == 1 and len(orders) == 1


@given(
    start_minutes=st.integers(0, 60 * 24 * 300),
    limit=st.sampled_from(["1h", "2h", "4h", "8h", "1d", "3d", "15d"]),
    checks=st.lists(st.integers(0, 60 * 24 * 40), min_size=1, max_size=12),
)
def test_items_match_the_light_and_their_keys_never_change(
    start_minutes: int, limit: str, checks: list[int]
) -> None:
    """At any instant: a reminder iff the light is yellow or red, an order iff red; however often
    the watcher looks, each key always carries the same due moment (so one row per key)."""
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=start_minutes)
    case = registered(start, limit)
    assert case.deadline is not None
    seen: dict[tuple[str, int, str, datetime], datetime] = {}
    for minutes in sorted(checks):
        now = start + timedelta(minutes=minutes)
        light = stage_light(start, case.deadline, now, cal())
        reminders, orders = deadline_items([case], now, cal())
        assert bool(reminders) == (light is not Light.GREEN)
        assert bool(orders) == (light is Light.RED)
        for kind, items in (("r", reminders), ("o", orders)):
            for item in items:
                assert item.due_at <= now
                key = (kind, item.case_id, item.stage, item.deadline)
                assert seen.setdefault(key, item.due_at) == item.due_at


@pytest.mark.parametrize("status", ["suspended", "handled", "checked", "reported", "accepted"])
def test_no_items_when_the_clock_does_not_run(status: str) -> None:
    case = registered(local(2026, 11, 23, 9), "4h", status=status)
    reminders, orders = deadline_items([case], local(2026, 12, 30, 9), cal())
    assert reminders == [] and orders == []


def test_no_items_for_a_suspended_case_whatever_its_status_column() -> None:
    base = registered(local(2026, 11, 23, 9), "4h")
    case = WatchedCase(base.id, "dispatched", base.start, base.deadline, local(2026, 11, 23, 10))
    assert deadline_items([case], local(2026, 12, 30, 9), cal()) == ([], [])


def test_a_resumed_case_is_watched_against_its_new_deadline() -> None:
    start = local(2026, 11, 23, 9)
    case = registered(start, "4h")  # deadline 14:30, yellow 13:42
    suspended_at, resumed_at = local(2026, 11, 23, 10), local(2026, 11, 25, 9)
    assert case.deadline is not None
    new_deadline = resume_deadline(case.deadline, suspended_at, resumed_at, cal())
    assert new_deadline > case.deadline
    # While suspended: nothing, even after the old deadline.
    stopped = WatchedCase(1, "suspended", start, case.deadline, suspended_at)
    assert deadline_items([stopped], local(2026, 11, 24, 16), cal()) == ([], [])
    resumed = WatchedCase(1, "dispatched", start, new_deadline)
    moment = yellow_moment(start, new_deadline, cal())
    assert reminder_due(resumed, moment - US, cal()) is None
    item = reminder_due(resumed, moment, cal())
    assert item is not None and item.deadline == new_deadline and item.due_at == moment
    order = order_due(resumed, new_deadline)
    assert order is not None and order.deadline == new_deadline


def test_an_extension_is_a_new_key() -> None:
    case = registered(local(2026, 11, 23, 9), "4h")
    extended = WatchedCase(1, "handling", case.start, local(2026, 11, 27, 17))
    (old,), _ = deadline_items([case], local(2026, 11, 23, 14), cal())
    (new,), _ = deadline_items([extended], local(2026, 11, 27, 16), cal())
    assert (old.case_id, old.stage) == (new.case_id, new.stage) and old.deadline != new.deadline


# --- the call list --------------------------------------------------------------------------


T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("hours", [0.5, 2, 3.25])
def test_call_list_entry_at_exactly_the_configured_red_duration(hours: float) -> None:
    rule = VillageRule(call_after=timedelta(hours=hours))
    village = RedVillage("330681001001", "red", T0)
    due = T0 + timedelta(hours=hours)
    assert call_entries_due([village], due - US, rule) == []
    assert call_entries_due([village], due, rule) == [("330681001001", T0, due)]
    assert call_entries_due([village], due + timedelta(days=2), rule) == [("330681001001", T0, due)]


def test_ok_villages_are_never_due() -> None:
    assert (
        call_entries_due([RedVillage("v", "ok", None)], T0 + timedelta(days=9), VillageRule()) == []
    )


def test_an_entry_resolves_when_its_red_episode_ends() -> None:
    assert not call_entry_resolved(T0, RedVillage("v", "red", T0))
    assert call_entry_resolved(T0, RedVillage("v", "ok", None))
    assert call_entry_resolved(T0, RedVillage("v", "red", T0 + timedelta(hours=5)))
    assert call_entry_resolved(T0, None)


# --- patrol ---------------------------------------------------------------------------------

SHIFT = PatrolShift(time(8), time(18), time(12), time(13, 30), SH)


def fix(at: datetime, inside: bool = True, since: datetime | None = None) -> WorkerFix:
    return WorkerFix("w1", "330681001001", at, inside, since)


def test_silent_after_the_configured_shift_time() -> None:
    last = local(2026, 11, 23, 9)
    silent = timedelta(minutes=30)
    assert silent_due(fix(last), local(2026, 11, 23, 9, 30) - US, SHIFT, silent) is None
    item = silent_due(fix(last), local(2026, 11, 23, 9, 30), SHIFT, silent)
    assert item is not None and item.kind == SILENT and item.since == last
    assert item.due_at == local(2026, 11, 23, 9, 30)


def test_lunch_does_not_count_as_silence() -> None:
    last = local(2026, 11, 23, 11, 50)  # 10 min before lunch, 20 min after it
    silent = timedelta(minutes=30)
    assert silent_due(fix(last), local(2026, 11, 23, 13, 49), SHIFT, silent) is None
    item = silent_due(fix(last), local(2026, 11, 23, 13, 50), SHIFT, silent)
    assert item is not None and item.due_at == local(2026, 11, 23, 13, 50)


def test_no_flags_outside_the_shift() -> None:
    last = local(2026, 11, 23, 9)
    assert silent_due(fix(last), local(2026, 11, 23, 19), SHIFT, timedelta(minutes=30)) is None
    assert silent_due(fix(last), local(2026, 11, 23, 12, 30), SHIFT, timedelta(minutes=30)) is None


def test_outside_the_grid_for_the_configured_time() -> None:
    since = local(2026, 11, 23, 10)
    newest = fix(local(2026, 11, 23, 10, 25), inside=False, since=since)
    outside = timedelta(minutes=20)
    assert outside_due(newest, local(2026, 11, 23, 10, 20) - US, SHIFT, outside) is None
    item = outside_due(newest, local(2026, 11, 23, 10, 20), SHIFT, outside)
    assert item is not None and item.kind == OUTSIDE and item.since == since
    back_inside = fix(local(2026, 11, 23, 10, 30), inside=True)
    assert outside_due(back_inside, local(2026, 11, 23, 11), SHIFT, outside) is None


def test_outside_streak_starts_at_the_first_fix_outside() -> None:
    t = [local(2026, 11, 23, 10, m) for m in (0, 5, 10, 15)]
    newest_first = [(t[3], False), (t[2], False), (t[1], True), (t[0], False)]
    assert outside_streak_start(newest_first) == t[2]
    assert outside_streak_start([(t[3], True), (t[2], False)]) is None


def test_flags_clear_when_they_stop_being_true() -> None:
    since = local(2026, 11, 23, 9)
    assert not flag_cleared(SILENT, since, fix(since))
    assert flag_cleared(SILENT, since, fix(since + timedelta(minutes=40)))
    assert not flag_cleared(OUTSIDE, since, fix(since, inside=False, since=since))
    assert flag_cleared(OUTSIDE, since, fix(since + timedelta(minutes=5), inside=True))
    assert not flag_cleared(SILENT, since, None)


@given(
    last=st.integers(0, 60 * 24 * 7), silent=st.integers(1, 240), later=st.integers(0, 60 * 24 * 3)
)
def test_silent_due_moment_has_exactly_the_silent_duty_time(
    last: int, silent: int, later: int
) -> None:
    at = local(2026, 11, 23) + timedelta(minutes=last)
    now = at + timedelta(minutes=later)
    item = silent_due(fix(at), now, SHIFT, timedelta(minutes=silent))
    duty = SHIFT.duty_time_between(at, now)
    if item is None:
        assert not SHIFT.on_duty(now) or duty < timedelta(minutes=silent)
    else:
        assert SHIFT.on_duty(now) and duty >= timedelta(minutes=silent)
        assert SHIFT.duty_time_between(at, item.due_at) == timedelta(minutes=silent)


# --- many yellow moments at once (the watchers' first run at city scale) -----------------------


@given(
    cases=st.lists(
        st.tuples(
            st.integers(0, 60 * 24 * 700),  # start: minutes after 2025-01-01 (2025-2026)
            st.integers(0, 59_999_999),  # and microseconds
            st.one_of(
                st.sampled_from(["1h", "4h", "8h", "1d", "3d", "15d"]),
                st.integers(1, 60 * 24 * 90),  # an explicit deadline: minutes after the start
            ),
        ),
        min_size=1,
        max_size=8,
    ),
    yellow_at=st.sampled_from([0.8, 0.5, 0.9, 0.75]),
)
def test_yellow_moments_equal_yellow_moment(
    cases: list[tuple[int, int, str | int]], yellow_at: float
) -> None:
    triples = []
    for i, (minutes, micros, limit) in enumerate(cases):
        start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, microseconds=micros)
        if isinstance(limit, str):
            deadline = deadline_for(start, TimeLimit.parse(limit), cal())
        else:
            deadline = start + timedelta(minutes=limit)
        triples.append((i, start, deadline))
    fast = yellow_moments(triples, cal(), yellow_at)
    for i, start, deadline in triples:
        try:
            expected: datetime | None = yellow_moment(start, deadline, cal(), yellow_at)
        except DeadlineError:
            expected = None
        assert fast[i] == expected, (start, deadline)
