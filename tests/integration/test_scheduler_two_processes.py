"""Two ``run.py serve`` processes on PostgreSQL and Redis, their watchers every second: exactly one
holds the lease, exactly one supervision order per overdue case; kill the holder and the other
takes over within the lease time, still one order per case. (Each ``serve`` is gunicorn: the
scheduler acts in one of its workers, the one killed.)"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.clock import FixedClock
from dashboard.config import AppConfig
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.reference import load_reference
from dashboard.services.cases import CaseReport, CaseService
from dashboard.services.regions import RegionLocator
from dashboard.services.villages import rule_from_config
from dashboard.storage.db import Database
from dashboard.storage.models import Grid, SchedulerLease, SupervisionOrder, WatcherRun
from tests.integration.fault_helpers import children
from tests.integration.live_helpers import (
    make_deployment,
    redis_bus_config,
    running,
    wait_until,
)
from tests.integration.support import TO_CLOSED, fresh_postgres_database, request

LEASE_SECONDS = 3
WATCHERS = (
    "[supervision]\ndeadline_interval_seconds = 1\nvillage_interval_seconds = 1\n"
    f"patrol_interval_seconds = 1\nlease_seconds = {LEASE_SECONDS}\n"
)


class _Cases:
    """Cases written straight into the deployment's database, dispatched days ago."""

    def __init__(self, url: str) -> None:
        self.db = Database.from_url(url)
        self.reference = load_reference(AppConfig())
        locator = RegionLocator(self.db)
        locator.reload()
        self.clock = FixedClock(datetime.now(UTC) - timedelta(days=20))
        rule = rule_from_config(AppConfig().rules.village)
        self.service = CaseService(self.db, self.reference, locator, self.clock, rule)
        self.grids = 0

    def overdue(self, n: int) -> set[int]:
        with self.db.read() as session:
            grids = list(
                session.scalars(select(Grid).order_by(Grid.code).offset(self.grids).limit(n))
            )
        self.grids += n
        ids = set()
        for grid in grids:
            report = CaseReport(
                "01002",
                "排水沟堵塞",
                grid.lon,
                grid.lat,
                Source.GRID_WORKER,
                "gw",
                Role.GRID_WORKER,
            )
            case_id = self.service.report(report).id
            for action in TO_CLOSED[:3]:  # accept, register, dispatch
                self.service.act(case_id, request(action))
            ids.add(case_id)
        return ids

    def orders(self) -> dict[int, int]:
        with self.db.read() as session:
            rows = session.execute(
                select(SupervisionOrder.case_id, func.count()).group_by(SupervisionOrder.case_id)
            )
            return {case_id: n for case_id, n in rows}

    def holders(self) -> tuple[str | None, set[str]]:
        with self.db.read() as session:
            lease = session.scalar(select(SchedulerLease.holder))
            acting = set(session.scalars(select(WatcherRun.holder).distinct()))
        return lease, acting

    def took_over(self) -> tuple[str, set[str]] | None:
        """(holder, acting) once a second process holds the lease and has recorded a run."""
        lease, acting = self.holders()
        return (
            (lease, acting) if lease is not None and lease in acting and len(acting) == 2 else None
        )


@pytest.fixture
def deployment_url(postgres_url: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_url, "sched") as url:
        yield url


def _pid(holder: str) -> int:
    return int(holder.split(":")[1])


def test_one_acting_scheduler_and_a_takeover(
    deployment_url: str, redis_url: str, tmp_path: Path
) -> None:
    channel = f"gcc-sched-{os.getpid()}-{tmp_path.name}"
    deployment = make_deployment(
        tmp_path, database_url=deployment_url, bus=redis_bus_config(redis_url, channel) + WATCHERS
    )
    cases = _Cases(deployment_url)
    try:
        first = cases.overdue(6)
        with running(deployment, "a", "b") as servers:
            wait_until(lambda: set(cases.orders()) == first, 60, "an order for each overdue case")
            # Several more ticks of both processes: still one order per case, one acting holder.
            lease, _ = cases.holders()
            assert lease is not None
            with cases.db.read() as session:
                seen = session.scalar(select(func.count()).select_from(WatcherRun)) or 0
            wait_until(lambda: _runs(cases) >= seen + 9, 30, "more watcher runs")
            assert cases.orders() == dict.fromkeys(first, 1)
            lease, acting = cases.holders()
            assert acting == {lease}, f"more than one process acted: {acting}"
            # The scheduler runs in a gunicorn worker of each server: kill the acting worker
            # (no clean shutdown: the lease must expire); its master starts a new worker.
            killed = _pid(lease)
            assert any(killed in children(s.process.pid) for s in servers)
            os.kill(killed, signal.SIGKILL)
            killed_at = datetime.now(UTC)
            second = cases.overdue(3)
            wait_until(
                lambda: set(cases.orders()) == first | second,
                LEASE_SECONDS + 30,
                "the other process taking over",
            )
            # The run that wrote the orders is recorded right after them.
            lease, acting = wait_until(cases.took_over, 10, "the takeover's watcher run")
            assert lease is not None and _pid(lease) != killed
            assert cases.orders() == dict.fromkeys(first | second, 1)
            with cases.db.read() as session:
                took_over = session.scalar(
                    select(func.min(WatcherRun.started_at)).where(WatcherRun.holder == lease)
                )
            assert took_over is not None
            assert took_over - killed_at <= timedelta(seconds=LEASE_SECONDS + 3)
    finally:
        cases.db.dispose()


def _runs(cases: _Cases) -> int:
    with cases.db.read() as session:
        return session.scalar(select(func.count()).select_from(WatcherRun)) or 0
