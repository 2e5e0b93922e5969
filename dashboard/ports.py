"""Is a TCP port free to listen on? Asked before a server starts, so a busy port stops it early."""

from __future__ import annotations

import socket


def port_free(host: str, port: int) -> bool:
    """True when ``host:port`` can be bound now (SO_REUSEADDR, as the servers themselves bind)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
