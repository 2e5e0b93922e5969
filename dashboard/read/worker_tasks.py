"""The grid workers' field tasks of a period, read from the cases' trails: the counts behind
按期核实率 and 按期核查率 (the rule: ``dashboard.domain.field_tasks``).

Only the cases that can hold a task that counts are read: a task-giving step (REQUEST_VERIFY or
HANDLED) before the period's end, and either a change since the period began (a task that ended
inside it, or after its cutoff, ended at or after its start, and ``updated_at`` is the time of
the case's last step) or a case still waiting in a task's status. Of their trails only the
steps that matter are read, in one query per chunk of cases, in step order: those that give or
do a task, and every step into or out of a task's status (a task ends at the step that leaves
it). ``field_tasks`` reads the same tasks from that part as from the whole trail
(tests/integration/test_worker_rankings.py walks the whole trails).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.field_tasks import (
    TASK_ACTIONS,
    WAITS_IN,
    FieldTask,
    TaskCounts,
    TaskLimits,
    TrailStep,
    field_tasks,
    task_counts,
)
from dashboard.domain.metrics import Period
from dashboard.domain.status import Action
from dashboard.storage.models import Case, CaseEvent, GridWorker, User
from dashboard.storage.scoping import in_area

CHUNK = 500  # case ids per trail query (SQLite's bound parameters stay few)
_GIVING = (Action.REQUEST_VERIFY.value, Action.HANDLED.value)
_WAITING = list(WAITS_IN.values())


def worker_task_counts(
    session: Session,
    period: Period,
    now: datetime,
    area: str | None,
    limits: TaskLimits,
    calendar: WorkingCalendar,
) -> dict[str, TaskCounts]:
    """Per grid worker of ``area``, the verifications and checks due in ``period``."""
    workers = list(
        session.execute(
            select(GridWorker.id, GridWorker.grid_code).where(
                GridWorker.active.is_(True), *in_area(GridWorker.village_code, area)
            )
        )
    )
    if not workers:
        return {}
    known = {worker for worker, _grid in workers}
    grid_workers: dict[str, list[str]] = {}
    for worker, grid in workers:
        grid_workers.setdefault(grid, []).append(worker)
    worker_of = {worker: worker for worker in known}
    bound = select(User.username, User.worker_id).where(User.worker_id.is_not(None))
    for username, worker_id in session.execute(bound):
        if worker_id in known:
            worker_of[username] = worker_id
    return task_counts(
        _tasks(session, period, area, limits, calendar), period, now, worker_of, grid_workers
    )


def _tasks(
    session: Session,
    period: Period,
    area: str | None,
    limits: TaskLimits,
    calendar: WorkingCalendar,
) -> Iterator[tuple[str, Sequence[FieldTask]]]:
    given = exists().where(
        CaseEvent.case_id == Case.id, CaseEvent.action.in_(_GIVING), CaseEvent.at < period.end
    )
    cases = session.execute(
        select(Case.id, Case.grid_code)
        .where(
            given,
            or_(Case.updated_at >= period.start, Case.status.in_(_WAITING)),
            *in_area(Case.village_code, area),
        )
        .order_by(Case.id)
    )
    grids = dict(cases.all())
    ids = list(grids)
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        trails: dict[int, list[TrailStep]] = {case_id: [] for case_id in chunk}
        steps = select(
            CaseEvent.case_id, CaseEvent.action, CaseEvent.to_status, CaseEvent.at, CaseEvent.actor
        ).where(
            CaseEvent.case_id.in_(chunk),
            or_(
                CaseEvent.action.in_(list(TASK_ACTIONS)),
                CaseEvent.from_status.in_(_WAITING),
                CaseEvent.to_status.in_(_WAITING),
            ),
        )
        for case_id, action, to_status, at, actor in session.execute(
            steps.order_by(CaseEvent.case_id, CaseEvent.id)
        ):
            trails[case_id].append(TrailStep(action, to_status, at, actor or ""))
        for case_id in chunk:
            yield grids[case_id], field_tasks(trails[case_id], limits, calendar)
