"""The audit log (留痕): an append-only record of sign-ins, role changes, case actions and camera
views, readable by admins.

Append-only is enforced three times over: this module has no update or delete; an ORM guard
(``install_append_only_guard``) refuses any ORM flush or bulk statement that would change or remove
a row; and on PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE from any client.

Case actions are written by a flush hook (``install_case_action_trail``): whenever a ``CaseEvent``
row is flushed, an audit row is inserted in the same transaction, so a case step and its audit
entry commit or roll back together without the case service knowing about this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Update, event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from dashboard.security.principal import Actor as Actor  # its home; imported from here too
from dashboard.storage.db import Database
from dashboard.storage.models import AuditEntry, CaseEvent, PointsEntry

logger = logging.getLogger(__name__)

MAX_PAGE = 500


class AppendOnlyViolation(Exception):
    """Something tried to change or delete an audit row."""


def entry(actor: Actor, action: str, at: datetime, target: str = "", **details: Any) -> AuditEntry:
    return AuditEntry(
        at=at,
        actor=actor.name[:100],
        role=actor.role[:20],
        action=action[:40],
        target=target[:100],
        ip=actor.ip[:45],
        details=details,
    )


def record(
    session: Session, actor: Actor, action: str, at: datetime, target: str = "", **details: Any
) -> None:
    """Add an audit row to the caller's transaction (it commits with the change it describes)."""
    session.add(entry(actor, action, at, target, **details))


def write(
    db: Database, actor: Actor, action: str, at: datetime, target: str = "", **details: Any
) -> None:
    """Write one audit row in a transaction of its own (sign-in attempts, refused tokens)."""
    with db.transaction() as session:
        record(session, actor, action, at, target, **details)


def record_camera_view(
    session: Session, actor: Actor, camera_id: str, at: datetime, *, kind: str = "view"
) -> None:
    """A camera was viewed (``kind`` = view, snapshot, fullscreen, playback): who, which, when."""
    record(session, actor, f"camera_{kind}", at, f"camera:{camera_id}")


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in '*' ("case.*")
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # paging: rows older than this id
    limit: int = 100


def read(db: Database, query: AuditQuery) -> list[AuditEntry]:
    """Newest first; page with ``before_id`` = the last id of the previous page."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if query.actor:
        stmt = stmt.where(AuditEntry.actor == query.actor)
    if query.action:
        if query.action.endswith("*"):
            stmt = stmt.where(AuditEntry.action.startswith(query.action[:-1], autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == query.action)
    if query.target:
        stmt = stmt.where(AuditEntry.target == query.target)
    if query.since:
        stmt = stmt.where(AuditEntry.at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEntry.at < query.until)
    if query.before_id is not None:
        stmt = stmt.where(AuditEntry.id < query.before_id)
    stmt = stmt.limit(max(1, min(query.limit, MAX_PAGE)))
    with db.read() as session:
        return list(session.scalars(stmt))


def as_json(row: AuditEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "target": row.target,
        "ip": row.ip,
        "details": row.details or {},
    }


# --- guards and hooks (installed once per process by dashboard.security.web.init_security) ---

_installed: set[str] = set()


# Append-only tables: the audit log and the residents' points ledger (issue 18). PostgreSQL
# triggers refuse UPDATE/DELETE too; this guard makes the rule hold on SQLite as well.
_APPEND_ONLY: tuple[type[Any], ...] = (AuditEntry, PointsEntry)
_APPEND_ONLY_TABLES = frozenset(m.__tablename__ for m in _APPEND_ONLY)


def _refuse_changes(
    session: Session, _ctx: UOWTransaction, _instances: Iterable[Any] | None
) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, _APPEND_ONLY) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation(
                f"{obj.__tablename__} is append-only: rows are never changed or deleted"
            )


def _refuse_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    statement = state.statement
    table = statement.table if isinstance(statement, Update | Delete) else None
    name = getattr(table, "name", None) if table is not None else None
    if name in _APPEND_ONLY_TABLES:
        raise AppendOnlyViolation(f"{name} is append-only: no UPDATE or DELETE")


def install_append_only_guard() -> None:
    """Refuse, in every ORM session of this process, changes and deletions of audit rows and
    of points ledger entries."""
    if "guard" in _installed:
        return
    event.listen(Session, "before_flush", _refuse_changes)
    event.listen(Session, "do_orm_execute", _refuse_bulk)
    _installed.add("guard")


_case_trail_ip: list[Callable[[], str]] = []  # the request's address, once the trail is on


def mirror_case_steps(session: Session, steps: Iterable[CaseEvent]) -> None:
    """Write ``steps`` (a case's trail entries) into the audit log in ``session``'s transaction,
    once the trail is installed (:func:`install_case_action_trail`). The ORM's flushes call it
    for every new ``CaseEvent``; a use case that inserts its trail entry with Core (the report's
    fast path) calls it itself."""
    if not _case_trail_ip:
        return
    ip = _case_trail_ip[0]()[:45]
    rows = [
        {
            "at": ev.at,
            "actor": ev.actor[:100],
            "role": ev.role[:20],
            "action": f"case.{ev.action}"[:40],
            "target": f"case:{ev.case_id}",
            "ip": ip,
            "details": {"from": ev.from_status, "to": ev.to_status},
        }
        for ev in steps
    ]
    if rows:
        # Core, not ORM: inside a flush, on the flush's own connection.
        session.connection().execute(insert(AuditEntry.__table__), rows)


def install_case_action_trail(ip: Callable[[], str] = lambda: "") -> None:
    """Mirror every flushed ``CaseEvent`` into the audit log, in the same transaction."""
    if "cases" in _installed:
        return
    _case_trail_ip.append(ip)

    def _mirror(session: Session, _ctx: UOWTransaction) -> None:
        mirror_case_steps(session, [ev for ev in session.new if isinstance(ev, CaseEvent)])

    event.listen(Session, "after_flush", _mirror)
    _installed.add("cases")
