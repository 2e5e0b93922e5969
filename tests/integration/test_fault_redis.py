"""Fault: Redis stops under load and comes back (issue 15). ``run.py serve --workers 2``
(gunicorn) on PostgreSQL and a Redis of the test's own (never the shared one); phones report all
along, a wall screen watches. While Redis is away the intake keeps working (the node stays
ready, the events wait in the outbox); afterwards every case reached the screen once, in a
stream without a gap (deltas, or a fresh snapshot where a worker's subscription lost events).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.domain.roles import Role
from tests.integration.fault_helpers import (
    SECURITY_FOR_LOAD,
    assert_nothing_lost_or_doubled,
    reconnecting_screen,
    report,
    reporting_phones,
    start_production,
    tally,
    unpublished,
)
from tests.integration.live_helpers import (
    Deployment,
    LiveClient,
    chain_breaks,
    make_deployment,
    redis_bus_config,
    wait_until,
)
from tests.integration.redis_server import PrivateRedis
from tests.integration.support import fresh_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def deployment(tmp_path: Path, postgres_url: str, redis: PrivateRedis) -> Iterator[Deployment]:
    with fresh_postgres_database(postgres_url, "redisfault") as url:
        bus = redis_bus_config(redis.url, f"gcc-redisfault-{uuid.uuid4().hex[:8]}")
        yield make_deployment(tmp_path, database_url=url, bus=bus + SECURITY_FOR_LOAD)


def test_redis_stopped_and_restarted_under_load_loses_nothing(
    deployment: Deployment, redis: PrivateRedis
) -> None:
    started = time.monotonic()
    server = start_production(deployment, workers=2)
    screen: LiveClient | None = None
    try:
        server.wait_healthy()
        wall = deployment.token("wall-redis", Role.WALL)
        phone = deployment.token("phones-redis", Role.COMMANDER)
        screen = reconnecting_screen(server.url, wall)
        devices = reporting_phones(server.url, phone, deployment.database_url, "outage")

        redis.stop()
        stored = len(devices.stored)
        wait_until(lambda: len(devices.stored) >= stored + 10, 30, "intake during the outage")
        assert server.health()[0] == 200  # ready: intake works without the bus
        assert unpublished(deployment.database_url) > 0  # the events wait in the outbox
        redis.start()
        stored = len(devices.stored)
        wait_until(lambda: len(devices.stored) >= stored + 10, 30, "cases after the outage")
        devices.stop()

        assert_nothing_lost_or_doubled(devices, deployment.database_url)
        wait_until(lambda: unpublished(deployment.database_url) == 0, 30, "an empty outbox")
        counts = wait_until(
            lambda: (
                (t := tally(devices, deployment.database_url, screen)).reached == t.stored and t
            ),
            30,
            "every stored case on the screen",
        )
        took = time.monotonic() - started
        report(counts.line(f"Redis stopped and restarted ({took:.0f} s)"))
        assert counts.sent == counts.stored == counts.reached
        case_deltas = [d["payload"]["id"] for d in screen.events("delta") if d["topic"] == "case"]
        assert len(case_deltas) == len(set(case_deltas))  # none twice
        assert not chain_breaks(screen.sequence())
    finally:
        if screen is not None:
            screen.disconnect()
        server.stop()
