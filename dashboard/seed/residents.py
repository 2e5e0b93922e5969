"""The residents' side of the demo (issue 18): a few residents per village with points earned
over the last weeks (confirmed claims in the ledger, some still waiting for the committee),
each town's reward shelf, and services on residents' behalf at every step of their loop.

Written straight to the tables like the rest of the seed, but every row passes the rules it
would meet in the product (``check_claim``, the service lifecycle on the working calendar).
Deterministic in ``seed``; the personal data is synthetic (ID numbers with a valid check digit
for a birth date, no real person).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.points import (
    Claim,
    EntryKind,
    PastClaim,
    PointsCatalogue,
    PointsRuleBroken,
    ReporterKind,
    SubjectKind,
    check_claim,
)
from dashboard.domain.regions import Region
from dashboard.domain.service_requests import (
    ServiceCatalogue,
    accept,
    complete,
    open_request,
    return_for_papers,
)
from dashboard.seed.people import chinese_name, mobile_number
from dashboard.storage.models import (
    PointsClaim,
    PointsEntry,
    PointsReward,
    Resident,
    ServiceRequest,
    ServiceRequestEvent,
)

SEEDER = "seed"
VILLAGES = 12  # residents in this many villages of the demo (the first by code)
RESIDENTS_PER_VILLAGE = 5
_WEIGHTS = (7, 5, 3, 2, 2)  # resident, household, party member, cadre, organisation
_KINDS = (SubjectKind.RESIDENT, SubjectKind.HOUSEHOLD, SubjectKind.PARTY_MEMBER,
          SubjectKind.CADRE, SubjectKind.ORGANISATION)  # fmt: skip
_REWARDS = (
    ("洗衣液一瓶", "A bottle of detergent", 50, 40),
    ("大米十斤", "5 kg of rice", 120, 30),
    ("食用油一桶", "A can of cooking oil", 200, 20),
    ("家电维修券", "Appliance repair voucher", 300, 10),
)


def id_number(rng: random.Random, region_code: str, born: datetime) -> str:
    body = f"{region_code[:6]}{born:%Y%m%d}{rng.randrange(100, 1000)}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def seed_residents(
    session: Session,
    region: Region,
    points: PointsCatalogue,
    services: ServiceCatalogue,
    calendar: WorkingCalendar,
    now: datetime,
    seed: int,
) -> dict[str, int]:
    rng = random.Random(seed * 7919 + 18)
    villages = sorted(region.villages, key=lambda v: v.code)[:VILLAGES]
    counts = {"residents": 0, "claims": 0, "requests": 0}
    today = now.astimezone(calendar.tz).date()
    residents: list[Resident] = []
    for village in villages:
        for _ in range(RESIDENTS_PER_VILLAGE):
            kind = rng.choices(_KINDS, weights=_WEIGHTS)[0]
            name = (
                chinese_name(rng)
                if kind is not SubjectKind.ORGANISATION
                else f"{village.name}志愿服务队"
            )
            if kind is SubjectKind.HOUSEHOLD:
                name = f"{name[0]}家（户主{name}）"
            born = datetime(rng.randrange(1950, 2000), rng.randrange(1, 13), rng.randrange(1, 28))
            person = kind not in (SubjectKind.ORGANISATION, SubjectKind.HOUSEHOLD)
            resident = Resident(
                kind=kind.value,
                name=name,
                village_code=village.code,
                id_number=id_number(rng, village.code, born) if person else None,
                phone=mobile_number(rng),
                created_at=now - timedelta(days=40),
                created_by=SEEDER,
            )
            session.add(resident)
            residents.append(resident)
    session.flush()
    counts["residents"] = len(residents)
    items = list(points.items.values())
    for resident in residents:
        past: list[PastClaim] = []
        for _ in range(rng.randrange(2, 7)):
            item = rng.choice(items)
            deed = today - timedelta(days=rng.randrange(0, 35))
            kind = SubjectKind(resident.kind)
            claim = Claim(
                item.code, resident.id, kind, deed, rng.choice(list(ReporterKind)), "seed"
            )
            try:
                check_claim(points, claim, past, today)
            except PointsRuleBroken:
                continue  # the wrong subject, a cap reached: the rules say no, as in the product
            pending = deed >= today - timedelta(days=2) and rng.random() < 0.6
            entered = now - timedelta(days=(today - deed).days, hours=-2)
            row = PointsClaim(
                item_code=item.code,
                resident_id=resident.id,
                deed_date=deed,
                reporter=claim.reporter.value,
                description="",
                entered_by=f"网格员{resident.village_code[-3:]}",
                entered_at=min(entered, now),
                status="pending" if pending else "confirmed",
                decided_by=None if pending else "村两委",
                decided_at=None if pending else min(entered + timedelta(hours=20), now),
            )
            session.add(row)
            session.flush()
            past.append(PastClaim(item.code, deed, row.status))
            counts["claims"] += 1
            if not pending:
                session.add(
                    PointsEntry(
                        resident_id=resident.id,
                        kind=EntryKind.AWARD.value,
                        amount=item.points,
                        item_code=item.code,
                        claim_id=row.id,
                        reason="",
                        at=row.decided_at,
                        by_user="村两委",
                    )
                )
    for town in region.towns:
        for name_zh, name_en, cost, stock in _REWARDS:
            session.add(
                PointsReward(
                    area_code=town.code, name_zh=name_zh, name_en=name_en, cost=cost, stock=stock
                )
            )
    counts["requests"] = _requests(session, rng, residents, services, calendar, now)
    return counts


def _requests(
    session: Session,
    rng: random.Random,
    residents: list[Resident],
    catalogue: ServiceCatalogue,
    calendar: WorkingCalendar,
    now: datetime,
) -> int:
    """A dozen requests: waiting, in hand (one running late), returned, and done."""
    people = [r for r in residents if r.id_number]
    items = list(catalogue.items.values())
    made = 0
    for index, resident in enumerate(rng.sample(people, min(12, len(people)))):
        item = rng.choice(items)
        opened = now - timedelta(days=rng.randrange(1, 20), hours=rng.randrange(0, 8))
        state = open_request(True, opened)
        trail = [("open", opened, item.name_zh)]
        stage = index % 4  # 0 waiting, 1 in hand, 2 returned, 3 done
        if stage >= 1:
            accepted = calendar.next_working_moment(opened + timedelta(hours=3))
            if accepted < now:
                state = accept(state, item, accepted, calendar)
                trail.append(("accept", accepted, ""))
        if stage == 2 and state.accepted_at is not None:
            returned: datetime = min(state.accepted_at + timedelta(days=1), now)
            state = return_for_papers(state, "缺少材料，请补正", returned)
            trail.append(("return", returned, "请补交户口簿复印件"))
        if stage == 3 and state.deadline is not None and state.accepted_at is not None:
            start: datetime = state.accepted_at
            done: datetime = min(start + (state.deadline - start) / 2, now)
            if done > start:
                state = complete(state, done)
                trail.append(("complete", done, ""))
        row = ServiceRequest(
            item_code=item.code,
            department_code=item.department,
            village_code=resident.village_code,
            resident_id=resident.id,
            description="",
            consent_note="本人当面同意",
            status=state.status.value,
            opened_by=f"网格员{resident.village_code[-3:]}",
            submitted_at=state.submitted_at,
            accepted_at=state.accepted_at,
            deadline=state.deadline,
            returned_at=state.returned_at,
            closed_at=state.closed_at,
            returns=state.returns,
            rating=None,
            version=len(trail),
        )
        session.add(row)
        session.flush()
        for action, at, note in trail:
            session.add(
                ServiceRequestEvent(
                    request_id=row.id, at=at, action=action, actor=SEEDER, note=note
                )
            )
        made += 1
    return made
