"""Closes Engine.IO connections that never join a namespace: unauthenticated sockets.

A refused Socket.IO ``connect`` (no or a bad token, no session) answers CONNECT_ERROR for the
namespace, but the Engine.IO connection under it — a websocket, a server thread — stays open as
long as the client likes: 300 of them grew the process from 17 to 1,217 threads. The gatekeeper
checks once a second: an Engine.IO connection that has been open ``grace`` seconds (the
``security.socket_auth_seconds`` setting) without a connected namespace is closed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from streams import field_socket, protocol, video_socket

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0


def start_socket_guard(services: Services) -> Callable[[], None]:
    """The start step (dashboard.container.Step) guarding ``/live`` and ``/video``; after
    start_live."""
    assert services.socketio is not None, "start_live first"
    namespaces = (protocol.NAMESPACE, video_socket.NAMESPACE, field_socket.NAMESPACE)
    grace = services.config.security.socket_auth_seconds
    return SocketGatekeeper(services.socketio.server, namespaces, grace).start()


class SocketGatekeeper:
    def __init__(self, server: Any, namespaces: Sequence[str], grace: float) -> None:
        self._server, self._namespaces, self._grace = server, tuple(namespaces), grace
        self._first_seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="socket-gatekeeper", daemon=True)

    def start(self) -> Callable[[], None]:
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2 * CHECK_EVERY_S)

    def _run(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            try:
                self.sweep(time.monotonic())
            except Exception:  # the gatekeeper must outlive any one odd connection
                logger.exception("socket gatekeeper sweep failed")

    def sweep(self, now: float) -> int:
        """Close the connections without a namespace past the grace; returns how many."""
        eio = self._server.eio
        open_sids = list(eio.sockets)
        self._first_seen = {s: self._first_seen.get(s, now) for s in open_sids}
        closed = 0
        for eio_sid in open_sids:
            if self._joined(eio_sid) or now - self._first_seen[eio_sid] < self._grace:
                continue
            logger.info("socket: closing a connection that did not authenticate in time")
            eio.disconnect(eio_sid)
            self._first_seen.pop(eio_sid, None)
            closed += 1
        return closed

    def _joined(self, eio_sid: str) -> bool:
        manager = self._server.manager
        return any(manager.sid_from_eio_sid(eio_sid, ns) is not None for ns in self._namespaces)
