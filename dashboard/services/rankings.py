"""Evaluation rankings (考核排名) over stored cases: departments by the composite score and grade,
towns by the same score, grid workers by their reports. Every figure carries its formula and
its counts (``"按期处置率 = 737 / 972"``), from dashboard.domain.metrics / scores /
worker_metrics — no rate is computed here.

Grid workers: reports made in the period (own grid-worker reports), valid-report rate,
verifications and checks done (case events they performed), 按期核实率 and 按期核查率 (the tasks
due in the period and those done within ``[evaluation] verify_limit`` / ``check_limit``:
dashboard.domain.field_tasks, read by dashboard.read.worker_tasks), and 漏报率 = public reports
registered in the worker's grid / the worker's own registered reports.

Their patrol (issue 16's tracks): distance, time on patrol, the share of it inside the own grid
and household coverage, added up by ``worker_metrics.PatrolTotals`` from the tracks' own
summary (``PatrolStats.stats_of``) of each worker-day with fixes: past days from the stored
per-worker-day summaries (``services.patrol_days``, filled nightly by the scheduler), today (and
a past day not computed yet) from its fixes, read once in (worker, time) order.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from dashboard.config import EvaluationConfig, TracksConfig
from dashboard.domain.deadlines import TimeLimit
from dashboard.domain.field_tasks import TaskCounts, TaskLimits
from dashboard.domain.metrics import (
    CaseFacts,
    ClosureCounts,
    Period,
    by_key,
    closure_rate,
    dispatch_accuracy,
    on_time_closure_rate,
    on_time_handling_rate,
    rework_rate,
)
from dashboard.domain.permissions import Scope
from dashboard.domain.scores import ScoreWeights, grade, score_for
from dashboard.domain.status import CaseStatus, Source
from dashboard.domain.worker_metrics import (
    PatrolTotals,
    ReportCounts,
    missed_report_rate,
    report_counts_by_worker,
    valid_report_rate,
)
from dashboard.read.worker_tasks import worker_task_counts
from dashboard.reference import ReferenceData
from dashboard.services.metrics import case_facts
from dashboard.services.patrol_days import live_days, stored_days
from dashboard.storage.db import Database
from dashboard.storage.models import Case, CaseEvent, GridWorker, Town
from dashboard.storage.scoping import in_area

MAX_WORKERS = 500


def weights(config: EvaluationConfig) -> ScoreWeights:
    return ScoreWeights(
        closure=config.closure_weight,
        on_time_handling=config.on_time_handling_weight,
        rework=config.rework_weight,
    )


def task_limits(config: EvaluationConfig) -> TaskLimits:
    return TaskLimits(TimeLimit.parse(config.verify_limit), TimeLimit.parse(config.check_limit))


def _figure(value: float | None, numerator: int, denominator: int) -> dict[str, Any]:
    return {"value": value, "numerator": numerator, "denominator": denominator}


def explain(counts: ClosureCounts, w: ScoreWeights) -> dict[str, Any]:
    """Every figure of one unit with its counts (the page builds the formula text from them)."""
    score = score_for(counts, w)
    return {
        "score": score,
        "grade": grade(score) if score is not None else None,
        "closure_rate": _figure(closure_rate(counts), counts.closed, counts.should_be_closed),
        "on_time_closure_rate": _figure(
            on_time_closure_rate(counts), counts.closed_on_time, counts.should_be_closed
        ),
        "on_time_handling_rate": _figure(
            on_time_handling_rate(counts), counts.handled_on_time, counts.should_be_handled
        ),
        "rework_rate": _figure(rework_rate(counts), counts.reworks, counts.should_be_closed),
        "dispatch_accuracy": _figure(
            dispatch_accuracy(counts), counts.dispatched_right_first_time, counts.dispatched
        ),
        "handled": counts.handled,
        "weights": {
            "closure": w.closure,
            "on_time_handling": w.on_time_handling,
            "rework": w.rework,
        },
    }


def _ranked(
    table: dict[str, ClosureCounts], w: ScoreWeights, name: Callable[[str], str]
) -> list[dict[str, Any]]:
    rows = [{"code": code, "name": name(code), **explain(c, w)} for code, c in table.items()]
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["code"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank if row["score"] is not None else None
    return rows


def period_of(reference: ReferenceData, first: date, last: date) -> Period:
    tz = reference.calendar.tz
    start = datetime.combine(first, time(0), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)
    return Period(start, end)


def rankings(
    db: Database,
    reference: ReferenceData,
    config: EvaluationConfig,
    scope: Scope,
    first: date,
    last: date,
    now: datetime,
    lang: str = "zh",
    *,
    tracks: TracksConfig,
) -> dict[str, Any]:
    period = period_of(reference, first, last)
    w = weights(config)
    departments = {
        d.code: (d.name_zh if lang == "zh" else d.name_en) for d in reference.departments
    }
    with db.read() as session:
        facts = list(case_facts(session, period, now, scope.area_code))
        towns = dict(
            session.execute(
                select(Town.code, Town.name).where(*in_area(Town.code, scope.area_code))
            ).all()
        )
        tasks = worker_task_counts(
            session, period, now, scope.area_code, task_limits(config), reference.calendar
        )
    today = _today(reference, now)
    patrols = patrol_totals(db, tracks, reference, scope, first, min(last, today), today)
    with db.read() as session:
        workers = _workers(session, period, scope, tasks, patrols)
    _add_patrols(workers, patrols)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "departments": _ranked(
            by_key(facts, _department, period, now), w, lambda c: departments.get(c, c)
        ),
        "towns": _ranked(by_key(facts, _town, period, now), w, lambda c: towns.get(c, c)),
        "workers": workers,
        # the time limits of 按期核实率 / 按期核查率, as configured ("2h": 2 working hours)
        "limits": {"verify": config.verify_limit, "check": config.check_limit},
        # the tracks' rules behind the patrol figures ([tracks])
        "patrol_rules": {
            "silent_minutes": tracks.silent_minutes,
            "household_radius_m": tracks.household_radius_m,
        },
    }


def _today(reference: ReferenceData, now: datetime) -> date:
    return now.astimezone(reference.calendar.tz).date()


def patrol_totals(
    db: Database,
    tracks: TracksConfig,
    reference: ReferenceData,
    scope: Scope,
    first: date,
    last: date,
    today: date,
) -> dict[str, PatrolTotals]:
    """Per worker of the scope, the patrol of the local days ``first`` … ``last``: the tracks'
    own summary (``PatrolStats.stats_of``) of each worker-day with fixes, added up. Past days
    come from the stored summaries (``patrol_days``, filled nightly); today, and any past day
    not computed yet, are summarised from the fixes now (``services.patrol_days.live_days``)."""
    tz = reference.calendar.tz
    area = scope.area_code
    totals: dict[str, PatrolTotals] = {}
    computed: set[date] = set()
    if first < today:
        stored, computed = stored_days(db, area, first, min(last, today - timedelta(days=1)))
        for d in stored:
            d.add_to(totals)
    for run_first, run_last in _runs(first, last, computed):
        for d in live_days(db, tracks, tz, area, run_first, run_last):
            d.add_to(totals)
    return totals


def _runs(first: date, last: date, skip: set[date]) -> list[tuple[date, date]]:
    """The spans of consecutive days of ``first`` … ``last`` not in ``skip``."""
    runs: list[tuple[date, date]] = []
    day = first
    while day <= last:
        if day in skip:
            day += timedelta(days=1)
            continue
        start = day
        while day + timedelta(days=1) <= last and day + timedelta(days=1) not in skip:
            day += timedelta(days=1)
        runs.append((start, day))
        day += timedelta(days=1)
    return runs


def patrol_json(p: PatrolTotals) -> dict[str, Any]:
    """A worker's patrol figures with their counts (the page's hover text is built from them)."""
    return {
        "days": p.days,
        "fixes": p.fixes,
        "flagged": p.flagged,
        "distance_km": round(p.distance_m / 1000, 2),
        "patrol_s": round(p.patrol_s),
        "inside_share": _figure(p.inside_share, round(p.inside_s), round(p.patrol_s)),
        "household_coverage": _figure(p.household_coverage, p.households_passed, p.households_due),
    }


def _add_patrols(workers: list[dict[str, Any]], patrols: dict[str, PatrolTotals]) -> None:
    for row in workers:
        row["patrol"] = patrol_json(patrols.get(row["id"], PatrolTotals()))


def _department(case: CaseFacts) -> str | None:
    return case.department_code


def _town(case: CaseFacts) -> str | None:
    return case.village_code[:9] if case.village_code else None


def _workers(
    session: Any,
    period: Period,
    scope: Scope,
    tasks: dict[str, TaskCounts],
    patrolled: Collection[str] = (),
) -> list[dict[str, Any]]:
    area = in_area(Case.village_code, scope.area_code)
    rows = session.execute(
        select(
            Case.status,
            Case.reported_at,
            Case.registered_at,
            Case.reporter,
            Case.source,
            Case.village_code,
        ).where(
            Case.reported_at >= period.start,
            Case.reported_at < period.end,
            Case.source == Source.GRID_WORKER.value,
            *area,
        )
    )
    facts = [
        CaseFacts(
            status=CaseStatus(r.status),
            reported_at=r.reported_at,
            registered_at=r.registered_at,
            deadline=None,
            handled_at=None,
            closed_at=None,
            department_code=None,
            category_code=None,
            source=r.source,
            reporter_id=r.reporter or None,
            village_code=r.village_code,
        )
        for r in rows
    ]
    reports = report_counts_by_worker(facts, period)
    people = {
        w.id: w
        for w in session.scalars(
            select(GridWorker).where(*in_area(GridWorker.village_code, scope.area_code))
        )
    }
    done = (
        dict(
            session.execute(
                select(CaseEvent.actor, func.count())
                .where(
                    CaseEvent.at >= period.start,
                    CaseEvent.at < period.end,
                    CaseEvent.action.in_(("verify", "check_pass", "check_fail")),
                    CaseEvent.actor.in_(list(people)),
                )
                .group_by(CaseEvent.actor)
            ).all()
        )
        if people
        else {}
    )
    public = dict(
        session.execute(
            select(Case.grid_code, func.count())
            .where(
                Case.reported_at >= period.start,
                Case.reported_at < period.end,
                Case.source != Source.GRID_WORKER.value,
                Case.registered_at.is_not(None),
                Case.status != CaseStatus.VOIDED.value,
                *area,
            )
            .group_by(Case.grid_code)
        ).all()
    )
    out = []
    for worker_id, person in people.items():
        counts = reports.get(worker_id)
        due = tasks.get(worker_id, TaskCounts())
        if (
            counts is None
            and worker_id not in done
            and worker_id not in tasks
            and worker_id not in patrolled
        ):
            continue
        counts = counts or ReportCounts()
        reported, registered = counts.reported, counts.registered
        valid = registered + counts.voided_with_reason
        grid_public = public.get(person.grid_code, 0)
        out.append(
            {
                "id": worker_id,
                "name": person.name,
                "village": person.village_code,
                "reported": reported,
                "valid_report_rate": _figure(valid_report_rate(counts), valid, reported),
                "verifications_and_checks": int(done.get(worker_id, 0)),
                "on_time_verify_rate": _figure(
                    due.on_time_verify_rate, due.verify_on_time, due.verify_due
                ),
                "on_time_check_rate": _figure(
                    due.on_time_check_rate, due.check_on_time, due.check_due
                ),
                "missed_report_rate": _figure(
                    missed_report_rate(grid_public, registered), grid_public, registered
                ),
            }
        )
    out.sort(key=lambda r: (-r["reported"], -(r["valid_report_rate"]["value"] or 0), r["id"]))
    for rank, row in enumerate(out[:MAX_WORKERS], start=1):
        row["rank"] = rank
    return out[:MAX_WORKERS]
