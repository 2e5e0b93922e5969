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

from sqlalchemy import select

from dashboard.config import TracksConfig
from dashboard.domain.patrol import TrackPoint
from dashboard.domain.permissions import Scope
from dashboard.read.track_views import Replay, WorkerReplay
from dashboard.services.patrol_stats import PatrolStats, everyone_at
from dashboard.services.tracks import read_track
from dashboard.storage.db import Database
from dashboard.storage.models import Case, Grid, GridWorker
from dashboard.storage.scoping import in_area

MAX_WORKERS = 20


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
        track = read_track(db, worker_id, start, end)
        trusted = [TrackPoint(f.at, f.lon, f.lat) for f in track if f.valid]
        s = stats.stats_of(
            worker_id, worker.name, worker.grid_code, worker.village_code, trusted, len(track)
        )
        replays.append(
            WorkerReplay(
                worker_id=worker_id,
                name=worker.name,
                grid_code=worker.grid_code,
                fixes=[
                    [
                        f.at.timestamp(),
                        round(f.lon, 6),
                        round(f.lat, 6),
                        int(f.valid),
                        ",".join(f.flags),
                    ]
                    for f in track
                ],
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


def build_moment(
    db: Database, scope: Scope, area: str | None, at: datetime
) -> list[dict[str, Any]]:
    """Everyone of ``area`` (inside the scope) at ``at``."""
    wanted = area or scope.area_code
    if scope.area_code and wanted and not wanted.startswith(scope.area_code):
        wanted = scope.area_code
    return everyone_at(db, wanted, at, timedelta(minutes=15))
