"""Fault: a web process dies under load (issue 15). ``run.py serve --workers 2`` (gunicorn) on
one PostgreSQL database and a private Redis; phones report cases all along, a wall screen is
connected. The worker holding the screen is first stopped (SIGTERM: it closes its websockets at
once) and then the next one holding it is killed (SIGKILL). Each time the screen reconnects to
another worker and its stream stays unbroken (a snapshot, then deltas chained by ``prev``); the
phones' reports that failed are retried with their key: nothing lost, nothing doubled.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.domain.roles import Role
from tests.integration.fault_helpers import (
    SECURITY_FOR_LOAD,
    assert_nothing_lost_or_doubled,
    children,
    holder_of,
    kill,
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
def deployment(tmp_path: Path, postgres_url: str) -> Iterator[Deployment]:
    redis = PrivateRedis(tmp_path).start()
    try:
        with fresh_postgres_database(postgres_url, "webkill") as url:
            bus = redis_bus_config(redis.url, f"gcc-webkill-{uuid.uuid4().hex[:8]}")
            yield make_deployment(tmp_path, database_url=url, bus=bus + SECURITY_FOR_LOAD)
    finally:
        redis.stop()


def _workers_ready(master: int, count: int) -> list[int]:
    return wait_until(
        lambda: (pids := children(master)) and len(pids) == count and pids, 60, "the workers"
    )


def test_screens_move_to_another_worker_without_a_gap(deployment: Deployment) -> None:
    started = time.monotonic()
    server = start_production(deployment, workers=2)
    screen: LiveClient | None = None
    try:
        server.wait_healthy()
        master = server.process.pid
        _workers_ready(master, 2)
        wall = deployment.token("wall-fault", Role.WALL)
        phone = deployment.token("phones-fault", Role.COMMANDER)
        screen = reconnecting_screen(server.url, wall)
        devices = reporting_phones(server.url, phone, deployment.database_url, "fault")

        for sig in (signal.SIGTERM, signal.SIGKILL):
            snapshots = len(screen.events("snapshot"))
            holder = wait_until(
                lambda: holder_of(screen, children(master)), 10, "the screen's worker"
            )
            kill(holder, sig)
            screen.wait_for(
                "the screen back on another worker",
                lambda c, n=snapshots: len(c.events("snapshot")) > n,
                30,
            )
            assert holder_of(screen, children(master)) != holder
            _workers_ready(master, 2)  # gunicorn started a new one
            stored = len(devices.stored)
            wait_until(lambda n=stored: len(devices.stored) >= n + 10, 30, "cases after the fault")

        devices.stop()
        wait_until(lambda: unpublished(deployment.database_url) == 0, 20, "an empty outbox")
        assert_nothing_lost_or_doubled(devices, deployment.database_url)
        counts = wait_until(
            lambda: (
                (t := tally(devices, deployment.database_url, screen)).reached == t.stored and t
            ),
            20,
            "every stored case on the screen",
        )
        report(counts.line(f"web worker stopped and killed ({time.monotonic() - started:.0f} s)"))
        assert counts.sent == counts.stored == counts.reached
        assert not chain_breaks(screen.sequence())
        assert "Traceback" not in server.log_text()
    finally:
        if screen is not None:
            screen.disconnect()
        server.stop()
