"""Campaigns (专项整治): record, change, delete and list them (scoped, audited), and count the
weekly reports their effect is estimated from (dashboard.domain.campaigns).

Every write is one transaction holding the change and its audit row (``campaign_created``,
``campaign_updated``, ``campaign_deleted``). A campaign outside the caller's area answers like a
missing one (404), so its existence does not leak. Who may write: leaders, commanders and
administrators (``may_record``); every role with the trends permission may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.campaigns import (
    CampaignSpec,
    Effect,
    InvalidCampaign,
    check_campaign,
    effect,
    period_weeks,
)
from dashboard.domain.campaigns import Effect as EffectFigures
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.reference import ReferenceData
from dashboard.security.audit import Actor, record
from dashboard.services.weekly import total_by_week
from dashboard.storage.db import Database
from dashboard.storage.models import Campaign, Case, County, Town, Village
from dashboard.storage.scoping import in_area

RECORDERS = frozenset({Role.LEADER, Role.COMMANDER, Role.ADMIN})
MAX_LIST = 200
BEFORE_WEEKS = 8
AFTER_WEEKS = 8


class CampaignNotFound(DomainError):
    def __init__(self, campaign_id: int) -> None:
        super().__init__("campaign_not_found", f"there is no campaign {campaign_id}")


def may_record(role: Role) -> bool:
    """Leaders and commanders record campaigns (a leader's one write: a decision, not a case)."""
    return role in RECORDERS


def known_categories(reference: ReferenceData) -> set[str]:
    tree = reference.categories
    return {m.code for m in tree.majors} | {s.code for s in tree.subs}


def known_areas(session: Session, scope: Scope) -> set[str]:
    """The county, town and village codes inside the scope's area."""
    area = scope.area_code
    codes: set[str] = set()
    for model in (County, Town, Village):
        codes.update(session.scalars(select(model.code).where(*in_area(model.code, area))))
    return codes


def as_json(row: Campaign) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "categories": list(row.categories),
        "area": row.area_code,
        "start": row.start_day,
        "end": row.end_day,
        "note": row.note,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def _checked(
    session: Session, spec: CampaignSpec, reference: ReferenceData, scope: Scope, now: datetime
) -> CampaignSpec:
    today = now.astimezone(reference.calendar.tz).date()
    return check_campaign(
        spec,
        today=today,
        known_categories=known_categories(reference),
        known_areas=known_areas(session, scope),
    )


def create(
    db: Database,
    reference: ReferenceData,
    spec: CampaignSpec,
    actor: Actor,
    scope: Scope,
    now: datetime,
) -> dict[str, Any]:
    with db.transaction() as session:
        spec = _checked(session, spec, reference, scope, now)
        row = Campaign(
            name=spec.name,
            categories=list(spec.categories),
            area_code=spec.area_code,
            start_day=spec.start.isoformat(),
            end_day=spec.end.isoformat(),
            note=spec.note,
            created_by=actor.name[:100],
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        record(session, actor, "campaign_created", now, f"campaign:{row.id}", name=spec.name)
        return as_json(row)


def _row(session: Session, campaign_id: int, scope: Scope) -> Campaign:
    row = session.get(Campaign, campaign_id)
    if row is None or not scope.allows_place(row.area_code):
        raise CampaignNotFound(campaign_id)
    return row


def update(
    db: Database,
    reference: ReferenceData,
    campaign_id: int,
    spec: CampaignSpec,
    actor: Actor,
    scope: Scope,
    now: datetime,
) -> dict[str, Any]:
    with db.transaction() as session:
        row = _row(session, campaign_id, scope)
        spec = _checked(session, spec, reference, scope, now)
        row.name, row.categories, row.area_code = spec.name, list(spec.categories), spec.area_code
        row.start_day, row.end_day = spec.start.isoformat(), spec.end.isoformat()
        row.note, row.updated_at = spec.note, now
        record(session, actor, "campaign_updated", now, f"campaign:{row.id}", name=spec.name)
        return as_json(row)


def delete(db: Database, campaign_id: int, actor: Actor, scope: Scope, now: datetime) -> None:
    with db.transaction() as session:
        row = _row(session, campaign_id, scope)
        record(session, actor, "campaign_deleted", now, f"campaign:{row.id}", name=row.name)
        session.delete(row)


def get(db: Database, campaign_id: int, scope: Scope) -> dict[str, Any]:
    with db.read() as session:
        return as_json(_row(session, campaign_id, scope))


def _visible(scope: Scope) -> list[ColumnElement[bool]]:
    return in_area(Campaign.area_code, scope.area_code)


def listing(db: Database, scope: Scope, limit: int = MAX_LIST) -> list[dict[str, Any]]:
    """The campaigns inside the scope's area, the latest start first (at most ``limit``)."""
    query = (
        select(Campaign)
        .where(*_visible(scope))
        .order_by(Campaign.start_day.desc(), Campaign.id.desc())
        .limit(max(1, min(limit, MAX_LIST)))
    )
    with db.read() as session:
        return [as_json(row) for row in session.scalars(query)]


def overlapping(
    db: Database, scope: Scope, first: date, last: date, area: str | None = None
) -> list[dict[str, Any]]:
    """Campaigns inside the scope (and ``area``, when given) that share a day with
    ``[first, last]``: the bands on a trend chart of that range."""
    query = select(Campaign).where(
        *_visible(scope),
        *in_area(Campaign.area_code, area),
        Campaign.start_day <= last.isoformat(),
        Campaign.end_day >= first.isoformat(),
    )
    with db.read() as session:
        rows = session.scalars(query.order_by(Campaign.start_day, Campaign.id).limit(MAX_LIST))
        return [as_json(row) for row in rows]


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidCampaign("bad_date", f"{field}: not a date YYYY-MM-DD", field) from None


# --- the effect --------------------------------------------------------------------------------


def _category_match(codes: list[str]) -> ColumnElement[bool]:
    category = func.coalesce(Case.category_code, Case.reported_category)
    return or_(*(category.startswith(code, autoescape=True) for code in codes))


@dataclass(frozen=True)
class CampaignEffect:
    campaign: dict[str, Any]
    control: str  # "other_towns" | "other_categories"
    week_starts: list[date]
    treated: list[int]
    control_counts: list[int]
    expected: list[float | None]  # the control scaled to the treated level before the start
    periods: dict[str, int]
    during: Effect
    after: Effect


def campaign_effect(
    db: Database, reference: ReferenceData, campaign_id: int, scope: Scope, now: datetime
) -> CampaignEffect:
    """Weekly reports before / during / after the campaign in its area and in the control."""
    tz = reference.calendar.tz
    today = now.astimezone(tz).date()
    with db.read() as session:
        row = _row(session, campaign_id, scope)
        start, end = date.fromisoformat(row.start_day), date.fromisoformat(row.end_day)
        periods = period_weeks(start, end, today, BEFORE_WEEKS, AFTER_WEEKS)
        weeks = periods["before"] + periods["during"] + periods["after"]
        first = start - timedelta(days=7 * periods["before"])
        origin = datetime.combine(first, time(0), tz).astimezone(UTC)
        codes = list(row.categories)
        in_campaign = in_area(Case.village_code, row.area_code)
        treated = total_by_week(session, origin, weeks, _category_match(codes), *in_campaign)
        outside = and_(
            *in_area(Case.village_code, scope.area_code),
            ~and_(*in_area(Case.village_code, row.area_code)),
        )
        control = total_by_week(session, origin, weeks, _category_match(codes), outside)
        kind = "other_towns"
        if sum(control[: periods["before"]]) == 0:
            kind = "other_categories"
            control = total_by_week(session, origin, weeks, ~_category_match(codes), *in_campaign)
        campaign = as_json(row)
    b, d = periods["before"], periods["during"]
    scale = sum(treated[:b]) / sum(control[:b]) if sum(control[:b]) else None
    return CampaignEffect(
        campaign=campaign,
        control=kind,
        week_starts=[first + timedelta(days=7 * i) for i in range(weeks)],
        treated=treated,
        control_counts=control,
        expected=[round(c * scale, 2) if scale is not None else None for c in control],
        periods=periods,
        during=effect(treated[:b], treated[b : b + d], control[:b], control[b : b + d]),
        after=effect(treated[:b], treated[b + d :], control[:b], control[b + d :]),
    )


def campaign_bands(
    db: Database, scope: Scope, first: date, last: date, area: str | None = None
) -> list[dict[str, Any]]:
    """For a trend chart of the local days ``[first, last]`` (of ``area``, default the scope's):
    the campaigns to draw as bands, ``{"id", "name", "categories", "area", "start", "end"}``
    with ``start``/``end`` clipped to the range (both inclusive, ISO dates)."""
    bands = []
    for c in overlapping(db, scope, first, last, area):
        bands.append(
            {
                "id": c["id"],
                "name": c["name"],
                "categories": c["categories"],
                "area": c["area"],
                "start": max(c["start"], first.isoformat()),
                "end": min(c["end"], last.isoformat()),
            }
        )
    return bands


def _effect_view(e: Effect) -> dict[str, Any]:
    return {
        "change_pct": e.change_pct,
        "low_pct": e.low_pct,
        "high_pct": e.high_pct,
        "significant": e.significant,
        "treated": [e.treated_before, e.treated_period],
        "control": [e.control_before, e.control_period],
        "weeks": [e.weeks_before, e.weeks_period],
    }


def campaign_effects_for_briefing(
    db: Database,
    reference: ReferenceData,
    scope: Scope,
    first: date,
    last: date,
    now: datetime,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """For the monthly briefing: each campaign overlapping ``[first, last]`` in the scope (at
    most ``limit``, latest start first) with its effect during and after, as plain numbers:
    ``{"id", "name", "area", "categories", "start", "end", "control", "during": {change_pct,
    low_pct, high_pct, significant, treated: [before, period], control: [...], weeks: [...]},
    "after": {...}}``. The page's sentence for these is layouts.leadership.effect_statement."""
    found = sorted(overlapping(db, scope, first, last), key=lambda c: c["start"], reverse=True)
    out = []
    for c in found[:limit]:
        measured = campaign_effect(db, reference, c["id"], scope, now)
        out.append(
            {
                "id": c["id"],
                "name": c["name"],
                "area": c["area"],
                "categories": c["categories"],
                "start": c["start"],
                "end": c["end"],
                "control": measured.control,
                "during": _effect_view(measured.during),
                "after": _effect_view(measured.after),
            }
        )
    return out


# --- as JSON (the API and the campaign page's chart) ---------------------------------------------


def _effect(e: EffectFigures) -> dict[str, Any]:
    return {
        "change_pct": e.change_pct,
        "interval_95": [e.low_pct, e.high_pct] if e.low_pct is not None else None,
        "significant": e.significant,
        "counts": {
            "treated_before": e.treated_before,
            "treated_period": e.treated_period,
            "control_before": e.control_before,
            "control_period": e.control_period,
            "weeks_before": e.weeks_before,
            "weeks_period": e.weeks_period,
        },
    }


def effect_json(found: CampaignEffect) -> dict[str, Any]:
    return {
        "campaign": found.campaign,
        "control": found.control,
        "method": "difference-in-differences of weekly report counts against the control, "
        "95 % interval with overdispersion (dashboard/domain/campaigns.py)",
        "periods": found.periods,
        "weeks": [
            {"start": s.isoformat(), "treated": tr, "control": co, "expected": ex}
            for s, tr, co, ex in zip(
                found.week_starts,
                found.treated,
                found.control_counts,
                found.expected,
                strict=True,
            )
        ],
        "during": _effect(found.during),
        "after": _effect(found.after),
    }
