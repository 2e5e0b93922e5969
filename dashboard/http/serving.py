"""Limits on connections for the built-in server (``run.py serve`` and the demo).

Whatever serves the app must bound what one client can hold. The Werkzeug server started by
Flask-SocketIO gives every connection a thread and waits forever for headers; 400 slow-header
connections held 400 threads, 300 websockets 1,200. This request handler adds:

- a header timeout (``server.header_timeout_seconds``): the request line and headers must arrive
  within it *in total* (a watchdog closes a connection that trickles a byte now and then, the
  "slow loris"), and a kept-alive connection may stay silent that long between requests;
- an idle timeout (``server.idle_timeout_seconds``) while a request runs: a body that stops
  arriving, a stream nobody reads, a websocket without traffic (Engine.IO pings every 25 s, so a
  live screen is never idle that long) — the connection is closed;
- caps on open connections per client address (``server.max_connections_per_address``, not
  applied behind trusted proxies, where every connection comes from the proxy) and in total
  (``server.max_connections``): the excess is answered 503 with ``Retry-After`` and closed at once,
  its thread ends.

A production server (another issue) brings its own; the settings keep their meaning there.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import Counter

from werkzeug.serving import WSGIRequestHandler

from dashboard.config import AppConfig

logger = logging.getLogger(__name__)

REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 20\r\nConnection: close\r\n\r\ntoo many connections"
)


class ConnectionLimits:
    def __init__(self, per_address: int | None, total: int) -> None:
        self.per_address, self.total = per_address, total
        self._open: Counter[str] = Counter()
        self._count = 0
        self._lock = threading.Lock()
        self._warned_at = 0.0

    def acquire(self, address: str) -> bool:
        with self._lock:
            over_address = self.per_address is not None and self._open[address] >= self.per_address
            if over_address or self._count >= self.total:
                self._warn(address, "address" if over_address else "total")
                return False
            self._open[address] += 1
            self._count += 1
            return True

    def release(self, address: str) -> None:
        with self._lock:
            self._count -= 1
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    def _warn(self, address: str, cap: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:  # a flood must not flood the log too
            self._warned_at = now
            logger.warning("connection from %s refused: the %s cap is reached", address, cap)


class HeaderDeadlines:
    """Connections still reading their headers, and when they must be done; one thread checks
    twice a second and shuts the late ones down (their handler thread then ends)."""

    def __init__(self) -> None:
        self._deadlines: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: float) -> None:
        with self._lock:
            self._deadlines[sock] = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="header-deadlines")
                self._thread.daemon = True
                self._thread.start()

    def done(self, sock: socket.socket) -> None:
        with self._lock:
            self._deadlines.pop(sock, None)

    def _run(self) -> None:
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            with self._lock:
                late = [s for s, d in self._deadlines.items() if d <= now]
                for sock in late:
                    del self._deadlines[sock]
            for sock in late:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def make_request_handler(config: AppConfig) -> type[WSGIRequestHandler]:
    server = config.server
    per_address = None if config.security.trusted_proxies else server.max_connections_per_address
    limits = ConnectionLimits(per_address, server.max_connections)
    header_timeout, idle_timeout = server.header_timeout_seconds, server.idle_timeout_seconds
    deadlines = HeaderDeadlines()

    class LimitedRequestHandler(WSGIRequestHandler):
        timeout = header_timeout  # socketserver applies it to the socket in setup()

        def handle(self) -> None:
            address = str(self.client_address[0])
            if not limits.acquire(address):
                with contextlib.suppress(OSError):
                    self.wfile.write(REFUSAL)
                    self.wfile.flush()
                self.close_connection = True
                return
            try:
                super().handle()
            finally:
                limits.release(address)

        def handle_one_request(self) -> None:
            deadlines.watch(self.connection, time.monotonic() + header_timeout)
            try:
                super().handle_one_request()
            finally:
                deadlines.done(self.connection)

        def run_wsgi(self) -> None:
            deadlines.done(self.connection)  # the headers are in: the idle timeout applies
            with contextlib.suppress(OSError):
                self.connection.settimeout(idle_timeout)
            try:
                super().run_wsgi()
            finally:
                with contextlib.suppress(OSError):  # the next request's headers, or closed
                    self.connection.settimeout(header_timeout)

    LimitedRequestHandler.limits = limits  # type: ignore[attr-defined]
    return LimitedRequestHandler
