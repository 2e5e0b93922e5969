"""The grid workers' patrol per local day (the command room's calendar), stored: one
``patrol_days`` row per worker-day with fixes — the tracks' own summary
(``PatrolStats.stats_of``) of that day's fixes, read once in (worker, time) order
(``read.patrol_days``). The rankings add these rows up for past days and compute only today
live, with the same ``live_days`` (``services.rankings.patrol_totals``).

Filled by the scheduler's nightly ``patrol-days`` job (``refresh``): yesterday, and any day of
the back-fill window (``[supervision] rollup_catchup_days``) that is stale — it has fixes but
no rows (missed runs), or fixes that arrived (``received_at``) after the day's ``computed_at``
(late uploads: a phone's queue sent the next morning). At most ``MAX_DAYS_PER_RUN`` days a run,
newest first; the rest follow the next run. A day is replaced whole in one transaction, so a
rerun changes nothing (idempotent). Until the next run, a stored day keeps its figures: fixes
of a stored day arriving during the day after show up after the next nightly run. A past day
without rows (never computed yet) is computed live by the rankings, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import case, delete, func, insert, literal, select

from dashboard.config import TracksConfig
from dashboard.domain.worker_metrics import PatrolTotals, day_households_passed
from dashboard.read.patrol_days import worker_days
from dashboard.services.patrol_stats import PatrolStats
from dashboard.storage.db import Database
from dashboard.storage.models import GridWorker, PatrolDay, PositionFix
from dashboard.storage.scoping import in_area

logger = logging.getLogger(__name__)

MAX_DAYS_PER_RUN = 7  # days (re)computed by one run of the job; the rest follow


@dataclass(frozen=True)
class DaySummary:
    """One worker-day's patrol, as stored in ``patrol_days``."""

    worker_id: str
    day: date
    distance_m: float
    patrol_s: float
    inside_s: float
    households_passed: int | None
    grid_households: int
    fixes_used: int
    fixes_filtered: int

    def add_to(self, totals: dict[str, PatrolTotals]) -> None:
        totals[self.worker_id] = totals.get(self.worker_id, PatrolTotals()).plus_counts(
            fixes=self.fixes_used + self.fixes_filtered,
            flagged=self.fixes_filtered,
            distance_m=self.distance_m,
            patrol_s=self.patrol_s,
            inside_s=self.inside_s,
            passed=self.households_passed,
            households=self.grid_households,
        )


def bounds(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The local days ``first`` … ``last`` as ``[start, end)``."""
    return datetime.combine(first, time(0), tz), datetime.combine(
        last + timedelta(days=1), time(0), tz
    )


def live_days(
    db: Database,
    tracks: TracksConfig,
    tz: tzinfo,
    area: str | None,
    first: date,
    last: date,
) -> Iterator[DaySummary]:
    """Every worker-day with fixes of ``area``'s workers in the local days ``first`` …
    ``last``, summarised from the fixes now (the tracks' own ``PatrolStats.stats_of``)."""
    stats = PatrolStats(db, tracks)
    start, end = bounds(first, last, tz)
    with db.read() as session:
        for d in worker_days(session, area, start, end, tz):
            s = stats.stats_of(d.worker_id, d.name, d.grid_code, d.village_code, d.points, d.fixes)
            grid = stats.grid(d.grid_code)
            households = grid[1] if grid else 0
            yield DaySummary(
                worker_id=d.worker_id,
                day=d.day,
                distance_m=s.summary.distance_m,
                patrol_s=s.summary.patrol_s,
                inside_s=s.summary.inside_s,
                households_passed=day_households_passed(s.coverage, households),
                grid_households=households,
                fixes_used=s.fixes - s.flagged,
                fixes_filtered=s.flagged,
            )


def stored_days(
    db: Database, area: str | None, first: date, last: date
) -> tuple[list[DaySummary], set[date]]:
    """The stored worker-days of ``area``'s workers in ``first`` … ``last``, and every day of
    that span that has been computed (for anyone: a computed day holds every worker's row)."""
    with db.read() as session:
        rows = session.execute(
            select(
                PatrolDay.worker_id,
                PatrolDay.day,
                PatrolDay.distance_m,
                PatrolDay.patrol_s,
                PatrolDay.inside_s,
                PatrolDay.households_passed,
                PatrolDay.grid_households,
                PatrolDay.fixes_used,
                PatrolDay.fixes_filtered,
            )
            .join(GridWorker, GridWorker.id == PatrolDay.worker_id)
            .where(*in_area(GridWorker.grid_code, area), PatrolDay.day.between(first, last))
        ).all()
        computed = set(
            session.scalars(
                select(PatrolDay.day).where(PatrolDay.day.between(first, last)).distinct()
            )
        )
    return [DaySummary(*row) for row in rows], computed


def store_day(db: Database, tracks: TracksConfig, tz: tzinfo, day: date, now: datetime) -> int:
    """Compute ``day`` for every worker and replace its rows (one transaction); the rows."""
    rows = [{**asdict(d), "computed_at": now} for d in live_days(db, tracks, tz, None, day, day)]
    with db.transaction() as session:
        session.execute(delete(PatrolDay).where(PatrolDay.day == day))
        if rows:
            session.execute(insert(PatrolDay), rows)
    return len(rows)


def stale_days(db: Database, tz: tzinfo, today: date, back: int) -> list[date]:
    """The days of the ``back`` days before ``today`` to (re)compute, newest first: fixes but
    no rows, or fixes received after the day's ``computed_at``. One pass over the window's
    fixes (each fix's local day by a ``CASE`` of the days' bounds), one over its rows."""
    days = [today - timedelta(days=n) for n in range(1, max(1, back) + 1)]
    edges = {day: bounds(day, day, tz) for day in days}
    bucket = case(
        *(
            (PositionFix.at < end, literal(day.isoformat()))
            for day, (_, end) in sorted(edges.items())
        ),
        else_=literal(""),
    )
    with db.read() as session:
        fixes = (
            select(bucket.label("day"), PositionFix.received_at)
            .where(PositionFix.at >= edges[days[-1]][0], PositionFix.at < edges[days[0]][1])
            .subquery()
        )
        received: dict[str, datetime] = dict(
            session.execute(
                select(fixes.c.day, func.max(fixes.c.received_at)).group_by(fixes.c.day)
            ).all()
        )
        computed: dict[date, datetime] = dict(
            session.execute(
                select(PatrolDay.day, func.min(PatrolDay.computed_at))
                .where(PatrolDay.day.between(days[-1], days[0]))
                .group_by(PatrolDay.day)
            ).all()
        )
    out = []
    for day in days:
        latest = received.get(day.isoformat())
        done = computed.get(day)
        if latest is not None and (done is None or latest > done):
            out.append(day)
    return out


def refresh(
    db: Database,
    tracks: TracksConfig,
    tz: tzinfo,
    now: datetime,
    back: int,
    limit: int = MAX_DAYS_PER_RUN,
) -> int:
    """The nightly job: the stale days of the window (yesterday first), at most ``limit``;
    the rows written."""
    today = now.astimezone(tz).date()
    days = stale_days(db, tz, today, back)[: max(1, limit)]
    rows = sum(store_day(db, tracks, tz, day, now) for day in days)
    if days:
        logger.info("patrol days: %s, %d rows", ", ".join(map(str, sorted(days))), rows)
    return rows
