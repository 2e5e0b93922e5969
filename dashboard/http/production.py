"""The production server of ``run.py serve``: gunicorn, threaded workers, websocket-only Socket.IO.

Flask-SocketIO documents gunicorn with threaded workers for ``async_mode="threading"`` with
simple-websocket (each open websocket holds one thread). ``server.workers`` processes share the
listening socket; because every screen speaks the websocket transport only, no sticky sessions are
needed, and the Redis message queue (``[bus] backend = "redis"``) joins them. Each worker builds
its own container after the fork (database pool, bus, Socket.IO server, outbox relay, scheduler):
nothing opened in the master is shared.

What the built-in server's request handler (dashboard.http.serving) bounds, here:

- header timeout: the worker class watches every request from the moment its connection is
  readable until the WSGI app is entered (the same watchdog, ``HeaderDeadlines``); a kept-alive
  connection waits in gunicorn's poller at most ``header_timeout_seconds`` (``keepalive``);
- idle timeout: the app sets ``idle_timeout_seconds`` on the socket once the headers are in;
- ``max_connections`` and ``max_connections_per_address``: counted per worker around the WSGI call
  (websockets included: they are calls that last); the excess is answered 503 with Retry-After.
  ``max_connections`` also caps gunicorn's ``worker_connections`` (idle kept-alive ones too);
- threads: ``server.threads`` per worker; the connection cap stays below it (``reserve_threads``),
  so screens can never take the last threads that page requests need.

The OsmAnd door's own port (``[tracks] osmand_port``, issue 16) is a second listener of the
same server: the master binds it once beside the web port and every worker accepts on both, so
N workers share it as they share the web port (no double bind, no worker that alone owns it, a
killed worker's share taken over by the others, the same limits and graceful stop).
``PortDispatch`` hands a request that came in on it to the OsmAnd app (``/`` and any path), and
the worker class keeps that port plain HTTP even when the web port has TLS (Traccar's 5055 is
plain HTTP, and what the built-in server serves there).

Graceful stop (SIGTERM to the master, or to one worker): the worker stops accepting, then closes
its websockets, so its screens reconnect at once to another worker and resume their sequence
(a snapshot with its ``seq``, then the deltas chained by ``prev``); requests in flight finish
within ``graceful_seconds``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import math
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

from dashboard.config import AppConfig
from dashboard.http.osmand import osmand_port_app
from dashboard.http.serving import ConnectionLimits, HeaderDeadlines

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

DRAIN_AFTER_S = 1.2  # the worker's loop notices the stop within 1 s and closes its listener
REFUSAL_BODY = b"too many connections"
StartResponse = Callable[..., Any]

_deadlines = HeaderDeadlines()  # one watchdog thread per worker process (started on first use)
_services: list[Services] = []  # the worker's container, for the drain at stop


class LimitedThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's gthread worker with a header deadline and a drain of websockets at stop."""

    header_timeout = 10.0
    plain_ports: frozenset[int] = frozenset()  # listeners served without TLS (the OsmAnd port)

    def accept(self, server: Any, listener: Any) -> None:
        if not (self.cfg.is_ssl and _port_of(server) in self.plain_ports):
            super().accept(server, listener)
            return
        # gunicorn's accept, with a connection that does not wrap its socket in TLS
        try:
            sock, client = listener.accept()
            conn = TConn(_PlainConfig(self.cfg), sock, client, server)
            self.nr_conns += 1
            with self._lock:
                self.poller.register(
                    conn.sock,
                    selectors.EVENT_READ,
                    functools.partial(self.on_client_socket_readable, conn),
                )
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle(self, conn: Any) -> Any:
        sock = conn.sock
        _deadlines.watch(sock, time.monotonic() + self.header_timeout)
        try:
            return super().handle(conn)
        finally:
            _deadlines.done(sock)

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)  # alive = False: the loop ends, the listener closes
        threading.Thread(target=_drain, name="drain-screens", daemon=True).start()


class _PlainConfig:
    """gunicorn's configuration as seen by one plain-HTTP connection: ``is_ssl`` false."""

    is_ssl = False

    def __init__(self, cfg: Any) -> None:
        self._cfg = cfg

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cfg, name)


def _port_of(address: Any) -> int | None:
    return int(address[1]) if isinstance(address, tuple) and len(address) >= 2 else None


def _drain() -> None:
    """Close this worker's websockets once it has stopped accepting: screens reconnect elsewhere."""
    time.sleep(DRAIN_AFTER_S)
    for services in _services:
        sio = services.socketio
        if sio is None:
            continue
        eio = sio.server.eio
        sids = list(eio.sockets)
        logger.info("stopping: closing %d websocket(s), the screens move on", len(sids))
        for sid in sids:
            eio_socket = eio.sockets.get(sid)
            if eio_socket is not None:  # abort: like a lost connection, so clients reconnect
                with contextlib.suppress(Exception):
                    eio_socket.close(wait=False, abort=True)


class LimitedApp:
    """WSGI middleware: connection caps per address and in total, the idle timeout, the end of
    the header deadline (see the module docstring)."""

    def __init__(self, app: Any, limits: ConnectionLimits, idle_timeout: float) -> None:
        self.app, self.limits, self.idle_timeout = app, limits, idle_timeout

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, socket.socket):
            _deadlines.done(sock)
            with contextlib.suppress(OSError):
                sock.settimeout(self.idle_timeout)
        address = str(environ.get("REMOTE_ADDR", ""))
        if not self.limits.acquire(address):
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/plain"), ("Retry-After", "5"), ("Connection", "close")],
            )
            return [REFUSAL_BODY]
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self.limits.release(address)
            raise
        return _Released(body, lambda: self.limits.release(address))


class PortDispatch:
    """WSGI: a request that came in on one of ``by_port``'s listeners goes to that app, every
    other one to ``app`` (the local port of the accepted socket decides, not a header)."""

    def __init__(self, app: Any, by_port: dict[int, Any]) -> None:
        self.app, self.by_port = app, by_port

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        port = None
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                port = _port_of(sock.getsockname())
        app = self.by_port.get(port, self.app) if port is not None else self.app
        result: Iterable[bytes] = app(environ, start_response)
        return result


class _Released:
    """A response body that releases its connection slot when the server closes it."""

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self._body, self._release, self._done = body, release, False

    def __iter__(self) -> Any:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._done:
                self._done = True
                self._release()


def connection_cap(config: AppConfig) -> int:
    """Calls (websockets included) one worker holds at once: below its thread count."""
    server = config.server
    return max(1, min(server.max_connections, server.threads - server.reserve_threads))


def gunicorn_options(config: AppConfig) -> dict[str, Any]:
    server = config.server
    LimitedThreadWorker.header_timeout = server.header_timeout_seconds
    tls = server.tls_files()  # [server] tls_cert / tls_key: HTTPS without a proxy (phones)
    osmand = config.tracks.osmand_port  # the OsmAnd door's own port: bound once, in the master
    LimitedThreadWorker.plain_ports = frozenset({osmand} if osmand else ())
    return {
        **({"certfile": str(tls[0]), "keyfile": str(tls[1])} if tls else {}),
        "bind": [f"{server.host}:{port}" for port in (server.port, osmand) if port],
        "workers": server.workers,
        "worker_class": LimitedThreadWorker,
        "threads": server.threads,
        "worker_connections": server.max_connections,
        "keepalive": max(1, int(server.header_timeout_seconds)),
        "timeout": 30,  # a worker whose main loop stalls this long is restarted
        "graceful_timeout": math.ceil(server.graceful_seconds),  # gunicorn takes whole seconds
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "forwarded_allow_ips": "127.0.0.1" if config.security.trusted_proxies else "",
        "preload_app": False,  # every worker builds its own container after the fork
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "gcc-web",
    }


class ProductionServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """``run.py serve``: gunicorn with ``build_app`` called in each worker."""

    def __init__(self, config: AppConfig, build_app: Callable[[], tuple[Any, Services]]) -> None:
        self._config, self._build_app = config, build_app
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self._config).items():
            self.cfg.set(key, value)
        self.cfg.set("worker_exit", _worker_exit)

    def load(self) -> Any:
        app, services = self._build_app()
        _services.append(services)
        door = osmand_port_app(app, services)  # None without [tracks] osmand_port
        if door is not None:
            app = PortDispatch(app, {services.config.tracks.osmand_port: door})
        per_address = (
            None
            if self._config.security.trusted_proxies
            else self._config.server.max_connections_per_address
        )
        limits = ConnectionLimits(per_address, connection_cap(self._config))
        return LimitedApp(app, limits, self._config.server.idle_timeout_seconds)


def _worker_exit(server: Any, worker: Any) -> None:
    while _services:
        services = _services.pop()
        try:
            services.close()  # the relay, the scheduler (its lease freed), the bus, the pool
        except Exception:
            logger.exception("closing the worker's services failed")
