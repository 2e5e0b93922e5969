"""Honest answers when a part is gone: /healthz liveness and readiness, a partitioned database.

- Redis down: intake keeps working, so the node stays ready (200, status "degraded"); before,
  /healthz answered 503 and a load balancer would have taken every node out.
- PostgreSQL partitioned (tests/integration/partition.py freezes a real TCP path to the real
  server): requests answer 503 with Retry-After within seconds instead of hanging as long as the
  partition lasts, /healthz answers within a second, liveness is untouched, and everything
  recovers when the partition heals.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from dashboard.accounts import create_token, create_user
from dashboard.app import create_app
from dashboard.clock import FixedClock
from dashboard.config import parse_config
from dashboard.container import Services
from dashboard.domain.roles import Role
from dashboard.security.sessions import CSRF_HEADER, SESSION_COOKIE
from dashboard.security.web import security_of
from dashboard.storage.models import ApiToken, Grid, User, WebSession
from dashboard.wiring import build_services
from tests.integration.partition import FreezableProxy
from tests.integration.redis_server import PrivateRedis
from tests.integration.support import CREATED_BY_TESTS, TOWN_NOW, SeededTown, token_scope

PASSWORD = "correct horse battery"


def _build(seeded: SeededTown, data_dir: Path, extra: str, url: str | None = None) -> Services:
    url = url or seeded.db.engine.url.render_as_string(hide_password=False)
    config = parse_config(
        f'[server]\ndata_dir = "{data_dir}"\n[database]\nurl = "{url}"\n{extra}', "resilience"
    )
    return build_services(config, FixedClock(TOWN_NOW))


def _app(services: Services) -> Flask:
    app = create_app(services)
    app.testing = True
    return app


def _clean(services: Services) -> None:
    """Delete what a test created in the shared seeded town."""
    with services.db.transaction() as session:
        for model in (*CREATED_BY_TESTS, WebSession, User, ApiToken):
            session.execute(delete(model))


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis server of this test alone (stopping the shared one would disturb others)."""
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


def _intake(client: Any, services: Services, token: str) -> int:
    """A grid worker's report at the centroid of a grid; the status code of the answer."""
    with services.db.read() as session:
        grid = session.scalars(select(Grid).order_by(Grid.code).limit(1)).one()
    body = {
        "category": "01002",
        "description": "Redis 停止期间的上报",
        "lat": grid.lat,
        "lon": grid.lon,
        "source": "grid_worker",
    }
    response = client.post("/api/v1/cases", json=body, headers={"Authorization": f"Bearer {token}"})
    return int(response.status_code)


def test_redis_down_keeps_the_node_ready(
    _town_sqlite: SeededTown, tmp_path: Path, own_redis: PrivateRedis
) -> None:
    redis_url = own_redis.url
    services = _build(
        _town_sqlite, tmp_path, f'[bus]\nbackend = "redis"\nredis_url = "{redis_url}"\n'
    )
    with services.db.transaction() as session:
        scope = token_scope(session, Role.GRID_WORKER, "phone-redis")  # the first grid's worker
        token = create_token(session, "phone-redis", Role.GRID_WORKER, TOWN_NOW, **scope).token
    try:
        client = _app(services).test_client()
        up = client.get("/healthz")
        assert up.status_code == 200
        assert up.json["ready"] is True and up.json["bus"]["ok"] is True
        assert up.json["capture"]["ok"] is False  # no capture service in this test: reported
        assert up.json["status"] == "degraded"  # ... as a part down, the node stays ready

        own_redis.stop()  # Redis goes away; the database is still there
        for path in ("/healthz", "/healthz/ready"):
            down = client.get(path)
            assert down.status_code == 200, path  # still ready: intake works without the bus
            assert down.json["ready"] is True and down.json["status"] == "degraded"
            assert down.json["database"]["ok"] is True and down.json["bus"]["ok"] is False
        assert client.get("/healthz/live").json == {"ok": True}
        assert _intake(client, services, token) == 201  # and intake really works
    finally:
        _clean(services)
        services.close()


def test_database_refused_makes_the_node_not_ready(
    _town_postgresql: SeededTown, tmp_path: Path
) -> None:
    url = make_url(_town_postgresql.db.engine.url.render_as_string(hide_password=False))
    proxy = FreezableProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port)
    services = _build(
        _town_postgresql, tmp_path, "", url=proxied.render_as_string(hide_password=False)
    )
    try:
        client = _app(services).test_client()
        assert client.get("/healthz").status_code == 200
        proxy.close()  # the database's port now refuses every connection
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json["ready"] is False and response.json["status"] == "down"
        assert client.get("/healthz/live").status_code == 200
    finally:
        services.close()


# --- the partition ----------------------------------------------------------------------------

PARTITION_CONFIG = """
connect_timeout_seconds = 2
statement_timeout_seconds = 1
pool_timeout_seconds = 1
pool_size = 2
[health]
check_timeout_seconds = 0.5
"""
# Worst case of one request: its pre-ping waits connect_timeout (2 s), a fresh connection 2 s
# more (a statement already running when the partition starts: statement + 2 s).
REQUEST_BOUND_S = 6.0


@pytest.fixture
def partitioned(
    _town_postgresql: SeededTown, tmp_path: Path
) -> Iterator[tuple[FreezableProxy, Services, Flask]]:
    url = make_url(_town_postgresql.db.engine.url.render_as_string(hide_password=False))
    with FreezableProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        services = _build(
            _town_postgresql,
            tmp_path,
            PARTITION_CONFIG,
            url=proxied.render_as_string(hide_password=False),
        )
        try:
            yield proxy, services, _app(services)
        finally:
            proxy.thaw()
            _clean(services)
            services.close()


def _timed(call: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def test_partitioned_database_answers_503_quickly_and_recovers(
    partitioned: tuple[FreezableProxy, Services, Flask],
) -> None:
    proxy, services, app = partitioned
    with services.db.transaction() as session:
        token = create_token(session, "desk-1", Role.DISPATCHER, TOWN_NOW).token
        create_user(session, "desk-user", Role.DISPATCHER, PASSWORD, TOWN_NOW)
    signed_in = security_of(app).sessions.start("desk-user", "127.0.0.1", "test")
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/api/v1/cases?per_page=1", headers=bearer).status_code == 200
    assert client.get("/healthz").status_code == 200

    proxy.freeze()
    live, took = _timed(lambda: client.get("/healthz/live"))
    assert live.status_code == 200 and took < 0.5
    health, took = _timed(lambda: client.get("/healthz"))
    assert health.status_code == 503 and took < 1.5  # whatever hangs
    assert health.json["database"] == {"ok": False, "error": "timeout"}

    def api_call(_: int) -> tuple[int, str | None, dict[str, Any], float]:
        start = time.perf_counter()
        response = app.test_client().get("/api/v1/cases?per_page=1", headers=bearer)
        took = time.perf_counter() - start
        return response.status_code, response.headers.get("Retry-After"), response.json, took

    with ThreadPoolExecutor(8) as pool:  # more requests than the pool has connections
        answers = list(pool.map(api_call, range(8)))
    for status, retry_after, body, took in answers:
        assert status == 503 and retry_after, body
        assert body["error"] in {"database_unavailable", "database_busy"}
        assert took < REQUEST_BOUND_S, f"answered after {took:.1f} s"
    # A signed-in browser opening a page gets a page in Chinese, not a 500 or an endless wait.
    browser = app.test_client()
    browser.set_cookie(SESSION_COOKIE, signed_in.cookie)
    page, took = _timed(lambda: browser.get("/cases"))
    assert page.status_code == 503 and page.headers["Retry-After"] and took < REQUEST_BOUND_S
    text = page.get_data(as_text=True)
    assert "系统暂时不可用" in text and "database" not in text.lower()
    # A page's callback gets the API's JSON answer (dash-renderer shows it, then retries).
    callback = browser.post(
        "/_dash-update-component", json={}, headers={CSRF_HEADER: signed_in.csrf}
    )
    assert callback.status_code == 503 and callback.headers["Retry-After"]
    assert (callback.json or {})["error"] == "database_unavailable"

    proxy.thaw()
    deadline = time.monotonic() + 15
    while client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the app did not recover after the partition"
        time.sleep(0.2)
    assert client.get("/api/v1/cases?per_page=1", headers=bearer).status_code == 200
