"""Case use cases: report a case, act on it, read it back with its audit trail.

Each call is one transaction holding the case row, its audit entry, the village light it moves
and the outbox events for the live layer, so nothing reaches the screens that is not stored and
nothing stored is lost on the way to them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dashboard.clock import Clock
from dashboard.domain.deadlines import deadline_for, resume_deadline
from dashboard.domain.errors import DomainError, ReadOnlyRole
from dashboard.domain.lifecycle import (
    DEFAULT_POLICY,
    ActionRequest,
    CaseState,
    LifecyclePolicy,
    Transition,
    apply_action,
    new_case,
)
from dashboard.domain.permissions import may_change_cases
from dashboard.domain.regions import Location
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.domain.text import check_text
from dashboard.domain.time_bounds import MAX_FUTURE_SKEW, check_occurred_at
from dashboard.domain.topics import TOPIC_CASE
from dashboard.domain.village_status import VillageRule
from dashboard.reference import ReferenceData
from dashboard.security.audit import mirror_case_steps
from dashboard.services.photos import Photo, attach_photos
from dashboard.services.villages import refresh_villages
from dashboard.storage.case_rows import state_columns, to_state, write_state
from dashboard.storage.db import Database
from dashboard.storage.models import Case, CaseEvent
from dashboard.storage.outbox import enqueue, enqueue_row

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 2000

# A report's rows as prebuilt Core inserts (compiled once, cached); RETURNING gives the ids.
_INSERT_CASE = insert(Case.__table__).returning(Case.__table__.c.id)
_INSERT_STEP = insert(CaseEvent.__table__).returning(CaseEvent.__table__.c.id)


class InvalidReport(DomainError):
    """A case report that cannot be accepted as given (``field`` names the offending input)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


class CaseNotFound(DomainError):
    pass


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key sent again with a different body (422, as the IETF draft advises)."""


class ConcurrentChange(DomainError):
    """Someone else changed the case between our read and our write; the caller may retry."""


@dataclass(frozen=True)
class CaseReport:
    category_code: str
    description: str
    lon: float
    lat: float
    source: Source
    actor: str
    role: Role
    reporter: str = ""
    emergency: bool = False
    occurred_at: datetime | None = None
    address: str = ""
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CaseRecord:
    """What the API answers about a case after a change."""

    id: int
    status: str
    village_code: str
    grid_code: str
    town_code: str
    category_code: str
    deadline: datetime | None
    emergency: bool
    created: bool = True  # False when an Idempotency-Key returned the first answer
    history: list[dict[str, Any]] = field(default_factory=list)


Locator = Callable[[float, float], Location | None]
# Called inside the transaction of every case step (the report included), after its trail
# entry: what must be written together with the step (webhook deliveries: issue 17).
StepObserver = Callable[[Session, Case, CaseEvent, datetime], None]


class CaseService:
    def __init__(
        self,
        db: Database,
        reference: ReferenceData,
        locate: Locator,
        clock: Clock,
        village_rule: VillageRule,
        policy: LifecyclePolicy = DEFAULT_POLICY,
    ) -> None:
        self.db = db
        self.reference = reference
        self.locate = locate
        self.clock = clock
        self.village_rule = village_rule
        self.policy = policy
        self.observers: list[StepObserver] = []

    # --- report ---------------------------------------------------------------------------

    def report(
        self,
        report: CaseReport,
        photos: Sequence[Photo] = (),
        also: Callable[[Session, Case], None] | None = None,
    ) -> CaseRecord:
        """Store a new case; ``photos`` (from PhotoStore.inspect) join the same transaction, and
        so does ``also`` (what a door keeps about the case: the Open311 token)."""
        now = self.clock.now()
        location = self._validate(report, now)
        fingerprint = report_fingerprint(report, photos) if report.idempotency_key else None
        if report.idempotency_key:
            earlier = self._by_idempotency_key(report.idempotency_key, fingerprint)
            if earlier is not None:
                return earlier
        try:
            with self.db.transaction() as session:
                row, step = self._insert(session, report, location, now, fingerprint)
                attach_photos(session, row.id, photos, report.actor, now)
                if also is not None:
                    also(session, row)
                self._observe(session, row, step, now)
                record = _record(row)
        except IntegrityError:
            # Two retries raced on the same Idempotency-Key: the other one won; answer with it.
            if report.idempotency_key:
                earlier = self._by_idempotency_key(report.idempotency_key, fingerprint)
                if earlier is not None:
                    return earlier
            raise
        logger.info(
            "case %s reported in village %s (%s)", record.id, record.village_code, report.source
        )
        return record

    def _validate(self, report: CaseReport, now: datetime) -> Location:
        for name in ("description", "address", "reporter", "category_code"):
            check_text(getattr(report, name), name.removesuffix("_code"))  # InvalidText: 422
        self.reference.categories.get(report.category_code)  # UnknownCategory names the code
        text = report.description.strip()
        if not text:
            raise InvalidReport("description_required", "describe what was found", "description")
        if len(text) > MAX_DESCRIPTION:
            raise InvalidReport(
                "description_too_long",
                f"the description has over {MAX_DESCRIPTION} characters",
                "description",
            )
        if not (-180 <= report.lon <= 180 and -90 <= report.lat <= 90):
            raise InvalidReport("bad_coordinates", "lon/lat are not WGS-84 degrees", "lat")
        if report.occurred_at is not None:
            if report.occurred_at.tzinfo is None:
                raise InvalidReport("naive_time", "occurred_at needs a time zone", "occurred_at")
            if report.occurred_at > now + MAX_FUTURE_SKEW:
                raise InvalidReport("future_time", "occurred_at is in the future", "occurred_at")
            check_occurred_at(report.occurred_at, now)  # not years ago (year 1 was accepted)
        location = self.locate(report.lon, report.lat)
        if location is None:
            raise InvalidReport(
                "outside_region",
                f"point lon={report.lon:.6f}, lat={report.lat:.6f} is outside every village "
                "of the region",
                "lat",
            )
        return location

    def _insert(
        self,
        session: Session,
        report: CaseReport,
        where: Location,
        now: datetime,
        fingerprint: str | None = None,
    ) -> tuple[Case, CaseEvent]:
        """The case, its trail entry and its outbox event as three Core inserts (the ids by
        RETURNING; no ORM unit of work: a third of a report's CPU went to its flushes), then the
        village refresh. Returns the rows as detached objects for the observers and the answer."""
        emergency = report.emergency or report.source is Source.EMERGENCY
        state = new_case(report.source, now, emergency=emergency)
        values: dict[str, Any] = {
            "reported_category": report.category_code,
            "description": report.description.strip(),
            "lon": report.lon,
            "lat": report.lat,
            "address": report.address,
            "grid_code": where.grid_code,
            "village_code": where.village_code,
            "town_code": where.town_code,
            "county_code": where.county_code,
            "reporter": report.reporter or report.actor,
            "idempotency_key": report.idempotency_key,
            "idempotency_fingerprint": fingerprint,
            "occurred_at": report.occurred_at,
            **state_columns(state),
            "category_code": None,
            "version": 1,  # the ORM's version counter starts at 1 (version_id_col)
        }
        conn = session.connection()  # Core on the transaction's connection: no session layer
        values["id"] = conn.execute(_INSERT_CASE, values).scalar_one()
        row = Case(**values)
        step_values: dict[str, Any] = {
            "case_id": row.id,
            "action": "report",
            "from_status": None,
            "to_status": row.status,
            "at": now,
            "actor": report.actor,
            "role": report.role.value,
            "note": "",
            "reason": None,
            "details": {"category": report.category_code, "source": report.source.value},
            "attachments": {},
        }
        step_values["id"] = conn.execute(_INSERT_STEP, step_values).scalar_one()
        step = CaseEvent(**step_values)
        mirror_case_steps(session, [step])  # no flush sees a Core insert: the audit row here
        enqueue_row(session, TOPIC_CASE, case_payload(row, "report"), now)
        refresh_villages(session, self.village_rule, now, [row.village_code])
        return row, step

    def _observe(self, session: Session, row: Case, step: CaseEvent, now: datetime) -> None:
        if self.observers:
            session.flush()  # the step's id
            for observe in self.observers:
                observe(session, row, step, now)

    def _by_idempotency_key(self, key: str, fingerprint: str | None) -> CaseRecord | None:
        """The case first stored under ``key``; IdempotencyKeyReused when it came with other
        content (a second, different report must not be lost behind the first one's answer)."""
        with self.db.read() as session:
            row = session.scalar(select(Case).where(Case.idempotency_key == key))
            if row is None:
                return None
            stored = row.idempotency_fingerprint
            if stored is not None and fingerprint is not None and stored != fingerprint:
                raise IdempotencyKeyReused(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request body; "
                    "send a new report with a new key",
                )
            return replace(_record(row), created=False)

    # --- act ------------------------------------------------------------------------------

    def act(
        self,
        case_id: int,
        request: ActionRequest,
        photos: Sequence[Photo] = (),
        expected_version: int | None = None,
    ) -> CaseRecord:
        """Take one step. ``photos`` (from PhotoStore.inspect; their ids belong in
        ``request.attachments``) are stored in the same transaction, so a refused step keeps
        none; ``expected_version`` (the version a page showed) refuses the step with
        ConcurrentChange if the case has changed since. A read-only role (a leader, a wall) never
        takes a step (ReadOnlyRole), whoever calls."""
        if not may_change_cases(request.role):
            raise ReadOnlyRole("read_only", f"the role {request.role} may not change a case")
        now = self.clock.now()
        try:
            with self.db.transaction() as session:
                row = session.get(Case, case_id)
                if row is None:
                    raise CaseNotFound("case_not_found", f"there is no case {case_id}")
                if expected_version is not None and row.version != expected_version:
                    raise ConcurrentChange(
                        "concurrent_change",
                        f"case {case_id} was changed by someone else since it was shown",
                    )
                state = to_state(row)
                complete = complete_request(
                    state, row.reported_category, request, now, self.reference
                )
                transition = apply_action(state, complete, now, self.policy)
                if photos:
                    attach_photos(session, case_id, photos, request.actor, now)
                self._store(session, row, transition, now)
                record = _record(row)
        except StaleDataError as err:
            raise ConcurrentChange(
                "concurrent_change", f"case {case_id} was changed by someone else; reload and retry"
            ) from err
        logger.debug(
            "case %s: %s → %s by %s", case_id, transition.before, transition.after, request.actor
        )
        return record

    def _store(self, session: Session, row: Case, transition: Transition, now: datetime) -> None:
        write_state(row, transition.state)
        step = CaseEvent(
            case_id=row.id,
            action=transition.action.value,
            from_status=transition.before.value,
            to_status=transition.after.value,
            at=now,
            actor=transition.actor,
            role=transition.role.value,
            note=transition.note,
            reason=transition.reason,
            details=dict(transition.details),
            attachments={"ids": list(transition.attachments)} if transition.attachments else {},
        )
        session.add(step)
        enqueue(session, TOPIC_CASE, case_payload(row, transition.action.value), now)
        refresh_villages(session, self.village_rule, now, [row.village_code])
        self._observe(session, row, step, now)

    # --- read -----------------------------------------------------------------------------

    def get(self, case_id: int) -> CaseRecord:
        with self.db.read() as session:
            row = session.get(Case, case_id)
            if row is None:
                raise CaseNotFound("case_not_found", f"there is no case {case_id}")
            events = session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            ).all()
            return replace(_record(row), created=False, history=[_event(e) for e in events])


def report_fingerprint(report: CaseReport, photos: Sequence[Photo] = ()) -> str:
    """SHA-256 of what a report says (not who sent it nor when): the same retry gives the same
    fingerprint, another report under the same key does not."""
    content = {
        "category": report.category_code,
        "description": report.description.strip(),
        "lon": report.lon,
        "lat": report.lat,
        "source": report.source.value,
        "reporter": report.reporter,
        "emergency": report.emergency,
        "occurred_at": None if report.occurred_at is None else report.occurred_at.isoformat(),
        "address": report.address,
        "photos": sorted(p.sha256 for p in photos),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _record(row: Case) -> CaseRecord:
    return CaseRecord(
        id=row.id,
        status=row.status,
        village_code=row.village_code,
        grid_code=row.grid_code,
        town_code=row.town_code,
        category_code=row.category_code or row.reported_category,
        deadline=row.deadline,
        emergency=row.emergency,
    )


def _event(e: CaseEvent) -> dict[str, Any]:
    return {
        "action": e.action,
        "from": e.from_status,
        "to": e.to_status,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "role": e.role,
        "note": e.note,
        "reason": e.reason,
        "details": e.details,
        "attachments": e.attachments.get("ids", []),
    }


def case_payload(row: Case, action: str) -> dict[str, Any]:
    """The live event for the wall: enough to draw the case without another query."""
    return {
        "id": row.id,
        "action": action,
        "status": row.status,
        "source": row.source,
        "emergency": row.emergency,
        "category": row.category_code or row.reported_category,
        "village": row.village_code,
        "grid": row.grid_code,
        "town": row.town_code,
        "lon": row.lon,
        "lat": row.lat,
        "reported_at": row.reported_at.isoformat(),
        "deadline": row.deadline.isoformat() if row.deadline else None,
        "department": row.department_code,
        "open": row.open,
    }


def complete_request(
    state: CaseState,
    reported_category: str,
    request: ActionRequest,
    now: datetime,
    reference: ReferenceData,
) -> ActionRequest:
    """Check references (department, category), then fill in what the rules derive: the deadline
    at register and resume, the category's default department. (The simulator's test double
    calls this too, so both derive the same.)"""
    if request.department_code and reference.department(request.department_code) is None:
        raise InvalidReport(
            "unknown_department",
            f"there is no department {request.department_code!r}",
            "department",
        )
    if request.category_code:
        reference.categories.get(request.category_code)  # UnknownCategory
    cal = reference.calendar
    if request.action is Action.REGISTER:
        code = request.category_code or state.category_code or reported_category
        sub = reference.categories.get(code)
        return replace(
            request,
            category_code=sub.code,
            deadline=request.deadline or deadline_for(now, sub.limit, cal),
            department_code=request.department_code or sub.default_department,
        )
    if request.action is Action.RESUME and state.deadline and state.suspended_at:
        return replace(
            request, deadline=resume_deadline(state.deadline, state.suspended_at, now, cal)
        )
    return request
