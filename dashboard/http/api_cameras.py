"""Cameras over HTTP: the directory with live status, one snapshot, the full-size stream, and a
snapshot saved as evidence on a case.

Everything needs ``Permission.VIEW_CAMERAS`` and the camera inside the caller's area; a camera
outside it answers 404 like an unknown one. The browser only ever knows camera ids: answers are
built from the directory's public columns (dashboard.services.cameras), and frames come from
the capture service (``services.capture``, a streams.capture.CaptureClient), whose
errors are translated here: capture down or camera offline → 503 JSON, never a stream URL.

- ``GET /api/v1/cameras`` → ``{"cameras": [{id, name, kind, lon, lat, village, village_name,
  status, fps, age}]}``; with ``?near=lon,lat``, ``?case=<id>`` or ``?village=<code>`` (and
  ``radius_m``, ``limit``) the nearest cameras with ``distance_m``, nearest first (``case``: a
  case the caller may view, or a wall screen's case in its area). ``status`` is
  the capture state, or ``"unknown"`` when the capture service does not answer (still 200).
- ``GET /api/v1/cameras/<id>/snapshot.jpg[?quality=tile|full]`` → one JPEG (audited).
- ``GET /video/cameras/<id>/live.mjpg`` → full-size MJPEG (audited), its own connection; the
  upstream connection to the capture service closes when the browser goes away.
- ``POST /api/v1/cases/<id>/evidence`` ``{"camera_id"}`` → 201 ``{attachment_id, camera_id, at,
  saved_at}``: the camera's full-size frame becomes a photo of the case and a step of its trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dashboard.domain.permissions import Permission
from dashboard.http.context import ApiContext, context, principal, refuse_control_characters
from dashboard.http.errors import ApiError
from dashboard.http.schemas import parse_json
from dashboard.http.stream_limits import FullViewLimits
from dashboard.security.audit import record_camera_view
from dashboard.security.principal import Principal
from dashboard.security.scoping import case_visible, ensure_may_change
from dashboard.security.web import client_ip, require
from dashboard.services import cameras as directory
from dashboard.services.camera_evidence import CaseFinished, save_evidence
from dashboard.services.cases import CaseNotFound
from dashboard.storage.models import Case
from streams.capture.client import (
    CameraOffline,
    CaptureBusy,
    CaptureClient,
    CaptureUnavailable,
    Frame,
    UnknownCamera,
)

logger = logging.getLogger(__name__)

bp = Blueprint("cameras", __name__)
# Not under /api/v1: the full-size view is a page's <img>, session-authenticated.
video_bp = Blueprint("video", __name__, url_prefix="/video")
video_bp.before_request(refuse_control_characters)  # a NUL in a camera id reached the database

MAX_LIMIT = 100
MJPEG_TYPE = "multipart/x-mixed-replace; boundary=frame"
FULL_VIEW_RETRY_S = 5


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    camera_id: str = Field(min_length=1, max_length=40)


# --- the directory ------------------------------------------------------------------------------


@bp.get("/cameras")
@require(Permission.VIEW_CAMERAS)
def list_cameras() -> ResponseReturnValue:
    ctx, who = context(), principal()
    place = _place(ctx)
    with ctx.services.db.read() as session:
        if place is None:
            cameras = directory.list_cameras(session, who.scope)
        else:
            lon, lat, radius, limit = place
            cameras = directory.nearest_cameras(session, lon, lat, radius, who.scope, limit)
    live = _statuses(ctx)
    for camera in cameras:
        status = live.get(camera["id"])
        camera["status"] = status.state if status else "unknown"
        camera["fps"] = round(status.fps, 2) if status else 0.0
        camera["age"] = None if status is None or status.age is None else round(status.age, 2)
    return jsonify({"cameras": cameras})


def _place(ctx: ApiContext) -> tuple[float, float, float, int] | None:
    """(lon, lat, radius, limit) of ``near``/``case``/``village``, or None for the whole list."""
    given = [k for k in ("near", "case", "village") if k in request.args]
    if not given:
        return None
    if len(given) > 1:
        raise ApiError(422, "ambiguous_place", "give one of near, case or village", given[1])
    default_radius = ctx.services.config.video.check_radius_m
    radius = _number("radius_m", default_radius, 1, directory.MAX_RADIUS_M)
    limit = int(_number("limit", directory.NEAREST_LIMIT, 1, MAX_LIMIT))
    lon, lat = _centre(ctx, given[0], request.args[given[0]])
    return lon, lat, radius, limit


def _centre(ctx: ApiContext, kind: str, value: str) -> tuple[float, float]:
    if kind == "near":
        parts = value.split(",")
        try:
            lon, lat = (float(p) for p in parts) if len(parts) == 2 else (None, None)
        except ValueError:
            lon = lat = None
        if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ApiError(422, "invalid_field", "near: lon,lat in WGS-84 degrees", "near")
        return lon, lat
    with ctx.services.db.read() as session:
        if kind == "case":
            return _case_centre(session, value)
        centre = directory.village_centre(session, value)
    if centre is None:
        raise ApiError(404, "village_not_found", f"there is no village {value!r}", "village")
    return centre


def _case_centre(session: Session, value: str) -> tuple[float, float]:
    row = session.get(Case, int(value)) if value.isdigit() and len(value) < 12 else None
    if row is None or not _may_locate(principal(), row):
        raise ApiError(404, "case_not_found", f"there is no case {value!r}", "case")
    return float(row.lon), float(row.lat)


def _may_locate(who: Principal, case: Case) -> bool:
    """Case viewers, and wall screens for a case in their area: the wall's feed and map show
    such a case's place already, and its video check starts from it (``?case=``)."""
    if case_visible(who, case):
        return True
    return who.can(Permission.VIEW_WALL) and who.scope.allows_case(
        case.village_code, case.department_code
    )


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        raise ApiError(422, "invalid_field", f"{name}: a number from {low:g} to {high:g}", name)
    return value


def _statuses(ctx: ApiContext) -> dict[str, Any]:
    client = _client(ctx, required=False)
    if client is None:
        return {}
    try:
        return {s.id: s for s in client.status()}
    except CaptureUnavailable:
        return {}


# --- frames ---------------------------------------------------------------------------------------


@bp.get("/cameras/<camera_id>/snapshot.jpg")
@require(Permission.VIEW_CAMERAS)
def snapshot(camera_id: str) -> ResponseReturnValue:
    ctx = context()
    quality = request.args.get("quality", "full")
    if quality not in ("tile", "full"):
        raise ApiError(422, "invalid_field", "quality: tile or full", "quality")
    _visible_camera(ctx, camera_id)
    frame = _snapshot(ctx, camera_id, quality)
    _audit_view(ctx, camera_id, "snapshot")
    response = Response(frame.jpeg, mimetype="image/jpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.last_modified = frame.at
    return response


@video_bp.get("/cameras/<camera_id>/live.mjpg")
@require(Permission.VIEW_CAMERAS)
def live_mjpeg(camera_id: str) -> ResponseReturnValue:
    ctx = context()
    _visible_camera(ctx, camera_id)
    client = _client(ctx)
    assert client is not None
    limits, viewer = _full_view_limits(ctx), f"{principal().kind}:{principal().name}"
    refused = limits.acquire(viewer)
    if refused is not None:
        logger.warning("camera %s: full view refused for %s (%s cap)", camera_id, viewer, refused)
        cap = limits.per_viewer if refused == "viewer" else limits.total
        raise ApiError(
            429,
            "too_many_streams",
            f"at most {cap} full-size views at once; close one first",
            headers={"Retry-After": str(FULL_VIEW_RETRY_S)},
        )
    try:
        # The capture service answers 503 within its snapshot wait when the camera has no
        # picture, before sending any header; errors before the first byte still get JSON.
        try:
            chunks = client.mjpeg(camera_id)
        except (CameraOffline, CaptureUnavailable, UnknownCamera) as err:
            raise _capture_error(err, camera_id) from None
        first = next(chunks, b"")
        if not first:
            _close(chunks)
            raise _offline(camera_id)
    except BaseException:
        limits.release(viewer)
        raise
    _audit_view(ctx, camera_id, "fullscreen")
    logger.info("camera %s: full-size view opened by %s", camera_id, principal().name)
    body = _relay(first, chunks, camera_id, lambda: limits.release(viewer))
    response = Response(stream_with_context(body), mimetype=MJPEG_TYPE)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy in front must not buffer a stream
    return response


def _relay(
    first: bytes, chunks: Iterator[bytes], camera_id: str, done: Callable[[], None]
) -> Iterator[bytes]:
    """The upstream body, closed when the browser leaves (the server closes this generator);
    ``done`` frees the viewer's slot."""
    try:
        yield first
        yield from chunks
    except (CameraOffline, CaptureUnavailable, UnknownCamera) as err:
        logger.info("camera %s: full-size stream ended: %s", camera_id, type(err).__name__)
    finally:
        _close(chunks)
        done()


def _full_view_limits(ctx: ApiContext) -> FullViewLimits:
    return ctx.services.full_views


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


@bp.post("/cases/<int:case_id>/evidence")
@require(Permission.VIEW_CAMERAS)
@require(Permission.CHANGE_CASES)
def save_case_evidence(case_id: int) -> ResponseReturnValue:
    ctx, who = context(), principal()
    body = parse_json(EvidenceIn, request.get_data())
    with ctx.services.db.read() as session:
        camera = directory.camera_info(session, body.camera_id, who.scope)
    if camera is None:
        raise ApiError(422, "unknown_camera", f"there is no camera {body.camera_id!r}", "camera_id")
    with ctx.services.db.read() as session:
        case = session.get(Case, case_id)
        if case is None or not case_visible(who, case):  # before asking the capture service
            raise CaseNotFound("case_not_found", f"there is no case {case_id}")
        ensure_may_change(who, case)
    frame = _snapshot(ctx, body.camera_id, "full")
    photo = ctx.photos.inspect(frame.jpeg, f"{body.camera_id}.jpg")
    try:
        saved = save_evidence(ctx.services, case_id, who, camera, frame, photo, client_ip())
    except CaseFinished as err:
        raise ApiError(409, err.code, err.message) from None
    return jsonify(saved), 201


# --- helpers ----------------------------------------------------------------------------------


def _client(ctx: ApiContext, required: bool = True) -> CaptureClient | None:
    client = ctx.services.capture
    if client is None and required:
        raise ApiError(503, "capture_unavailable", "the video capture service is not configured")
    return client


def _visible_camera(ctx: ApiContext, camera_id: str) -> dict[str, Any]:
    with ctx.services.db.read() as session:
        camera = directory.camera_info(session, camera_id, principal().scope)
    if camera is None:
        raise ApiError(404, "camera_not_found", f"there is no camera {camera_id!r}")
    return camera


def _snapshot(ctx: ApiContext, camera_id: str, quality: str) -> Frame:
    client = _client(ctx)
    assert client is not None
    try:
        return client.snapshot(camera_id, quality=quality)
    except (CameraOffline, CaptureUnavailable, UnknownCamera) as err:
        raise _capture_error(err, camera_id) from None


def _capture_error(err: Exception, camera_id: str) -> ApiError:
    if isinstance(err, CaptureBusy):
        logger.warning("camera %s: the capture service refused a full-size stream", camera_id)
        return ApiError(
            429,
            "too_many_streams",
            "the video service serves as many full-size views as it may; retry shortly",
            headers={"Retry-After": str(FULL_VIEW_RETRY_S)},
        )
    if isinstance(err, CaptureUnavailable):
        logger.warning("camera %s: capture service unavailable: %s", camera_id, err)
        error = ApiError(503, "capture_unavailable", "the video capture service does not answer")
        return error
    if isinstance(err, UnknownCamera):
        # In the directory but not known to the capture service (registries out of step).
        return ApiError(503, "camera_offline", f"camera {camera_id} is not being captured")
    return _offline(camera_id)


def _offline(camera_id: str) -> ApiError:
    return ApiError(503, "camera_offline", f"camera {camera_id} has no picture right now")


def _audit_view(ctx: ApiContext, camera_id: str, kind: str) -> None:
    who = principal()
    with ctx.services.db.transaction() as session:
        record_camera_view(
            session, who.actor(client_ip()), camera_id, ctx.services.clock.now(), kind=kind
        )
