"""What supervisors (and departments) do about the watchers' findings.

On the call list: log a call to a red village's contact person (``log_call``), put the entry
aside until a given time with a reason (``snooze``; it comes back by itself when the time passes),
or resolve it (``resolve_call``). On supervision orders (督办单): the target department's reply
(回复, ``reply_order``) and the supervisor's close (``close_order``).

Each function is one transaction holding the change, its audit row (dashboard.security.audit)
and an outbox event (topic ``call_list`` or ``supervision_order``) for the live screens; input is
checked before anything is written, and a refusal raises ``SupervisionError`` with an HTTP status,
a stable code and the offending field. A row outside the caller's area (or, for a department, an
order addressed to another department) answers like a missing one, so its existence does not leak.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.clock import iso
from dashboard.domain import topics
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import UNLIMITED, Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.domain.text import InvalidText, check_text
from dashboard.domain.time_bounds import TimeOutOfBounds, check_snooze
from dashboard.security.audit import Actor, record
from dashboard.services.cases import CaseRecord, CaseReport, CaseService
from dashboard.services.watchers import order_payload
from dashboard.services.watchers_places import call_payload
from dashboard.storage.db import Database
from dashboard.storage.models import (
    CallListEntry,
    CallLogEntry,
    Case,
    Grid,
    SupervisionOrder,
    Village,
)
from dashboard.storage.outbox import enqueue
from dashboard.storage.scoping import in_area

TOPIC_CALL_LIST = topics.TOPIC_CALL_LIST
TOPIC_ORDER = topics.TOPIC_SUPERVISION_ORDER

# Outcomes of a call, in the order the form offers them (labels: dashboard/i18n/supervision.py).
OUTCOMES = ("reached", "promised", "no_answer", "busy", "wrong_number", "other")
MAX_NOTE = 2000
MAX_REASON = 500


class SupervisionError(DomainError):
    """A refused supervision action: ``status`` is the HTTP answer, ``field`` the bad input."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.status = status
        self.field = field


# --- the call list ------------------------------------------------------------------------------


def log_call(
    db: Database,
    entry_id: int,
    caller: Actor,
    callee: str | None,
    phone: str | None,
    outcome: str,
    note: str,
    now: datetime,
    *,
    scope: Scope = UNLIMITED,
) -> dict[str, Any]:
    """Record a call to the village of ``entry_id``; callee and phone default to its contact."""
    if outcome not in OUTCOMES:
        raise SupervisionError(
            422, "unknown_outcome", f"outcome must be one of {', '.join(OUTCOMES)}", "outcome"
        )
    note = _text(note, MAX_NOTE, "note", required=outcome == "other")
    with db.transaction() as session:
        entry, village = _open_entry(session, entry_id, scope)
        if entry.status == "snoozed" and entry.snoozed_until and entry.snoozed_until <= now:
            entry.status, entry.snoozed_until = "open", None  # the snooze ran out
        entry.last_call_at = now
        return _log(
            session,
            entry,
            village,
            caller,
            now,
            "call",
            audit=("call_logged", {"outcome": outcome}),
            callee=(callee or village.contact_name).strip()[:100],
            phone=(phone or village.contact_phone).strip()[:20],
            outcome=outcome,
            note=note,
        )


def snooze(
    db: Database,
    entry_id: int,
    caller: Actor,
    until: datetime,
    reason: str,
    now: datetime,
    *,
    scope: Scope = UNLIMITED,
) -> dict[str, Any]:
    """Put the entry aside until ``until`` (it leaves the list, and returns when the time comes)."""
    try:
        check_snooze(until, now)
    except TimeOutOfBounds as err:  # the domain's window, answered as this service's error
        raise SupervisionError(422, err.code, err.message, "until") from None
    reason = _text(reason, MAX_REASON, "reason", required=True)
    with db.transaction() as session:
        entry, village = _open_entry(session, entry_id, scope)
        entry.status, entry.snoozed_until = "snoozed", until
        return _log(
            session,
            entry,
            village,
            caller,
            now,
            "snooze",
            audit=("call_snoozed", {"until": until.isoformat()}),
            note=reason,
            snooze_until=until,
        )


def resolve_call(
    db: Database,
    entry_id: int,
    caller: Actor,
    note: str,
    now: datetime,
    *,
    scope: Scope = UNLIMITED,
) -> dict[str, Any]:
    """Take the entry off the list for good (the village was dealt with)."""
    note = _text(note, MAX_NOTE, "note", required=True)
    with db.transaction() as session:
        entry, village = _open_entry(session, entry_id, scope)
        entry.status, entry.resolved_at, entry.snoozed_until = "resolved", now, None
        return _log(
            session, entry, village, caller, now, "resolve", audit=("call_resolved", {}), note=note
        )


def _log(
    session: Session,
    entry: CallListEntry,
    village: Village,
    caller: Actor,
    now: datetime,
    kind: str,
    *,
    audit: tuple[str, dict[str, Any]],
    **fields: Any,
) -> dict[str, Any]:
    """Append one call-log row (call / snooze / resolve), audit it, and publish the entry."""
    row = CallLogEntry(
        entry_id=entry.id,
        village_code=entry.village_code,
        at=now,
        kind=kind,
        caller=caller.name[:100],
        **{"callee": "", "phone": "", "outcome": "", "snooze_until": None, **fields},
    )
    session.add(row)
    action, details = audit
    record(session, caller, action, now, f"call_list:{entry.id}", **details)
    return _publish_entry(session, entry, village, row, now)


def _open_entry(session: Session, entry_id: int, scope: Scope) -> tuple[CallListEntry, Village]:
    entry = session.get(CallListEntry, entry_id)
    if entry is None or not scope.allows_place(entry.village_code):
        raise SupervisionError(404, "entry_not_found", f"there is no call-list entry {entry_id}")
    if entry.status == "resolved":
        raise SupervisionError(409, "entry_resolved", f"call-list entry {entry_id} is resolved")
    village = session.get(Village, entry.village_code)
    assert village is not None  # a foreign key
    return entry, village


def _publish_entry(
    session: Session, entry: CallListEntry, village: Village, done: CallLogEntry, now: datetime
) -> dict[str, Any]:
    session.flush()
    last = session.scalars(
        select(CallLogEntry)
        .where(CallLogEntry.entry_id == entry.id, CallLogEntry.kind == "call")
        .order_by(CallLogEntry.at.desc(), CallLogEntry.id.desc())
        .limit(1)
    ).first()
    last_call = None
    if last is not None:
        last_call = {"at": iso(last.at), "caller": last.caller, "outcome": last.outcome}
    # The watchers' payload (one shape for the topic), and what was done.
    payload = call_payload(entry, village, last_call) | {"action": done.kind}
    enqueue(session, TOPIC_CALL_LIST, payload, now)
    return payload


def call_history(
    session: Session, scope: Scope, *, entry_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Who called whom and when (calls, snoozes, resolutions), newest first, in ``scope``."""
    query = (
        select(CallLogEntry, Village.name)
        .join(Village, Village.code == CallLogEntry.village_code)
        .order_by(CallLogEntry.at.desc(), CallLogEntry.id.desc())
        .limit(limit)
    )
    query = query.where(*in_area(CallLogEntry.village_code, scope.area_code))
    if entry_id is not None:
        query = query.where(CallLogEntry.entry_id == entry_id)
    return [
        {
            "id": row.id,
            "entry_id": row.entry_id,
            "village": row.village_code,
            "village_name": name,
            "at": iso(row.at),
            "kind": row.kind,
            "caller": row.caller,
            "callee": row.callee,
            "phone": row.phone,
            "outcome": row.outcome,
            "note": row.note,
            "snooze_until": iso(row.snooze_until),
        }
        for row, name in session.execute(query)
    ]


# --- supervision orders -------------------------------------------------------------------------


def reply_order(
    db: Database,
    order_id: int,
    by: Actor,
    reply: str,
    now: datetime,
    *,
    scope: Scope = UNLIMITED,
) -> dict[str, Any]:
    """The target department's reply (回复). A department user's ``scope`` names its department:
    another department's order answers 404. A supervisor may record a reply given by phone."""
    reply = _text(reply, MAX_NOTE, "reply", required=True)
    with db.transaction() as session:
        order, case = _open_order(session, order_id, scope)
        order.reply, order.replied_at, order.replied_by = reply, now, by.name[:100]
        order.status = "replied"
        record(session, by, "order_replied", now, f"supervision_order:{order.id}")
        return _publish_order(session, order, case, "reply", now)


def close_order(
    db: Database,
    order_id: int,
    by: Actor,
    now: datetime,
    *,
    note: str = "",
    scope: Scope = UNLIMITED,
) -> dict[str, Any]:
    """The supervisor closes the order (satisfied with the reply, or the case moved on)."""
    note = _text(note, MAX_NOTE, "note", required=False)
    with db.transaction() as session:
        order, case = _open_order(session, order_id, scope)
        order.status, order.closed_at, order.closed_by = "closed", now, by.name[:100]
        record(session, by, "order_closed", now, f"supervision_order:{order.id}", note=note)
        return _publish_order(session, order, case, "close", now)


def _open_order(session: Session, order_id: int, scope: Scope) -> tuple[SupervisionOrder, Case]:
    order = session.get(SupervisionOrder, order_id)
    case = session.get(Case, order.case_id) if order is not None else None
    if (
        order is None
        or case is None
        or not scope.allows_place(case.village_code)
        or (scope.department_code is not None and scope.department_code != order.department_code)
    ):
        raise SupervisionError(404, "order_not_found", f"there is no supervision order {order_id}")
    if order.status == "closed":
        raise SupervisionError(409, "order_closed", f"supervision order {order_id} is closed")
    return order, case


def _publish_order(
    session: Session, order: SupervisionOrder, case: Case, action: str, now: datetime
) -> dict[str, Any]:
    session.flush()
    payload = order_payload(order, case.village_code) | {
        "action": action,
        "replied_at": iso(order.replied_at),
        "replied_by": order.replied_by,
        "closed_at": iso(order.closed_at),
        "closed_by": order.closed_by,
    }
    enqueue(session, TOPIC_ORDER, payload, now)
    return payload


# --- helpers ------------------------------------------------------------------------------------


def _text(value: str, limit: int, field: str, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise SupervisionError(422, f"{field}_required", f"{field} must not be empty", field)
    try:
        check_text(text, field)
    except InvalidText as err:
        raise SupervisionError(422, err.code, err.message, field) from None
    if len(text) > limit:
        raise SupervisionError(
            422, f"{field}_too_long", f"{field} has over {limit} characters", field
        )
    return text


# --- one-click emergency (一键上报) from a supervisor's desk ------------------------------------

# categories.toml has no category of its own for these three; they are filed under the nearest
# 小类, as the simulator's one-click reports are (dashboard/simulator/arrivals.py EMERGENCIES).
EMERGENCY_KINDS: dict[str, str] = {
    "fire": "04001",  # 消防安全
    "mass_dispute": "01005",  # 群体性矛盾苗头
    "traffic_accident": "03004",  # 道路交通安全隐患
}


def report_emergency(
    cases: CaseService,
    kind: str,
    village_code: str,
    description: str,
    actor: str,
    role: Role,
    *,
    scope: Scope = UNLIMITED,
) -> CaseRecord:
    """Report an emergency in a village through CaseService (source ``emergency``: it skips the
    levels and raises the alarm on every wall and supervisor page)."""
    if kind not in EMERGENCY_KINDS:
        raise SupervisionError(
            422, "unknown_kind", "kind: fire, mass_dispute or traffic_accident", "kind"
        )
    text = _text(description, MAX_NOTE, "description", required=True)
    if not village_code or not scope.allows_place(village_code):
        raise SupervisionError(422, "unknown_village", "choose a village of your area", "village")
    with cases.db.read() as session:
        grid = session.scalars(
            select(Grid).where(Grid.village_code == village_code).order_by(Grid.code).limit(1)
        ).first()
    if grid is None:
        raise SupervisionError(
            422, "unknown_village", f"there is no village {village_code}", "village"
        )
    report = CaseReport(
        category_code=EMERGENCY_KINDS[kind],
        description=text,
        lon=grid.lon,
        lat=grid.lat,
        source=Source.EMERGENCY,
        actor=actor,
        role=role,
        reporter=actor,
        emergency=True,
    )
    return cases.report(report)
