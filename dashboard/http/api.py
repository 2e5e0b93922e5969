"""The intake API (``/api/v1``): blueprint registration, shared per-app state, JSON errors.

``register_api(server, services)`` mounts the case, reference and position blueprints under one
parent blueprint and turns every error raised in them into ``{"error", "message", "field"}``
with the right status: ApiError as raised, the domain's errors by class (``ERROR_STATUS``),
werkzeug's HTTP errors by their code, anything unexpected into a logged 500 without its trace.
The pages' catch-all route (Dash's ``/<path:path>``) would answer an unknown ``/api/v1/…`` path
with the HTML shell, so the API has its own catch-all (``_no_route``): 404, or 405 with ``Allow``
when another method of the path exists — both in JSON.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter, Map

from dashboard.clock import SERVER_TIME_HEADER
from dashboard.container import Services
from dashboard.domain.errors import DomainError, ReadOnlyRole, UnknownCategory
from dashboard.domain.gps_filter import FilterRule
from dashboard.domain.lifecycle import IllegalTransition
from dashboard.http import (
    api_camera_layouts,
    api_cameras,
    api_case_list,
    api_cases,
    api_positions,
    api_reference,
    api_residents,
    api_supervision,
    api_supervision_actions,
    api_tracks,
    api_trend_exports,
    api_trends,
    api_wall,
)
from dashboard.http.context import (  # the endpoints' helpers; also importable from here
    PREFIX,
    ApiContext,
    context,
    error_body,
    refuse_control_characters,
)
from dashboard.http.context import principal as principal
from dashboard.http.errors import ApiError
from dashboard.http.unavailable import unavailable_response
from dashboard.services.cases import CaseNotFound, ConcurrentChange, InvalidReport
from dashboard.services.photos import (
    DuplicatePhoto,
    InvalidPhoto,
    PhotoBusy,
    PhotoTooLarge,
)
from dashboard.services.positions import (
    InvalidFix,
    PositionService,
    UnknownWorkers,
    WorkersOutsideScope,
)
from dashboard.services.tracks import (
    DeviceError,
    DeviceRegistry,
    OsmandIntake,
    TrackError,
)
from dashboard.storage.db import DatabaseUnavailable

logger = logging.getLogger(__name__)

# Domain errors → (HTTP status, the field they concern when the error does not say).
ERROR_STATUS: tuple[tuple[type[DomainError], int, str | None], ...] = (
    (UnknownCategory, 422, "category"),
    (InvalidReport, 422, None),
    (InvalidFix, 422, None),
    (UnknownWorkers, 422, "fixes"),
    (InvalidPhoto, 422, "photos"),
    (PhotoTooLarge, 413, "photos"),
    (DuplicatePhoto, 409, "photos"),
    (PhotoBusy, 503, "photos"),
    (IllegalTransition, 409, None),
    (ConcurrentChange, 409, None),
    (CaseNotFound, 404, None),
    (ReadOnlyRole, 403, None),
    (WorkersOutsideScope, 403, "fixes"),
    (TrackError, 422, None),
    (DeviceError, 422, None),
)


MAX_ROW_ID = 2**31 - 1  # the id columns are 32-bit: a larger path id is a 404, not a 500


def _up_to(limit: str) -> str:
    """A regular expression for the decimal numbers 0 … ``limit`` (no sign)."""
    shorter = f"[0-9]{{1,{len(limit) - 1}}}"
    same_length = [
        limit[:i] + (f"[0-{int(d) - 1}]" if d != "1" else "0") + f"[0-9]{{{len(limit) - i - 1}}}"
        for i, d in enumerate(limit)
        if d != "0"
    ]
    return "(?:" + "|".join([shorter, *same_length, limit]) + ")"


class RowId(IntegerConverter):
    """``<int:…>`` in every route registered after ``register_api`` starts: 0 … ``MAX_ROW_ID``
    (``/cases/99999999999`` was a database overflow, a 500). A larger number does not match the
    rule at all, so the API's catch-all answers the JSON 404."""

    regex = _up_to(str(MAX_ROW_ID))

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def register_api(server: Flask, services: Services) -> None:
    server.url_map.converters["int"] = RowId
    tracks = services.config.tracks
    rule = FilterRule(max_accuracy_m=tracks.max_accuracy_m, max_speed_kmh=tracks.max_speed_kmh)
    cache = None
    if services.config.bus.backend == "redis":  # the newest position per worker in Redis too
        from dashboard.storage.latest_redis import RedisLatest

        cache = RedisLatest.from_url(services.config.bus.redis_url, services.config.bus.channel)
    positions = PositionService(services.db, services.bus, services.locator, rule, cache)
    devices = DeviceRegistry(services.db)
    intake = OsmandIntake(devices, positions, services.cases)
    server.extensions["gcc_api"] = ApiContext(
        services=services,
        photos=services.photos,  # the container's: the case pages share it
        positions=positions,
        devices=devices,
        osmand=intake,
    )
    from dashboard.http.osmand import install_osmand  # /osmand on the web port (issue 16)

    install_osmand(server, services, intake)
    # A fresh parent per app: the children are module-level and may join several apps (tests).
    api = Blueprint("api", __name__, url_prefix=PREFIX)
    children = (
        *(api_cases.bp, api_reference.bp, api_positions.bp, api_supervision_actions.bp),
        *(api_case_list.bp, api_supervision.bp, api_tracks.bp, api_residents.bp, api_wall.bp),
    )
    for child in children:
        api.register_blueprint(child)
    for child in (api_cameras.bp, api_camera_layouts.bp):  # the video wall (issue 4)
        api.register_blueprint(child)
    from dashboard.http import api_leadership  # rising problems, campaigns, rankings (issue 13)

    api.register_blueprint(api_leadership.bp)
    api.register_blueprint(api_trends.bp)
    api.register_blueprint(api_trend_exports.bp)
    server.register_blueprint(api_cameras.video_bp)  # /video/cameras/<id>/live.mjpg
    api.after_request(_server_time)
    api.before_request(refuse_control_characters)
    api.register_error_handler(ApiError, _api_error)
    api.register_error_handler(DomainError, _domain_error)
    api.register_error_handler(IntegrityError, _integrity_error)
    api.register_error_handler(OperationalError, _database_busy)
    api.register_error_handler(SqlTimeout, _database_busy)
    api.register_error_handler(DatabaseUnavailable, _database_unavailable)
    api.register_error_handler(HTTPException, _http_error)
    api.register_error_handler(Exception, _unexpected)
    api.add_url_rule("/<path:_rest>", "no_route", _no_route, methods=_METHODS)
    server.register_blueprint(api)


def _server_time(response: Response) -> Response:
    """Every API answer says the server's time (its controlled clock): remote clients such as the
    simulator stamp what they send with it instead of their own machine's date."""
    response.headers[SERVER_TIME_HEADER] = context().services.clock.now().isoformat()
    return response


# --- error handlers ---------------------------------------------------------------------------


def json_error(err: Exception) -> ResponseReturnValue:
    """Any error as the API's JSON answer (for API routes outside this blueprint: the audit)."""
    if isinstance(err, ApiError):
        return _api_error(err)
    if isinstance(err, DomainError):
        return _domain_error(err)
    if isinstance(err, IntegrityError):
        return _integrity_error(err)
    if isinstance(err, OperationalError):
        return _database_busy(err)
    if isinstance(err, HTTPException):
        return _http_error(err)
    return _unexpected(err)


def _api_error(err: ApiError) -> ResponseReturnValue:
    return err.response()


def _domain_error(err: DomainError) -> ResponseReturnValue:
    status, field = 422, None
    for kind, kind_status, kind_field in ERROR_STATUS:
        if isinstance(err, kind):
            status, field = kind_status, kind_field
            break
    field = getattr(err, "field", None) or field
    headers = {"Retry-After": "5"} if status == 503 else {}  # busy (photo decodes): retry
    return jsonify(error_body(err.code, err.message, field)), status, headers


def _integrity_error(err: IntegrityError) -> ResponseReturnValue:
    # A race the checks before the write could not see (two requests writing the same row).
    logger.warning("api write refused by the database: %s", type(err.orig).__name__)
    body = error_body("conflict", "a concurrent request changed the same data; retry")
    return jsonify(body), 409


def _database_busy(err: OperationalError | SqlTimeout) -> ResponseReturnValue:
    # SQLite's single writer timed out ("database is locked") or PostgreSQL went away: nothing
    # was written, the client may retry (with its Idempotency-Key) in a moment.
    logger.warning(
        "api request %s %s: database unavailable: %s",
        request.method,
        request.path,
        getattr(err, "orig", None) or type(err).__name__,
    )
    body = error_body("database_busy", "the database is busy or unreachable; retry shortly")
    return jsonify(body), 503, {"Retry-After": "1"}


def _database_unavailable(err: DatabaseUnavailable) -> ResponseReturnValue:
    # Translated at the storage boundary (dashboard.storage.db), logged there once.
    logger.warning("api request %s %s: database unavailable", request.method, request.path)
    return unavailable_response()


def _http_error(err: HTTPException) -> ResponseReturnValue:
    code = (err.name or "error").lower().replace(" ", "_")
    status = err.code or 500
    response = jsonify(error_body(code, err.description or err.name))
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        response.headers["Allow"] = ", ".join(err.valid_methods)
    return response, status


_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _no_route(_rest: str) -> ResponseReturnValue:
    """No API view has this path and method: 405 if another method has one, else 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in _METHODS:
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != request.endpoint:
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound(f"there is no {PREFIX} endpoint {request.path}")


def _unexpected(err: Exception) -> ResponseReturnValue:
    logger.exception("api request %s %s failed", request.method, request.path)
    return jsonify(error_body("internal_error", "the server could not handle the request")), 500
