"""The Socket.IO server of the live wall (Flask-SocketIO, threading mode, websocket only).

``start_live(server, services)`` (a start step of create_app) attaches it to the Flask server,
subscribes a ``LiveHub`` to the bus and puts the server in the container
(``services.socketio``); its stop ends the ticker and leaves the bus. It uses two parts of the
container, looked up on every use:

- ``services.authenticate_socket``: ``(auth: dict | None) -> Principal | None``, called inside
  the handshake's request context (dashboard.security.sockets: tokens, session and kiosk
  cookies, rate limits). Without it, only a bearer token in ``auth["token"]`` (or the
  ``Authorization`` header) is accepted.
- ``services.wall_snapshot``: ``(principal, positions) -> dict``, the ``data`` of a snapshot
  (``positions`` False for a refresh: streams.screens leaves them out); when missing,
  the built-in minimal snapshot (open-case counts and open emergencies, in the principal's area).

An acknowledged alarm is an ``alarm_ack`` outbox row (dashboard.services.alarms.record_alarm_ack).

With ``[bus] backend = "redis"`` the server also joins the Socket.IO message queue
(``socketio_channel(config)``) so any process can emit to the screens with
``SocketIO(message_queue=…, channel=…)``. Bus events reach each process through the bus, and
each process sends them to its own screens only (``ignore_queue``), so nothing arrives twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import socketio
from flask import Flask, request
from flask_socketio import ConnectionRefusedError as Refused
from flask_socketio import Namespace, SocketIO
from sqlalchemy import func, select

from dashboard.config import AppConfig
from dashboard.domain.permissions import Permission
from dashboard.security.principal import Principal
from dashboard.security.scoping import scope_filter
from dashboard.security.tokens import TokenAuthenticator, TokenRefused
from dashboard.services.alarms import AckRefused, record_alarm_ack
from dashboard.storage.models import Case, GridWorker
from dashboard.storage.outbox import last_published_id
from streams import protocol as p
from streams.screens import LiveHub

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

TICK_S = 0.1
CONNECT_WAIT_S = 5.0
MAX_MESSAGE_BYTES = 64 * 1024  # screens send tiny messages; refuse anything large


def socketio_channel(config: AppConfig) -> str:
    """The Redis channel of the Socket.IO message queue of a deployment."""
    return f"{config.bus.channel}:socketio"


def external_emitter(config: AppConfig) -> SocketIO:
    """A write-only SocketIO for another process (scheduler, camera worker) to emit with."""
    return SocketIO(
        message_queue=config.bus.redis_url,
        channel=socketio_channel(config),
        async_mode="threading",
    )


def start_live(server: Flask, services: Services) -> Callable[[], None]:
    options: dict[str, Any] = {
        "async_mode": "threading",  # explicit: eventlet would be picked first if installed
        "transports": ["websocket"],
        "cors_allowed_origins": None,  # None = the page's own origin only
        "max_http_buffer_size": MAX_MESSAGE_BYTES,
        "logger": False,
        "engineio_logger": False,
    }
    if services.config.bus.backend == "redis":
        options["message_queue"] = services.config.bus.redis_url
        options["channel"] = socketio_channel(services.config)
    sio = SocketIO(server, **options)
    emitter = _Emitter(sio.server)
    with services.db.read() as session:
        last_seq = last_published_id(session)
    hub = LiveHub(
        emitter,
        lambda principal, positions: _snapshot(server, services, principal, positions),
        lambda: services.clock.now().isoformat(),
        last_seq=last_seq,
        worker_villages=WorkerVillages(services),
    )
    ticker = _Ticker(hub)
    sio.on_namespace(LiveNamespace(p.NAMESPACE, hub, services, emitter, ticker))
    unsubscribe = services.bus.subscribe(hub.on_event)
    services.socketio = sio
    return lambda: _stop(ticker, unsubscribe)


def _stop(ticker: _Ticker, unsubscribe: Callable[[], None]) -> None:
    ticker.stop()
    unsubscribe()


class _Ticker:
    """The hub's clock (position batches, merged resyncs), started by the first screen."""

    def __init__(self, hub: LiveHub) -> None:
        self._hub = hub
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="live-ticker", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self._hub.tick()
            except Exception:  # the ticker must outlive one bad snapshot provider call
                logger.exception("live ticker failed")


class _Emitter:
    """LiveHub's view of the Socket.IO server: local sends only (see the module docstring)."""

    def __init__(self, server: socketio.Server) -> None:
        self._server = server

    def emit(self, event: str, data: dict[str, Any], to: str) -> None:
        self._server.emit(event, data, to=to, namespace=p.NAMESPACE, ignore_queue=True)

    def enter_room(self, sid: str, room: str) -> None:
        self._server.enter_room(sid, room, namespace=p.NAMESPACE)

    def leave_room(self, sid: str, room: str) -> None:
        self._server.leave_room(sid, room, namespace=p.NAMESPACE)

    def backlog(self, sid: str) -> int:
        # python-engineio keeps one outgoing queue per connection (Socket.queue); the lookup is
        # defensive because it is not a documented API.
        eio_sid = self._server.manager.eio_sid_from_sid(sid, p.NAMESPACE)
        socket = self._server.eio.sockets.get(eio_sid) if eio_sid else None
        queue = getattr(socket, "queue", None)
        return int(queue.qsize()) if queue is not None else 0

    def is_connected(self, sid: str) -> bool:
        return bool(self._server.manager.is_connected(sid, p.NAMESPACE))


class LiveNamespace(Namespace):
    def __init__(
        self, namespace: str, hub: LiveHub, services: Services, emitter: _Emitter, ticker: _Ticker
    ) -> None:
        super().__init__(namespace)
        self.hub = hub
        self.services = services
        self.emitter = emitter
        self.ticker = ticker
        self.tokens = TokenAuthenticator(services.db)

    def on_connect(self, auth: Any = None) -> None:
        principal = self._authenticate(auth)
        if principal is None:
            raise Refused("unauthorized")
        if not principal.can(Permission.VIEW_WALL):
            logger.info("live: refused %s (%s): no view_wall", principal.name, principal.role)
            raise Refused("forbidden")
        sid = _sid()
        self.hub.add(sid, principal)
        self.ticker.ensure_started()
        self.socketio.start_background_task(self._welcome, sid)

    def _welcome(self, sid: str) -> None:
        # The connect handler runs before the server confirms the connection to the client, and
        # the snapshot must come after that confirmation: wait for it (a few milliseconds).
        deadline = time.monotonic() + CONNECT_WAIT_S
        while not self.emitter.is_connected(sid):
            if self.hub.screen(sid) is None or time.monotonic() > deadline:
                return
            time.sleep(0.002)
        self.hub.send_snapshot(sid)

    def on_disconnect(self, reason: Any = None) -> None:
        self.hub.remove(_sid())

    def on_resync(self, data: Any = None) -> dict[str, Any]:
        refresh = isinstance(data, dict) and data.get("refresh") is True
        self.hub.request_snapshot(_sid(), refresh=refresh)
        return {"ok": True}

    def on_ack_alarm(self, data: Any = None) -> dict[str, Any]:
        sid = _sid()
        screen = self.hub.screen(sid)
        if screen is None or not screen.principal.can(Permission.ACKNOWLEDGE_ALARM):
            return {"ok": False, "error": "forbidden"}
        case_id = data.get("case_id") if isinstance(data, dict) else None
        if not isinstance(case_id, int) or isinstance(case_id, bool) or case_id <= 0:
            return {"ok": False, "error": "bad_request"}
        if not self.hub.allow_ack(sid):
            return {"ok": False, "error": "rate_limited"}
        # Acknowledged *by name*: the operator types it (a shared desk login says nothing about
        # who was there); the account is kept beside it for accountability.
        typed = data.get("by") if isinstance(data, dict) else None
        by = screen.principal.name
        if isinstance(typed, str) and typed.strip():
            by = f"{typed.strip()[:40]} ({screen.principal.name})"
        try:
            record_alarm_ack(self.services.db, case_id, by, self.services.clock.now())
        except AckRefused as err:
            return {"ok": False, "error": err.code}
        logger.info("live: alarm of case %s acknowledged by %s", case_id, by)
        return {"ok": True}

    def _authenticate(self, auth: Any) -> Principal | None:
        hook = self.services.authenticate_socket
        if hook is not None:  # the security layer's: it also rate-limits tokens
            return hook(auth)
        token = _bearer(auth)
        if not token:
            return None
        try:
            return self.tokens.authenticate(token, self.services.clock.now())
        except TokenRefused as err:
            logger.info("live: refused a token from %s: %s", request.remote_addr, err)
            return None


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]  # set by Flask-SocketIO


def _bearer(auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"]).strip() or None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _snapshot(
    server: Flask, services: Services, principal: Principal, positions: bool
) -> dict[str, Any]:
    provider = services.wall_snapshot
    with server.app_context():
        if provider is not None:
            return dict(provider(principal, positions))
        return minimal_snapshot(services, principal)


def minimal_snapshot(services: Services, principal: Principal) -> dict[str, Any]:
    """The built-in snapshot (no wall provider): open cases by status, open emergencies."""
    by_status = scope_filter(
        select(Case.status, func.count()).where(Case.open.is_(True)), principal
    )
    emergencies = scope_filter(
        select(Case.id).where(Case.open.is_(True), Case.emergency.is_(True)), principal
    )
    with services.db.read() as session:
        counts = {str(s): int(n) for s, n in session.execute(by_status.group_by(Case.status))}
        open_emergencies = list(session.scalars(emergencies.order_by(Case.id).limit(100)))
    return {
        "kind": "minimal",
        "open_cases": sum(counts.values()),
        "open_by_status": counts,
        "open_emergencies": open_emergencies,
    }


class WorkerVillages:
    """Worker id -> village code, to keep area screens to their own workers' positions.

    Read from the database on first use and again every ``TTL_S`` (new workers are rare).
    """

    TTL_S = 300.0

    def __init__(self, services: Services) -> None:
        self._db = services.db
        self._map: dict[str, str] = {}
        self._loaded_at = float("-inf")

    def __call__(self) -> dict[str, str]:
        if time.monotonic() - self._loaded_at > self.TTL_S:
            with self._db.read() as session:
                rows = session.execute(select(GridWorker.id, GridWorker.village_code))
                self._map = {str(w): str(v) for w, v in rows}
            self._loaded_at = time.monotonic()
        return self._map
