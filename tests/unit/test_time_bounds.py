"""The window of accepted times (dashboard.domain.time_bounds) and where the lifecycle applies it.

Issue 11 (High 1): a deadline in year 9999 stopped the deadline watcher for the whole deployment
and a year-5000 one cost seconds per view; issue 10 §4: an extension to a deadline already past
was accepted. Every time here is relative to a fixed ``NOW``, never the machine's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashboard.domain.calendar import load_calendar
from dashboard.domain.deadlines import stage_light, yellow_moment
from dashboard.domain.errors import DeadlineError
from dashboard.domain.lifecycle import (
    ActionRequest,
    CaseState,
    IllegalTransition,
    apply_action,
)
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.domain.time_bounds import (
    MAX_DEADLINE_AHEAD,
    MAX_STAGE_SPAN,
    TimeOutOfBounds,
    check_deadline,
    check_occurred_at,
    check_query_time,
    check_snooze,
    measurable,
)

CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=CST)  # a Monday morning
FAR = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))  # year 10000 in UTC
CALENDAR = load_calendar('timezone = "Asia/Shanghai"\n[years.2025]\nholidays = []\n')


@pytest.mark.parametrize(
    ("check", "moment", "code"),
    [
        (check_deadline, datetime(9999, 12, 31, tzinfo=UTC), "time_out_of_range"),
        (check_deadline, NOW + MAX_DEADLINE_AHEAD + timedelta(seconds=1), "time_out_of_range"),
        (check_deadline, datetime(2000, 1, 1, tzinfo=UTC), "time_out_of_range"),
        (check_deadline, FAR, "time_out_of_range"),
        (check_deadline, datetime(2025, 4, 1, 9, 0), "naive_time"),
        (check_occurred_at, datetime(1, 1, 1, tzinfo=UTC), "time_out_of_range"),
        (check_occurred_at, NOW - timedelta(days=400), "time_out_of_range"),
        (check_occurred_at, NOW + timedelta(minutes=6), "time_out_of_range"),
        (check_occurred_at, datetime(1, 1, 1, 0, 30, tzinfo=CST), "time_out_of_range"),
    ],
)
def test_times_outside_the_window_are_refused_with_a_reason(check, moment, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TimeOutOfBounds) as refused:
        check(moment, NOW)
    assert refused.value.code == code
    assert refused.value.field in ("deadline", "occurred_at")


def test_times_inside_the_window_come_back_in_utc() -> None:
    assert check_deadline(NOW + timedelta(days=30), NOW) == (NOW + timedelta(days=30)).astimezone(
        UTC
    )
    assert check_occurred_at(NOW - timedelta(days=2), NOW).tzinfo is UTC
    assert check_query_time(NOW - timedelta(days=3650), NOW, "from").tzinfo is UTC


def test_query_times_name_their_parameter() -> None:
    with pytest.raises(TimeOutOfBounds) as refused:
        check_query_time(datetime(9999, 1, 1, tzinfo=UTC), NOW, "to")
    assert refused.value.field == "to"


@pytest.mark.parametrize(
    ("until", "code"),
    [
        (NOW - timedelta(minutes=1), "until_in_past"),
        (NOW + timedelta(days=8), "until_too_far"),
        (FAR, "time_out_of_range"),
    ],
)
def test_snooze_window(until: datetime, code: str) -> None:
    with pytest.raises(TimeOutOfBounds) as refused:
        check_snooze(until, NOW)
    assert refused.value.code == code
    assert check_snooze(NOW + timedelta(hours=2), NOW) == (NOW + timedelta(hours=2)).astimezone(UTC)


def test_a_stored_stage_beyond_the_span_is_not_measured_and_says_so_at_once() -> None:
    start = NOW - timedelta(days=1)
    assert measurable(start, start + MAX_STAGE_SPAN)
    assert not measurable(start, datetime(9999, 12, 31, tzinfo=UTC))
    for measure in (
        lambda: stage_light(start, datetime(5000, 1, 1, tzinfo=UTC), NOW, CALENDAR),
        lambda: yellow_moment(start, datetime(9999, 12, 31, tzinfo=UTC), CALENDAR),
    ):
        with pytest.raises(DeadlineError) as refused:
            measure()
        assert refused.value.code == "deadline_out_of_bounds"


# --- the lifecycle applies the window (422) and its own order rules (409) ---


def _state(status: CaseStatus, deadline: datetime | None) -> CaseState:
    return CaseState(
        status=status,
        source=Source.GRID_WORKER,
        category_code="01001" if deadline else None,
        department_code="urban" if status is CaseStatus.HANDLING else None,
        deadline=deadline,
        reported_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(days=1),
    )


def _request(action: Action, deadline: datetime) -> ActionRequest:
    return ActionRequest(
        action=action,
        actor="c-01",
        role=Role.COMMANDER,
        category_code="01001",
        deadline=deadline,
        reason="more time",
    )


@pytest.mark.parametrize("action", [Action.REGISTER, Action.EXTEND])
@pytest.mark.parametrize("deadline", [datetime(9999, 12, 31, tzinfo=UTC), FAR])
def test_register_and_extend_refuse_a_deadline_beyond_the_window(
    action: Action, deadline: datetime
) -> None:
    status = CaseStatus.ACCEPTED if action is Action.REGISTER else CaseStatus.HANDLING
    state = _state(status, None if action is Action.REGISTER else NOW - timedelta(hours=2))
    with pytest.raises(TimeOutOfBounds) as refused:
        apply_action(state, _request(action, deadline), NOW)
    assert refused.value.field == "deadline"


def test_register_refuses_a_deadline_already_past() -> None:
    state = _state(CaseStatus.ACCEPTED, None)
    with pytest.raises(IllegalTransition) as refused:
        apply_action(state, _request(Action.REGISTER, NOW - timedelta(days=3)), NOW)
    assert refused.value.code == "deadline_passed"


@pytest.mark.parametrize(
    "new_deadline",
    [NOW - timedelta(minutes=30), NOW],  # later than the old one, but not after now
)
def test_an_extension_must_end_after_now(new_deadline: datetime) -> None:
    """Issue 10 §4: the overdue case stayed overdue and got a second supervision order."""
    overdue = _state(CaseStatus.HANDLING, NOW - timedelta(hours=2))
    with pytest.raises(IllegalTransition) as refused:
        apply_action(overdue, _request(Action.EXTEND, new_deadline), NOW)
    assert refused.value.code == "deadline_passed"
    assert "not after now" in refused.value.message


def test_an_extension_after_now_and_after_the_old_deadline_is_taken() -> None:
    overdue = _state(CaseStatus.HANDLING, NOW - timedelta(hours=2))
    step = apply_action(overdue, _request(Action.EXTEND, NOW + timedelta(days=2)), NOW)
    assert step.state.deadline == NOW + timedelta(days=2)
    assert step.state.extension_count == 1
