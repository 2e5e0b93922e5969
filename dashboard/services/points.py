"""Residents' points (积分制) use cases: residents, claims, confirmation, the ledger, rewards.

Each function is one transaction holding the change and its audit row. The rules are in
``dashboard.domain.points``; this module reads what they need, writes what they allow, and
scopes everything to the caller's area (``dashboard.storage.scoping``).

Who confirms: a village committee user (the ``department`` role with the ``village``
department, scoped to one village) confirms village items of that village; the town's desk
(dispatcher, commander, admin) confirms every item of its area.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.clock import Clock
from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.permissions import Scope
from dashboard.domain.personal_data import check_id_number, check_phone
from dashboard.domain.points import (
    Claim,
    Confirmation,
    EntryKind,
    PastClaim,
    PointsCatalogue,
    PointsItem,
    PointsRuleBroken,
    ReporterKind,
    SubjectKind,
    check_claim,
    check_confirmation,
    check_correction,
    check_redemption,
)
from dashboard.domain.roles import Role
from dashboard.security.audit import record
from dashboard.services.photos import Photo
from dashboard.services.residents import (
    TOWN_DESK,
    Clerk,
    Entered,
    ResidentsRefused,
    bounded_text,
    check_key_reuse,
    enum_value,
    write_lock,
)
from dashboard.storage.db import Database
from dashboard.storage.models import (
    PointsClaim,
    PointsEntry,
    PointsRedemption,
    PointsReward,
    Resident,
    ResidentFile,
    Village,
)
from dashboard.storage.scoping import VILLAGE_COMMITTEE, in_area

_ENTERING = TOWN_DESK | {Role.GRID_WORKER.value}  # and the village committee (_enters)
MAX_LIST = 500
MAX_EVIDENCE = 5  # evidence photos per claim (the phone sends at most 5, like a case report)


class PointsService:
    def __init__(
        self, db: Database, clock: Clock, catalogue: PointsCatalogue, calendar: WorkingCalendar
    ) -> None:
        self.db, self.clock, self.catalogue, self.calendar = db, clock, catalogue, calendar

    # --- residents -------------------------------------------------------------------------

    def add_resident(
        self,
        clerk: Clerk,
        *,
        kind: str,
        name: str,
        village_code: str,
        id_number: str | None = None,
        phone: str | None = None,
    ) -> int:
        if not _enters(clerk):
            raise ResidentsRefused(403, "forbidden", "this role does not enter residents")
        subject_kind = enum_value(SubjectKind, kind, "kind")
        name = bounded_text(name, 100, "name", required=True)
        ident = check_id_number(id_number) if id_number else None
        tel = check_phone(phone) if phone else None
        now = self.clock.now()
        with self.db.transaction() as session:
            if ident is not None:
                write_lock(session, f"resident-id-number:{ident}")  # two desks at once: one
            self._village_in_scope(session, village_code, clerk.scope)
            if ident is not None and session.scalar(
                select(Resident.id).where(Resident.id_number == ident).limit(1)
            ):
                # One person, one record: a second one would let the same deed be claimed twice
                # (once per record). The message names no number and no record.
                raise ResidentsRefused(
                    409,
                    "duplicate_resident",
                    "a resident with this ID number is entered already",
                    "id_number",
                )
            resident = Resident(
                kind=subject_kind.value,
                name=name,
                village_code=village_code,
                id_number=ident,
                phone=tel,
                created_at=now,
                created_by=clerk.actor.name,
            )
            session.add(resident)
            session.flush()
            record(session, clerk.actor, "resident_added", now, f"resident:{resident.id}")
            return resident.id

    # --- claims ----------------------------------------------------------------------------

    def claim(
        self,
        clerk: Clerk,
        *,
        resident_id: int,
        item_code: str,
        deed_date: date,
        reporter: str,
        description: str = "",
        evidence: Sequence[Photo] = (),
        idempotency_key: str | None = None,
    ) -> Entered:
        """Enter a deed for a resident (pending until confirmed) with its evidence photos;
        PointsRuleBroken on the rules. With ``idempotency_key`` (already made per caller) a
        retry answers the first claim instead of a duplicate-deed refusal."""
        if not _enters(clerk):
            raise ResidentsRefused(403, "forbidden", "this role does not enter points claims")
        reporter_kind = enum_value(ReporterKind, reporter, "reporter")
        description = bounded_text(description, 500, "description", required=False)
        if len(evidence) > MAX_EVIDENCE:
            raise ResidentsRefused(
                422, "too_many", f"at most {MAX_EVIDENCE} evidence photos", "evidence"
            )
        if idempotency_key:
            earlier = self._claim_by_key(idempotency_key, resident_id, item_code, deed_date)
            if earlier is not None:
                return earlier
        now = self.clock.now()
        try:
            return self._enter_claim(
                clerk,
                resident_id,
                item_code,
                deed_date,
                reporter_kind,
                description,
                evidence,
                idempotency_key,
                now,
            )
        except PointsRuleBroken:
            # Two retries raced on one key: the other one made the claim; answer with it.
            if idempotency_key:
                earlier = self._claim_by_key(idempotency_key, resident_id, item_code, deed_date)
                if earlier is not None:
                    return earlier
            raise

    def _claim_by_key(
        self, key: str, resident_id: int, item_code: str, deed_date: date
    ) -> Entered | None:
        with self.db.read() as session:
            row = session.scalars(
                select(PointsClaim).where(PointsClaim.idempotency_key == key)
            ).first()
            if row is None:
                return None
            same = (row.resident_id, row.item_code, row.deed_date) == (
                resident_id,
                item_code,
                deed_date,
            )
            check_key_reuse(same, key)
            return Entered(row.id, created=False)

    def _enter_claim(
        self,
        clerk: Clerk,
        resident_id: int,
        item_code: str,
        deed_date: date,
        reporter_kind: ReporterKind,
        description: str,
        evidence: Sequence[Photo],
        idempotency_key: str | None,
        now: datetime,
    ) -> Entered:
        with self.db.transaction() as session:
            resident = self._resident(session, resident_id, clerk.scope, lock=True)
            past = [
                PastClaim(c.item_code, c.deed_date, c.status)
                for c in session.scalars(
                    select(PointsClaim).where(
                        PointsClaim.resident_id == resident.id,
                        PointsClaim.item_code == item_code,
                    )
                )
            ]
            claim = Claim(
                item_code,
                resident.id,
                SubjectKind(resident.kind),
                deed_date,
                reporter_kind,
                clerk.actor.name,
            )
            check_claim(self.catalogue, claim, past, now.astimezone(self.calendar.tz).date())
            row = PointsClaim(
                item_code=item_code,
                resident_id=resident.id,
                deed_date=deed_date,
                reporter=reporter_kind.value,
                description=description,
                status="pending",
                entered_by=clerk.actor.name,
                entered_at=now,
                idempotency_key=idempotency_key,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError as err:  # two desks entering the same deed at once
                raise PointsRuleBroken("duplicate_deed", "this deed was already claimed") from err
            for n, photo in enumerate(evidence, start=1):
                photo.write()
                session.add(
                    ResidentFile(
                        sha256=photo.sha256,
                        content_type=photo.content_type,
                        size=photo.size,
                        label=f"evidence {n}",
                        claim_id=row.id,
                        uploaded_at=now,
                        uploaded_by=clerk.actor.name,
                    )
                )
            record(
                session,
                clerk.actor,
                "points_claimed",
                now,
                f"claim:{row.id}",
                item=item_code,
                evidence=len(evidence),
            )
            return Entered(row.id)

    def confirm(self, clerk: Clerk, claim_id: int) -> int:
        """Confirm a pending claim: the ledger gains the item's points. Returns the entry id."""
        now = self.clock.now()
        with self.db.transaction() as session:
            claim, resident, item = self._decide(session, clerk, claim_id, "confirmed", now)
            entry = PointsEntry(
                resident_id=resident.id,
                kind=EntryKind.AWARD.value,
                amount=item.points,
                item_code=item.code,
                claim_id=claim.id,
                reason="",
                at=now,
                by_user=clerk.actor.name,
            )
            session.add(entry)
            session.flush()
            record(
                session,
                clerk.actor,
                "points_confirmed",
                now,
                f"claim:{claim.id}",
                points=item.points,
                entry=entry.id,
            )
            return entry.id

    def reject(self, clerk: Clerk, claim_id: int, note: str) -> None:
        note = bounded_text(note, 200, "note", required=True)
        now = self.clock.now()
        with self.db.transaction() as session:
            claim, _resident, _item = self._decide(session, clerk, claim_id, "rejected", now)
            claim.decision_note = note
            record(session, clerk.actor, "points_rejected", now, f"claim:{claim.id}")

    def _decide(
        self, session: Session, clerk: Clerk, claim_id: int, status: str, now: datetime
    ) -> tuple[PointsClaim, Resident, PointsItem]:
        """A pending claim decided by ``clerk`` (the confirmation rules hold for a rejection
        too: nobody rejects their own claim or one above their level)."""
        claim, resident = self._pending(session, claim_id, clerk.scope)
        item = self.catalogue.item(claim.item_code)
        level = clerk.confirmer_level(resident.village_code)
        check_confirmation(
            item, claim.entered_by, resident.id, Confirmation(clerk.actor.name, level, None)
        )
        claim.status, claim.decided_by, claim.decided_at = status, clerk.actor.name, now
        return claim, resident, item

    # --- the ledger ------------------------------------------------------------------------

    def correct(self, clerk: Clerk, resident_id: int, amount: int, reason: str) -> int:
        """A correction (the town's desk only): a new entry with its reason, never an edit."""
        if clerk.role not in TOWN_DESK:
            raise ResidentsRefused(403, "forbidden", "only the town's desk corrects the ledger")
        reason = bounded_text(reason, 200, "reason", required=True)
        now = self.clock.now()
        with self.db.transaction() as session:
            resident = self._resident(session, resident_id, clerk.scope, lock=True)
            check_correction(amount, reason, _balance(session, resident.id))
            entry = PointsEntry(
                resident_id=resident.id,
                kind=EntryKind.CORRECTION.value,
                amount=amount,
                reason=reason,
                at=now,
                by_user=clerk.actor.name,
            )
            session.add(entry)
            session.flush()
            record(
                session,
                clerk.actor,
                "points_corrected",
                now,
                f"resident:{resident.id}",
                amount=amount,
                reason=reason,
            )
            return entry.id

    def add_reward(
        self, clerk: Clerk, *, area_code: str, name_zh: str, name_en: str, cost: int, stock: int
    ) -> int:
        if clerk.role not in TOWN_DESK:
            raise ResidentsRefused(403, "forbidden", "only the town's desk keeps the rewards")
        if not clerk.scope.allows_place(area_code):
            raise ResidentsRefused(403, "outside_scope", "that area is outside your scope")
        if not 1 <= cost <= 100_000 or not 0 <= stock <= 100_000:
            raise ResidentsRefused(422, "bad_number", "cost 1..100000, stock 0..100000", "cost")
        now = self.clock.now()
        with self.db.transaction() as session:
            reward = PointsReward(
                area_code=area_code,
                name_zh=bounded_text(name_zh, 100, "name_zh", required=True),
                name_en=bounded_text(name_en, 100, "name_en", required=True),
                cost=cost,
                stock=stock,
            )
            session.add(reward)
            session.flush()
            record(session, clerk.actor, "reward_added", now, f"reward:{reward.id}")
            return reward.id

    def redeem(self, clerk: Clerk, resident_id: int, reward_id: int, quantity: int) -> int:
        """Exchange points for a reward: the stock goes down and the ledger gains a negative
        entry, in one transaction (the reward row is locked on PostgreSQL)."""
        if clerk.role not in TOWN_DESK and not _is_village_committee(clerk):
            raise ResidentsRefused(403, "forbidden", "this role does not hand out rewards")
        now = self.clock.now()
        with self.db.transaction() as session:
            resident = self._resident(session, resident_id, clerk.scope, lock=True)
            reward = session.scalars(
                select(PointsReward).where(PointsReward.id == reward_id).with_for_update()
            ).first()
            if reward is None or not resident.village_code.startswith(reward.area_code):
                raise ResidentsRefused(404, "not_found", "no such reward for this resident's area")
            total = check_redemption(
                reward.cost, quantity, reward.stock, _balance(session, resident.id)
            )
            reward.stock -= quantity
            redemption = PointsRedemption(
                resident_id=resident.id,
                reward_id=reward.id,
                quantity=quantity,
                points=total,
                at=now,
                by_user=clerk.actor.name,
            )
            session.add(redemption)
            session.flush()
            session.add(
                PointsEntry(
                    resident_id=resident.id,
                    kind=EntryKind.REDEMPTION.value,
                    amount=-total,
                    redemption_id=redemption.id,
                    reason=reward.name_zh,
                    at=now,
                    by_user=clerk.actor.name,
                )
            )
            record(
                session,
                clerk.actor,
                "points_redeemed",
                now,
                f"resident:{resident.id}",
                reward=reward.id,
                points=total,
            )
            return redemption.id

    # --- reading ---------------------------------------------------------------------------

    def balances(self, scope: Scope, village_code: str | None = None) -> list[dict[str, Any]]:
        """Each resident of the area (or one village) with their balance, highest first."""
        total = func.coalesce(func.sum(PointsEntry.amount), 0).label("balance")
        query = (
            select(
                Resident.id,
                Resident.name,
                Resident.kind,
                Resident.village_code,
                Village.name,
                total,
            )
            .join(Village, Village.code == Resident.village_code)
            .outerjoin(PointsEntry, PointsEntry.resident_id == Resident.id)
            .where(*in_area(Resident.village_code, scope.area_code))
            .group_by(
                Resident.id, Resident.name, Resident.kind, Resident.village_code, Village.name
            )
            .order_by(total.desc(), Resident.id)
            .limit(MAX_LIST)
        )
        if village_code:
            query = query.where(Resident.village_code == village_code)
        with self.db.read() as session:
            return [
                {
                    "resident": rid,
                    "name": name,
                    "kind": kind,
                    "village": village,
                    "village_name": village_name,
                    "balance": int(balance),
                }
                for rid, name, kind, village, village_name, balance in session.execute(query)
            ]

    def village_ranking(self, scope: Scope, since: datetime | None = None) -> list[dict[str, Any]]:
        """Villages of the area by the points their residents earned (awards only, since a
        moment: the month's top villages on the wall), highest first."""
        earned = func.sum(PointsEntry.amount).label("points")
        query = (
            select(Resident.village_code, Village.name, earned)
            .join(PointsEntry, PointsEntry.resident_id == Resident.id)
            .join(Village, Village.code == Resident.village_code)
            .where(
                *in_area(Resident.village_code, scope.area_code),
                PointsEntry.kind == EntryKind.AWARD.value,
            )
            .group_by(Resident.village_code, Village.name)
            .order_by(earned.desc(), Resident.village_code)
            .limit(MAX_LIST)
        )
        if since is not None:
            query = query.where(PointsEntry.at >= since)
        with self.db.read() as session:
            return [
                {"village": code, "name": name, "points": int(points)}
                for code, name, points in session.execute(query)
            ]

    def claims(self, scope: Scope, status: str | None = None) -> list[dict[str, Any]]:
        query = (
            select(PointsClaim, Resident, Village.name)
            .join(Resident, Resident.id == PointsClaim.resident_id)
            .join(Village, Village.code == Resident.village_code)
            .where(*in_area(Resident.village_code, scope.area_code))
            .order_by(PointsClaim.entered_at.desc(), PointsClaim.id.desc())
            .limit(MAX_LIST)
        )
        if status:
            query = query.where(PointsClaim.status == status)
        with self.db.read() as session:
            rows = [
                _claim_json(c, r, name, self.catalogue) for c, r, name in session.execute(query)
            ]
            evidence: dict[int, list[int]] = {}
            if rows:  # one query for the evidence of every claim listed
                for file_id, claim_id in session.execute(
                    select(ResidentFile.id, ResidentFile.claim_id)
                    .where(ResidentFile.claim_id.in_([r["id"] for r in rows]))
                    .order_by(ResidentFile.id)
                ):
                    evidence.setdefault(claim_id or 0, []).append(file_id)
            for row in rows:
                row["evidence"] = evidence.get(row["id"], [])
            return rows

    def evidence(self, scope: Scope, claim_id: int, file_id: int) -> tuple[str, str]:
        """(sha256, content type) of a claim's evidence photo, inside the caller's area."""
        with self.db.read() as session:
            claim = session.get(PointsClaim, claim_id)
            found = session.get(ResidentFile, file_id)
            if claim is None or found is None or found.claim_id != claim.id:
                raise ResidentsRefused(404, "not_found", f"no evidence {file_id}")
            self._resident(session, claim.resident_id, scope)
            return found.sha256, found.content_type

    def ledger(self, scope: Scope, resident_id: int) -> list[dict[str, Any]]:
        with self.db.read() as session:
            resident = self._resident(session, resident_id, scope)
            rows = session.scalars(
                select(PointsEntry)
                .where(PointsEntry.resident_id == resident.id)
                .order_by(PointsEntry.at, PointsEntry.id)
            )
            return [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "amount": e.amount,
                    "item": e.item_code,
                    "reason": e.reason,
                    "at": e.at.isoformat(),
                    "by": e.by_user,
                }
                for e in rows
            ]

    def rewards(self, scope: Scope) -> list[dict[str, Any]]:
        with self.db.read() as session:
            rows: Sequence[PointsReward] = session.scalars(
                select(PointsReward).order_by(PointsReward.cost, PointsReward.id)
            ).all()
            return [
                {
                    "id": r.id,
                    "area": r.area_code,
                    "name_zh": r.name_zh,
                    "name_en": r.name_en,
                    "cost": r.cost,
                    "stock": r.stock,
                }
                for r in rows
                if scope.allows_place(r.area_code) or _encloses(r.area_code, scope)
            ]

    # --- helpers ---------------------------------------------------------------------------

    def _village_in_scope(self, session: Session, code: str, scope: Scope) -> None:
        if session.get(Village, code) is None:
            raise ResidentsRefused(422, "unknown_village", f"no village {code!r}", "village")
        if not scope.allows_place(code):
            raise ResidentsRefused(403, "outside_scope", "that village is outside your scope")

    def _resident(
        self, session: Session, resident_id: int, scope: Scope, *, lock: bool = False
    ) -> Resident:
        """The resident inside ``scope`` (404 otherwise). ``lock``: the row is locked until the
        transaction ends, so the writes of one resident's points — a claim against its cap, a
        redemption or a correction against the balance — never run side by side."""
        if lock:
            write_lock(session)
        query = select(Resident).where(Resident.id == resident_id)
        resident = session.scalars(query.with_for_update() if lock else query).first()
        if resident is None or not scope.allows_place(resident.village_code):
            raise ResidentsRefused(404, "not_found", f"no resident {resident_id}")
        return resident

    def _pending(
        self, session: Session, claim_id: int, scope: Scope
    ) -> tuple[PointsClaim, Resident]:
        write_lock(session)  # before the claim is read: its status is read under the lock
        claim = session.scalars(
            select(PointsClaim).where(PointsClaim.id == claim_id).with_for_update()
        ).first()
        if claim is None:
            raise ResidentsRefused(404, "not_found", f"no claim {claim_id}")
        resident = self._resident(session, claim.resident_id, scope, lock=True)
        if claim.status != "pending":
            raise ResidentsRefused(409, "already_decided", f"the claim is already {claim.status}")
        return claim, resident


def _is_village_committee(clerk: Clerk) -> bool:
    return clerk.role == Role.DEPARTMENT.value and clerk.scope.department_code == VILLAGE_COMMITTEE


def _enters(clerk: Clerk) -> bool:
    """Residents and claims are entered by a grid worker, the village committee or the town's
    desk; another department (the police, civil affairs …) enters neither."""
    return clerk.role in _ENTERING or _is_village_committee(clerk)


def _balance(session: Session, resident_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.resident_id == resident_id
        )
    )
    return int(total or 0)


def _encloses(area_code: str, scope: Scope) -> bool:
    """A town's reward is offered to a user scoped to one of its villages."""
    return scope.area_code is not None and scope.area_code.startswith(area_code)


def _claim_json(
    claim: PointsClaim, resident: Resident, village_name: str, catalogue: PointsCatalogue
) -> dict[str, Any]:
    item = catalogue.items.get(claim.item_code)
    return {
        "id": claim.id,
        "item": claim.item_code,
        "item_zh": item.name_zh if item else claim.item_code,
        "item_en": item.name_en if item else claim.item_code,
        "points": item.points if item else None,
        "resident": resident.id,
        "resident_name": resident.name,
        "village": resident.village_code,
        "village_name": village_name,
        "deed_date": claim.deed_date.isoformat(),
        "reporter": claim.reporter,
        "description": claim.description,
        "status": claim.status,
        "entered_by": claim.entered_by,
        "entered_at": claim.entered_at.isoformat(),
        "decided_by": claim.decided_by,
        "decision_note": claim.decision_note,
    }
