"""What the replay page (/tracks) shows: the tracks of a few workers over a time range, or
everyone's position at one moment, limited to the principal's area.

A replay carries, per worker: the fixes (trusted and marked), the stops with their durations, the
summary (dashboard.domain.patrol), the own grid's boundary and the cases the worker reported in
the range. Bounded: at most ``MAX_WORKERS`` tracks at once, ``MAX_TRACK_SPAN`` long.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from dashboard.config import TracksConfig
from dashboard.domain.permissions import Scope
from dashboard.read.track_views import Replay, WorkerReplay
from dashboard.services.patrol_stats import PatrolStats, everyone_at
from dashboard.services.tracks import read_track_columns
from dashboard.storage.db import Database
from dashboard.storage.models import Case, Grid, GridWorker
from dashboard.storage.scoping import in_area

MAX_WORKERS = 20
MAX_DRAWN = 5_000  # fixes per worker sent to the page to draw and play (a 10-hour day at 1 Hz
# is 36,000: thinned to one per ~7 s; the summary and the stops use every fix)


def pick_workers(db: Database, scope: Scope, ids: list[str], area: str | None) -> list[str]:
    """The worker ids asked for (by id, or every worker of a grid/village/town), in scope."""
    query = select(GridWorker.id).where(*in_area(GridWorker.village_code, scope.area_code))
    if ids:
        query = query.where(GridWorker.id.in_(ids))
    elif area:
        query = query.where(*in_area(GridWorker.grid_code, area))
    else:
        return []
    with db.read() as session:
        return list(session.scalars(query.order_by(GridWorker.id).limit(1000)))


def build_replay(
    db: Database, config: TracksConfig, workers: list[str], start: datetime, end: datetime
) -> Replay:
    stats = PatrolStats(db, config)
    chosen, truncated = workers[:MAX_WORKERS], max(0, len(workers) - MAX_WORKERS)
    replays: list[WorkerReplay] = []
    grids: dict[str, list[list[list[float]]]] = {}
    with db.read() as session:
        people = {
            w.id: w for w in session.scalars(select(GridWorker).where(GridWorker.id.in_(chosen)))
        }
        reported = session.execute(
            select(Case.reporter, Case.reported_at, Case.lon, Case.lat, Case.id).where(
                Case.reporter.in_(chosen), Case.reported_at >= start, Case.reported_at < end
            )
        ).all()
        for code in {w.grid_code for w in people.values()}:
            row = session.get(Grid, code)
            if row is not None:
                geometry = json.loads(row.geometry)
                rings = (
                    geometry["coordinates"]
                    if geometry["type"] == "Polygon"
                    else [ring for poly in geometry["coordinates"] for ring in poly]
                )
                grids[code] = rings
    for worker_id in chosen:
        worker = people.get(worker_id)
        if worker is None:
            continue
        columns = read_track_columns(db, worker_id, start, end)
        trusted = columns.trusted()
        s = stats.stats_of(
            worker_id, worker.name, worker.grid_code, worker.village_code, trusted, len(columns)
        )
        ends = [x.start.timestamp() for x in s.summary.stops]
        ends += [x.end.timestamp() for x in s.summary.stops]
        drawn = drawn_fixes(columns.t, columns.valid, ends)
        replays.append(
            WorkerReplay(
                worker_id=worker_id,
                name=worker.name,
                grid_code=worker.grid_code,
                fixes=[
                    [t, lon, lat, v, columns.flags[i]]
                    for i, t, lon, lat, v in zip(
                        drawn.tolist(),
                        columns.t[drawn].tolist(),
                        np.round(columns.lon[drawn], 6).tolist(),
                        np.round(columns.lat[drawn], 6).tolist(),
                        columns.valid[drawn].astype(int).tolist(),
                        strict=True,
                    )
                ],
                fix_count=len(columns),
                flagged=len(columns) - len(trusted),
                stops=[
                    [x.start.timestamp(), x.end.timestamp(), x.lon, x.lat] for x in s.summary.stops
                ],
                cases=[
                    [at.timestamp(), lon, lat, case_id]
                    for who, at, lon, lat, case_id in reported
                    if who == worker_id
                ],
                summary=s.summary.as_json(),
                coverage=s.coverage,
            )
        )
    return Replay(start, end, replays, grids, truncated)


def drawn_fixes(t: np.ndarray, valid: np.ndarray, keep_at: list[float]) -> np.ndarray:
    """The indices of the fixes the page draws and plays: every fix of a track up to
    ``MAX_DRAWN``; a longer one thinned to one trusted fix per step (the step that brings it
    under ``MAX_DRAWN``), keeping every marked fix (the red crosses), the fixes at ``keep_at``
    (the stops' ends: the stops stay exact, they are computed from every fix) and the last one.
    """
    n = len(t)
    if n <= MAX_DRAWN:
        return np.arange(n)
    step = (float(t[-1]) - float(t[0])) / MAX_DRAWN
    bucket = np.floor((t - t[0]) / step).astype(np.int64)
    first = np.ones(n, dtype=bool)
    trusted = np.flatnonzero(valid)
    # the first trusted fix of each time bucket
    first_of_bucket = np.zeros(n, dtype=bool)
    if len(trusted):
        b = bucket[trusted]
        lead = np.ones(len(trusted), dtype=bool)
        lead[1:] = b[1:] != b[:-1]
        first_of_bucket[trusted[lead]] = True
    first &= first_of_bucket | ~valid
    first[-1] = True
    if keep_at:
        first[np.searchsorted(t, np.array(keep_at), side="left").clip(0, n - 1)] = True
    return np.flatnonzero(first)


def build_moment(
    db: Database, scope: Scope, area: str | None, at: datetime
) -> list[dict[str, Any]]:
    """Everyone of ``area`` (inside the scope) at ``at``."""
    wanted = area or scope.area_code
    if scope.area_code and wanted and not wanted.startswith(scope.area_code):
        wanted = scope.area_code
    return everyone_at(db, wanted, at, timedelta(minutes=15))
