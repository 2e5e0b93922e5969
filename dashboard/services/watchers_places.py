"""The village watcher (the call list of red villages) and the patrol watcher (silent workers,
workers outside their grid). Same pattern as the deadline watcher (dashboard.services.watchers):
derive what is due from the rows, insert under the unique key, one outbox event per new row;
entries and flags that stopped being true are resolved / cleared by a conditional UPDATE, so two
processes never announce the same change twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashboard.clock import iso
from dashboard.domain.supervision import (
    OUTSIDE,
    RedVillage,
    WorkerFix,
    call_entries_due,
    call_entry_resolved,
    flag_cleared,
    outside_due,
    outside_streak_start,
    silent_due,
)
from dashboard.domain.topics import TOPIC_CALL_LIST, TOPIC_PATROL_FLAG
from dashboard.domain.village_status import VillageLight
from dashboard.reference import ReferenceData
from dashboard.services.villages import refresh_villages
from dashboard.services.watch_common import (
    Locator,
    WatchResult,
    WatchSettings,
    batches,
    enqueue_all,
    insert_new,
    isolated,
)
from dashboard.storage.db import Database
from dashboard.storage.models import (
    CallListEntry,
    CallLogEntry,
    GridWorker,
    PatrolFlag,
    PositionFix,
    Village,
    WorkerPosition,
)
from dashboard.storage.outbox import enqueue

logger = logging.getLogger(__name__)

OPEN_ENTRY = ("open", "snoozed")
OUTSIDE_LOOKBACK = timedelta(hours=12)  # how far back an outside streak is traced


# --- the call list ----------------------------------------------------------------------------


def run_village_watch(
    db: Database,
    reference: ReferenceData,
    now: datetime,
    settings: WatchSettings | None = None,
    *,
    refresh: bool = True,
) -> WatchResult:
    """Put villages red for ``call_after`` on the call list; resolve entries whose village left
    that red episode; reopen snoozes that ran out.

    ``refresh`` first recomputes every village light at ``now`` (cases leave the rolling window
    as time passes, not only when a case changes).
    """
    settings = settings or WatchSettings()
    rule = settings.village_rule
    result = WatchResult()
    if refresh:
        with db.transaction() as session:
            refresh_villages(session, rule, now)
    with db.read() as session:
        villages = {
            v.code: v
            for v in session.scalars(
                select(Village).where(Village.status == VillageLight.RED.value)
            )
        }
        pending = list(
            session.scalars(select(CallListEntry).where(CallListEntry.status.in_(OPEN_ENTRY)))
        )
    red = [RedVillage(v.code, v.status, v.red_since) for v in villages.values()]
    due = call_entries_due(red, now, rule)
    inserted = 0
    for part in batches(due):
        rows = [
            {"village_code": code, "red_since": since, "listed_at": at, "status": "open"}
            for code, since, at in part
        ]
        with db.transaction() as session:
            new = insert_new(session, CallListEntry.__table__, rows, _CALL_KEY)
            payloads = [call_payload(r, villages[r.village_code]) for r in new]
            enqueue_all(session, TOPIC_CALL_LIST, payloads, now)
            inserted += len(new)
    result.inserted["call_list"] = inserted
    result.changed["call_list"] = _settle_entries(db, pending, villages, now)
    return result


_CALL_KEY = ("village_code", "red_since")


def _settle_entries(
    db: Database, pending: list[CallListEntry], villages: dict[str, Village], now: datetime
) -> int:
    changed = 0
    with db.transaction() as session:
        for entry in pending:
            village = villages.get(entry.village_code)
            place = (
                None
                if village is None
                else RedVillage(village.code, village.status, village.red_since)
            )
            if call_entry_resolved(entry.red_since, place):
                values: dict[str, Any] = {"status": "resolved", "resolved_at": now}
            elif entry.status == "snoozed" and entry.snoozed_until and entry.snoozed_until <= now:
                values = {"status": "open", "snoozed_until": None}
            else:
                continue
            done = session.execute(
                update(CallListEntry)
                .where(CallListEntry.id == entry.id, CallListEntry.status == entry.status)
                .values(**values)
                .returning(*CallListEntry.__table__.c)
            ).first()
            if done is not None:
                row = village or session.get(Village, entry.village_code)
                enqueue(
                    session,
                    TOPIC_CALL_LIST,
                    call_payload(done, row, _last_call(session, entry.id)),
                    now,
                )
                changed += 1
    return changed


def _last_call(session: Session, entry_id: int) -> dict[str, Any] | None:
    call = session.scalars(
        select(CallLogEntry)
        .where(CallLogEntry.entry_id == entry_id, CallLogEntry.kind == "call")
        .order_by(CallLogEntry.at.desc(), CallLogEntry.id.desc())
        .limit(1)
    ).first()
    if call is None:
        return None
    return {"at": iso(call.at), "caller": call.caller, "outcome": call.outcome}


def call_payload(
    row: Any, village: Village | None, last_call: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``call_list`` live event (streams/protocol.py)."""
    return {
        "id": row.id,
        "village": row.village_code,
        "village_name": village.name if village is not None else "",
        "town": village.town_code if village is not None else row.village_code[:9],
        "status": row.status,
        "red_since": iso(row.red_since),
        "listed_at": iso(row.listed_at),
        "snoozed_until": iso(row.snoozed_until),
        "last_call": last_call,
    }


# --- patrol -----------------------------------------------------------------------------------


def run_patrol_watch(
    db: Database,
    reference: ReferenceData,
    now: datetime,
    settings: WatchSettings | None = None,
    locate: Locator | None = None,
) -> WatchResult:
    """Flag workers silent for ``silent`` of shift time, or outside their grid for ``outside``;
    clear flags that stopped being true. ``locate`` (the region locator) traces how long an
    outside streak lasts; without it the newest fix alone counts (since = that fix)."""
    settings = settings or WatchSettings()
    shift = settings.patrol_shift(reference.calendar)
    with db.read() as session:
        open_flags = list(
            session.scalars(select(PatrolFlag).where(PatrolFlag.cleared_at.is_(None)))
        )
        known = {f.worker_id: f.since for f in open_flags if f.kind == OUTSIDE}
        fixes, towns = _newest_fixes(session, locate, known)

    def items(fix: WorkerFix) -> list[Any]:
        found = (
            silent_due(fix, now, shift, settings.silent),
            outside_due(fix, now, shift, settings.outside),
        )
        return [item for item in found if item is not None]

    judged = isolated(fixes.values(), items, "patrol watch", lambda f: f"worker {f.worker_id}")
    due = [item for found, _ in judged for item in found]
    result = WatchResult()
    inserted = 0
    for part in batches(due):
        rows = [
            {
                "worker_id": i.worker_id,
                "kind": i.kind,
                "since": i.since,
                "raised_at": now,
                "village_code": i.village,
                "details": {"due_at": i.due_at.isoformat()},
            }
            for i in part
        ]
        with db.transaction() as session:
            new = insert_new(session, PatrolFlag.__table__, rows, _FLAG_KEY)
            payloads = [flag_payload(r, towns) for r in new]
            enqueue_all(session, TOPIC_PATROL_FLAG, payloads, now)
            inserted += len(new)
    result.inserted["patrol_flag"] = inserted
    result.changed["patrol_flag"] = _clear_flags(db, open_flags, fixes, towns, now)
    return result


_FLAG_KEY = ("worker_id", "kind", "since")


def _newest_fixes(
    session: Session, locate: Locator | None, known: dict[str, datetime]
) -> tuple[dict[str, WorkerFix], dict[str, str]]:
    """Every active worker's newest fix, inside or outside their grid; village → town.

    An outside streak that already has an open flag keeps the flag's ``since`` (no tracing); the
    others are traced back through the worker's fixes (``_streak_starts``).
    """
    rows = session.execute(
        select(
            GridWorker.id,
            GridWorker.grid_code,
            GridWorker.village_code,
            WorkerPosition.at,
            WorkerPosition.grid_code.label("fix_grid"),
        )
        .join(WorkerPosition, WorkerPosition.worker_id == GridWorker.id)
        .where(GridWorker.active.is_(True))
    ).all()
    towns = dict(session.execute(select(Village.code, Village.town_code)).all())
    trace = [r for r in rows if r.fix_grid != r.grid_code and r.id not in known]
    starts = _streak_starts(session, trace, locate)
    fixes: dict[str, WorkerFix] = {}
    for r in rows:
        inside = r.fix_grid == r.grid_code
        since = None if inside else known.get(r.id) or starts.get(r.id, r.at)
        fixes[r.id] = WorkerFix(r.id, r.village_code, r.at, inside, since)
    return fixes, towns


def _streak_starts(
    session: Session, outside: list[Any], locate: Locator | None
) -> dict[str, datetime]:
    """When each worker's trailing run of fixes outside their grid began (within the lookback
    from their newest fix); fixes are located newest first, only until the first one inside."""
    if locate is None or not outside:
        return {}
    starts: dict[str, datetime] = {}
    for part in batches(outside, 500):
        newest = {r.id: (r.at, r.grid_code) for r in part}
        since = min(at for at, _ in newest.values()) - OUTSIDE_LOOKBACK
        track = session.execute(
            select(PositionFix.worker_id, PositionFix.at, PositionFix.lon, PositionFix.lat)
            .where(PositionFix.worker_id.in_(list(newest)), PositionFix.at >= since)
            .order_by(PositionFix.worker_id, PositionFix.at.desc())
        ).all()
        by_worker: dict[str, list[Any]] = {}
        for fix in track:
            by_worker.setdefault(fix.worker_id, []).append(fix)
        for worker_id, fixes in by_worker.items():
            at, grid = newest[worker_id]
            marks = (
                (f.at, _inside(locate, f.lon, f.lat, grid))
                for f in fixes
                if at - OUTSIDE_LOOKBACK <= f.at <= at
            )
            start = outside_streak_start(marks)
            if start is not None:
                starts[worker_id] = start
    return starts


def _inside(locate: Locator, lon: float, lat: float, grid: str) -> bool:
    where = locate(lon, lat)
    return where is not None and where.grid_code == grid


def _clear_flags(
    db: Database,
    flags: list[PatrolFlag],
    fixes: dict[str, WorkerFix],
    towns: dict[str, str],
    now: datetime,
) -> int:
    cleared = 0
    with db.transaction() as session:
        for flag in flags:
            if not flag_cleared(flag.kind, flag.since, fixes.get(flag.worker_id)):
                continue
            done = session.execute(
                update(PatrolFlag)
                .where(PatrolFlag.id == flag.id, PatrolFlag.cleared_at.is_(None))
                .values(cleared_at=now)
                .returning(*PatrolFlag.__table__.c)
            ).first()
            if done is not None:
                enqueue(session, TOPIC_PATROL_FLAG, flag_payload(done, towns), now)
                cleared += 1
    return cleared


def flag_payload(row: Any, towns: dict[str, str]) -> dict[str, Any]:
    """The ``patrol_flag`` live event (streams/protocol.py)."""
    return {
        "id": row.id,
        "worker_id": row.worker_id,
        "kind": row.kind,
        "since": iso(row.since),
        "cleared_at": iso(row.cleared_at),
        "village": row.village_code,
        "town": towns.get(row.village_code, row.village_code[:9]),
    }
