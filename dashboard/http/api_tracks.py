"""Patrol tracks over the API (issue 16). Every answer is scoped: a grid worker sees only their
own track; other roles need ``view_positions`` and see the workers of their area. Each request
spends one of the caller's heavy ``search`` requests (dashboard.security.heavy).

- ``GET /workers/{id}/track?from=ISO&to=ISO``: ``{"worker", "fixes": [{"at", "lat", "lon",
  "accuracy", "speed", "valid", "flags"}…]}`` in time order, filtered fixes included with
  ``valid: false`` and the reasons in ``flags`` (at most 31 days; times with an offset);
- ``GET /workers/{id}/patrol?from&to``: the patrol summary (distance, time on patrol, moving,
  stopped, inside/outside the own grid, stops, silent and out-of-grid episodes, coverage);
- ``GET /patrol?area=CODE&from&to``: the same per worker of a grid, village or town;
- ``GET /tracks/moment?at=ISO&area=CODE``: everyone's position at one moment;
- ``GET /geofence?area=CODE``: who is inside a grid or village now, since when (dwell).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from dashboard.domain.permissions import Permission
from dashboard.domain.roles import Role
from dashboard.domain.time_bounds import check_query_time
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.i18n import LANGS, t
from dashboard.security.heavy import heavy
from dashboard.security.principal import Principal
from dashboard.services.patrol_stats import PatrolStats, everyone_at, inside_now
from dashboard.services.track_replay import build_replay
from dashboard.services.tracks import check_span, read_track, worker_place
from dashboard.services.trend_render import RenderUnavailable, html_pdf
from layouts.track_print import track_print_html

bp = Blueprint("tracks", __name__)
_KEY = "gcc_patrol_stats"
MAX_AREA_WORKERS_SPAN = timedelta(days=7)  # an area's statistics: a week at most per request


def _stats() -> PatrolStats:
    stats = current_app.extensions.get(_KEY)
    if stats is None:
        services = context().services
        stats = current_app.extensions[_KEY] = PatrolStats(services.db, services.config.tracks)
    assert isinstance(stats, PatrolStats)
    return stats


def _time(name: str, default: datetime | None = None) -> datetime:
    value = request.args.get(name)
    if not value:
        if default is not None:
            return default
        raise ApiError(422, "missing_time", f"{name} is required (ISO 8601 with offset)", name)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid_time", f"{name} must be an ISO 8601 time", name) from None
    if moment.tzinfo is None:
        raise ApiError(422, "invalid_time", f"{name} needs a time zone (e.g. +08:00)", name)
    return moment


def _span() -> tuple[datetime, datetime]:
    now = context().services.clock.now()
    return check_span(_time("from"), _time("to"), now)


def _may_see_worker(who: Principal, worker_id: str) -> tuple[str, str, str]:
    place = worker_place(context().services.db, worker_id)
    if who.role is Role.GRID_WORKER:
        if worker_id != (who.worker_id or who.name):
            raise ApiError(403, "not_your_track", "a grid worker sees only their own track")
    elif not who.can(Permission.VIEW_POSITIONS):
        raise ApiError(403, "forbidden", f"the role {who.role} may not view_positions")
    if place is None or not who.scope.allows_place(place[2]):
        raise ApiError(404, "unknown_worker", f"no grid worker {worker_id!r} in your area")
    return place


def _area(who: Principal, required: bool = True) -> str:
    if not who.can(Permission.VIEW_POSITIONS):
        raise ApiError(403, "forbidden", f"the role {who.role} may not view_positions")
    area = (request.args.get("area") or "").strip()
    if not area and required:
        raise ApiError(422, "missing_area", "area (a grid, village or town code) is required")
    if area and (not area.isdigit() or len(area) > 15):
        raise ApiError(422, "bad_area", "area is a region code of digits", "area")
    scope = who.scope.area_code
    if scope and not area.startswith(scope):
        if area and not scope.startswith(area):
            raise ApiError(403, "outside_scope", f"{area} is outside your area {scope}", "area")
        area = scope  # a wider area than the caller's: their own
    return area


@bp.get("/workers/<worker_id>/track")
@heavy("search")
def track(worker_id: str) -> ResponseReturnValue:
    who = principal()
    _may_see_worker(who, worker_id)
    start, end = _span()
    fixes = read_track(context().services.db, worker_id, start, end)
    return jsonify({"worker": worker_id, "fixes": [f.as_json() for f in fixes]})


@bp.get("/workers/<worker_id>/track.pdf")
@heavy("search")
def track_pdf(worker_id: str) -> ResponseReturnValue:
    """The printable track map with the stops' times (A4 PDF, layouts/track_print.py)."""
    who = principal()
    _may_see_worker(who, worker_id)
    start, end = _span()
    lang = request.args.get("lang", "zh")
    if lang not in LANGS:
        raise ApiError(422, "bad_lang", "lang is zh or en", "lang")
    services = context().services
    cfg = services.config.tracks
    replay = build_replay(services.db, cfg, [worker_id], start, end)
    if not replay.workers:
        raise ApiError(404, "unknown_worker", f"no grid worker {worker_id!r} in your area")
    page = track_print_html(
        replay,
        lang,
        services.reference.calendar.tz,
        services.clock.now(),
        services.config.ui.title or t("app.title", lang),
        (cfg.stop_radius_m, cfg.stop_minutes),
    )
    try:
        pdf = html_pdf(page)
    except RenderUnavailable as err:
        raise ApiError(503, "render_unavailable", str(err)) from None
    day = start.astimezone(services.reference.calendar.tz).strftime("%Y%m%d")
    safe = "".join(c for c in worker_id if c.isascii() and (c.isalnum() or c in "-_"))[:40]
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="track-{safe}-{day}.pdf"'
    return response


@bp.get("/workers/<worker_id>/patrol")
@heavy("search")
def worker_patrol(worker_id: str) -> ResponseReturnValue:
    who = principal()
    _may_see_worker(who, worker_id)
    start, end = _span()
    stats = _stats().worker_stats(worker_id, start, end)
    assert stats is not None  # _may_see_worker found the worker
    return jsonify({"from": start.isoformat(), "to": end.isoformat(), **stats.as_json()})


@bp.get("/patrol")
@heavy("search")
def area_patrol() -> ResponseReturnValue:
    area = _area(principal())
    start, end = _span()
    if end - start > MAX_AREA_WORKERS_SPAN:
        raise ApiError(422, "range_too_long", "an area's statistics span at most 7 days", "to")
    rows = [s.as_json() for s in _stats().area_stats(area, start, end)]
    for row in rows:  # the per-worker lists stay on the worker's own endpoint
        for key in ("stops", "silent", "outside"):
            row[f"{key}_count"] = len(row.pop(key))
    totals: dict[str, Any] = {
        "workers": len(rows),
        "distance_m": round(sum(r["distance_m"] for r in rows), 1),
        "patrol_s": sum(r["patrol_s"] for r in rows),
        "inside_s": sum(r["inside_s"] for r in rows),
    }
    body = {"area": area, "from": start.isoformat(), "to": end.isoformat()}
    return jsonify({**body, "totals": totals, "workers": rows})


@bp.get("/tracks/moment")
@heavy("search")
def moment() -> ResponseReturnValue:
    area = _area(principal(), required=False)
    now = context().services.clock.now()
    at = check_query_time(_time("at"), now, "at")
    positions = everyone_at(context().services.db, area or None, at)
    return jsonify({"at": at.isoformat(), "area": area or None, "workers": positions})


@bp.get("/geofence")
@heavy("search")
def geofence() -> ResponseReturnValue:
    area = _area(principal())
    if len(area) not in (12, 15):
        raise ApiError(422, "bad_area", "a geofence is a grid (15) or village (12 digits)", "area")
    services = context().services
    now = services.clock.now()
    fresh = timedelta(minutes=services.config.tracks.silent_minutes)
    inside = inside_now(services.db, services.locator, area, now, fresh)
    return jsonify({"area": area, "at": now.isoformat(), "inside": inside})
