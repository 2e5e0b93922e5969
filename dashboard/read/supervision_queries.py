"""The read side of supervision, for the JSON API and the pages: supervision orders, the call
list, reminders and patrol flags, each limited to the caller's scope.

Scope rules (dashboard.domain.permissions.Scope): an area-limited principal sees the items of
villages inside its area; a department principal sees the orders and reminders addressed to its
department and nothing of the call list or patrol (those are about villages and grid workers).
The overdue / soon-due table is the case list's query (dashboard.read.case_queries:
``search_cases`` with ``overdue`` / ``due_within_hours``), so there is one definition of
"overdue".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session

from dashboard.clock import iso
from dashboard.domain.permissions import Scope
from dashboard.domain.status import CaseStatus
from dashboard.storage.db import Database
from dashboard.storage.models import (
    CallListEntry,
    CallLogEntry,
    Case,
    Department,
    GridWorker,
    PatrolFlag,
    Reminder,
    SupervisionOrder,
    Village,
)
from dashboard.storage.scoping import in_area, in_department

ORDER_STATUSES = ("open", "replied", "closed")
MAX_LIMIT = 500


def list_orders(
    db: Database,
    scope: Scope,
    status: str | None = None,
    *,
    department: str | None = None,
    town: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Supervision orders, newest first; ``status`` one of ORDER_STATUSES (None: all)."""
    query = (
        select(SupervisionOrder, Case, Department)
        .join(Case, Case.id == SupervisionOrder.case_id)
        .outerjoin(Department, Department.code == SupervisionOrder.department_code)
        .where(*in_area(Case.village_code, scope.area_code))
        .order_by(SupervisionOrder.issued_at.desc(), SupervisionOrder.id.desc())
        .limit(min(limit, MAX_LIMIT))
        .offset(offset)
    )
    query = query.where(*in_department(SupervisionOrder.department_code, scope))
    if status is not None:
        query = query.where(SupervisionOrder.status == status)
    if department is not None:
        query = query.where(SupervisionOrder.department_code == department)
    if town is not None:
        query = query.where(SupervisionOrder.town_code == town)
    with db.read() as session:
        return [_order_row(o, c, d) for o, c, d in session.execute(query)]


def _order_row(o: SupervisionOrder, c: Case, d: Department | None) -> dict[str, Any]:
    return {
        "id": o.id,
        "case_id": o.case_id,
        "stage": o.stage,
        "deadline": iso(o.deadline),
        "due_at": iso(o.due_at),
        "issued_at": iso(o.issued_at),
        "supervisor": o.supervisor,
        "department": o.department_code,
        "department_name": {"zh": d.name_zh, "en": d.name_en} if d is not None else None,
        "town": o.town_code,
        "village": c.village_code,
        "opinion": o.opinion,
        "status": o.status,
        "reply": o.reply,
        "replied_at": iso(o.replied_at),
        "replied_by": o.replied_by,
        "closed_at": iso(o.closed_at),
        "closed_by": o.closed_by,
        "case_status": c.status,
        "case_open": c.open,
        "case_deadline": iso(c.deadline),
        "category": c.category_code or c.reported_category,
    }


def list_reminders(
    db: Database, scope: Scope, *, since: datetime | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Reminders (yellow lights), newest first."""
    query = (
        select(Reminder, Case.village_code)
        .join(Case, Case.id == Reminder.case_id)
        .where(*in_area(Case.village_code, scope.area_code))
        .order_by(Reminder.raised_at.desc(), Reminder.id.desc())
        .limit(min(limit, MAX_LIMIT))
    )
    query = query.where(*in_department(Reminder.department_code, scope))
    if since is not None:
        query = query.where(Reminder.raised_at >= since)
    with db.read() as session:
        rows = list(session.execute(query))
    return [
        {
            "id": r.id,
            "case_id": r.case_id,
            "stage": r.stage,
            "deadline": iso(r.deadline),
            "due_at": iso(r.due_at),
            "raised_at": iso(r.raised_at),
            "department": r.department_code,
            "village": village,
            "town": r.town_code,
            "acknowledged_at": iso(r.acknowledged_at),
            "acknowledged_by": r.acknowledged_by,
        }
        for r, village in rows
    ]


def call_list(db: Database, scope: Scope, now: datetime) -> list[dict[str, Any]]:
    """Villages on the call list (open or snoozed entries), longest red first."""
    if scope.department_code is not None:
        return []
    query = (
        select(CallListEntry, Village)
        .join(Village, Village.code == CallListEntry.village_code)
        .where(CallListEntry.status.in_(("open", "snoozed")))
        .order_by(CallListEntry.red_since, CallListEntry.id)
    )
    query = query.where(*in_area(CallListEntry.village_code, scope.area_code))
    with db.read() as session:
        entries = list(session.execute(query))
        counts = _village_counts(session, [v.code for _, v in entries], now)
        calls = _last_calls(session, [e.id for e, _ in entries])
    return [
        _call_row(e, v, counts.get(v.code, (0, 0, 0)), calls.get(e.id), now) for e, v in entries
    ]


def _village_counts(
    session: Session, codes: list[str], now: datetime
) -> dict[str, tuple[int, int, int]]:
    """(open, overdue, open emergencies) per village."""
    if not codes:
        return {}
    overdue = and_(
        Case.deadline.is_not(None),
        Case.deadline <= now,
        Case.status != CaseStatus.SUSPENDED.value,
    )
    rows = session.execute(
        select(
            Case.village_code,
            func.count(),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(cast(Case.emergency, Integer)),
        )
        .where(Case.open.is_(True), Case.village_code.in_(codes))
        .group_by(Case.village_code)
    )
    return {code: (n, int(o or 0), int(e or 0)) for code, n, o, e in rows}


def _last_calls(session: Session, entry_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not entry_ids:
        return {}
    rows = session.scalars(
        select(CallLogEntry)
        .where(CallLogEntry.entry_id.in_(entry_ids), CallLogEntry.kind == "call")
        .order_by(CallLogEntry.at, CallLogEntry.id)
    )
    return {r.entry_id: {"at": iso(r.at), "caller": r.caller, "outcome": r.outcome} for r in rows}


def _call_row(
    e: CallListEntry,
    v: Village,
    counts: tuple[int, int, int],
    last_call: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": e.id,
        "village": v.code,
        "village_name": v.name,
        "town": v.town_code,
        "contact_name": v.contact_name,
        "contact_phone": v.contact_phone,
        "red_since": iso(e.red_since),
        "red_for_minutes": max(0, int((now - e.red_since) / timedelta(minutes=1))),
        "reasons": [r for r in (v.red_reasons or "").split(",") if r],  # why it is red now
        "open_ratio": v.open_ratio,
        "listed_at": iso(e.listed_at),
        "status": e.status,
        "snoozed_until": iso(e.snoozed_until),
        "open_cases": counts[0],
        "overdue_cases": counts[1],
        "emergencies": counts[2],
        "last_call": last_call,
    }


def patrol_flags(
    db: Database, scope: Scope, *, open_only: bool = True, limit: int = 200
) -> list[dict[str, Any]]:
    """Patrol flags (silent / outside grid), newest first; open ones only by default."""
    if scope.department_code is not None:
        return []
    query = (
        select(PatrolFlag, GridWorker.name, Village.town_code)
        .join(GridWorker, GridWorker.id == PatrolFlag.worker_id)
        .join(Village, Village.code == PatrolFlag.village_code)
        .order_by(PatrolFlag.raised_at.desc(), PatrolFlag.id.desc())
        .limit(min(limit, MAX_LIMIT))
    )
    if open_only:
        query = query.where(PatrolFlag.cleared_at.is_(None))
    query = query.where(*in_area(PatrolFlag.village_code, scope.area_code))
    with db.read() as session:
        rows = list(session.execute(query))
    return [
        {
            "id": f.id,
            "worker_id": f.worker_id,
            "worker_name": name,
            "kind": f.kind,
            "since": iso(f.since),
            "raised_at": iso(f.raised_at),
            "cleared_at": iso(f.cleared_at),
            "village": f.village_code,
            "town": town,
        }
        for f, name, town in rows
    ]
