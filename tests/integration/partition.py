"""A TCP proxy between the app and a real server that a test can freeze: a network partition.

``freeze()`` stops forwarding in both directions while keeping every connection open, and new
connections are accepted but never reach the server — what a client sees when a link, NAT or
load balancer in between stops passing traffic: the kernel still acknowledges the packets, no
answer ever comes, nothing is refused. ``thaw()`` resumes (what was held is forwarded then, as
after a partition heals). This module holds no tests.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from types import TracebackType


class FreezableProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._spawn(self._accept_loop)

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._stop.set()
        self._flowing.set()
        self._listener.close()
        self._close_all()  # a connection's peer sees it end (FIN), as when a server goes away
        for thread in self._threads:
            thread.join(timeout=2)
        self._close_all()  # any a thread opened meanwhile

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):  # not connected (any more)
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> FreezableProxy:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _b: TracebackType | None
    ) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            self._spawn(self._pipe_pair, client)

    def _pipe_pair(self, client: socket.socket) -> None:
        self._flowing.wait()  # a connection opened during the partition waits for it to end
        if self._stop.is_set():
            client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        with self._lock:
            self._sockets.append(upstream)
        try:
            self._pump(client, upstream)
        finally:
            client.close()
            upstream.close()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stop.is_set():
            if not self._flowing.wait(timeout=0.1):
                continue  # frozen: read nothing, forward nothing
            try:
                readable, _, _ = select.select([a, b], [], [], 0.1)
                for sock in readable:
                    if not self._flowing.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
            except (OSError, ValueError):  # closed by close() meanwhile
                return
