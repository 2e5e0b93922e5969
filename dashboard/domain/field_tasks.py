"""A grid worker's field tasks - 核实 (verify a public report) and 核查 (check a department's
fix on site) - read from a case's trail, and their timeliness: 按期核实率 and 按期核查率
(DOMAIN.md, "Metrics": "on-time verify and check rates").

DOMAIN.md names the rates but not their limits; ours are configuration (``[evaluation]
verify_limit``, ``check_limit``: working hours or days on the working calendar, as every time
limit of the product), and the rule is the one the product uses for cases:

* a task is **given** when the case enters the task's status - ``verifying`` (REQUEST_VERIFY)
  for a verification, ``handled`` (HANDLED) for a check - and **ends** at the case's next change
  of status: **done** when that step is the task's own (VERIFY; CHECK_PASS or CHECK_FAIL), by
  the step's actor, else **withdrawn** (e.g. voided while waiting). Its deadline is its limit
  counted from when it was given (``deadlines.deadline_for``);
* for a period ``[start, end)`` with the cutoff ``min(now, end)``, the tasks **due** are, as
  should-be-closed counts closed cases and open overdue ones (the anti-gaming rule):
  - a task done inside the period, for the worker who did it; **on time** when done at or
    before its deadline;
  - a task still waiting at the cutoff and past its deadline then (from the deadline instant
    on, as ``CaseState.is_overdue``), late, for each worker of the case's grid (the field app
    shows a grid's tasks to its workers: each of them let it wait);
* 按期核实率 = verifications on time / verifications due; 按期核查率 likewise (``metrics.rate``:
  percent, two decimals, None without a denominator).

Pure: the trail, the limits, the calendar and ``now`` come from the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.deadlines import TimeLimit, deadline_for
from dashboard.domain.metrics import Period, rate
from dashboard.domain.status import Action, CaseStatus

__all__ = [
    "TASK_ACTIONS",
    "FieldTask",
    "TaskCounts",
    "TaskKind",
    "TaskLimits",
    "TrailStep",
    "field_tasks",
    "task_counts",
]


class TaskKind(StrEnum):
    VERIFY = "verify"  # 核实
    CHECK = "check"  # 核查


# The status a task waits in, and the steps that do it.
WAITS_IN: Mapping[TaskKind, str] = {
    TaskKind.VERIFY: CaseStatus.VERIFYING.value,
    TaskKind.CHECK: CaseStatus.HANDLED.value,
}
DONE_BY: Mapping[TaskKind, frozenset[str]] = {
    TaskKind.VERIFY: frozenset({Action.VERIFY.value}),
    TaskKind.CHECK: frozenset({Action.CHECK_PASS.value, Action.CHECK_FAIL.value}),
}
_KIND_OF = {status: kind for kind, status in WAITS_IN.items()}
# The actions that give or do a task: a trail without any of them has no task.
TASK_ACTIONS = frozenset(
    {Action.REQUEST_VERIFY.value, Action.HANDLED.value, *DONE_BY[TaskKind.VERIFY]}
    | DONE_BY[TaskKind.CHECK]
)


@dataclass(frozen=True, slots=True)
class TrailStep:
    """One step of a case's trail, in order: its action, the status it led to, when, by whom."""

    action: str
    to_status: str
    at: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class TaskLimits:
    verify: TimeLimit
    check: TimeLimit

    def of(self, kind: TaskKind) -> TimeLimit:
        return self.verify if kind is TaskKind.VERIFY else self.check


@dataclass(frozen=True, slots=True)
class FieldTask:
    kind: TaskKind
    given_at: datetime
    deadline: datetime
    ended_at: datetime | None = None  # None: still waiting
    done_by: str | None = None  # the actor of the step that did it (None: withdrawn or waiting)

    @property
    def done(self) -> bool:
        return self.done_by is not None

    @property
    def on_time(self) -> bool:
        return self.done and self.ended_at is not None and self.ended_at <= self.deadline


def field_tasks(
    trail: Sequence[TrailStep], limits: TaskLimits, calendar: WorkingCalendar
) -> list[FieldTask]:
    """The field tasks of one case, from its trail (oldest step first) - or from the part of it
    holding every step that gives or does a task and every step into or out of a task's status:
    the same tasks."""
    tasks: list[FieldTask] = []
    waiting: FieldTask | None = None
    status: str | None = None
    for step in trail:
        if step.to_status == status:
            continue  # a step that keeps the status (camera evidence, a call's still)
        if waiting is not None:
            done = step.action in DONE_BY[waiting.kind]
            tasks.append(
                FieldTask(
                    waiting.kind,
                    waiting.given_at,
                    waiting.deadline,
                    ended_at=step.at,
                    done_by=step.actor if done else None,
                )
            )
            waiting = None
        kind = _KIND_OF.get(step.to_status)
        if kind is not None:
            deadline = deadline_for(step.at, limits.of(kind), calendar)
            waiting = FieldTask(kind, step.at, deadline)
        status = step.to_status
    if waiting is not None:
        tasks.append(waiting)
    return tasks


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """One worker's tasks due in a period, by kind (see the module docstring)."""

    verify_due: int = 0
    verify_on_time: int = 0
    check_due: int = 0
    check_on_time: int = 0

    @property
    def on_time_verify_rate(self) -> float | None:
        return rate(self.verify_on_time, self.verify_due)

    @property
    def on_time_check_rate(self) -> float | None:
        return rate(self.check_on_time, self.check_due)


def task_counts(
    cases: Iterable[tuple[str, Sequence[FieldTask]]],
    period: Period,
    now: datetime,
    worker_of: Mapping[str, str],
    grid_workers: Mapping[str, Sequence[str]],
) -> dict[str, TaskCounts]:
    """Per worker id, the tasks due in ``period``: ``cases`` gives each case's grid code and its
    tasks; ``worker_of`` maps a step's actor to a worker id (a worker's id, or the user name
    bound to a worker); ``grid_workers`` the workers of each grid. A task done by someone who
    is no grid worker (the command room verifying by phone) counts for nobody."""
    cutoff = min(now, period.end)
    tallies: dict[str, list[int]] = {}

    def count(worker: str, kind: TaskKind, on_time: bool) -> None:
        tally = tallies.setdefault(worker, [0, 0, 0, 0])
        base = 0 if kind is TaskKind.VERIFY else 2
        tally[base] += 1
        tally[base + 1] += int(on_time)

    for grid, tasks in cases:
        for task in tasks:
            if task.done and task.ended_at is not None and task.ended_at in period:
                worker = worker_of.get(task.done_by or "")
                if worker is not None:
                    count(worker, task.kind, task.on_time)
                continue
            waiting_at_cutoff = task.given_at < cutoff and (
                task.ended_at is None or task.ended_at >= cutoff
            )
            if waiting_at_cutoff and task.deadline <= cutoff:
                for worker in grid_workers.get(grid, ()):
                    count(worker, task.kind, False)
    return {worker: TaskCounts(*tally) for worker, tally in tallies.items()}
