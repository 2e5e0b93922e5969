"""Closes Engine.IO connections that never join a namespace: unauthenticated sockets.

A refused Socket.IO ``connect`` (no or a bad token, no session) answers CONNECT_ERROR for the
namespace, but the Engine.IO connection under it — a websocket, a server thread — stays open as
long as the client likes: 300 of them grew the process from 17 to 1,217 threads. The gatekeeper
checks once a second: an Engine.IO connection that has been open ``grace`` seconds (the
``security.socket_auth_seconds`` setting) without a connected namespace is closed.

Closed without waiting (``Socket.close(wait=False)``), never with ``Server.disconnect(sid)``: that
one closes with ``wait=True``, i.e. ``queue.join()`` on the connection's outgoing queue, and for a
websocket the join can wait for ever. The writer thread takes the CLOSE packet and the ``None``
that ends it, sends the close frame and stops; the client answers the close frame, and the
connection's reader thread then puts one more ``None`` in the queue (python-engineio's
``_websocket_handler``: "unlock the writer task") that no thread will ever take. A joiner that
gets a core only after that put (a loaded machine) sees an unfinished task and blocks for good —
and with it the whole gatekeeper: no later sweep ran, every unauthenticated socket after it stayed
open (the flaky "kept an unauthenticated socket open" of tests/integration/test_connection_limits,
about 1 run in 3 with both cores busy). The close frame is queued at once either way; the writer
thread sends it and closes the websocket, and the TCP connection ends when the client answers it
(or, for one that never does, at the idle timeout the server sets on the socket).
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
            try:
                _close_now(eio, eio_sid)
            except Exception:  # one odd connection must not keep the others open
                logger.exception("socket gatekeeper: closing %s failed", eio_sid)
                continue
            self._first_seen.pop(eio_sid, None)
            closed += 1
        return closed

    def _joined(self, eio_sid: str) -> bool:
        manager = self._server.manager
        return any(manager.sid_from_eio_sid(eio_sid, ns) is not None for ns in self._namespaces)


def _close_now(eio: Any, eio_sid: str) -> None:
    """``eio.disconnect(eio_sid)`` without its wait (see the module docstring): queue the
    Engine.IO CLOSE packet and the end of the writer, and forget the connection."""
    eio_socket = eio.sockets.get(eio_sid)
    if eio_socket is not None:
        eio_socket.close(wait=False, abort=False, reason=eio.reason.SERVER_DISCONNECT)
    eio.sockets.pop(eio_sid, None)
