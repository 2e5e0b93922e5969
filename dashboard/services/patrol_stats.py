"""Patrol statistics and geofences over the stored tracks (issue 16), for the replay page, the
JSON endpoints and, later, the leadership's grid-worker ranking.

- ``worker_stats``: one worker over a time range (a shift): the summary of
  dashboard.domain.patrol plus household coverage of the own grid;
- ``area_stats``: every worker of a grid, village or town over a range, one row each, and the
  totals (the ranking's input);
- ``everyone_at``: each worker's last trusted fix at or before a moment (within ``max_age``);
- ``inside_now``: who is inside a grid or village now and since when (dwell time).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped]
from sqlalchemy import func, select, text

from dashboard.config import TracksConfig
from dashboard.domain.patrol import (
    PatrolSummary,
    Track,
    TrackPoint,
    coverage,
    household_points,
    summarize,
)
from dashboard.domain.regions import Location, Polygonal, parse_polygon_geojson
from dashboard.services.tracks import read_track_columns
from dashboard.storage.db import Database
from dashboard.storage.models import Grid, GridWorker, PositionFix, Village, WorkerPosition
from dashboard.storage.scoping import in_area

Locator = Callable[[float, float], Location | None]
MOMENT_MAX_AGE = timedelta(minutes=15)  # "where was everyone at 14:05": a fix at most this old


@dataclass(frozen=True)
class WorkerStats:
    worker_id: str
    name: str
    grid_code: str
    village_code: str
    summary: PatrolSummary
    coverage: float | None
    fixes: int
    flagged: int

    def as_json(self) -> dict[str, Any]:
        return {
            "worker": self.worker_id,
            "name": self.name,
            "grid": self.grid_code,
            "village": self.village_code,
            "fixes": self.fixes,
            "flagged": self.flagged,
            "household_coverage": None if self.coverage is None else round(self.coverage, 4),
            **self.summary.as_json(),
        }


class PatrolStats:
    def __init__(self, db: Database, config: TracksConfig) -> None:
        self.db, self.config = db, config
        self._grids: dict[str, tuple[Polygonal, int]] = {}

    def grid(self, code: str) -> tuple[Polygonal, int] | None:
        if code not in self._grids:
            with self.db.read() as session:
                row = session.get(Grid, code)
                if row is None:
                    return None
                self._grids[code] = (
                    parse_polygon_geojson(json.loads(row.geometry)),
                    row.households,
                )
        return self._grids[code]

    def worker_stats(self, worker_id: str, start: datetime, end: datetime) -> WorkerStats | None:
        with self.db.read() as session:
            worker = session.get(GridWorker, worker_id)
            if worker is None:
                return None
            name, grid_code, village = worker.name, worker.grid_code, worker.village_code
        columns = read_track_columns(self.db, worker_id, start, end)
        return self.stats_of(worker_id, name, grid_code, village, columns.trusted(), len(columns))

    def stats_of(
        self,
        worker_id: str,
        name: str,
        grid_code: str,
        village: str,
        points: list[TrackPoint] | Track,
        total: int,
    ) -> WorkerStats:
        cfg = self.config
        grid = self.grid(grid_code)
        polygon = grid[0] if grid else None
        track = points if isinstance(points, Track) else Track.of(points)
        # Inside the own grid, for every fix at once (shapely's vectorised test).
        if polygon is not None and len(track):
            inside = np.asarray(shapely.intersects_xy(polygon, track.lon, track.lat), dtype=bool)
        else:
            inside = np.zeros(len(track), dtype=bool)
        summary = summarize(
            track,
            inside,
            silent=timedelta(minutes=cfg.silent_minutes),
            stop_radius_m=cfg.stop_radius_m,
            stop_duration=timedelta(minutes=cfg.stop_minutes),
        )
        homes = household_points(grid_code, polygon, grid[1]) if grid else []
        share = coverage(homes, track, cfg.household_radius_m)
        return WorkerStats(
            worker_id, name, grid_code, village, summary, share, total, total - len(track)
        )

    def area_stats(self, area: str, start: datetime, end: datetime) -> list[WorkerStats]:
        """Every worker whose grid is inside ``area`` (a grid, village or town code)."""
        with self.db.read() as session:
            workers = session.execute(
                select(
                    GridWorker.id, GridWorker.name, GridWorker.grid_code, GridWorker.village_code
                )
                .where(*in_area(GridWorker.grid_code, area))
                .order_by(GridWorker.id)
            ).all()
            rows = session.execute(
                select(
                    PositionFix.worker_id,
                    PositionFix.at,
                    PositionFix.lon,
                    PositionFix.lat,
                    PositionFix.valid,
                )
                .join(GridWorker, GridWorker.id == PositionFix.worker_id)
                .where(
                    *in_area(GridWorker.grid_code, area),
                    PositionFix.at >= start,
                    PositionFix.at < end,
                )
                .order_by(PositionFix.worker_id, PositionFix.at, PositionFix.id)
            ).all()
        tracks: dict[str, list[TrackPoint]] = {}
        totals: dict[str, int] = {}
        for worker, at, lon, lat, valid in rows:
            totals[worker] = totals.get(worker, 0) + 1
            if valid:
                tracks.setdefault(worker, []).append(TrackPoint(at, lon, lat))
        return [
            self.stats_of(w, name, grid, village, tracks.get(w, []), totals.get(w, 0))
            for w, name, grid, village in workers
        ]


def everyone_at(
    db: Database, area: str | None, moment: datetime, max_age: timedelta = MOMENT_MAX_AGE
) -> list[dict[str, Any]]:
    """Each worker of ``area`` at ``moment``: the last trusted fix in ``(moment - max_age,
    moment]`` (workers without one are left out)."""
    since = moment - max_age
    if db.dialect == "postgresql":
        # One index probe per worker on (worker_id, at), on the moment's day partition(s).
        lateral = text(
            "SELECT w.id, w.name, w.grid_code, f.at, f.lon, f.lat FROM grid_workers w "
            "CROSS JOIN LATERAL (SELECT at, lon, lat FROM position_fixes p "
            "WHERE p.worker_id = w.id AND p.valid AND p.at > :since AND p.at <= :moment "
            "ORDER BY p.at DESC LIMIT 1) f WHERE w.grid_code LIKE :area ESCAPE '\\' "
            "ORDER BY w.id"
        )
        pattern = _like_prefix(area or "")
        with db.read() as session:
            rows = session.execute(
                lateral, {"since": since, "moment": moment, "area": pattern}
            ).all()
    else:
        newest = (
            select(PositionFix.worker_id, func.max(PositionFix.at).label("at"))
            .where(PositionFix.valid.is_(True), PositionFix.at > since, PositionFix.at <= moment)
            .group_by(PositionFix.worker_id)
            .subquery()
        )
        query = (
            select(
                GridWorker.id,
                GridWorker.name,
                GridWorker.grid_code,
                PositionFix.at,
                PositionFix.lon,
                PositionFix.lat,
            )
            .join(newest, newest.c.worker_id == GridWorker.id)
            .join(
                PositionFix,
                (PositionFix.worker_id == newest.c.worker_id)
                & (PositionFix.at == newest.c.at)
                & PositionFix.valid.is_(True),
            )
            .where(*in_area(GridWorker.grid_code, area))
            .order_by(GridWorker.id)
        )
        with db.read() as session:
            rows = session.execute(query).all()
    seen: set[str] = set()
    answer = []
    for worker, name, grid, at, lon, lat in rows:
        if worker in seen:
            continue
        seen.add(worker)
        answer.append(
            {
                "worker": worker,
                "name": name,
                "grid": grid,
                "at": at.isoformat(),
                "lon": lon,
                "lat": lat,
            }
        )
    return answer


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def area_polygon(db: Database, area: str) -> Polygonal | None:
    """The boundary of a grid (15 digits) or village (12), None when unknown."""
    model: Any = Grid if len(area) == 15 else Village
    with db.read() as session:
        geometry = session.scalar(select(model.geometry).where(model.code == area))
    return None if geometry is None else parse_polygon_geojson(json.loads(geometry))


def inside_now(
    db: Database,
    locate: Locator,
    area: str,
    now: datetime,
    fresh: timedelta,
    lookback: timedelta = timedelta(hours=24),
) -> list[dict[str, Any]]:
    """The workers whose live position (at most ``fresh`` old) lies in ``area`` (a grid or
    village code), each with the time they entered it (their trusted fixes walked back from now,
    at most ``lookback``: the first fix of the newest run inside the area's boundary) and the
    dwell time in seconds."""
    with db.read() as session:
        rows = session.execute(
            select(
                WorkerPosition.worker_id, GridWorker.name, GridWorker.grid_code, WorkerPosition.at
            )
            .join(GridWorker, GridWorker.id == WorkerPosition.worker_id)
            .where(*in_area(WorkerPosition.grid_code, area), WorkerPosition.at > now - fresh)
            .order_by(WorkerPosition.worker_id)
        ).all()
    polygon = area_polygon(db, area) if rows else None
    answer = []
    for worker, name, own_grid, at in rows:
        track = read_track_columns(db, worker, now - lookback, now + timedelta(seconds=1))
        trusted = track.trusted()
        since = at
        if len(trusted):
            if polygon is not None:
                inside = np.asarray(shapely.intersects_xy(polygon, trusted.lon, trusted.lat))
            else:  # no boundary stored: the locator, fix by fix
                inside = np.array(
                    [
                        (w := locate(x, y)) is not None and w.grid_code.startswith(area)
                        for x, y in zip(trusted.lon.tolist(), trusted.lat.tolist(), strict=True)
                    ],
                    dtype=bool,
                )
            outside = np.flatnonzero(~inside)
            first = int(outside[-1]) + 1 if len(outside) else 0
            if first < len(trusted):
                since = min(at, trusted.at[first])
        answer.append(
            {
                "worker": worker,
                "name": name,
                "grid": own_grid,
                "since": since.isoformat(),
                "last_fix": at.isoformat(),
                "dwell_s": round((now - since).total_seconds()),
            }
        )
    return answer


def geofence_at(
    db: Database,
    locate: Locator,
    scope_area: str,
    lon: float,
    lat: float,
    now: datetime,
    fresh: timedelta,
) -> dict[str, Any] | None:
    """The wall's click: the grid and the village at a point (None outside them or outside
    ``scope_area``), each with who is inside now and their dwell (``inside_now``)."""
    where = locate(lon, lat)
    if where is None or not where.grid_code.startswith(scope_area):
        return None
    with db.read() as session:
        village = session.scalar(select(Village.name).where(Village.code == where.village_code))
    return {
        "at": now.isoformat(),
        "grid": {
            "code": where.grid_code,
            "inside": inside_now(db, locate, where.grid_code, now, fresh),
        },
        "village": {
            "code": where.village_code,
            "name": village or where.village_code,
            "inside": inside_now(db, locate, where.village_code, now, fresh),
        },
    }
