"""The supervision watchers: derive what is due from the data and insert it exactly once.

Each ``run_*`` opens its own short transactions, asks the pure rules (dashboard.domain.
supervision) what is due at ``now``, and inserts it with ``INSERT … ON CONFLICT DO NOTHING
RETURNING`` under the table's unique key (both SQLite ≥ 3.35 and PostgreSQL), enqueuing one
outbox event per row that was really inserted, in the same transaction. So a watcher that runs
twice, in two processes at once, or after a restart inserts nothing twice; and as what is due is
derived from the rows (not from when the watcher last ran), a missed minute is caught up.

City scale (100,000 open cases): candidates are chosen in SQL — open cases in a running status
without a row for their current deadline (``NOT EXISTS`` on the unique index); orders also only
``deadline <= now`` on ``ix_cases_open_deadline`` — and written in batches. The yellow moment
depends on the working calendar, which SQL cannot evaluate, so it is computed in Python once per
(case, start, deadline) and kept in a ``MomentCache`` that the scheduler holds across runs:
a steady-state run then reads the candidate rows and looks their moments up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from dashboard.clock import iso
from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.status import CLOCK_RUNNING_STATUSES
from dashboard.domain.supervision import (
    STAGE_REGISTERED,
    DueItem,
    WatchedCase,
    is_watched,
    order_due,
    reminder_due,
)
from dashboard.domain.time_bounds import measurable
from dashboard.domain.topics import TOPIC_REMINDER, TOPIC_SUPERVISION_ORDER
from dashboard.domain.working_index import yellow_moments
from dashboard.reference import ReferenceData
from dashboard.services.rollups import run_rollups
from dashboard.services.watch_common import (
    SYSTEM,
    WatchResult,
    WatchSettings,
    batches,
    enqueue_all,
    insert_new,
    isolated,
)
from dashboard.services.watchers_places import run_patrol_watch, run_village_watch
from dashboard.storage.db import Database
from dashboard.storage.models import Case, Reminder, SupervisionOrder

logger = logging.getLogger(__name__)

__all__ = [
    "MomentCache",
    "WatchResult",
    "WatchSettings",
    "run_deadline_watch",
    "run_patrol_watch",
    "run_rollups",
    "run_village_watch",
]

_RUNNING = tuple(sorted(s.value for s in CLOCK_RUNNING_STATUSES))


class MomentCache:
    """Yellow moments by (case, start, deadline), kept across runs by the scheduler.

    ``fill`` computes the missing ones in one pass over a working-time index
    (dashboard.domain.working_index, equal to ``deadlines.yellow_moment``). Entries not asked for
    in a run are dropped at its end (the case was closed, reminded, or its deadline moved), so
    the cache holds at most the open, not yet reminded cases.
    """

    def __init__(self) -> None:
        self._moments: dict[tuple[int, datetime, datetime], datetime | None] = {}
        self._seen: set[tuple[int, datetime, datetime]] = set()

    def fill(self, cases: list[WatchedCase], calendar: WorkingCalendar, yellow_at: float) -> None:
        keys = [
            (c.id, c.start, c.deadline)
            for c in cases  # is_watched implies both times; spelled out so the types follow
            if is_watched(c) and c.start is not None and c.deadline is not None
        ]
        missing = [k for k in keys if k not in self._moments]
        for start in range(0, len(missing), 20_000):  # bounded memory for the index
            part = missing[start : start + 20_000]
            found = yellow_moments(part, calendar, yellow_at)
            self._moments.update({k: found[k[0]] for k in part})
        self._seen.update(keys)

    def moment(self, case: WatchedCase) -> datetime | None:
        assert case.start is not None and case.deadline is not None
        return self._moments.get((case.id, case.start, case.deadline))

    def end_run(self) -> None:
        self._moments = {k: v for k, v in self._moments.items() if k in self._seen}
        self._seen = set()

    def __len__(self) -> int:
        return len(self._moments)


# --- the deadline watcher ---------------------------------------------------------------------

_CASE_COLUMNS = (
    Case.id,
    Case.status,
    Case.registered_at,
    Case.deadline,
    Case.suspended_at,
    Case.department_code,
    Case.town_code,
    Case.village_code,
)


def _candidates(session: Session, table: Table, now: datetime | None) -> list[Any]:
    """Open cases in a running status without a row of ``table`` for their current deadline
    (and, for orders, past it)."""
    missing = ~(
        select(table.c.id)
        .where(
            table.c.case_id == Case.id,
            table.c.stage == STAGE_REGISTERED,
            table.c.deadline == Case.deadline,
        )
        .exists()
    )
    query = select(*_CASE_COLUMNS).where(
        Case.open.is_(True),
        Case.deadline.is_not(None),
        Case.registered_at.is_not(None),
        Case.suspended_at.is_(None),
        Case.status.in_(_RUNNING),
        missing,
    )
    if now is not None:
        query = query.where(Case.deadline <= now)
    return list(session.execute(query))


_WHAT = "deadline watch"


def _id(row: Any) -> str:
    return f"case {row.id}"


def _pair_id(pair: tuple[WatchedCase, Any]) -> str:
    return f"case {pair[0].id}"


def _measurable(rows: list[Any]) -> list[Any]:
    """The rows whose stage the calendar can measure; the rest (a deadline in year 9999 stored
    before the bounds existed) are logged and left out, so they cannot stop the watch."""
    good = [r for r in rows if measurable(r.registered_at, r.deadline)]
    if len(good) < len(rows):
        bad = sorted({r.id for r in rows} - {r.id for r in good})
        logger.warning(
            "deadline watch: %s case(s) skipped, deadline too far from registration: %s",
            len(bad),
            ", ".join(map(str, bad[:20])),
        )
    return good


def _watched(row: Any) -> WatchedCase:
    return WatchedCase(row.id, row.status, row.registered_at, row.deadline, row.suspended_at)


def run_deadline_watch(
    db: Database,
    reference: ReferenceData,
    now: datetime,
    settings: WatchSettings | None = None,
    cache: MomentCache | None = None,
) -> WatchResult:
    """Raise the reminders (yellow) and supervision orders (red) due at ``now``."""
    settings = settings or WatchSettings()
    cache = cache if cache is not None else MomentCache()
    result = WatchResult()
    with db.read() as session:
        order_rows = _candidates(session, SupervisionOrder.__table__, now)
        reminder_rows = _measurable(_candidates(session, Reminder.__table__, None))
    orders = isolated(order_rows, lambda row: order_due(_watched(row), now), _WHAT, _id)
    watched = [_watched(row) for row in reminder_rows]
    cache.fill(watched, reference.calendar, settings.yellow_at)

    def reminder(pair: tuple[WatchedCase, Any]) -> DueItem | None:
        case, moment = pair[0], cache.moment(pair[0])
        if moment is None:
            return None  # no yellow phase (no working time before the deadline)
        return reminder_due(case, now, reference.calendar, settings.yellow_at, moment=moment)

    judged = isolated(zip(watched, reminder_rows, strict=True), reminder, _WHAT, _pair_id)
    reminders = [(item, pair[1]) for item, pair in judged]
    cache.end_run()
    result.inserted["reminder"] = _write_reminders(db, reminders, now)
    result.inserted["supervision_order"] = _write_orders(db, orders, now, settings.opinion)
    return result


def _write_reminders(db: Database, due: list[tuple[DueItem, Any]], now: datetime) -> int:
    return _write_due(
        db,
        due,
        now,
        Reminder.__table__,
        {"raised_at": now},
        TOPIC_REMINDER,
        reminder_payload,
    )


def _write_orders(db: Database, due: list[tuple[DueItem, Any]], now: datetime, opinion: str) -> int:
    return _write_due(
        db,
        due,
        now,
        SupervisionOrder.__table__,
        {"issued_at": now, "supervisor": SYSTEM, "opinion": opinion, "status": "open"},
        TOPIC_SUPERVISION_ORDER,
        lambda new, case: order_payload(new, case.village_code),
    )


def _write_due(
    db: Database,
    due: list[tuple[DueItem, Any]],
    now: datetime,
    table: Table,
    fixed: dict[str, Any],
    topic: str,
    payload: Callable[[Any, Any], dict[str, Any]],
) -> int:
    """Insert the due items not raised before (in batches; the unique key skips the others)
    with ``fixed`` columns, and an outbox event per new row; the number inserted."""
    written = 0
    for part in batches(due):
        places = {item.case_id: row for item, row in part}
        rows = [
            {
                "case_id": item.case_id,
                "stage": item.stage,
                "deadline": item.deadline,
                "due_at": item.due_at,
                "department_code": row.department_code,
                "town_code": row.town_code,
                **fixed,
            }
            for item, row in part
        ]
        with db.transaction() as session:
            new = insert_new(session, table, rows, _DEADLINE_KEY)
            enqueue_all(session, topic, [payload(r, places[r.case_id]) for r in new], now)
            written += len(new)
    return written


_DEADLINE_KEY = ("case_id", "stage", "deadline")


def reminder_payload(row: Any, case: Any) -> dict[str, Any]:
    """The ``reminder`` live event (streams/protocol.py)."""
    return {
        "id": row.id,
        "case_id": row.case_id,
        "stage": row.stage,
        "deadline": iso(row.deadline),
        "due_at": iso(row.due_at),
        "raised_at": iso(row.raised_at),
        "department": row.department_code,
        "village": case.village_code,
        "town": row.town_code,
    }


def order_payload(row: Any, village_code: str) -> dict[str, Any]:
    """The ``supervision_order`` live event (streams/protocol.py)."""
    return {
        "id": row.id,
        "case_id": row.case_id,
        "stage": row.stage,
        "deadline": iso(row.deadline),
        "issued_at": iso(row.issued_at),
        "department": row.department_code,
        "status": row.status,
        "opinion": row.opinion,
        "reply": row.reply,
        "village": village_code,
        "town": row.town_code,
    }
