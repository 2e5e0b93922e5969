"""The video wall's Socket.IO namespace ``/video`` (same server and websocket as ``/live``).

Connecting: like ``/live`` (``services.authenticate_socket``: ``auth={"token": …}``,
the session cookie of a signed-in page, a wall's kiosk cookie); refused with ``"unauthorized"``
without a principal and ``"forbidden"`` without ``Permission.VIEW_CAMERAS``.

Screen → server:

``watch``  ``{"ids": [camera id, ...], "quality": "tile"}`` — the cameras whose tiles are visible
           now (replaces the previous set; at most ``MAX_WATCH``). Ids that are unknown or outside
           the principal's area are refused with an ``error`` event and left out; the
           acknowledgement answers ``{"ok": true, "watching": [...], "refused": [...]}``.
``pause``  — stop all frames (the page is hidden); ``watch`` again to resume.
``ack``    ``{"id": camera id, "seq": int}`` — the frame was drawn; the next one may come.

Server → screen:

``frame``  ``{"id", "seq", "at": iso, "w", "h", "jpeg": bytes}`` (binary attachment). Per screen
           and camera at most one unacknowledged frame is in flight; newer frames replace older
           unsent ones (latest frame wins), so a slow screen gets fewer frames, never a queue.
``status`` ``{"cameras": [{"id", "state", "fps", "age", "viewers", "decoding"}]}`` — every
           ~1.5 s the watched cameras (``state`` ``"unknown"`` when the capture service does
           not report them) plus every camera of the screen's area whose state changed; also
           once right after each ``watch``.
``error``  ``{"error": code, "message": str, "ids"?: [...]}`` — ``camera_refused``,
           ``bad_request``, ``too_many``.

Statuses come from streams.video_status.StatusPoller, which also publishes each change of a
camera's state on the bus (topic ``camera``) for the live wall.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import request
from flask_socketio import ConnectionRefusedError as Refused
from flask_socketio import Namespace

from dashboard.domain.permissions import Permission
from dashboard.security.principal import Principal
from dashboard.security.tokens import TokenAuthenticator, TokenRefused
from streams import protocol as p
from streams.capture.client import CaptureClient
from streams.video_hub import FrameFanout, VideoHub
from streams.video_status import CameraVillages, StatusPoller, may_view

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

NAMESPACE = "/video"
MAX_WATCH = 64  # an 8×8 page
MAX_ID = 40
WATCH_FORMAT = "watch: {'ids': [camera ids], 'quality': 'tile'}"


def start_video(services: Services) -> Callable[[], None]:
    """The start step (dashboard.container.Step) attaching ``/video`` to the Socket.IO server of
    start_live: the capture client (unless one is there already), the hub, the frame fan-out and
    the status poller. Its stop ends those and closes the capture client."""
    sio = services.socketio
    assert sio is not None, "start_live first"
    server = sio.server

    def emit(event: str, data: dict[str, Any], sid: str) -> None:
        # Local sends only: frames never go through the message queue (Redis).
        server.emit(event, data, to=sid, namespace=NAMESPACE, ignore_queue=True)

    if services.capture is None:
        services.capture = CaptureClient.from_config(services.config.video)
    hub = VideoHub(emit)
    villages = CameraVillages(services)
    poller = StatusPoller(hub, services, villages, emit, lambda: _live_screens(server))
    fanout = FrameFanout(hub, lambda: services.capture, poller.online)
    sio.on_namespace(VideoNamespace(hub, services, villages, fanout, poller))
    poller.ensure_started()  # idles until someone is on /video or /live

    def stop() -> None:
        fanout.stop()
        poller.stop()
        if services.capture is not None:
            services.capture.close()

    return stop


def _live_screens(server: Any) -> bool:
    return any(True for _ in server.manager.get_participants(p.NAMESPACE, None))


class VideoNamespace(Namespace):
    def __init__(
        self,
        hub: VideoHub,
        services: Services,
        villages: CameraVillages,
        fanout: FrameFanout,
        poller: StatusPoller,
    ) -> None:
        super().__init__(NAMESPACE)
        self.hub = hub
        self.services = services
        self.villages = villages
        self.fanout = fanout
        self.poller = poller
        self.tokens = TokenAuthenticator(services.db)

    def on_connect(self, auth: Any = None) -> None:
        principal = self._authenticate(auth)
        if principal is None:
            raise Refused("unauthorized")
        if not principal.can(Permission.VIEW_CAMERAS):
            logger.info("video: refused %s (%s): no view_cameras", principal.name, principal.role)
            raise Refused("forbidden")
        self.hub.add(_sid(), principal)
        self.poller.ensure_started()

    def on_disconnect(self, reason: Any = None) -> None:
        self.hub.remove(_sid())

    def on_watch(self, data: Any = None) -> dict[str, Any]:
        sid = _sid()
        screen = self.hub.screen(sid)
        if screen is None:
            return {"ok": False, "error": "not_connected"}
        ids = _watch_ids(data)
        if ids is None:
            return self._error(sid, "bad_request", WATCH_FORMAT)
        if len(ids) > MAX_WATCH:
            return self._error(sid, "too_many", f"watch at most {MAX_WATCH} cameras at once")
        known = self.villages()
        allowed = [c for c in ids if c in known and may_view(screen.principal, known[c])]
        refused = [c for c in ids if c not in allowed]
        if refused:
            message = "unknown cameras or outside your area"
            self._error(sid, "camera_refused", message, refused)
        new = self.hub.watch(sid, allowed)
        if allowed:
            self.fanout.ensure_started()
            self.fanout.nudge(new)
        self.poller.send_now(sid)
        return {"ok": True, "watching": allowed, "refused": refused}

    def on_pause(self, data: Any = None) -> dict[str, Any]:
        self.hub.watch(_sid(), [])
        return {"ok": True}

    def on_ack(self, data: Any = None) -> None:
        if not isinstance(data, dict):
            return
        camera_id, seq = data.get("id"), data.get("seq")
        if isinstance(camera_id, str) and isinstance(seq, int) and not isinstance(seq, bool):
            self.hub.ack(_sid(), camera_id, seq)

    def _error(
        self, sid: str, code: str, message: str, ids: list[str] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"error": code, "message": message}
        if ids is not None:
            body["ids"] = ids
        self.socketio.server.emit("error", body, to=sid, namespace=NAMESPACE, ignore_queue=True)
        return {"ok": False} | body

    def _authenticate(self, auth: Any) -> Principal | None:
        hook = self.services.authenticate_socket
        if hook is not None:
            return hook(auth)
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            return None
        try:
            return self.tokens.authenticate(token, self.services.clock.now())
        except TokenRefused as err:
            logger.info("video: refused a token from %s: %s", request.remote_addr, err)
            return None


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]  # set by Flask-SocketIO


def _watch_ids(data: Any) -> list[str] | None:
    if not isinstance(data, dict) or data.get("quality", "tile") != "tile":
        return None
    ids = data.get("ids")
    if not isinstance(ids, list):
        return None
    if not all(isinstance(c, str) and 0 < len(c) <= MAX_ID for c in ids):
        return None
    return list(dict.fromkeys(ids))
