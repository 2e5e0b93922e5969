"""The leader's figures over HTTP (issue 13): rising problems, campaigns, rankings.

- ``GET /trends/rising[?lang=zh|en]`` — rises (and falls after a campaign) of the last seven
  local days in the caller's area (dashboard.services.rising; rate-limited as a search);
- ``GET /campaigns`` — the campaigns in the caller's area, latest first (at most 200);
- ``POST /campaigns`` ``{"name", "categories": [codes], "area", "start", "end", "note"?}``
  (dates ``YYYY-MM-DD``, local, both inclusive) — leaders, commanders, administrators: 201;
- ``GET / PUT / DELETE /campaigns/{id}`` — one campaign (PUT takes the whole body again);
- ``GET /campaigns/{id}/effect`` — reports per week before / during / after against the
  control, with the difference-in-differences estimate and its 95 % interval;
- ``GET /rankings[?from=YYYY-MM-DD&to=YYYY-MM-DD]`` — departments, towns and grid workers.

Bad input is 422 naming the field, a campaign outside the caller's area 404, every write is
audited in its own transaction (dashboard.services.campaigns).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import Field

from dashboard.domain.campaigns import (
    MAX_CATEGORIES,
    MAX_NAME,
    MAX_NOTE,
    CampaignSpec,
    InvalidCampaign,
)
from dashboard.domain.permissions import Permission
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.http.schemas import _Body, parse_json
from dashboard.i18n import normalise_lang
from dashboard.security.heavy import heavy
from dashboard.security.web import client_ip, require
from dashboard.services import campaigns
from dashboard.services.campaigns import effect_json
from dashboard.services.rankings import rankings
from dashboard.services.rising import rising_problems

bp = Blueprint("leadership", __name__)


class CampaignIn(_Body):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    categories: list[str] = Field(min_length=1, max_length=MAX_CATEGORIES)
    area: str = Field(min_length=6, max_length=12, pattern=r"^[0-9]+$")
    start: date
    end: date
    note: str = Field("", max_length=MAX_NOTE)

    def spec(self) -> CampaignSpec:
        return CampaignSpec(
            self.name, tuple(self.categories), self.area, self.start, self.end, self.note
        )


def _lang() -> Any:
    return normalise_lang(request.args.get("lang"), context().services.config.ui.language)


@bp.get("/trends/rising")
@require(Permission.VIEW_TRENDS)
@heavy("search")
def rising() -> ResponseReturnValue:
    services = context().services
    who = principal()
    found = rising_problems(
        services.db, services.reference, who.scope, services.clock.now(), _lang()
    )
    return jsonify(found)


def _recorder() -> Any:
    who = principal()
    if not campaigns.may_record(who.role):
        raise ApiError(403, "forbidden", f"the role {who.role} may not record campaigns")
    return who


def _refused(err: Exception) -> ApiError:
    return ApiError(422, getattr(err, "code", "invalid"), str(err), getattr(err, "field", None))


@bp.get("/campaigns")
@require(Permission.VIEW_TRENDS)
def list_campaigns() -> ResponseReturnValue:
    return jsonify({"campaigns": campaigns.listing(context().services.db, principal().scope)})


@bp.post("/campaigns")
@require(Permission.VIEW_TRENDS)
def create_campaign() -> ResponseReturnValue:
    who = _recorder()
    body = parse_json(CampaignIn, request.get_data())
    services = context().services
    try:
        created = campaigns.create(
            services.db,
            services.reference,
            body.spec(),
            who.actor(client_ip()),
            who.scope,
            services.clock.now(),
        )
    except InvalidCampaign as err:
        raise _refused(err) from None
    return jsonify(created), 201


@bp.get("/campaigns/<int:campaign_id>")
@require(Permission.VIEW_TRENDS)
def get_campaign(campaign_id: int) -> ResponseReturnValue:
    return jsonify(_found(campaigns.get, context().services.db, campaign_id, principal().scope))


@bp.put("/campaigns/<int:campaign_id>")
@require(Permission.VIEW_TRENDS)
def update_campaign(campaign_id: int) -> ResponseReturnValue:
    who = _recorder()
    body = parse_json(CampaignIn, request.get_data())
    services = context().services
    try:
        return jsonify(
            _found(
                campaigns.update,
                services.db,
                services.reference,
                campaign_id,
                body.spec(),
                who.actor(client_ip()),
                who.scope,
                services.clock.now(),
            )
        )
    except InvalidCampaign as err:
        raise _refused(err) from None


@bp.delete("/campaigns/<int:campaign_id>")
@require(Permission.VIEW_TRENDS)
def delete_campaign(campaign_id: int) -> ResponseReturnValue:
    who = _recorder()
    services = context().services
    _found(
        campaigns.delete,
        services.db,
        campaign_id,
        who.actor(client_ip()),
        who.scope,
        services.clock.now(),
    )
    return "", 204


@bp.get("/campaigns/<int:campaign_id>/effect")
@require(Permission.VIEW_TRENDS)
@heavy("search")
def campaign_effect(campaign_id: int) -> ResponseReturnValue:
    services = context().services
    found = _found(
        campaigns.campaign_effect,
        services.db,
        services.reference,
        campaign_id,
        principal().scope,
        services.clock.now(),
    )
    return jsonify(effect_json(found))


def _found(action: Any, *args: Any) -> Any:
    try:
        return action(*args)
    except campaigns.CampaignNotFound as err:
        raise ApiError(404, err.code, err.message) from None


@bp.get("/rankings")
@require(Permission.VIEW_TRENDS)
@heavy("search")
def ranking() -> ResponseReturnValue:
    services = context().services
    now = services.clock.now()
    first, last = ranking_period(request.args.get("from"), request.args.get("to"), services, now)
    return jsonify(
        rankings(
            services.db,
            services.reference,
            services.config.evaluation,
            principal().scope,
            first,
            last,
            now,
            _lang(),
            tracks=services.config.tracks,
        )
    )


def ranking_period(
    raw_from: str | None, raw_to: str | None, services: Any, now: Any
) -> tuple[date, date]:
    """The ranking's local days (both inclusive): by default the configured number of days up
    to yesterday; at most 366 days, within the query window of time_bounds."""
    today = now.astimezone(services.reference.calendar.tz).date()
    last = _day(raw_to, "to") if raw_to else today - timedelta(days=1)
    first = (
        _day(raw_from, "from")
        if raw_from
        else last - timedelta(days=services.config.evaluation.period_days - 1)
    )
    if first > last:
        raise ApiError(422, "bad_period", "from: after to", "from")
    if (last - first).days >= 366:
        raise ApiError(422, "bad_period", "to: at most 366 days after from", "to")
    if first < today - timedelta(days=20 * 366) or last > today + timedelta(days=366):
        raise ApiError(422, "bad_period", "from/to: too far from today", "from")
    return first, last


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "bad_date", f"{field}: not a date YYYY-MM-DD", field) from None
