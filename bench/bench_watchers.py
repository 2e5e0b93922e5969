"""Benchmark: the supervision watchers at city scale (``dashboard.services.watchers``).

On the city databases ``bench_seed`` seeded (or seeded here when run alone), 100,000 synthetic
open cases are bulk-inserted on top (dispatched, registered over the 20 working days before
``NOW`` with their categories' limits on the working calendar, so about half are past their
deadline), plus a newest position for every grid worker (a few silent, a few outside their
grid). Then, per backend:

* the deadline watcher's first run (every reminder and order due at once), its steady-state
  runs (nothing new; the scheduler's ``MomentCache`` kept across runs) and one steady-state run
  with a fresh cache (what a restarted process does first);
* the village watcher (refresh of every village light, then the call list), first and steady;
* the patrol watcher over every worker, first and steady.

The synthetic rows are deleted afterwards, so benchmarks that run later see the seed's data.
Run alone: ``python -m bench.bench_watchers`` (``BENCH_WATCHERS_CASES`` changes the 100,000).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from bench import NOW, SEED, ms, percentiles, timed
from bench.bench_seed import BACKENDS, DAYS, LABELS, release_all, seeded
from dashboard.config import AppConfig
from dashboard.domain.deadlines import deadline_for
from dashboard.reference import ReferenceData, load_reference
from dashboard.services.regions import RegionLocator
from dashboard.services.watch_common import WatchSettings
from dashboard.services.watchers import (
    MomentCache,
    run_deadline_watch,
    run_patrol_watch,
    run_village_watch,
)
from dashboard.storage.db import Database
from dashboard.storage.models import (
    CallListEntry,
    Case,
    Grid,
    GridWorker,
    OutboxEvent,
    PatrolFlag,
    Reminder,
    SupervisionOrder,
    Village,
    WorkerPosition,
)

CASES = int(os.environ.get("BENCH_WATCHERS_CASES", "100000"))
STEADY_RUNS = 5
INTERVAL_S = 60  # the default interval of each watcher
SILENT_SHARE, OUTSIDE_SHARE = 0.03, 0.03


@dataclass
class Timing:
    first: float = 0.0
    first_items: int = 0
    steady: list[float] = field(default_factory=list)
    steady_items: int = 0


@dataclass
class BackendResult:
    backend: str
    open_cases: int
    workers: int
    villages: int
    deadline: Timing
    restart: float
    village: Timing
    patrol: Timing


# --- synthetic data ---------------------------------------------------------------------------


def _grids(db: Database) -> list[Any]:
    with db.read() as session:
        return list(
            session.execute(
                select(Grid.code, Grid.village_code, Grid.lon, Grid.lat, Village.town_code)
                .join(Village, Village.code == Grid.village_code)
                .order_by(Grid.code)
            )
        )


def _counties(db: Database) -> dict[str, str]:
    from dashboard.storage.models import Town

    with db.read() as session:
        return dict(session.execute(select(Town.code, Town.county_code)).all())


def insert_open_cases(db: Database, reference: ReferenceData, n: int) -> int:
    """Bulk-insert ``n`` dispatched cases; returns the first synthetic id."""
    rng = random.Random(SEED)
    grids, counties = _grids(db), _counties(db)
    subs = list(reference.categories.subs)
    cal = reference.calendar
    with db.read() as session:
        first = (session.scalar(select(func.max(Case.id))) or 0) + 1
    rows = []
    for i in range(n):
        code, village, lon, lat, town = grids[rng.randrange(len(grids))]
        sub = subs[rng.randrange(len(subs))]
        registered = NOW - timedelta(minutes=rng.randrange(60, 60 * 24 * 20))
        deadline = deadline_for(registered, sub.limit, cal)
        rows.append(
            {
                "id": first + i,
                "status": "dispatched",
                "source": "grid_worker",
                "emergency": False,
                "category_code": sub.code,
                "reported_category": sub.code,
                "description": "bench",
                "lon": lon,
                "lat": lat,
                "address": "",
                "grid_code": code,
                "village_code": village,
                "town_code": town,
                "county_code": counties[town],
                "department_code": sub.default_department,
                "reporter": "bench",
                "reported_at": registered - timedelta(minutes=10),
                "accepted_at": registered - timedelta(minutes=5),
                "registered_at": registered,
                "dispatched_at": registered + timedelta(minutes=5),
                "deadline": deadline,
                "updated_at": registered + timedelta(minutes=5),
                "open": True,
            }
        )
    for start in range(0, len(rows), 5_000):
        with db.transaction() as session:
            session.execute(insert(Case), rows[start : start + 5_000])
    return first


def insert_positions(db: Database) -> int:
    """A newest fix per active worker: most inside their grid and recent, some silent or out."""
    rng = random.Random(SEED + 1)
    with db.read() as session:
        workers = list(session.execute(select(GridWorker.id, GridWorker.grid_code)))
        grids = {
            c: (lon, lat) for c, lon, lat in session.execute(select(Grid.code, Grid.lon, Grid.lat))
        }
    codes = list(grids)
    rows = []
    for worker_id, grid in workers:
        roll = rng.random()
        at, where = NOW - timedelta(seconds=rng.randrange(5, 60)), grid
        if roll < SILENT_SHARE:
            at = NOW - timedelta(minutes=rng.randrange(45, 120))
        elif roll < SILENT_SHARE + OUTSIDE_SHARE:
            where = codes[rng.randrange(len(codes))]
        lon, lat = grids[where]
        rows.append({"worker_id": worker_id, "at": at, "lon": lon, "lat": lat, "grid_code": where})
    with db.transaction() as session:
        session.execute(delete(WorkerPosition))
        for start in range(0, len(rows), 5_000):
            session.execute(insert(WorkerPosition), rows[start : start + 5_000])
    return len(rows)


def cleanup(db: Database, first_id: int) -> None:
    with db.transaction() as session:
        for model in (Reminder, SupervisionOrder, CallListEntry, PatrolFlag, WorkerPosition):
            session.execute(delete(model))
        session.execute(
            delete(OutboxEvent).where(
                OutboxEvent.topic.in_(("reminder", "supervision_order", "call_list", "patrol_flag"))
            )
        )
        session.execute(delete(Case).where(Case.id >= first_id))
        session.execute(update(Village).values(status="ok", red_since=None, red_reasons=""))


# --- measuring --------------------------------------------------------------------------------


def _measure(run: Any) -> Timing:
    timing = Timing()
    result, timing.first = timed(run)
    timing.first_items = result.items
    for _ in range(STEADY_RUNS):
        result, seconds = timed(run)
        timing.steady.append(seconds)
        timing.steady_items += result.items
    return timing


def bench_backend(backend: str) -> BackendResult:
    db = seeded(backend, DAYS).db
    config = AppConfig()
    reference = load_reference(config)
    settings = WatchSettings.from_config(config, reference)
    first_id = insert_open_cases(db, reference, CASES)
    try:
        workers = insert_positions(db)
        with db.read() as session:
            open_cases = session.scalar(select(func.count()).where(Case.open.is_(True))) or 0
            villages = session.scalar(select(func.count()).select_from(Village)) or 0
        cache = MomentCache()
        deadline = _measure(lambda: run_deadline_watch(db, reference, NOW, settings, cache))
        _, restart = timed(lambda: run_deadline_watch(db, reference, NOW, settings, MomentCache()))
        village = _measure(lambda: run_village_watch(db, reference, NOW, settings))
        locator = RegionLocator(db)
        locator.reload()
        patrol = _measure(lambda: run_patrol_watch(db, reference, NOW, settings, locator))
    finally:
        cleanup(db, first_id)
    return BackendResult(backend, open_cases, workers, villages, deadline, restart, village, patrol)


# --- the report -------------------------------------------------------------------------------


def _row(label: str, what: str, t: Timing) -> str:
    p50, top = percentiles(t.steady, 50, 100)
    share = max(t.first, top) / INTERVAL_S
    return (
        f"| {label} | {what} | {ms(t.first)} ({t.first_items:,} items) | {ms(p50)} | {ms(top)} "
        f"| {t.steady_items:,} | {share:.1%} |"
    )


def section(results: list[BackendResult]) -> str:
    r0 = results[0]
    lines = [
        "## Supervision watchers (`bench/bench_watchers.py`)",
        "",
        f"City scale ({DAYS} days of seeded history) plus {CASES:,} synthetic dispatched cases: "
        f"{r0.open_cases:,} open cases, {r0.villages:,} villages, {r0.workers:,} workers with a "
        f"newest fix ({SILENT_SHARE:.0%} silent, {OUTSIDE_SHARE:.0%} outside their grid), at "
        f"{NOW:%Y-%m-%d %H:%M} UTC (on shift). First run: everything due at once; steady: "
        f"{STEADY_RUNS} further runs with nothing new (p50 / max). Share: the slowest run as a "
        f"share of the {INTERVAL_S} s interval.",
        "",
        "| backend | watcher | first run | steady p50 | steady max | items steady | share |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        label = LABELS[r.backend]
        lines.append(_row(label, "deadline (reminders + orders)", r.deadline))
        lines.append(_row(label, "village (refresh + call list)", r.village))
        lines.append(_row(label, "patrol (silent + outside)", r.patrol))
    lines += [
        "",
        "A restarted process (empty yellow-moment cache, nothing new to insert): "
        + ", ".join(f"{LABELS[r.backend]} {ms(r.restart)}" for r in results)
        + ".",
        "",
    ]
    return "\n".join(lines)


def run() -> str:
    return section([bench_backend(backend) for backend in BACKENDS])


if __name__ == "__main__":
    try:
        print(run())
    finally:
        release_all()
