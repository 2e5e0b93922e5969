"""Grid workers' position fixes: store a batch, keep the newest fix per worker, tell the wall.

A batch is one transaction of two statements: every fix into ``position_fixes`` (the patrol
track, one executemany), and the newest fix of each worker into ``worker_positions`` with an
upsert that only moves a worker forward in time. Phones buffer fixes while offline and send the
backlog later, so fixes arrive late and out of order; a late fix joins the track without moving
the worker on the wall.

Phone GPS is dirty (issue 16): each fix is judged by dashboard.domain.gps_filter against the
worker's previous trusted fix and stored with ``valid`` and ``flags``; only trusted fixes move
the live dot and reach the screens. The OsmAnd door (dashboard.services.tracks) stores through
the same ``store``.

Positions are ephemeral for the screens: after the commit the batch is published as ONE bus event
(topic ``positions``), not through the outbox. The tables are the durable record; a bus outage
loses a few seconds of dots on the wall and nothing else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Protocol

from sqlalchemy import Executable, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dashboard.domain import topics
from dashboard.domain.errors import DomainError
from dashboard.domain.gps_filter import FilterRule, Point, flags_text, judge_among
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
    speed: float | None = None  # m/s
    device_valid: bool = True  # the tracker's own verdict (OsmAnd ``valid``)
    attributes: dict[str, Any] | None = None  # what a tracker sends beside the position


@dataclass(frozen=True)
class BatchResult:
    stored: int  # rows added to position_fixes
    workers: int  # distinct workers in the batch
    flagged: int = 0  # of them, stored with valid = False


class LatestCache(Protocol):
    """The newest trusted position per worker outside the database (Redis), when configured."""

    def update(self, rows: Sequence[dict[str, Any]]) -> None: ...


Locator = Callable[[float, float], Location | None]


class PositionService:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        locate: Locator,
        rule: FilterRule | None = None,
        cache: LatestCache | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.locate = locate
        self.rule = rule or FilterRule()
        self.cache = cache
        self._upsert = _latest_upsert(db.dialect)

    def submit(self, fixes: Sequence[Fix], now: datetime, scope: Scope) -> BatchResult:
        """Check, store and publish a batch; on any error nothing is stored or published."""
        _check_fixes(fixes, now)
        self._check_workers({f.worker_id for f in fixes}, scope)
        return self.store(fixes, now)

    def store(self, fixes: Sequence[Fix], now: datetime) -> BatchResult:
        """Judge, store and publish fixes of known workers (checked by the caller). One
        transaction: the trusted fixes around the batch are read, the batch judged and written."""
        return self.store_groups([fixes], now)[0]

    def store_groups(self, groups: Sequence[Sequence[Fix]], now: datetime) -> list[BatchResult]:
        """``store`` of several senders' fixes in ONE transaction (the group commit of the
        OsmAnd door): judged together in track order, one result per group."""
        fixes = [fix for group in groups for fix in group]
        ordered = sorted(fixes, key=_track_order)
        # In track order, consecutive rows land on the same pages of the (worker_id, at) index
        # instead of one page per worker: a third less work for SQLite per batch.
        with self.db.transaction() as session:
            flags = self._judge(session, ordered, now)
            rows = [_fix_row(fix, now, f) for fix, f in zip(ordered, flags, strict=True)]
            flagged = {id(fix) for fix, f in zip(ordered, flags, strict=True) if f}
            trusted = [fix for fix in fixes if id(fix) not in flagged]  # as sent: screens' order
            newest = _newest_per_worker(trusted)
            # By worker id: concurrent batches then lock worker_positions rows in the same
            # order (no deadlock between two PostgreSQL upserts).
            latest = [self._latest_row(newest[worker]) for worker in sorted(newest)]
            # Core on the session's connection: the ORM's bulk layer adds only time here.
            connection = session.connection()
            if rows:
                connection.execute(insert(_FIXES), rows)
            if latest:
                connection.execute(self._upsert, latest)
        if self.cache is not None and latest:
            try:
                self.cache.update(latest)
            except Exception as err:  # the database holds the same; the cache catches up
                logger.warning("latest positions not cached: %s", err)
        if trusted:
            self._publish(trusted)
        return [
            BatchResult(
                stored=len(group),
                workers=len({f.worker_id for f in group}),
                flagged=sum(1 for f in group if id(f) in flagged),
            )
            for group in groups
        ]

    def _judge(
        self, session: Session, ordered: Sequence[Fix], now: datetime
    ) -> list[tuple[str, ...]]:
        """The filters' flags of each fix (in track order), each worker's run judged among the
        trusted fixes stored around it (dashboard.domain.gps_filter)."""
        spans: dict[str, tuple[datetime, datetime]] = {}
        for fix in ordered:
            first, _ = spans.get(fix.worker_id, (fix.at, fix.at))
            spans[fix.worker_id] = (first, fix.at)
        around = _trusted_around(session, spans)
        flags: list[tuple[str, ...]] = []
        start = 0
        while start < len(ordered):
            worker = ordered[start].worker_id
            end = start
            while end < len(ordered) and ordered[end].worker_id == worker:
                end += 1
            points = [_point(f) for f in ordered[start:end]]
            anchor, stored = around.get(worker, (None, []))
            flags += judge_among(points, stored, anchor, now, self.rule)
            start = end
        return flags

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


@dataclass
class _Waiting:
    fixes: Sequence[Fix]
    now: datetime
    done: threading.Event
    result: BatchResult | None = None
    error: BaseException | None = None
    lead: bool = False  # woken to store the next batch itself


class GroupCommit:
    """Concurrent senders' fixes stored together: one transaction, one commit, one bus event
    and one cache update for all the requests that arrived while the previous batch was being
    written (PostgreSQL's commit is the cost of a one-fix request: 3 of its 8 ms here).

    No thread of its own: the first caller stores (the leader); callers that arrive meanwhile
    wait; when the leader's batch is written the oldest waiting caller becomes the next leader
    and stores everything that has queued up (at most ``max_fixes``). Every caller returns once
    its own fixes are committed, with its own result, so a 200 still means "stored". A batch
    that fails is retried one sender at a time, so one bad request fails alone."""

    def __init__(self, positions: PositionService, max_fixes: int = 2000) -> None:
        self.positions, self.max_fixes = positions, max_fixes
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._busy = False
        self.batches = 0  # transactions written (the requests per batch: a measure of the load)

    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)

    def store(self, fixes: Sequence[Fix], now: datetime) -> BatchResult:
        me = _Waiting(fixes, now, threading.Event())
        with self._lock:
            self._queue.append(me)
            lead = not self._busy
            self._busy = True
        if not lead:
            me.done.wait()
            if me.lead:  # the previous leader handed over: store the queue
                self._write()
                me.done.wait()
        else:
            self._write()
        if me.error is not None:
            raise me.error
        assert me.result is not None
        return me.result

    def _write(self) -> None:
        with self._lock:
            batch: list[_Waiting] = []
            size = 0
            while self._queue and (not batch or size + len(self._queue[0].fixes) <= self.max_fixes):
                item = self._queue.pop(0)
                batch.append(item)
                size += len(item.fixes)
        self.batches += 1
        try:
            results = self.positions.store_groups(
                [w.fixes for w in batch], max(w.now for w in batch)
            )
            for waiting, result in zip(batch, results, strict=True):
                waiting.result = result
        except Exception:
            for waiting in batch:  # alone, so that only the request at fault fails
                try:
                    waiting.result = self.positions.store(waiting.fixes, waiting.now)
                except Exception as err:
                    waiting.error = err
        finally:
            with self._lock:
                nxt = self._queue[0] if self._queue else None
                if nxt is None:
                    self._busy = False
                else:
                    nxt.lead = True
            for waiting in batch:
                if waiting.result is None and waiting.error is None:  # the writer was stopped
                    waiting.error = RuntimeError("the fixes were not stored (server stopping)")
                waiting.done.set()
            if nxt is not None:
                nxt.done.set()


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


def _fix_row(fix: Fix, now: datetime, flags: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "worker_id": fix.worker_id,
        "at": fix.at,
        "lon": fix.lon,
        "lat": fix.lat,
        "accuracy": fix.accuracy,
        "received_at": now,
        "valid": not flags,
        "flags": flags_text(flags),
        "speed": fix.speed,
        "attributes": fix.attributes or None,
    }


def _point(fix: Fix) -> Point:
    return Point(fix.at, fix.lon, fix.lat, fix.accuracy, fix.device_valid)


def _trusted_around(
    session: Session, spans: dict[str, tuple[datetime, datetime]]
) -> dict[str, tuple[Point | None, list[Point]]]:
    """Per worker: the trusted fix before its first fix of the batch, and the stored trusted
    fixes within the batch's span. The live position is the fix before when the batch is newer
    (the usual case: one query for every worker); a backlog older than it reads its span."""
    around: dict[str, tuple[Point | None, list[Point]]] = {}
    query = select(
        WorkerPosition.worker_id, WorkerPosition.at, WorkerPosition.lon, WorkerPosition.lat
    ).where(WorkerPosition.worker_id.in_(spans))
    live = {w: (at, lon, lat) for w, at, lon, lat in session.execute(query)}
    for worker, (first, last) in spans.items():
        if worker not in live:
            continue  # no trusted fix yet
        at, lon, lat = live[worker]
        if at < first:
            around[worker] = (Point(at, lon, lat), [])
            continue
        trusted = (PositionFix.worker_id == worker, PositionFix.valid.is_(True))
        before = session.execute(
            select(PositionFix.at, PositionFix.lon, PositionFix.lat)
            .where(*trusted, PositionFix.at < first)
            .order_by(PositionFix.at.desc())
            .limit(1)
        ).first()
        within = session.execute(
            select(PositionFix.at, PositionFix.lon, PositionFix.lat)
            .where(*trusted, PositionFix.at >= first, PositionFix.at <= last)
            .order_by(PositionFix.at)
        ).all()
        anchor = None if before is None else Point(before[0], before[1], before[2])
        around[worker] = (anchor, [Point(a, x, y) for a, x, y in within])
    return around


def _latest_upsert(dialect: str) -> Executable:
    """INSERT … ON CONFLICT (worker_id) DO UPDATE … WHERE the new fix is newer (both backends)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_LATEST)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[_LATEST.c.worker_id],
        set_={name: new[name] for name in ("at", "lon", "lat", "accuracy", "grid_code")},
        where=new.at > _LATEST.c.at,
    )
