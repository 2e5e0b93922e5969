"""Fixtures and helpers of the security tests (test_security_*.py); this module holds no tests.

The app is the real one, ``create_app(build_services(config))`` over the seeded town (SQLite and
PostgreSQL), the clock fixed at TOWN_NOW so sessions can be aged by moving it. One app per backend
per test session; users, tokens, sessions and cases are deleted around every test. The audit log
is append-only (the PostgreSQL trigger refuses DELETE), so tests read only the rows written after
they started (``SecureApp.audit()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update

from dashboard.accounts import create_token, create_user
from dashboard.app import create_app
from dashboard.clock import FixedClock
from dashboard.config import parse_config
from dashboard.container import Services
from dashboard.domain.roles import Role
from dashboard.security.ratelimit import MemoryBuckets, RateLimiter
from dashboard.security.sessions import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from dashboard.security.throttle import MemoryThrottle
from dashboard.security.web import Security, security_of
from dashboard.storage.models import (
    ApiToken,
    AuditEntry,
    User,
    Village,
    WebSession,
)
from dashboard.wiring import build_services
from tests.integration.support import CREATED_BY_TESTS, TOWN_NOW, SeededTown, token_scope

PASSWORD = "correct horse battery"


@dataclass
class SecureApp:
    app: Flask
    services: Services
    clock: FixedClock
    audit_mark: int

    @property
    def security(self) -> Security:
        return security_of(self.app)

    @property
    def backend(self) -> str:
        return self.services.db.dialect

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def user(self, username: str, role: Role, **kwargs: Any) -> None:
        if role is Role.DEPARTMENT:
            kwargs.setdefault("department_code", department_codes(self.services)[0])
        with self.services.db.transaction() as session:
            create_user(session, username, role, PASSWORD, TOWN_NOW, **kwargs)

    def token(self, role: Role, name: str | None = None, **kwargs: Any) -> str:
        name = name or f"{role.value}-device"
        with self.services.db.transaction() as session:
            scope = token_scope(session, role, name, **kwargs)
            issued = create_token(session, name, role, TOWN_NOW, **scope)
        return issued.token

    def signed_in(self, username: str) -> tuple[FlaskClient, str]:
        """A client holding a fresh session of ``username`` (no password check), and its CSRF."""
        issued = self.security.sessions.start(username, "127.0.0.1", "test")
        client = self.client()
        client.set_cookie(SESSION_COOKIE, issued.cookie)
        client.set_cookie(CSRF_COOKIE, issued.csrf)
        return client, issued.csrf

    def csrf_headers(self, csrf: str) -> dict[str, str]:
        return {CSRF_HEADER: csrf}

    def audit(self, action: str | None = None) -> list[AuditEntry]:
        """Audit rows written since this test began, oldest first."""
        query = select(AuditEntry).where(AuditEntry.id > self.audit_mark).order_by(AuditEntry.id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        with self.services.db.read() as session:
            return list(session.scalars(query))

    @contextmanager
    def limiter(self, limiter: RateLimiter) -> Iterator[RateLimiter]:
        """Swap the app's rate limiter for the duration of a block."""
        before = self.security.limiter
        self.security.limiter = limiter
        try:
            yield limiter
        finally:
            self.security.limiter = before

    def generous(self) -> Any:
        return self.limiter(MemoryBuckets(rate=100_000, burst=100_000))


def department_codes(services: Services) -> list[str]:
    return [d.code for d in services.reference.departments]


def _reset(services: Services) -> None:
    with services.db.transaction() as session:
        for model in (*CREATED_BY_TESTS, WebSession, User, ApiToken):
            session.execute(delete(model))
        session.execute(
            update(Village).values(
                status="ok", red_since=None, red_reasons="", open_ratio=None, status_changed_at=None
            )
        )


def _build(seeded: SeededTown, data_dir: Path) -> tuple[Services, Flask]:
    url = seeded.db.engine.url.render_as_string(hide_password=False)
    config = parse_config(
        f'[server]\ndata_dir = "{data_dir}"\n[database]\nurl = "{url}"\n'
        "[security]\nlockout_threshold = 3\nlockout_minutes = 10\n"
        "session_hours = 8\nidle_minutes = 30\n",
        "security test config",
    )
    services = build_services(config, FixedClock(TOWN_NOW))
    app = create_app(services)
    app.testing = True
    return services, app


@pytest.fixture(scope="session")
def _secure_apps() -> Iterator[dict[str, tuple[Services, Flask]]]:
    built: dict[str, tuple[Services, Flask]] = {}
    yield built
    for services, _app in built.values():
        services.close()


def secure_app_for(request: pytest.FixtureRequest, backend: str) -> Iterator[SecureApp]:
    built: dict[str, tuple[Services, Flask]] = request.getfixturevalue("_secure_apps")
    if backend not in built:
        seeded: SeededTown = request.getfixturevalue(f"_town_{backend}")
        data_dir = request.getfixturevalue("tmp_path_factory").mktemp(f"security-{backend}")
        built[backend] = _build(seeded, data_dir)
    services, app = built[backend]
    clock = services.clock
    assert isinstance(clock, FixedClock)
    clock.set(TOWN_NOW)
    _reset(services)
    security_of(app).sessions.throttle.store = MemoryThrottle()  # no failures of other tests
    with services.db.read() as session:
        mark = session.scalar(select(func.max(AuditEntry.id))) or 0
    yield SecureApp(app, services, clock, mark)
    clock.set(TOWN_NOW)
    _reset(services)


@pytest.fixture(params=["sqlite", "postgresql"])
def secure(request: pytest.FixtureRequest) -> Iterator[SecureApp]:
    """The real app over the seeded town, on each backend."""
    yield from secure_app_for(request, request.param)


@pytest.fixture
def lite_secure(request: pytest.FixtureRequest) -> Iterator[SecureApp]:
    """The same on SQLite alone, for tests whose subject does not depend on the backend."""
    yield from secure_app_for(request, "sqlite")


def later(app: SecureApp, **delta: float) -> None:
    app.clock.set(app.clock.now() + timedelta(**delta))
