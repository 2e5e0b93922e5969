"""Sign-in throttling (issue 11): spraying from one address, a guess spread over many addresses,
the state shared between processes through Redis (and kept when Redis is away), and the Secure
cookie flag behind a TLS proxy. The basic back-off is in test_security_sessions."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient

from dashboard.app import create_app
from dashboard.clock import FixedClock
from dashboard.config import SecurityConfig, parse_config
from dashboard.domain.roles import Role
from dashboard.security.throttle import RedisThrottle, SignInThrottle
from dashboard.wiring import build_services
from tests.integration import test_security_support as support
from tests.integration.support import TOWN_NOW, SeededTown
from tests.integration.test_security_support import PASSWORD, SecureApp, later

_secure_apps, secure, lite_secure = support._secure_apps, support.secure, support.lite_secure


def _attempt(client: FlaskClient, username: str, password: str) -> tuple[int, str | None]:
    html = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    form = {"username": username, "password": password, "csrf_token": found.group(1)}
    response = client.post("/login", data=form)
    return response.status_code, response.headers.get("Retry-After")


def _from(app: SecureApp, address: str) -> FlaskClient:
    client = app.client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_password_spraying_from_one_address_is_throttled(lite_secure: SecureApp) -> None:
    for i in range(12):
        lite_secure.user(f"op-{i}", Role.DISPATCHER)
    sprayer = _from(lite_secure, "203.0.113.7")
    answers = [_attempt(sprayer, f"op-{i % 12}", "Summer2026!")[0] for i in range(40)]
    assert answers.count(401) == 10  # sign_in_address_threshold, then nothing but 429
    assert answers[10:] == [429] * 30
    scopes = {e.details["scope"] for e in lite_secure.audit("sign_in_throttled")}
    assert scopes == {"address"}
    # Another address is not affected, and neither is any of the sprayed accounts.
    assert _attempt(_from(lite_secure, "198.51.100.2"), "op-3", PASSWORD)[0] == 302


def test_a_guess_spread_over_addresses_delays_the_account_at_most_a_minute(
    lite_secure: SecureApp,
) -> None:
    lite_secure.user("duty-chief", Role.COMMANDER)
    waits = []
    for i in range(40):  # one try per address: no address or (account, address) backs off
        status, retry = _attempt(_from(lite_secure, f"192.0.2.{i}"), "duty-chief", f"guess-{i}")
        if status == 429:  # the account as a whole backs off (after sign_in_account_threshold)
            assert retry is not None
            waits.append(int(retry))
            later(lite_secure, seconds=int(retry))
    assert waits[:6] == [1, 2, 4, 8, 16, 32]  # exponential ...
    assert max(waits) == 60  # ... but never past sign_in_account_max_seconds
    later(lite_secure, seconds=60)
    assert _attempt(_from(lite_secure, "192.0.2.250"), "duty-chief", PASSWORD)[0] == 302


def test_the_back_off_is_shared_through_redis_and_survives_its_loss(redis_url: str) -> None:
    config = SecurityConfig(lockout_threshold=2, lockout_minutes=1)
    prefix = f"gcc-test-{TOWN_NOW.timestamp():.0f}"
    first = SignInThrottle(RedisThrottle.from_url(redis_url, prefix), config)
    second = SignInThrottle(RedisThrottle.from_url(redis_url, prefix), config)  # another process
    try:
        first.store.clear(first.keys("op-li", "10.0.0.1")["pair"])
        first.store.clear(first.keys("op-li", "10.0.0.1")["account"])
        first.store.clear(first.keys("op-li", "10.0.0.1")["address"])
        first.failed("op-li", "10.0.0.1", TOWN_NOW)
        assert second.wait("op-li", "10.0.0.1", TOWN_NOW) == 0
        first.failed("op-li", "10.0.0.1", TOWN_NOW)
        assert second.wait("op-li", "10.0.0.1", TOWN_NOW) == 1.0  # seen by the other process
        assert second.wait("op-li", "10.0.0.1", TOWN_NOW + timedelta(seconds=1)) == 0
        second.succeeded("op-li", "10.0.0.1")
        assert first.wait("op-li", "10.0.0.1", TOWN_NOW) == 0
    finally:
        first.succeeded("op-li", "10.0.0.1")
        first.store.clear(first.keys("op-li", "10.0.0.1")["address"])

    with socket.socket() as sock:  # a Redis that is not there: the process counts alone
        sock.bind(("127.0.0.1", 0))
        gone = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    alone = SignInThrottle(RedisThrottle.from_url(gone, prefix), config)
    for _ in range(2):
        alone.failed("op-li", "10.0.0.1", TOWN_NOW)
    assert alone.wait("op-li", "10.0.0.1", TOWN_NOW) == 1.0


def test_secure_cookies_can_be_forced_behind_a_tls_proxy(
    _town_sqlite: SeededTown, tmp_path: Path
) -> None:
    url = _town_sqlite.db.engine.url.render_as_string(hide_password=False)
    config = parse_config(
        f'[server]\ndata_dir = "{tmp_path}"\n[database]\nurl = "{url}"\n'
        "[security]\nsecure_cookies = true\n",
        "secure cookies",
    )
    services = build_services(config, FixedClock(TOWN_NOW))
    try:
        app = create_app(services)
        app.testing = True
        response = app.test_client().get("/login")  # plain HTTP, as behind the proxy
        cookies = response.headers.getlist("Set-Cookie")
        assert cookies and all("Secure" in c for c in cookies)
    finally:
        services.close()
