"""The Open311 door's use cases: report a request, read requests and their steps, take updates.

Cases are created through CaseService (the normal lifecycle, the outbox, the webhooks); reads
are scoped by the storage rule (``case_scope``) to the key's area. Without a key (only when
``[integrations] open311_anonymous_reads`` is on) the reads leave out 110 and emergency cases
and every description.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.clock import Clock
from dashboard.domain.lifecycle import ActionRequest
from dashboard.domain.open311 import Open311Problem, statuses_for
from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.reference import ReferenceData
from dashboard.services.cases import CaseReport, CaseService
from dashboard.services.open311_rows import request_of, update_of
from dashboard.storage.db import Database
from dashboard.storage.models import Case, CaseEvent, Grid, Open311Request, Open311Update
from dashboard.storage.scoping import case_scope, in_area

HIDDEN_FROM_ANONYMOUS = (Source.POLICE.value, Source.EMERGENCY.value)


@dataclass(frozen=True)
class Reader:
    """Who reads: a key's scope, or nobody (anonymous reads)."""

    scope: Scope
    anonymous: bool = False

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions = case_scope(self.scope)
        if self.anonymous:
            conditions.append(Case.source.not_in(HIDDEN_FROM_ANONYMOUS))
        return conditions


@dataclass(frozen=True)
class NewRequest:
    service_code: str
    lat: float | None
    lon: float | None
    address_string: str
    address_id: str
    description: str
    reporter: str
    account_id: str
    media_url: str
    emergency: bool
    occurred_at: datetime | None
    jurisdiction_id: str


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[int, ...]
    service_codes: tuple[str, ...]
    statuses: tuple[str, ...]
    start: datetime
    end: datetime
    jurisdiction_id: str
    page: int
    page_size: int


@dataclass(frozen=True)
class IncomingUpdate:
    service_request_id: int
    external_id: str
    status: str
    description: str
    media_url: str
    updated_at: datetime
    satisfaction: int | None


class Open311Service:
    def __init__(
        self, db: Database, reference: ReferenceData, cases: CaseService, clock: Clock
    ) -> None:
        self.db = db
        self.reference = reference
        self.cases = cases
        self.clock = clock

    # --- in -----------------------------------------------------------------------------------

    def create(
        self,
        new: NewRequest,
        *,
        key_name: str,
        key_id: int,
        source: Source,
        scope: Scope,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        lon, lat = self._place(new)
        if scope.area_code is not None:
            where = self.cases.locate(lon, lat)
            if where is not None and not scope.allows_place(where.village_code):
                raise Open311Problem(403, f"the place is outside this key's area {scope.area_code}")
        token = secrets.token_urlsafe(18)
        report = CaseReport(
            category_code=new.service_code,
            description=new.description,
            lon=lon,
            lat=lat,
            source=source,
            actor=key_name,
            role=Role.INTEGRATION,
            reporter=new.reporter,
            emergency=new.emergency,
            occurred_at=new.occurred_at,
            address=new.address_string,
            idempotency_key=idempotency_key,
        )

        def keep(session: Session, case: Case) -> None:
            session.add(
                Open311Request(
                    case_id=case.id,
                    token=token,
                    token_id=key_id,
                    source=source.value,
                    account_id=new.account_id,
                    media_url=new.media_url,
                    created_at=self.clock.now(),
                )
            )

        record = self.cases.report(report, also=keep)
        with self.db.read() as session:
            intake = session.get(Open311Request, record.id)
        return {
            "service_request_id": str(record.id),
            "token": intake.token if intake is not None else None,
            "service_notice": "",
            "account_id": (intake.account_id or None) if intake is not None else None,
        }

    def _place(self, new: NewRequest) -> tuple[float, float]:
        if new.lat is not None and new.lon is not None:
            return new.lon, new.lat
        if new.address_id:
            with self.db.read() as session:
                grid = session.get(Grid, new.address_id)
            if grid is None:
                raise Open311Problem(400, f"address_id {new.address_id[:20]!r} is not a grid code")
            return grid.lon, grid.lat
        raise Open311Problem(
            400,
            "a location is required: lat and long, or address_id (a grid code); "
            "address_string alone cannot be placed on the map",
        )

    def take_update(
        self, update: IncomingUpdate, *, key_name: str, key_id: int, reader: Reader
    ) -> dict[str, Any]:
        """Store an integration's update (once per its ``update_id``); a satisfaction rating on
        a closed case is the reporter's evaluation (the lifecycle's ``evaluate``)."""
        now = self.clock.now()
        with self.db.read() as session:
            case = self._visible(session, update.service_request_id, reader)
            earlier = session.scalar(
                select(Open311Update.id).where(
                    Open311Update.token_id == key_id,
                    Open311Update.external_id == update.external_id,
                )
            )
            status = case.status
        if earlier is not None:
            return {"update_id": str(earlier)}
        if update.satisfaction is not None:
            if status != CaseStatus.CLOSED:
                raise Open311Problem(
                    400, f"request {case.id} is {status}; a satisfaction rating needs it closed"
                )
            self.cases.act(
                case.id,
                ActionRequest(
                    action=Action.EVALUATE,
                    actor=key_name,
                    role=Role.INTEGRATION,
                    note=update.description,
                    satisfaction=update.satisfaction,
                ),
            )
        try:
            with self.db.transaction() as session:
                row = Open311Update(
                    case_id=case.id,
                    token_id=key_id,
                    external_id=update.external_id,
                    status=update.status,
                    description=update.description,
                    media_url=update.media_url,
                    updated_at=update.updated_at,
                    received_at=now,
                )
                session.add(row)
                session.flush()
                answer = {"update_id": str(row.id)}
        except IntegrityError:  # the same update_id raced in twice: answer with the first
            with self.db.read() as session:
                first = session.scalar(
                    select(Open311Update.id).where(
                        Open311Update.token_id == key_id,
                        Open311Update.external_id == update.external_id,
                    )
                )
            if first is None:
                raise
            return {"update_id": str(first)}
        return answer

    # --- out ----------------------------------------------------------------------------------

    def _visible(self, session: Session, case_id: int, reader: Reader) -> Case:
        row = session.scalar(select(Case).where(Case.id == case_id, *reader.conditions()))
        if row is None:
            raise Open311Problem(404, f"there is no service request {case_id}")
        return row

    def requests(self, query: RequestQuery, reader: Reader) -> list[dict[str, Any]]:
        stmt = select(Case).where(*reader.conditions())
        if query.ids:
            stmt = stmt.where(Case.id.in_(query.ids)).order_by(Case.id)
        else:
            stmt = stmt.where(Case.reported_at >= query.start, Case.reported_at <= query.end)
            if query.service_codes:
                stmt = stmt.where(Case.reported_category.in_(query.service_codes))
            if query.statuses:
                wanted = set().union(*(statuses_for(s) for s in query.statuses))
                stmt = stmt.where(Case.status.in_(sorted(wanted)))
            stmt = stmt.order_by(Case.reported_at.desc(), Case.id.desc())
        if query.jurisdiction_id:
            stmt = stmt.where(*in_area(Case.county_code, query.jurisdiction_id))
        stmt = stmt.offset((query.page - 1) * query.page_size).limit(query.page_size)
        with self.db.read() as session:
            rows = list(session.scalars(stmt))
            return self._shape(session, rows, reader)

    def request(self, case_id: int, reader: Reader) -> list[dict[str, Any]]:
        with self.db.read() as session:
            return self._shape(session, [self._visible(session, case_id, reader)], reader)

    def by_token(self, token: str, reader: Reader) -> list[dict[str, Any]]:
        with self.db.read() as session:
            intake = session.scalar(select(Open311Request).where(Open311Request.token == token))
            if intake is None:
                raise Open311Problem(404, "there is no request with this token")
            case = self._visible(session, intake.case_id, reader)
        return [{"service_request_id": str(case.id), "token": token}]

    def updates(
        self, start: datetime, end: datetime, page: int, page_size: int, reader: Reader
    ) -> list[dict[str, Any]]:
        stmt = (
            select(CaseEvent, Case)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(*reader.conditions())
            .where(CaseEvent.at >= start, CaseEvent.at <= end)
            .order_by(CaseEvent.at, CaseEvent.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        with self.db.read() as session:
            items = [update_of(case, step) for step, case in session.execute(stmt).tuples()]
        if reader.anonymous:
            for item in items:
                item["description"] = item["description"].split("：")[0]
        return items

    def _shape(self, session: Session, rows: list[Case], reader: Reader) -> list[dict[str, Any]]:
        ids = [row.id for row in rows]
        intakes = {
            r.case_id: r
            for r in session.scalars(select(Open311Request).where(Open311Request.case_id.in_(ids)))
        }
        voided = [row.id for row in rows if row.status == CaseStatus.VOIDED]
        reasons: dict[int, str] = {}
        if voided:
            for case_id, reason in session.execute(
                select(CaseEvent.case_id, CaseEvent.reason).where(
                    CaseEvent.case_id.in_(voided), CaseEvent.action == Action.VOID.value
                )
            ):
                reasons[case_id] = reason or ""
        return [
            request_of(
                row,
                self.reference,
                intakes.get(row.id),
                None if reader.anonymous else reasons.get(row.id),
                with_description=not reader.anonymous,
            )
            for row in rows
        ]
