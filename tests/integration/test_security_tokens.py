"""Device and integration tokens: refused when expired or revoked, rate-limited per token."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from dashboard.accounts import revoke_tokens
from dashboard.domain.roles import Role
from dashboard.security.ratelimit import MemoryBuckets, RedisBuckets, retry_after
from dashboard.storage.models import ApiToken
from tests.integration import test_security_support as support
from tests.integration.test_security_support import SecureApp, later

_secure_apps, secure, lite_secure = support._secure_apps, support.secure, support.lite_secure


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_expired_token_is_refused_and_audited(secure: SecureApp) -> None:
    token = secure.token(Role.GRID_WORKER, "phone-17", expires_in=timedelta(days=1))
    client = secure.client()
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    later(secure, days=1)
    response = client.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.get_json()["message"] == "token expired"
    [refused] = secure.audit("token_refused")
    assert (refused.actor, refused.role, refused.details) == (
        "token:phone-17",
        "grid_worker",
        {"reason": "token expired"},
    )


def test_a_revoked_token_is_refused_and_audited(secure: SecureApp) -> None:
    token = secure.token(Role.INTEGRATION, "hotline-12345")
    client = secure.client()
    assert client.get("/api/v1/categories", headers=_bearer(token)).status_code == 200
    with secure.services.db.transaction() as session:
        assert revoke_tokens(session, "hotline-12345", secure.clock.now()) == 1
    response = client.get("/api/v1/categories", headers=_bearer(token))
    assert response.status_code == 401
    assert response.get_json()["message"] == "token revoked"
    assert [e.target for e in secure.audit("token_refused")] == ["/api/v1/categories"]


def test_unknown_tokens_and_bad_headers_are_401(lite_secure: SecureApp) -> None:
    client = lite_secure.client()
    for header in ("Bearer gcc_not-a-token", "Basic dXNlcjpwYXNz", "Bearer "):
        assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401


def test_tokens_are_stored_hashed(lite_secure: SecureApp) -> None:
    token = lite_secure.token(Role.GRID_WORKER, "phone-1")
    with lite_secure.services.db.read() as session:
        row = session.query(ApiToken).one()
    assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64


# --- rate limits ------------------------------------------------------------------------------


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    buckets = MemoryBuckets(rate=2, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(0.5)  # empty: next token in 1/rate s
    assert buckets.take("b") == 0  # another token has its own bucket
    now[0] = 0.5
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0
    assert retry_after(0.2) == "1" and retry_after(2.1) == "3"


@contextmanager
def _serve(app: SecureApp) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(10)


def _get(conn: http.client.HTTPConnection, token: str) -> tuple[int, str | None, float]:
    start = time.perf_counter()
    conn.request("GET", "/api/v1/me", headers=_bearer(token))
    response = conn.getresponse()
    response.read()
    return response.status, response.getheader("Retry-After"), time.perf_counter() - start


def test_a_flood_from_one_token_gets_429_while_another_is_served(lite_secure: SecureApp) -> None:
    """Four threads flood with token A over a real threaded HTTP server; token B meanwhile asks
    at a normal pace. A gets 429 with Retry-After; B is always served, and quickly."""
    app = lite_secure
    flood = app.token(Role.INTEGRATION, "flood")
    calm = [app.token(Role.GRID_WORKER, f"calm-{i}") for i in range(2)]
    with app.limiter(MemoryBuckets(rate=20, burst=40)), _serve(app) as port:
        baseline = _latencies(port, calm[0], 30)  # within one token's burst of 40
        stop = threading.Event()
        flooded: list[tuple[int, str | None]] = []

        def hammer() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            deadline = time.monotonic() + 15  # bounded, whatever happens
            while not stop.is_set() and time.monotonic() < deadline:
                status, retry, _ = _get(conn, flood)
                flooded.append((status, retry))
            conn.close()

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 10
            while len(flooded) < 200 and time.monotonic() < deadline:
                time.sleep(0.01)  # wait until the flood is under way (the burst long gone)
            during = _latencies(port, calm[1], 30)
        finally:
            stop.set()
            for thread in threads:
                thread.join(20)
    statuses = [s for s, _ in flooded]
    assert statuses.count(429) > statuses.count(200) > 0
    assert all(r is not None and int(r) >= 1 for s, r in flooded if s == 429)
    assert all(status == 200 for status, _ in during["answers"])
    # Served while four threads flood a 2-core machine: well under a quarter second each.
    assert during["p95"] < 0.25, (baseline, during)
    print(
        f"calm token p50/p95 ms: alone {baseline['p50'] * 1e3:.1f}/{baseline['p95'] * 1e3:.1f}, "
        f"during flood {during['p50'] * 1e3:.1f}/{during['p95'] * 1e3:.1f}; "
        f"flood answers {len(statuses)} ({statuses.count(429)} × 429)"
    )


def _latencies(port: int, token: str, n: int) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers, times = [], []
    for _ in range(n):
        status, retry, took = _get(conn, token)
        answers.append((status, retry))
        times.append(took)
    conn.close()
    times.sort()
    return {
        "answers": answers,
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
    }


def test_redis_buckets_are_shared_by_processes(redis_url: str) -> None:
    prefix = f"gcc-test-{uuid.uuid4().hex[:8]}"
    one = RedisBuckets.from_url(redis_url, prefix, rate=1, burst=5)
    two = RedisBuckets.from_url(redis_url, prefix, rate=1, burst=5)  # a second server process
    try:
        spent = [one.take("tok") for _ in range(3)] + [two.take("tok") for _ in range(2)]
        assert spent == [0, 0, 0, 0, 0]
        assert two.take("tok") > 0 and one.take("tok") > 0  # the shared burst is gone
        assert 0 < one.take("tok") <= 1.0
        assert one.take("other") == 0  # other tokens are untouched
    finally:
        one.close()
        two.close()


def test_an_unreachable_redis_lets_requests_through() -> None:
    buckets = RedisBuckets.from_url("redis://127.0.0.1:1/0", "gcc-test", rate=1, burst=1)
    try:
        assert [buckets.take("tok") for _ in range(3)] == [0, 0, 0]
    finally:
        buckets.close()


def test_the_redis_bus_backend_gives_shared_buckets(redis_url: str) -> None:
    from types import SimpleNamespace

    from dashboard.config import parse_config
    from dashboard.security.setup import make_limiter

    config = parse_config(f'[bus]\nbackend = "redis"\nredis_url = "{redis_url}"\n')
    limiter = make_limiter(SimpleNamespace(config=config))  # type: ignore[arg-type]
    assert isinstance(limiter, RedisBuckets)
    limiter.close()
    memory = make_limiter(SimpleNamespace(config=parse_config("")))  # type: ignore[arg-type]
    assert isinstance(memory, MemoryBuckets)
