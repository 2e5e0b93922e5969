"""The fixes of a period cut into worker-days, in one pass: every fix of the workers of an area
in ``[start, end)``, read once in (worker, time) order and streamed (one worker-day in memory at
a time), handed out as each local day's trusted track and fix count — the input of the tracks'
own patrol summary (``services.patrol_stats.PatrolStats.stats_of``) for the rankings. Only the
worker-days with fixes are read, so the cost is the number of fixes, not workers × days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.patrol import TrackPoint
from dashboard.storage.models import GridWorker, PositionFix
from dashboard.storage.scoping import in_area

STREAM = 10_000  # rows fetched at a time


@dataclass
class WorkerDay:
    worker_id: str
    name: str
    grid_code: str
    village_code: str
    day: date  # local day
    points: list[TrackPoint] = field(default_factory=list)  # trusted, in time order
    fixes: int = 0  # every fix, the filtered ones too


def worker_days(
    session: Session, area: str | None, start: datetime, end: datetime, tz: tzinfo
) -> Iterator[WorkerDay]:
    """The worker-days of ``area``'s workers with at least one fix in ``[start, end)``."""
    query = (
        select(
            PositionFix.worker_id,
            GridWorker.name,
            GridWorker.grid_code,
            GridWorker.village_code,
            PositionFix.at,
            PositionFix.lon,
            PositionFix.lat,
            PositionFix.valid,
        )
        .join(GridWorker, GridWorker.id == PositionFix.worker_id)
        .where(*in_area(GridWorker.grid_code, area), PositionFix.at >= start, PositionFix.at < end)
        .order_by(PositionFix.worker_id, PositionFix.at, PositionFix.id)
        .execution_options(yield_per=STREAM)
    )
    current: WorkerDay | None = None
    day_end: datetime | None = None
    for worker, name, grid, village, at, lon, lat, valid in session.execute(query):
        if current is None or worker != current.worker_id or (day_end and at >= day_end):
            if current is not None:
                yield current
            local = at.astimezone(tz)
            current = WorkerDay(worker, name, grid, village, local.date())
            day_end = _next_midnight(local, tz)
        current.fixes += 1
        if valid:
            current.points.append(TrackPoint(at, lon, lat))
    if current is not None:
        yield current


def _next_midnight(local: datetime, tz: tzinfo) -> datetime:
    return datetime.combine(local.date() + timedelta(days=1), time(0), tz)
