"""Grid workers' position fixes: store a batch, keep the newest fix per worker, tell the wall.

A batch is one transaction of two statements: every fix into ``position_fixes`` (the patrol
track, one executemany), and the newest fix of each worker into ``worker_positions`` with an
upsert that only moves a worker forward in time. Phones buffer fixes while offline and send the
backlog later, so fixes arrive late and out of order; a late fix joins the track without moving
the worker on the wall.

Positions are ephemeral for the screens: after the commit the batch is published as ONE bus event
(topic ``positions``), not through the outbox. The tables are the durable record; a bus outage
loses a few seconds of dots on the wall and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Executable, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.domain import topics
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Scope
from dashboard.domain.regions import Location
from dashboard.domain.time_bounds import MAX_FUTURE_SKEW, check_occurred_at
from dashboard.storage.bus import BusError, Event, EventBus
from dashboard.storage.db import Database
from dashboard.storage.models import GridWorker, PositionFix, WorkerPosition

logger = logging.getLogger(__name__)

TOPIC_POSITIONS = topics.TOPIC_POSITIONS

_FIXES = PositionFix.__table__
_track_order = attrgetter("worker_id", "at")
_LATEST = WorkerPosition.__table__


class UnknownWorkers(DomainError):
    """Fixes for worker ids that are not in ``grid_workers`` (HTTP 422; nothing is stored)."""

    def __init__(self, ids: Collection[str]) -> None:
        self.ids = sorted(ids)
        shown = ", ".join(self.ids[:20]) + (" …" if len(self.ids) > 20 else "")
        super().__init__("unknown_workers", f"unknown worker id(s): {shown}")


class WorkersOutsideScope(DomainError):
    """Fixes for workers outside the sender's area (HTTP 403; nothing is stored)."""


class InvalidFix(DomainError):
    """A fix the rules refuse (HTTP 422); ``field`` is its path in the request."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(code, message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Fix:
    worker_id: str
    lon: float
    lat: float
    at: datetime  # timezone-aware
    accuracy: float | None = None


@dataclass(frozen=True)
class BatchResult:
    stored: int  # rows added to position_fixes
    workers: int  # distinct workers in the batch


Locator = Callable[[float, float], Location | None]


class PositionService:
    def __init__(self, db: Database, bus: EventBus, locate: Locator) -> None:
        self.db = db
        self.bus = bus
        self.locate = locate
        self._upsert = _latest_upsert(db.dialect)

    def submit(self, fixes: Sequence[Fix], now: datetime, scope: Scope) -> BatchResult:
        """Check, store and publish a batch; on any error nothing is stored or published."""
        _check_fixes(fixes, now)
        newest = _newest_per_worker(fixes)
        self._check_workers(newest.keys(), scope)
        # Rows are built before the transaction: SQLite's write lock is held only to write.
        # In track order, consecutive rows land on the same pages of the (worker_id, at) index
        # instead of one page per worker: a third less work for SQLite per batch.
        rows = [_fix_row(fix, now) for fix in sorted(fixes, key=_track_order)]
        # By worker id: concurrent batches then lock worker_positions rows in the same order
        # (no deadlock between two PostgreSQL upserts).
        latest = [self._latest_row(newest[worker]) for worker in sorted(newest)]
        with self.db.transaction() as session:
            # Core on the session's connection: the ORM's bulk layer adds only time here.
            connection = session.connection()
            connection.execute(insert(_FIXES), rows)
            connection.execute(self._upsert, latest)
        self._publish(fixes)
        return BatchResult(stored=len(fixes), workers=len(newest))

    def _check_workers(self, ids: Collection[str], scope: Scope) -> None:
        with self.db.read() as session:
            query = select(GridWorker.id, GridWorker.village_code).where(GridWorker.id.in_(ids))
            villages = {worker: village for worker, village in session.execute(query)}
        unknown = set(ids) - villages.keys()
        if unknown:
            raise UnknownWorkers(unknown)
        outside = sorted(w for w, village in villages.items() if not scope.allows_place(village))
        if outside:
            raise WorkersOutsideScope(
                "outside_scope",
                f"worker(s) outside your area {scope.area_code}: {', '.join(outside[:20])}",
            )

    def _latest_row(self, fix: Fix) -> dict[str, Any]:
        where = self.locate(fix.lon, fix.lat)
        return {
            "worker_id": fix.worker_id,
            "at": fix.at,
            "lon": fix.lon,
            "lat": fix.lat,
            "accuracy": fix.accuracy,
            "grid_code": where.grid_code if where else None,
        }

    def _publish(self, fixes: Sequence[Fix]) -> None:
        payload = {
            "fixes": [[f.worker_id, f.lon, f.lat, f.at.astimezone(UTC).isoformat()] for f in fixes]
        }
        try:
            self.bus.publish(Event(TOPIC_POSITIONS, payload))
        except BusError as err:  # stored already; the screens catch up with the next batch
            logger.warning("positions batch of %s fixes not published: %s", len(fixes), err)


def _check_fixes(fixes: Sequence[Fix], now: datetime) -> None:
    latest = now + MAX_FUTURE_SKEW
    for i, fix in enumerate(fixes):
        if fix.at > latest:
            message = f"fix {i} is dated in the future ({fix.at.isoformat()})"
            raise InvalidFix("future_time", message, f"fixes.{i}.time")
        check_occurred_at(fix.at, now, f"fixes.{i}.time")  # not years ago
        if fix.lon == 0 and fix.lat == 0:  # what a phone without a fix sends
            raise InvalidFix("no_position", f"fix {i} is (0, 0), not a position", f"fixes.{i}.lon")


def _newest_per_worker(fixes: Sequence[Fix]) -> dict[str, Fix]:
    newest: dict[str, Fix] = {}
    for fix in fixes:
        current = newest.get(fix.worker_id)
        if current is None or fix.at > current.at:
            newest[fix.worker_id] = fix
    return newest


def _fix_row(fix: Fix, now: datetime) -> dict[str, Any]:
    return {
        "worker_id": fix.worker_id,
        "at": fix.at,
        "lon": fix.lon,
        "lat": fix.lat,
        "accuracy": fix.accuracy,
        "received_at": now,
    }


def _latest_upsert(dialect: str) -> Executable:
    """INSERT … ON CONFLICT (worker_id) DO UPDATE … WHERE the new fix is newer (both backends)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_LATEST)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[_LATEST.c.worker_id],
        set_={name: new[name] for name in ("at", "lon", "lat", "accuracy", "grid_code")},
        where=new.at > _LATEST.c.at,
    )
