"""The live wall's drill-down over HTTP (docs/wall.md): the layers of its map and the snapshot of
a narrower area.

- ``/wall/towns.geojson?area=`` — the towns of an area (a county or city wall's units), with
  their names; geometry only: their colours come from the snapshot's ``units``;
- ``/wall/villages.geojson?area=`` — the villages of an area (a town's, when the wall drills in),
  the same features as ``/villages.geojson``;
- ``/wall/snapshot?area=`` — the wall's snapshot for that area (no alarms: the banner stays the
  wall's own), rate-limited as a heavy request;
- ``/wall/geofence?lon=&lat=[&lang=]`` — a click on the map (issue 16): the grid (with its
  name, "阳春村第3网格") and the village at that point, each with the workers inside now and
  their dwell time (the grid is the geofence), for principals who may see positions; a heavy
  request.

``area`` must lie inside the caller's scope (404 otherwise, as for any place it may not see).
Every answer is gzip-compressed when the browser accepts it (dashboard/http/compression.py), and
the GeoJSON carries an ETag over its bytes, so a reload costs a 304.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from dashboard.domain.permissions import Permission, Scope
from dashboard.http.api_reference import _villages
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.i18n import normalise_lang
from dashboard.read.wall import narrowed, wall_view
from dashboard.security.heavy import heavy
from dashboard.security.web import require
from dashboard.services.patrol_stats import geofence_at
from dashboard.storage.models import Town
from dashboard.storage.scoping import in_area
from layouts.case_format import grid_name

bp = Blueprint("wall", __name__, url_prefix="/wall")
_AREA_DIGITS = (4, 6, 9, 12)


def _scope() -> Scope:
    """The caller's scope narrowed to ``?area=`` (a code of 4, 6, 9 or 12 digits)."""
    area = request.args.get("area", "")
    if area and (not area.isascii() or not area.isdigit() or len(area) not in _AREA_DIGITS):
        raise ApiError(400, "bad_area", "area must be a code of 4, 6, 9 or 12 digits")
    scope = narrowed(principal().scope, area)
    if scope is None:
        raise ApiError(404, "not_found", "no such area")
    return scope


def _answer(body: bytes, mimetype: str, etag: bool = False) -> ResponseReturnValue:
    """An answer (gzip-compressed on the way out by dashboard/http/compression.py)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-cache"
    if etag:
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        return response.make_conditional(request)
    return response


def _collection(features: list[str]) -> bytes:
    return f'{{"type":"FeatureCollection","features":[{",".join(features)}]}}'.encode()


def _feature(code: str, geometry: str, props: dict[str, Any]) -> str:
    text = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
    return f'{{"type":"Feature","id":{json.dumps(code)},"geometry":{geometry},"properties":{text}}}'


@bp.get("/towns.geojson")
@require(Permission.VIEW_WALL)
def towns_geojson() -> ResponseReturnValue:
    scope = _scope()
    with context().services.db.read() as session:
        rows = session.execute(
            select(Town.code, Town.name, Town.geometry)
            .where(*in_area(Town.code, scope.area_code))
            .order_by(Town.code)
        ).all()
    features = [_feature(c, g, {"code": c, "name": n}) for c, n, g in rows]
    return _answer(_collection(features), "application/geo+json", etag=True)


@bp.get("/villages.geojson")
@require(Permission.VIEW_WALL)
def villages_geojson() -> ResponseReturnValue:
    scope = _scope()
    ctx = context()
    with ctx.services.db.read() as session:
        rows = _villages(ctx, session, scope, with_geometry=True)
    features = [_feature(props["code"], geometry, props) for props, geometry in rows]
    return _answer(_collection(features), "application/geo+json", etag=True)


@bp.get("/snapshot")
@require(Permission.VIEW_WALL)
@heavy("search")
def snapshot() -> ResponseReturnValue:
    scope = _scope()
    services = context().services
    with services.db.read() as session:
        now = services.clock.now()
        data = wall_view(session, scope, now, services.reference.calendar.tz, alarms_since=now)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return _answer(body, "application/json")


@bp.get("/geofence")
@require(Permission.VIEW_POSITIONS)
@heavy("search")
def geofence() -> ResponseReturnValue:
    try:
        lon, lat = float(request.args.get("lon", "")), float(request.args.get("lat", ""))
    except ValueError:
        raise ApiError(400, "bad_point", "lon and lat must be numbers") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ApiError(400, "bad_point", "lon or lat out of range")
    services = context().services
    fresh = timedelta(minutes=services.config.tracks.silent_minutes)
    answer = geofence_at(
        services.db,
        services.locator,
        principal().scope.area_code or "",
        lon,
        lat,
        services.clock.now(),
        fresh,
    )
    if answer is None:
        raise ApiError(404, "not_found", "no grid of your area at this point")
    # A grid has no name of its own: its village's and its number (as everywhere in the product).
    lang = normalise_lang(request.args.get("lang"), services.config.ui.language)
    grid, village = answer["grid"], answer["village"]
    grid["name"] = grid_name(grid["code"], village["code"], village["name"], lang)
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    return _answer(body, "application/json")
