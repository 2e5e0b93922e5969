"""Services on a resident's behalf (代办) use cases: open, the department's loop, papers, reads.

A grid worker or the village committee opens a request for a resident (consent recorded) and it
goes to the item's department, which accepts it (the legal time limit starts), returns it for a
missing paper (the clock stops), completes or refuses it; the opener adds the paper and
resubmits, or withdraws; the resident's evaluation closes the loop. Each step is one transaction
with its trail row and audit row; the rules are ``dashboard.domain.service_requests``.

Personal data (ID number, phone) is shown whole only to who handles the request — its
department, the one who opened it, the village committee of its village and the town's shift
lead — and masked for everyone else (leaders, supervisors, the wall, every CSV and log).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from dashboard.clock import Clock
from dashboard.domain import service_requests as rules
from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT
from dashboard.domain.personal_data import mask_id_number, mask_name, mask_phone
from dashboard.domain.roles import Role
from dashboard.domain.service_requests import ServiceCatalogue, ServiceRequestState, ServiceStatus
from dashboard.security.audit import record
from dashboard.services.photos import Photo
from dashboard.services.residents import (
    Clerk,
    Entered,
    ResidentsRefused,
    bounded_text,
    check_key_reuse,
    write_lock,
)
from dashboard.storage.db import Database
from dashboard.storage.models import (
    Resident,
    ResidentFile,
    ServiceRequest,
    ServiceRequestEvent,
    Village,
)
from dashboard.storage.scoping import VILLAGE_COMMITTEE, service_request_scope

MAX_LIST = 500
Papers = list[dict[str, Any]]  # [{"id", "label"}]: a request's papers
MAX_PAPERS = 12  # photographed papers per request
_SHIFT_LEAD = frozenset({Role.COMMANDER.value, Role.ADMIN.value})
_OPENERS = frozenset({Role.GRID_WORKER.value, Role.DISPATCHER.value}) | _SHIFT_LEAD
_DEPARTMENT_STEPS = frozenset({"accept", "return", "complete", "refuse"})
_OPENER_STEPS = frozenset({"resubmit", "withdraw", "evaluate"})


class ServiceRequestRefused(ResidentsRefused):
    """A request step refused before the rules: not found, outside scope, not this role's step."""


class ServiceRequests:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogue: ServiceCatalogue,
        calendar: WorkingCalendar,
        yellow_at: float = DEFAULT_YELLOW_AT,
    ) -> None:
        self.db, self.clock, self.catalogue = db, clock, catalogue
        self.calendar, self.yellow_at = calendar, yellow_at

    def open(
        self,
        clerk: Clerk,
        *,
        item_code: str,
        resident_id: int,
        consent_note: str,
        description: str = "",
        papers: list[tuple[str, Photo]] | None = None,
        idempotency_key: str | None = None,
    ) -> Entered:
        """Open a request for a resident, with the consent and the papers already in hand. With
        ``idempotency_key`` (already made per caller) a retry answers the first request."""
        if not _may_open(clerk):
            raise ServiceRequestRefused(403, "forbidden", "this role does not open requests")
        item = self.catalogue.item(item_code)
        consent = bounded_text(consent_note, 200, "consent_note", required=False)
        description = bounded_text(description, 1000, "description", required=False)
        papers = papers or []
        if len(papers) > MAX_PAPERS:
            raise ServiceRequestRefused(422, "too_many", f"at most {MAX_PAPERS} papers", "papers")
        now = self.clock.now()
        state = rules.open_request(bool(consent), now)
        if idempotency_key:
            earlier = self._by_key(idempotency_key, item.code, resident_id)
            if earlier is not None:
                return earlier
        try:
            return self._open(
                clerk, item, resident_id, consent, description, papers, state, idempotency_key
            )
        except IntegrityError:
            # Two retries raced on one key: the other one opened it; answer with it.
            if idempotency_key:
                earlier = self._by_key(idempotency_key, item.code, resident_id)
                if earlier is not None:
                    return earlier
            raise

    def _by_key(self, key: str, item_code: str, resident_id: int) -> Entered | None:
        with self.db.read() as session:
            row = session.scalars(
                select(ServiceRequest).where(ServiceRequest.idempotency_key == key)
            ).first()
            if row is None:
                return None
            check_key_reuse((row.item_code, row.resident_id) == (item_code, resident_id), key)
            return Entered(row.id, created=False)

    def _open(
        self,
        clerk: Clerk,
        item: rules.ServiceItem,
        resident_id: int,
        consent: str,
        description: str,
        papers: list[tuple[str, Photo]],
        state: ServiceRequestState,
        idempotency_key: str | None,
    ) -> Entered:
        now = state.submitted_at
        with self.db.transaction() as session:
            resident = session.get(Resident, resident_id)
            if resident is None or not clerk.scope.allows_place(resident.village_code):
                raise ServiceRequestRefused(404, "not_found", f"no resident {resident_id}")
            row = ServiceRequest(
                item_code=item.code,
                department_code=item.department,
                village_code=resident.village_code,
                resident_id=resident.id,
                description=description,
                consent_note=consent,
                status=state.status.value,
                opened_by=clerk.actor.name,
                submitted_at=state.submitted_at,
                returns=0,
                version=1,
                idempotency_key=idempotency_key,
            )
            session.add(row)
            session.flush()
            self._trail(session, row, "open", clerk, now, item.name_zh)
            for label, photo in papers:
                self._paper(session, row, label, photo, clerk, now)
            record(session, clerk.actor, "service_opened", now, f"service:{row.id}")
            return Entered(row.id)

    def step(
        self, clerk: Clerk, request_id: int, action: str, note: str = "", rating: int | None = None
    ) -> dict[str, Any]:
        """One step of the loop (accept, return, complete, refuse, resubmit, withdraw,
        evaluate); answers the request as the caller may see it."""
        note = bounded_text(note, 500, "note", required=False)
        now = self.clock.now()
        with self.db.transaction() as session:
            row = self._row(session, request_id, clerk, lock=True)
            self._may_step(clerk, row, action)
            item = self.catalogue.item(row.item_code)
            before = _state(row)
            after = self._apply(before, action, item, note, rating, now)
            _store(row, after)
            row.version += 1
            self._trail(session, row, action, clerk, now, note)
            record(session, clerk.actor, f"service_{action}", now, f"service:{row.id}")
            session.flush()
            resident, village, missing, papers = _extras(session, row.id)
            return self._json(row, clerk, now, resident, village, missing, papers)

    def add_paper(self, clerk: Clerk, request_id: int, label: str, photo: Photo) -> None:
        """The missing paper, photographed: kept with the request (resubmit sends it back).
        The same picture under the same label again is kept once (a retry)."""
        label = bounded_text(label, 100, "label", required=True)
        now = self.clock.now()
        with self.db.transaction() as session:
            row = self._row(session, request_id, clerk, lock=True)
            if row.status not in (ServiceStatus.SUBMITTED, ServiceStatus.RETURNED) or not (
                _is_opener(clerk, row)
            ):
                raise ServiceRequestRefused(409, "illegal_step", "papers are added by the opener")
            kept = session.execute(
                select(ResidentFile.sha256, ResidentFile.label).where(
                    ResidentFile.request_id == row.id
                )
            ).all()
            if (photo.sha256, label) in {(sha, name) for sha, name in kept}:
                return  # the same paper again (a phone's retry after a lost answer): kept once
            if len(kept) >= MAX_PAPERS:
                raise ServiceRequestRefused(422, "too_many", f"at most {MAX_PAPERS} papers")
            self._paper(session, row, label, photo, clerk, now)
            self._trail(session, row, "paper", clerk, now, label)

    # --- reading ---------------------------------------------------------------------------

    def list(
        self, clerk: Clerk, status: str | None = None, open_only: bool = False
    ) -> list[dict[str, Any]]:
        query = (
            select(ServiceRequest)
            .where(*service_request_scope(clerk.scope))
            .order_by(ServiceRequest.submitted_at.desc(), ServiceRequest.id.desc())
            .limit(MAX_LIST)
        )
        if clerk.role == Role.GRID_WORKER.value:
            query = query.where(ServiceRequest.opened_by == clerk.actor.name)
        if status:
            query = query.where(ServiceRequest.status == status)
        if open_only:
            query = query.where(ServiceRequest.status.in_([s.value for s in rules.OPEN_STATUSES]))
        now = self.clock.now()
        with self.db.read() as session:
            return [
                self._json(row, clerk, now, resident, village, missing, papers)
                for row, resident, village, missing, papers in session.execute(
                    _listed(query)
                ).tuples()
            ]

    def papers_of(self, clerk: Clerk, request_ids: Sequence[int]) -> dict[int, Papers]:
        """The papers (id and label) of the listed requests whose personal data ``clerk`` sees,
        in one query: the department's page links each to its image."""
        if not request_ids:
            return {}
        query = (
            select(ResidentFile.id, ResidentFile.label, ServiceRequest)
            .join(ServiceRequest, ServiceRequest.id == ResidentFile.request_id)
            .where(
                ResidentFile.request_id.in_(request_ids[:MAX_LIST]),
                *service_request_scope(clerk.scope),
            )
            .order_by(ResidentFile.id)
        )
        found: dict[int, Papers] = {}
        with self.db.read() as session:
            for file_id, label, row in session.execute(query):
                if _sees_personal_data(clerk, row):
                    found.setdefault(row.id, []).append({"id": file_id, "label": label})
        return found

    def get(self, clerk: Clerk, request_id: int) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.read() as session:
            row = self._row(session, request_id, clerk, lock=False)
            resident, village, missing, papers = _extras(session, row.id)
            answer = self._json(row, clerk, now, resident, village, missing, papers)
            answer["trail"] = [
                {"at": e.at.isoformat(), "action": e.action, "actor": e.actor, "note": e.note}
                for e in session.scalars(
                    select(ServiceRequestEvent)
                    .where(ServiceRequestEvent.request_id == row.id)
                    .order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)
                )
            ]
            answer["papers"] = [
                {"id": f.id, "label": f.label, "sha256": f.sha256, "type": f.content_type}
                for f in session.scalars(
                    select(ResidentFile)
                    .where(ResidentFile.request_id == row.id)
                    .order_by(ResidentFile.id)
                )
            ]
            return answer

    def paper(self, clerk: Clerk, request_id: int, paper_id: int) -> tuple[str, str]:
        """(sha256, content type) of a paper, for those who see the personal data only."""
        with self.db.read() as session:
            row = self._row(session, request_id, clerk, lock=False)
            paper = session.get(ResidentFile, paper_id)
            if paper is None or paper.request_id != row.id or not _sees_personal_data(clerk, row):
                raise ServiceRequestRefused(404, "not_found", f"no paper {paper_id}")
            return paper.sha256, paper.content_type

    # --- helpers ---------------------------------------------------------------------------

    def _apply(
        self,
        state: ServiceRequestState,
        action: str,
        item: rules.ServiceItem,
        note: str,
        rating: int | None,
        now: datetime,
    ) -> ServiceRequestState:
        if action == "accept":
            return rules.accept(state, item, now, self.calendar)
        if action == "return":
            return rules.return_for_papers(state, note, now)
        if action == "resubmit":
            return rules.resubmit(state, now, self.calendar)
        if action == "complete":
            return rules.complete(state, now)
        if action == "refuse":
            return rules.refuse(state, note, now)
        if action == "withdraw":
            return rules.withdraw(state, now)
        if action == "evaluate":
            if not isinstance(rating, int) or isinstance(rating, bool):
                raise ServiceRequestRefused(422, "bad_rating", "a rating is 1 to 5", "rating")
            return rules.evaluate(state, rating)
        raise ServiceRequestRefused(422, "unknown_action", f"no step {action!r}", "action")

    def _may_step(self, clerk: Clerk, row: ServiceRequest, action: str) -> None:
        if clerk.role in _SHIFT_LEAD:
            return
        if action in _DEPARTMENT_STEPS and _handles(clerk, row):
            return
        if action in _OPENER_STEPS and _is_opener(clerk, row):
            return
        raise ServiceRequestRefused(403, "forbidden", f"you may not {action} this request")

    def _row(
        self, session: Session, request_id: int, clerk: Clerk, *, lock: bool
    ) -> ServiceRequest:
        if lock:
            write_lock(session)  # SQLite: before the status is read (PostgreSQL: FOR UPDATE)
        query = select(ServiceRequest).where(
            ServiceRequest.id == request_id, *service_request_scope(clerk.scope)
        )
        row = session.scalars(query.with_for_update() if lock else query).first()
        if row is None or (
            clerk.role == Role.GRID_WORKER.value and row.opened_by != clerk.actor.name
        ):
            raise ServiceRequestRefused(404, "not_found", f"no service request {request_id}")
        return row

    def _trail(
        self,
        session: Session,
        row: ServiceRequest,
        action: str,
        clerk: Clerk,
        now: datetime,
        note: str,
    ) -> None:
        session.add(
            ServiceRequestEvent(
                request_id=row.id, at=now, action=action, actor=clerk.actor.name, note=note
            )
        )

    def _paper(
        self,
        session: Session,
        row: ServiceRequest,
        label: str,
        photo: Photo,
        clerk: Clerk,
        now: datetime,
    ) -> None:
        photo.write()
        session.add(
            ResidentFile(
                sha256=photo.sha256,
                content_type=photo.content_type,
                size=photo.size,
                label=bounded_text(label, 100, "label", required=True),
                request_id=row.id,
                uploaded_at=now,
                uploaded_by=clerk.actor.name,
            )
        )

    def _json(
        self,
        row: ServiceRequest,
        clerk: Clerk,
        now: datetime,
        resident: Resident,
        village_name: str | None,
        missing: str | None,
        papers: int | None,
    ) -> dict[str, Any]:
        whole = _sees_personal_data(clerk, row)
        item = self.catalogue.items.get(row.item_code)
        state = _state(row)
        light = rules.request_light(state, now, self.calendar, self.yellow_at)
        return {
            "id": row.id,
            "item": row.item_code,
            "item_zh": item.name_zh if item else row.item_code,
            "item_en": item.name_en if item else row.item_code,
            "group": item.group.value if item else None,
            "department": row.department_code,
            "village": row.village_code,
            "village_name": village_name or row.village_code,
            "resident": {
                "id": resident.id,
                "name": resident.name if whole else mask_name(resident.name),
                "id_number": resident.id_number if whole else mask_id_number(resident.id_number),
                "phone": resident.phone if whole else mask_phone(resident.phone),
            },
            "description": row.description,
            "consent": row.consent_note,
            "status": row.status,
            "opened_by": row.opened_by,
            "submitted_at": row.submitted_at.isoformat(),
            "accepted_at": _iso(row.accepted_at),
            "deadline": _iso(row.deadline),
            "closed_at": _iso(row.closed_at),
            "returns": row.returns,
            # What is missing: the department's note of its last return, while returned.
            "missing": (missing or "") if row.status == ServiceStatus.RETURNED else "",
            "papers": int(papers or 0),
            "rating": row.rating,
            "light": light.value if light else None,
            "on_time": rules.closed_on_time(state),
            "version": row.version,
        }


def _listed(query: Select[Any]) -> Select[Any]:
    """``query``'s requests with what their JSON needs, in the same query: the resident, the
    village's name, the note of the last return and the number of papers."""
    last_return = (
        select(ServiceRequestEvent.note)
        .where(
            ServiceRequestEvent.request_id == ServiceRequest.id,
            ServiceRequestEvent.action == "return",
        )
        .order_by(ServiceRequestEvent.at.desc(), ServiceRequestEvent.id.desc())
        .limit(1)
        .correlate(ServiceRequest)
        .scalar_subquery()
    )
    papers = (
        select(func.count(ResidentFile.id))
        .where(ResidentFile.request_id == ServiceRequest.id)
        .correlate(ServiceRequest)
        .scalar_subquery()
    )
    return (
        query.join(Resident, Resident.id == ServiceRequest.resident_id)
        .outerjoin(Village, Village.code == ServiceRequest.village_code)
        .add_columns(Resident, Village.name, last_return, papers)
    )


def _extras(session: Session, request_id: int) -> tuple[Resident, str | None, str | None, int]:
    """What ``_listed`` adds, for one request."""
    one = session.execute(
        _listed(select(ServiceRequest).where(ServiceRequest.id == request_id))
    ).one()
    return one[1], one[2], one[3], int(one[4] or 0)


_DESK_STEPS = {
    ServiceStatus.SUBMITTED.value: ("accept", "return"),
    ServiceStatus.ACCEPTED.value: ("complete", "return"),
}


def department_steps(clerk: Clerk, request: dict[str, Any]) -> tuple[str, ...]:
    """The department's steps ``clerk`` may take on a request (as ``list``/``get`` answer it)
    now: what the desk page offers as buttons; ``step`` checks the same again."""
    handles = clerk.role in _SHIFT_LEAD or (
        clerk.role == Role.DEPARTMENT.value and clerk.scope.department_code == request["department"]
    )
    return _DESK_STEPS.get(request["status"], ()) if handles else ()


def _may_open(clerk: Clerk) -> bool:
    return clerk.role in _OPENERS or (
        clerk.role == Role.DEPARTMENT.value and clerk.scope.department_code == VILLAGE_COMMITTEE
    )


def _handles(clerk: Clerk, row: ServiceRequest) -> bool:
    return (
        clerk.role == Role.DEPARTMENT.value and clerk.scope.department_code == row.department_code
    )


def _is_opener(clerk: Clerk, row: ServiceRequest) -> bool:
    if row.opened_by == clerk.actor.name or clerk.role in _SHIFT_LEAD:
        return True
    return clerk.role == Role.DEPARTMENT.value and clerk.scope.department_code == VILLAGE_COMMITTEE


def _sees_personal_data(clerk: Clerk, row: ServiceRequest) -> bool:
    return clerk.role in _SHIFT_LEAD or _handles(clerk, row) or _is_opener(clerk, row)


def _state(row: ServiceRequest) -> ServiceRequestState:
    return ServiceRequestState(
        status=ServiceStatus(row.status),
        submitted_at=row.submitted_at,
        accepted_at=row.accepted_at,
        deadline=row.deadline,
        returned_at=row.returned_at,
        closed_at=row.closed_at,
        returns=row.returns,
        rating=row.rating,
    )


def _store(row: ServiceRequest, state: ServiceRequestState) -> None:
    row.status = state.status.value
    row.accepted_at, row.deadline = state.accepted_at, state.deadline
    row.returned_at, row.closed_at = state.returned_at, state.closed_at
    row.returns, row.rating = state.returns, state.rating


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
