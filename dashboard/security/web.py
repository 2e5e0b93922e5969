"""Flask glue: resolve the principal once per request, deny by default, guard views.

Who is asking, in this order:

1. ``Authorization: Bearer <token>`` — devices and integrations. Rate-limited per token before the
   token is looked up (429 + Retry-After). No cookie is involved, so no CSRF check.
2. The ``gcc_session`` cookie — a signed-in browser (dashboard.security.sessions).
3. The ``gcc_kiosk`` cookie — a wall screen. A ``wall`` token opens any page once as
   ``/?token=<token>``: the token is checked, put in an HttpOnly cookie, and the browser is
   redirected to the same address without it (so it stays out of the address bar, the history
   and the access log). Revoking the token ends the kiosk at its next request.
4. In demo mode only (``python run.py`` with ``[demo] auto_login_user``), a browser opening a page
   with none of the above is signed in as the demo user.

Every endpoint needs a principal unless it is public (static files, ``/healthz``, ``/login``, or a
view wrapped in ``public``). Without one, a browser page redirects to ``/login?next=…`` and
anything else answers 401. A state-changing request (POST, PUT, PATCH, DELETE) authenticated by a
cookie must carry the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``)
and, when the browser sends an ``Origin``, come from this host. API views add ``require(...)``;
pages use dashboard.security.pages.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, current_app, g, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from dashboard.domain.permissions import Permission
from dashboard.domain.roles import Role
from dashboard.http.errors import ApiError
from dashboard.security.audit import Actor
from dashboard.security.principal import Principal
from dashboard.security.ratelimit import RateLimiter, retry_after
from dashboard.security.sessions import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionManager,
    SignedIn,
    SignInRefused,
)
from dashboard.security.tokens import TokenAuthenticator, TokenRefused, hash_token

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

KIOSK_COOKIE = "gcc_kiosk"
KIOSK_PARAM = "token"
KIOSK_MAX_AGE = 400 * 24 * 3600  # the browser's limit; the token's own expiry still applies
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Served to anyone: JavaScript, CSS and fonts of the pages (no data), the health probe.
STATIC_ENDPOINTS = frozenset(
    {
        "static",
        "_dash_assets.static",
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
        "/_favicon.ico",
    }
)
PUBLIC_ENDPOINTS = frozenset({"health.healthz", "health.live"})
# Dash's page routes: the same HTML shell for every page, the page itself comes by callback.
DASH_PAGE_ENDPOINTS = frozenset({"/", "/<path:path>"})


@dataclass
class Security:
    """The security parts of one app (``server.extensions["gcc_security"]``)."""

    sessions: SessionManager
    tokens: TokenAuthenticator
    limiter: RateLimiter
    now: Callable[[], datetime]
    demo_user: str | None = None
    page_endpoints: set[str] = field(default_factory=lambda: set(DASH_PAGE_ENDPOINTS))

    def audit(self, actor: Actor, action: str, target: str = "", **details: Any) -> None:
        self.sessions.audit(actor, action, target, **details)


def public(view: F) -> F:
    """Mark a view as open to anyone (no principal needed). Use sparingly."""
    view._gcc_public = True  # type: ignore[attr-defined]
    return view


def browser_page(view: F) -> F:
    """Mark a server-rendered page: without a principal it redirects to the sign-in page."""
    view._gcc_page = True  # type: ignore[attr-defined]
    return view


def security_of(server: Flask) -> Security:
    return cast(Security, server.extensions["gcc_security"])


def client_ip() -> str:
    return request.remote_addr or ""


def kiosk_csrf(token: str) -> str:
    """A kiosk's CSRF token: derived from its token, so nothing is stored for it."""
    return hashlib.sha256(b"gcc-kiosk-csrf:" + token.encode()).hexdigest()


def login_url(target: str) -> str:
    return "/login?" + urlencode({"next": target})


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after sign-in; anything else (another host, a scheme, ``//``,
    a backslash, control characters) gives ``default``: no open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 32 or c == "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def init_security(
    server: Flask,
    sessions: SessionManager,
    tokens: TokenAuthenticator,
    limiter: RateLimiter,
    now: Callable[[], datetime],
) -> Security:
    security = Security(sessions, tokens, limiter, now)
    server.extensions["gcc_security"] = security
    server.register_error_handler(ApiError, lambda err: err.response())

    @server.before_request
    def _resolve_principal() -> ResponseReturnValue | None:
        g.principal = None
        g.auth_via = None
        g.auth_error = None
        g.csrf = None
        if request.endpoint in STATIC_ENDPOINTS:
            return None
        answer = _authenticate(security)
        if answer is not None:
            return answer
        return _enforce(server, security)

    @server.after_request
    def _finish(response: Response) -> Response:
        issued: SignedIn | None = g.get("issued")
        if issued is not None:
            set_session_cookies(response, issued, security.now())
        if g.get("principal") is not None and request.endpoint not in STATIC_ENDPOINTS:
            # Pages and answers that depend on who asks must not be kept by any cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return security


# --- who is asking --------------------------------------------------------------------------


def _authenticate(security: Security) -> ResponseReturnValue | None:
    header = request.headers.get("Authorization", "")
    if header:
        return _bearer(security, header)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        active = security.sessions.resolve(cookie)
        if active is not None:
            g.principal, g.auth_via, g.csrf = active.principal, "session", active.csrf
            return None
    kiosk = request.cookies.get(KIOSK_COOKIE)
    if kiosk and _kiosk(security, kiosk):
        return None
    if request.method == "GET" and request.endpoint in security.page_endpoints:
        if KIOSK_PARAM in request.args:
            return _kiosk_sign_in(security, request.args[KIOSK_PARAM])
        if security.demo_user:
            _demo_sign_in(security)
    return None


def _bearer(security: Security, header: str) -> ResponseReturnValue | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        g.auth_error = "the Authorization header must be 'Bearer <token>'"
        return None
    digest = hash_token(value.strip())
    wait = security.limiter.take(digest)
    if wait > 0:
        body = {"error": "rate_limited", "message": "too many requests for this token"}
        return jsonify(body), 429, {"Retry-After": retry_after(wait)}
    principal = _token_principal(security, digest)
    if principal is not None:
        g.principal, g.auth_via = principal, "bearer"
    return None


def _token_principal(security: Security, digest: str) -> Principal | None:
    try:
        return security.tokens.authenticate_digest(digest, security.now())
    except TokenRefused as err:
        g.auth_error = str(err)
        logger.info("refused a token from %s: %s", client_ip(), err)
        if err.name is not None:  # known but revoked or expired: worth an audit entry
            actor = Actor(f"token:{err.name}", err.role or "", client_ip())
            security.audit(actor, "token_refused", request.path[:100], reason=str(err))
        return None


def _kiosk(security: Security, token: str) -> bool:
    principal = _token_principal(security, hash_token(token))
    if principal is None or principal.role is not Role.WALL:
        return False
    g.principal, g.auth_via, g.csrf = principal, "kiosk", kiosk_csrf(token)
    return True


def _kiosk_sign_in(security: Security, token: str) -> BaseResponse:
    args = request.args.to_dict(flat=False)
    args.pop(KIOSK_PARAM, None)
    clean = request.path + ("?" + urlencode(args, doseq=True) if args else "")
    wait = security.limiter.take(hash_token(token))
    principal = None if wait > 0 else _token_principal(security, hash_token(token))
    if principal is None or principal.role is not Role.WALL:
        if principal is not None:
            security.audit(principal.actor(client_ip()), "kiosk_refused", reason="not a wall token")
        return redirect(login_url(clean))
    security.audit(principal.actor(client_ip()), "kiosk_sign_in", request.path[:100])
    response = redirect(clean)
    secure = cookies_secure()
    response.set_cookie(
        KIOSK_COOKIE, token, max_age=KIOSK_MAX_AGE, httponly=True, samesite="Lax", secure=secure
    )
    response.set_cookie(
        CSRF_COOKIE, kiosk_csrf(token), max_age=KIOSK_MAX_AGE, samesite="Lax", secure=secure
    )
    return response


def _demo_sign_in(security: Security) -> None:
    assert security.demo_user is not None
    try:
        issued = security.sessions.start(security.demo_user, client_ip(), "demo_auto")
    except SignInRefused:
        logger.warning("demo sign-in: user %s is missing or locked", security.demo_user)
        return
    g.principal, g.auth_via, g.csrf, g.issued = issued.principal, "session", issued.csrf, issued


def cookies_secure() -> bool:
    """Secure cookies over HTTPS, and always when ``security.secure_cookies`` says so (a TLS
    proxy in front whose X-Forwarded-Proto is not trusted)."""
    services = current_app.extensions["gcc"]
    return bool(request.is_secure or services.config.security.secure_cookies)


def set_session_cookies(response: BaseResponse, issued: SignedIn, now: datetime) -> None:
    secure = cookies_secure()
    max_age = max(1, int((issued.expires_at - now).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE, issued.cookie, httponly=True, samesite="Lax", secure=secure, max_age=max_age
    )
    response.set_cookie(CSRF_COOKIE, issued.csrf, samesite="Lax", secure=secure, max_age=max_age)


def clear_cookies(response: BaseResponse) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE, KIOSK_COOKIE):
        response.delete_cookie(name, samesite="Lax", secure=cookies_secure())


# --- deny by default ------------------------------------------------------------------------


def _enforce(server: Flask, security: Security) -> ResponseReturnValue | None:
    view = server.view_functions.get(request.endpoint or "")
    if request.endpoint in PUBLIC_ENDPOINTS or getattr(view, "_gcc_public", False):
        return None
    if g.principal is None:
        page = request.endpoint in security.page_endpoints or getattr(view, "_gcc_page", False)
        if page and request.method == "GET":
            return redirect(login_url(safe_next(request.full_path.rstrip("?"))))
        raise ApiError(401, "unauthorized", g.auth_error or "sign in or send a bearer token")
    if g.auth_via in ("session", "kiosk") and request.method not in SAFE_METHODS:
        check_csrf()
    return None


def check_csrf() -> None:
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected: str = g.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page")
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise ApiError(403, "csrf", "cross-site request refused")


# --- for views --------------------------------------------------------------------------------


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

        guarded._gcc_permission = permission  # type: ignore[attr-defined]
        return cast(F, guarded)

    return decorate
