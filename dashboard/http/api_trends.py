"""``GET /api/v1/trends/summary?from=YYYY-MM-DD&to=YYYY-MM-DD[&town=CODE]``: the closure figures
of a period (local dates of the command room, both inclusive) with its 环比 (``previous``) and
同比 (``last_year``, aligned on the working calendar: dashboard.domain.trend_periods), for the
caller's area (``view_trends``; rate-limited as a search).

Answer: ``{"from", "to", "reported", "registered", "closed", "closed_on_time",
"should_be_closed", "closure_rate", "on_time_closure_rate", "rework_rate", "previous": {…},
"last_year": {…}}`` — counts as integers, rates as percentages with two decimals or null
(dashboard.domain.metrics); ``previous`` and ``last_year`` carry the same keys, with their own
``from`` and ``to``. A bad or missing date, a reversed or too long period, or a malformed town is
a 422 naming the field; a town outside the caller's area a 403.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from dashboard.domain.permissions import Permission
from dashboard.domain.trend_periods import DateRange, InvalidPeriod, parse_range
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.security.heavy import heavy
from dashboard.security.web import require
from dashboard.services.trends import TrendQueries

bp = Blueprint("trends", __name__)

_TOWN = re.compile(r"^[0-9]{9}$")


def requested_dates(now: datetime) -> DateRange:
    """The request's ``from`` and ``to`` (local dates of the command room, both inclusive;
    defaults and bounds by ``parse_range``), or a 422 naming the bad field."""
    calendar = context().services.reference.calendar
    try:
        return parse_range(
            request.args.get("from"), request.args.get("to"), now.astimezone(calendar.tz).date()
        )
    except InvalidPeriod as err:
        raise ApiError(422, err.code, err.message, err.field) from None


@bp.get("/trends/summary")
@require(Permission.VIEW_TRENDS)
@heavy("search")
def summary() -> ResponseReturnValue:
    services, who = context().services, principal()
    now = services.clock.now()
    dates = requested_dates(now)
    where: dict[str, str] = {}
    town = request.args.get("town")
    if town is not None:
        if not _TOWN.match(town):
            raise ApiError(422, "bad_town", "town must be a 9-digit town code", "town")
        area = who.scope.area_code or ""
        if not (town.startswith(area) or area.startswith(town)):
            raise ApiError(403, "outside_scope", "that town is outside your area", "town")
        where["town"] = town
    queries = TrendQueries(services.db, services.reference.calendar)
    return jsonify(queries.summary(dates, who.scope, now, where=where).contract())
