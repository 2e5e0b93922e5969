"""Who is on the other end of a Socket.IO connection (``services.authenticate_socket``).

Call it in the ``connect`` handler of the ``/live`` namespace, where Flask-SocketIO provides the
handshake as ``flask.request``::

    principal = services.authenticate_socket(auth)
    if principal is None or not principal.can(Permission.VIEW_WALL):
        raise ConnectionRefusedError("unauthorized")
    join_room(scoping.room_for(principal))

It accepts, in order: a bearer token in ``auth={"token": …}`` (socket.io-client's ``auth``
option) or in the ``Authorization`` header; the ``gcc_session`` cookie of a signed-in browser; the
``gcc_kiosk`` cookie of a wall screen. A cookie counts only when the handshake's ``Origin`` is this
host (a page on another origin cannot borrow the browser's cookies). Tokens are rate-limited like
API requests. The before-request hooks do not run for Socket.IO, hence this separate entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import request

from dashboard.domain.roles import Role
from dashboard.security.principal import Principal
from dashboard.security.sessions import SESSION_COOKIE
from dashboard.security.tokens import TokenRefused, hash_token
from dashboard.security.web import KIOSK_COOKIE, Security

logger = logging.getLogger(__name__)


def make_socket_authenticator(security: Security) -> Callable[..., Principal | None]:
    def token_principal(token: str) -> Principal | None:
        digest = hash_token(token)
        if security.limiter.take(digest) > 0:
            return None
        try:
            return security.tokens.authenticate_digest(digest, security.now())
        except TokenRefused as err:
            logger.info("socket: refused a token from %s: %s", request.remote_addr, err)
            return None

    def authenticate_socket(auth: Any = None) -> Principal | None:
        token = auth.get("token") if isinstance(auth, Mapping) else None
        header = request.headers.get("Authorization", "")
        if not token and header.lower().startswith("bearer "):
            token = header[7:].strip()
        if isinstance(token, str) and token:
            return token_principal(token)
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            return None
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            active = security.sessions.resolve(cookie)
            if active is not None:
                return active.principal
        kiosk = request.cookies.get(KIOSK_COOKIE)
        if kiosk:
            principal = token_principal(kiosk)
            if principal is not None and principal.role is Role.WALL:
                return principal
        return None

    return authenticate_socket
