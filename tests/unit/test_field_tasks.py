"""The grid workers' field tasks (核实, 核查) read from a trail, and the counts behind
按期核实率 and 按期核查率 (dashboard.domain.field_tasks; pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from dashboard.domain.calendar import WorkingCalendar, load_calendar
from dashboard.domain.deadlines import TimeLimit, deadline_for
from dashboard.domain.field_tasks import (
    FieldTask,
    TaskCounts,
    TaskKind,
    TaskLimits,
    TrailStep,
    field_tasks,
    task_counts,
)
from dashboard.domain.metrics import Period

SH = ZoneInfo("Asia/Shanghai")
LIMITS = TaskLimits(TimeLimit.parse("2h"), TimeLimit.parse("4h"))


@cache
def cal() -> WorkingCalendar:
    text = resources.files("dashboard").joinpath("data/calendar_cn.toml").read_text("utf-8")
    return load_calendar(text)


def at(d: int, h: int, mi: int = 0) -> datetime:
    """A moment of November 2026, local time (the 20th is a Friday, the 23rd a Monday)."""
    return datetime(2026, 11, d, h, mi, tzinfo=SH).astimezone(UTC)


def step(action: str, to: str, when: datetime, actor: str = "desk") -> TrailStep:
    return TrailStep(action, to, when, actor)


def test_a_verification_is_timed_on_the_working_calendar() -> None:
    """Asked on Friday at 16:30 with 2 working hours: due on Monday at 09:30 (one hour on
    Friday, one on Monday morning); verified on Monday at 09:00 it was on time."""
    trail = [
        step("report", "reported", at(20, 16, 0), "hotline"),
        step("accept", "accepted", at(20, 16, 10)),
        step("request_verify", "verifying", at(20, 16, 30)),
        step("verify", "verified", at(23, 9, 0), "W1"),
        step("register", "registered", at(23, 9, 20)),
    ]
    [task] = field_tasks(trail, LIMITS, cal())
    assert task == FieldTask(TaskKind.VERIFY, at(20, 16, 30), at(23, 9, 30), at(23, 9, 0), "W1")
    assert task.done and task.on_time


def test_a_failed_check_and_the_next_one_are_two_tasks() -> None:
    trail = [
        step("handled", "handled", at(23, 9, 0), "urban"),
        step("evidence", "handled", at(23, 9, 30), "desk"),  # keeps the status: no new task
        step("check_fail", "rework", at(23, 15, 0), "W1"),  # 4h30 of working time: late
        step("handled", "handled", at(24, 9, 0), "urban"),
        step("check_pass", "checked", at(24, 10, 0), "W2"),
        step("close", "closed", at(24, 10, 30)),
    ]
    first, second = field_tasks(trail, LIMITS, cal())
    assert (first.kind, first.done_by, first.deadline) == (TaskKind.CHECK, "W1", at(23, 14, 30))
    assert not first.on_time
    assert (second.done_by, second.on_time, second.deadline) == ("W2", True, at(24, 14, 30))


def test_a_task_ended_by_another_step_is_withdrawn_and_a_waiting_one_stays_open() -> None:
    voided = [
        step("request_verify", "verifying", at(23, 9, 0)),
        step("void", "voided", at(23, 10, 0), "lead"),
    ]
    [task] = field_tasks(voided, LIMITS, cal())
    assert not task.done and task.ended_at == at(23, 10, 0) and task.done_by is None
    [waiting] = field_tasks([step("handled", "handled", at(23, 9, 0))], LIMITS, cal())
    assert waiting.ended_at is None and not waiting.done
    assert field_tasks([step("report", "reported", at(23, 9, 0))], LIMITS, cal()) == []


PERIOD = Period(at(23, 0), at(30, 0))  # the week of Monday the 23rd
NOW = at(30, 12)


def _task(kind: TaskKind, given: datetime, ended: datetime | None, by: str | None) -> FieldTask:
    return FieldTask(kind, given, deadline_for(given, LIMITS.of(kind), cal()), ended, by)


V, C = TaskKind.VERIFY, TaskKind.CHECK
GRID_LATE_VERIFY = dict.fromkeys(("W1", "W3"), TaskCounts(verify_due=1))
GRID_LATE_CHECK = dict.fromkeys(("W1", "W3"), TaskCounts(check_due=1))


@pytest.mark.parametrize(
    ("task", "now", "expected"),
    [
        # done in the period, on time, by the worker's sign-in name (bound to W1)
        (_task(V, at(23, 9), at(23, 10), "wang"), NOW, {"W1": TaskCounts(1, 1, 0, 0)}),
        # done in the period, late
        (_task(C, at(23, 9), at(24, 9), "W1"), NOW, {"W1": TaskCounts(0, 0, 1, 0)}),
        # given before the period, done in it on the working calendar's time: counts
        (_task(V, at(20, 17), at(23, 8, 40), "W1"), NOW, {"W1": TaskCounts(1, 1, 0, 0)}),
        # done before the period: not this period's
        (_task(V, at(20, 9), at(20, 10), "W1"), NOW, {}),
        # done by the command room (no worker): counts for nobody
        (_task(V, at(23, 9), at(23, 10), "commander"), NOW, {}),
        # still waiting and overdue at the cutoff: late for every worker of the grid
        (_task(C, at(24, 9), None, None), NOW, GRID_LATE_CHECK),
        # still waiting, not yet overdue at the cutoff (now, inside the period): not due yet
        (_task(C, at(25, 9), None, None), at(25, 10), {}),
        # done after the period but overdue at its end: late for the grid, not the doer's
        (_task(V, at(27, 9), at(30, 11), "W1"), NOW, GRID_LATE_VERIFY),
        # withdrawn (voided while waiting) before the cutoff: not due
        (_task(V, at(23, 9), at(24, 9), None), NOW, {}),
        # given after the cutoff: not due
        (_task(V, at(29, 9), None, None), at(28, 12), {}),
    ],
)  # fmt: skip
def test_the_tasks_due_in_a_period(
    task: FieldTask, now: datetime, expected: dict[str, TaskCounts]
) -> None:
    worker_of = {"W1": "W1", "W3": "W3", "wang": "W1"}
    grids = {"G1": ["W1", "W3"]}
    assert task_counts([("G1", [task])], PERIOD, now, worker_of, grids) == expected


def test_the_rates_are_the_metrics_rates() -> None:
    counts = TaskCounts(verify_due=40, verify_on_time=37, check_due=0, check_on_time=0)
    assert counts.on_time_verify_rate == 92.5
    assert counts.on_time_check_rate is None  # no check due: no rate, not 0 %
    assert TaskCounts(3, 2, 3, 1).on_time_verify_rate == 66.67
