"""Flask glue: resolve the principal once per request; ``require`` guards views.

API requests authenticate with ``Authorization: Bearer <token>``; pages with the session cookie
(see dashboard.security.sessions, the security issue). An API view answers 401 without a valid
principal and 403 when the role lacks the permission.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, g, request

from dashboard.domain.permissions import Permission
from dashboard.http.errors import ApiError
from dashboard.security.principal import Principal
from dashboard.security.tokens import TokenAuthenticator, TokenRefused

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def init_security(server: Flask, tokens: TokenAuthenticator, now: Callable[[], Any]) -> None:
    @server.before_request
    def _resolve_principal() -> None:
        g.principal = None
        g.auth_error = None
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                g.auth_error = "the Authorization header must be 'Bearer <token>'"
                return
            try:
                g.principal = tokens.authenticate(value.strip(), now())
            except TokenRefused as err:
                g.auth_error = str(err)
                logger.info("refused a bearer token from %s: %s", request.remote_addr, err)


def current_principal() -> Principal | None:
    return cast(Principal | None, g.get("principal"))


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise ApiError(401, "unauthorized", g.get("auth_error") or "sign in or send a bearer token")
    return principal


def require(permission: Permission) -> Callable[[F], F]:
    """Guard an API view: 401 without a principal, 403 when the role lacks ``permission``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = require_principal()
            if not principal.can(permission):
                raise ApiError(403, "forbidden", f"the role {principal.role} may not {permission}")
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate
