"""Patrol tracks: trackers bound to workers, the OsmAnd door's intake, and reading a track back.

- ``DeviceRegistry``: an admin binds a tracker's device id to a grid worker (``run.py device
  bind``, the admin page); the OsmAnd door knows a device only through that binding.
- ``OsmandIntake``: fixes parsed by dashboard.domain.osmand are stored through the positions
  service (the filters, the live dot, the screens), requests that arrive together in one
  transaction (``GroupCommit``); a fix with ``alarm=sos`` becomes
  a one-click emergency (source EMERGENCY) at that worker's position through CaseService, with an
  Idempotency-Key of the device and time so a resent backlog raises it once.
- ``read_track``: one worker's fixes between two times, in time order, filtered ones included;
  ``read_track_columns``: the same as columns (the replay and the statistics).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select

from dashboard.domain.errors import DomainError
from dashboard.domain.gps_filter import parse_flags
from dashboard.domain.osmand import OsmandFix
from dashboard.domain.patrol import Track
from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.domain.time_bounds import MAX_TRACK_SPAN, check_query_time
from dashboard.services.cases import CaseRecord, CaseReport, CaseService
from dashboard.services.positions import BatchResult, Fix, GroupCommit, PositionService
from dashboard.storage.db import Database
from dashboard.storage.models import GridWorker, PositionFix, TrackerDevice
from dashboard.storage.scoping import in_area

logger = logging.getLogger(__name__)

# A tracker's SOS has no category of its own: filed under 治安隐患 / 可疑人员或车辆 until the
# desk registers it under the right one (the desk fixes the category at registration).
SOS_CATEGORY = "02001"
SOS_TEXT = "定位终端一键报警（SOS）：网格员 {name}（{worker}）"


class UnknownDevice(DomainError):
    """A device id no admin has bound to a worker (OsmAnd: 400, JSON variant: 404)."""


class DeviceError(DomainError):
    """A binding refused (unknown worker, bad device id); ``field`` names the input."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


class TrackError(DomainError):
    """A track request refused (422); ``field`` names the input."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


@dataclass(frozen=True)
class Binding:
    device_id: str
    worker_id: str
    worker_name: str
    village_code: str
    bound_at: datetime
    bound_by: str


class DeviceRegistry:
    """The bindings; ``worker_of`` (every OsmAnd request) caches a bound device for ``ttl``
    seconds, so an unbind or rebind made in another process (the CLI) takes effect within that
    time; a new binding is heard at once (unknown ids are not cached)."""

    def __init__(self, db: Database, ttl: float = 10.0) -> None:
        self.db = db
        self.ttl = ttl
        self._cache: dict[str, tuple[str | None, float]] = {}

    def bind(self, device_id: str, worker_id: str, actor: str, now: datetime) -> Binding:
        device_id = device_id.strip()
        if not device_id or len(device_id) > 64 or not device_id.isprintable():
            raise DeviceError("bad_device", "a device id has 1 to 64 characters", "device")
        with self.db.transaction() as session:
            worker = session.get(GridWorker, worker_id)
            if worker is None:
                raise DeviceError("unknown_worker", f"no grid worker {worker_id!r}", "worker")
            row = session.get(TrackerDevice, device_id)
            if row is None:
                row = TrackerDevice(device_id=device_id, worker_id=worker_id)
                session.add(row)
            row.worker_id, row.bound_at, row.bound_by = worker_id, now, actor[:100]
            self._cache.pop(device_id, None)
            return Binding(device_id, worker_id, worker.name, worker.village_code, now, actor)

    def unbind(self, device_id: str) -> bool:
        self._cache.pop(device_id, None)
        with self.db.transaction() as session:
            result = session.execute(
                delete(TrackerDevice).where(TrackerDevice.device_id == device_id)
            )
            return bool(getattr(result, "rowcount", 0))

    def bindings(self, scope: Scope | None = None) -> list[Binding]:
        query = (
            select(TrackerDevice, GridWorker.name, GridWorker.village_code)
            .join(GridWorker, GridWorker.id == TrackerDevice.worker_id)
            .order_by(TrackerDevice.device_id)
        )
        if scope is not None:
            query = query.where(*in_area(GridWorker.village_code, scope.area_code))
        with self.db.read() as session:
            return [
                Binding(d.device_id, d.worker_id, name, village, d.bound_at, d.bound_by)
                for d, name, village in session.execute(query)
            ]

    def worker_of(self, device_id: str) -> str | None:
        cached = self._cache.get(device_id)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        with self.db.read() as session:
            worker = session.scalar(
                select(TrackerDevice.worker_id).where(TrackerDevice.device_id == device_id)
            )
        if worker is None:
            return None  # not cached: a device bound in another process is heard at once
        if len(self._cache) > 100_000:  # bounded
            self._cache.clear()
        self._cache[device_id] = (worker, now + self.ttl)
        return worker


@dataclass(frozen=True)
class IntakeResult:
    worker_id: str
    batch: BatchResult
    emergency: CaseRecord | None = None


class OsmandIntake:
    def __init__(
        self, devices: DeviceRegistry, positions: PositionService, cases: CaseService
    ) -> None:
        self.devices, self.positions, self.cases = devices, positions, cases
        # One-fix requests from many phones at once: stored together (one commit per batch).
        self.group = GroupCommit(positions)

    def receive(
        self, fixes: Sequence[OsmandFix], now: datetime, worker: str | None = None
    ) -> IntakeResult:
        """Store the fixes of one device (all of the same device id; ``worker`` when the caller
        has looked it up already); raise UnknownDevice."""
        device = fixes[0].device_id
        worker = worker or self.devices.worker_of(device)
        if worker is None:
            raise UnknownDevice("unknown_device", f"device {device!r} is not bound to a worker")
        stored = self.group.store([_fix(worker, f) for f in fixes], now)
        emergency = None
        sos = [f for f in fixes if f.sos]
        if sos:
            emergency = self._sos(worker, max(sos, key=lambda f: f.at))
        return IntakeResult(worker, stored, emergency)

    def _sos(self, worker_id: str, fix: OsmandFix) -> CaseRecord:
        with self.cases.db.read() as session:
            worker = session.get(GridWorker, worker_id)
            assert worker is not None  # bound devices point at workers (foreign key)
            name, home = worker.name, (worker.home_lon, worker.home_lat)
        lon, lat = fix.lon, fix.lat
        if (lon == 0 and lat == 0) or self.cases.locate(lon, lat) is None:
            lon, lat = home  # no usable position: where the worker lives and patrols
        report = CaseReport(
            category_code=SOS_CATEGORY,
            description=SOS_TEXT.format(name=name, worker=worker_id),
            lon=lon,
            lat=lat,
            source=Source.EMERGENCY,
            actor=worker_id,
            role=Role.GRID_WORKER,
            reporter=worker_id,
            emergency=True,
            idempotency_key=f"osmand-sos:{fix.device_id}:{fix.at.isoformat()}"[:100],
        )
        record = self.cases.report(report)
        logger.warning(
            "SOS from device %s (worker %s): case %s", fix.device_id, worker_id, record.id
        )
        return record


def _fix(worker: str, fix: OsmandFix) -> Fix:
    # Bearing and altitude have no column of their own: kept with the attributes.
    attributes = dict(fix.attributes)
    for name in ("bearing", "altitude"):
        value = getattr(fix, name)
        if value is not None:
            attributes.setdefault(name, value)
    return Fix(
        worker,
        fix.lon,
        fix.lat,
        fix.at,
        fix.accuracy,
        speed=fix.speed,
        device_valid=fix.valid,
        attributes=attributes or None,
    )


# --- reading a track back -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackFix:
    at: datetime
    lon: float
    lat: float
    accuracy: float | None
    speed: float | None
    valid: bool
    flags: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "lat": self.lat,
            "lon": self.lon,
            "accuracy": self.accuracy,
            "speed": self.speed,
            "valid": self.valid,
            "flags": list(self.flags),
        }


def check_span(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """``from``/``to`` of a track: bounded times, in order, at most ``MAX_TRACK_SPAN`` apart."""
    start, end = check_query_time(start, now, "from"), check_query_time(end, now, "to")
    if end <= start:
        raise TrackError("bad_range", "to must be after from", "to")
    if end - start > MAX_TRACK_SPAN:
        raise TrackError(
            "range_too_long", f"a track spans at most {MAX_TRACK_SPAN.days} days", "to"
        )
    return start, end


def read_track(db: Database, worker_id: str, start: datetime, end: datetime) -> list[TrackFix]:
    """The worker's fixes with ``start <= at < end`` in time order (ties by arrival)."""
    query = (
        select(
            PositionFix.at,
            PositionFix.lon,
            PositionFix.lat,
            PositionFix.accuracy,
            PositionFix.speed,
            PositionFix.valid,
            PositionFix.flags,
        )
        .where(PositionFix.worker_id == worker_id, PositionFix.at >= start, PositionFix.at < end)
        .order_by(PositionFix.at, PositionFix.id)
    )
    with db.read() as session:
        return [
            TrackFix(
                at, lon, lat, acc, speed, bool(valid), tuple(parse_flags(flags)) if flags else ()
            )
            for at, lon, lat, acc, speed, valid, flags in session.connection().execute(query)
        ]


@dataclass(frozen=True)
class TrackColumns:
    """A worker's fixes between two times as columns (the replay's read: no object per fix)."""

    t: np.ndarray  # epoch seconds
    lon: np.ndarray
    lat: np.ndarray
    valid: np.ndarray  # bool
    flags: list[str]  # the stored text ("" for a trusted fix)

    def __len__(self) -> int:
        return len(self.t)

    def trusted(self) -> Track:
        keep = self.valid
        return Track(self.t[keep], self.lon[keep], self.lat[keep])


def read_track_columns(
    db: Database, worker_id: str, start: datetime, end: datetime
) -> TrackColumns:
    """``read_track`` as columns: one fetch of plain rows, transposed. PostgreSQL sends the
    times as epoch seconds (a double holds today's microseconds), so no datetime is made."""
    when: Any = (
        func.date_part("epoch", PositionFix.at) if db.dialect == "postgresql" else PositionFix.at
    )
    query = (
        select(when, PositionFix.lon, PositionFix.lat, PositionFix.valid, PositionFix.flags)
        .where(PositionFix.worker_id == worker_id, PositionFix.at >= start, PositionFix.at < end)
        .order_by(PositionFix.at, PositionFix.id)
    )
    with db.read() as session:
        rows = session.connection().execute(query).fetchall()
    if not rows:
        empty = np.zeros(0)
        return TrackColumns(empty, empty, empty, np.zeros(0, dtype=bool), [])
    at, lon, lat, valid, flags = zip(*rows, strict=True)
    t = (
        np.asarray(at, dtype=float)
        if db.dialect == "postgresql"
        else np.fromiter((a.timestamp() for a in at), dtype=float, count=len(at))
    )
    return TrackColumns(
        t,
        np.asarray(lon, dtype=float),
        np.asarray(lat, dtype=float),
        np.asarray(valid, dtype=bool),
        [f or "" for f in flags],
    )


def worker_place(db: Database, worker_id: str) -> tuple[str, str, str] | None:
    """(name, grid, village) of a worker, None when unknown."""
    with db.read() as session:
        row = session.execute(
            select(GridWorker.name, GridWorker.grid_code, GridWorker.village_code).where(
                GridWorker.id == worker_id
            )
        ).first()
    return None if row is None else (row[0], row[1], row[2])
