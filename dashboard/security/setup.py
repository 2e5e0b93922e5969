"""Wire the security parts into one app (called from dashboard.app.create_app).

``install_security(server, services)`` before the Dash app is built (its before-request hook must
run before Dash's), ``install_headers(server, dash_app)`` after. The order below is the order of
the hooks: principal and CSRF, then the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.security import audit
from dashboard.security.headers import dash_script_hashes, init_headers
from dashboard.security.heavy import install_heavy_limits
from dashboard.security.ratelimit import MemoryBuckets, RateLimiter, RedisBuckets
from dashboard.security.redact import install_log_redaction
from dashboard.security.sessions import SessionManager, SessionPolicy
from dashboard.security.throttle import (
    MemoryThrottle,
    RedisThrottle,
    SignInThrottle,
    ThrottleStore,
)
from dashboard.security.tokens import TokenAuthenticator
from dashboard.security.web import Security, init_security

if TYPE_CHECKING:
    from dashboard.container import Services


def make_limiter(services: Services) -> RateLimiter:
    cfg = services.config.security
    if services.config.bus.backend == "redis":
        bus = services.config.bus
        return RedisBuckets.from_url(
            bus.redis_url, bus.channel, cfg.token_rate_per_second, cfg.token_burst
        )
    return MemoryBuckets(cfg.token_rate_per_second, cfg.token_burst)


def make_throttle_store(services: Services) -> ThrottleStore:
    """Sign-in failures shared through Redis when several processes serve, else in memory."""
    if services.config.bus.backend == "redis":
        return RedisThrottle.from_url(services.config.bus.redis_url, services.config.bus.channel)
    return MemoryThrottle()


def _request_ip() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


def install_security(server: Flask, services: Services) -> Security:
    install_log_redaction()
    audit.install_append_only_guard()
    audit.install_case_action_trail(_request_ip)
    proxies = services.config.security.trusted_proxies
    if proxies:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    sessions = SessionManager(
        services.db,
        SessionPolicy.from_config(services.config.security),
        services.clock.now,
        SignInThrottle(make_throttle_store(services), services.config.security),
    )
    security = init_security(
        server,
        sessions,
        TokenAuthenticator(services.db),
        make_limiter(services),
        services.clock.now,
    )
    from dashboard.http.admin import bp as admin_bp
    from dashboard.security.pages import bp as pages_bp

    server.register_blueprint(pages_bp)
    server.register_blueprint(admin_bp)
    from dashboard.security.audit_page import bp as audit_page_bp

    server.register_blueprint(audit_page_bp)
    from dashboard.security.webhooks_page import bp as webhooks_page_bp  # issue 17

    server.register_blueprint(webhooks_page_bp)
    install_heavy_limits(server, services)
    return security


def install_headers(server: Flask, dash_app: Any) -> None:
    init_headers(server, dash_script_hashes(dash_app))


def enable_demo_sign_in(server: Flask, services: Services, username: str) -> None:
    """Demo mode only: browsers without a session are signed in as ``username`` (a commander,
    created with a random password nobody knows if missing)."""
    from dashboard.accounts import ensure_user
    from dashboard.domain.roles import Role
    from dashboard.security.web import security_of

    with services.db.transaction() as session:
        ensure_user(session, username, Role.COMMANDER, services.clock.now())
    security_of(server).demo_user = username
