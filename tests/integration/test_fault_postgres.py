"""Fault: PostgreSQL crashes under load and comes back (issue 15), on a server of the test's own
(tests/integration/postgres_server.py). ``run.py serve`` (gunicorn) takes reports from phones
all along and a wall screen watches. While the database is away the intake answers 503 with
Retry-After, the phones retry each report with its key; afterwards every report is stored once,
each with its trail entry and its outbox event (nothing half-written), and every case reached the
screen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.domain.roles import Role
from dashboard.storage.db import Database
from dashboard.storage.models import Case, CaseEvent, OutboxEvent
from tests.integration.fault_helpers import (
    MARK,
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
    wait_until,
)
from tests.integration.postgres_server import PrivatePostgres

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres().init()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def deployment(tmp_path: Path, private_pg: PrivatePostgres) -> Iterator[Deployment]:
    # Its own server: the database is the server's default one, removed with the server.
    yield make_deployment(tmp_path, database_url=private_pg.url, bus=SECURITY_FOR_LOAD)


def _half_written(database_url: str) -> list[int]:
    """Fault test cases without exactly one report trail entry and one outbox event."""
    db = Database.from_url(database_url)
    try:
        with db.read() as session:
            ids = set(session.scalars(select(Case.id).where(Case.description.like(f"{MARK}%"))))
            trail = dict(
                session.execute(
                    select(CaseEvent.case_id, func.count())
                    .where(CaseEvent.case_id.in_(ids), CaseEvent.action == "report")
                    .group_by(CaseEvent.case_id)
                ).all()
            )
            outbox: dict[int, int] = {}
            for (payload,) in session.execute(
                select(OutboxEvent.payload).where(OutboxEvent.topic == "case")
            ):
                if payload.get("id") in ids and payload.get("action") == "report":
                    outbox[payload["id"]] = outbox.get(payload["id"], 0) + 1
            return sorted(i for i in ids if trail.get(i) != 1 or outbox.get(i) != 1)
    finally:
        db.dispose()


def test_intake_answers_503_while_postgres_is_away_and_nothing_is_lost_or_doubled(
    deployment: Deployment, private_pg: PrivatePostgres
) -> None:
    started = time.monotonic()
    server = start_production(deployment, workers=1)
    screen: LiveClient | None = None
    try:
        server.wait_healthy()
        wall = deployment.token("wall-pg", Role.WALL)
        phone = deployment.token("phones-pg", Role.COMMANDER)
        screen = reconnecting_screen(server.url, wall)
        devices = reporting_phones(server.url, phone, deployment.database_url, "outage")

        private_pg.crash()
        wait_until(lambda: devices.answers.get(503, 0) >= 3, 30, "503 answers during the outage")
        wait_until(lambda: server.health()[0] == 503, 10, "/healthz/ready to say not ready")
        stored = len(devices.stored)
        private_pg.start()
        wait_until(lambda: server.health()[0] == 200, 30, "ready again")
        wait_until(lambda: len(devices.stored) >= stored + 10, 30, "cases after the outage")
        devices.stop()

        assert_nothing_lost_or_doubled(devices, deployment.database_url)
        assert _half_written(deployment.database_url) == []
        wait_until(lambda: unpublished(deployment.database_url) == 0, 20, "an empty outbox")
        counts = wait_until(
            lambda: (
                (t := tally(devices, deployment.database_url, screen)).reached == t.stored and t
            ),
            20,
            "every stored case on the screen",
        )
        took = time.monotonic() - started
        report(counts.line(f"PostgreSQL crashed and restarted ({took:.0f} s)"))
        assert counts.sent == counts.stored == counts.reached
        assert set(devices.answers) <= {0, 201, 503}, devices.answers
        assert not chain_breaks(screen.sequence())
    finally:
        if screen is not None:
            screen.disconnect()
        server.stop()
