"""Storage for years (issue 16): day partitions of position_fixes on PostgreSQL, created ahead and
for late rows of the default partition; the retention on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from sqlalchemy import delete, func, select, text

from dashboard.clock import FixedClock
from dashboard.config import AppConfig
from dashboard.scheduler import WatcherScheduler
from dashboard.storage.models import PositionFix
from dashboard.storage.partitions import (
    DEFAULT,
    day_partitions,
    drop_expired,
    ensure_partitions,
    maintain,
    partition_name,
)
from tests.integration.support import TOWN_NOW, Town

NOW = TOWN_NOW.astimezone(UTC)


@pytest.fixture
def fixes(town: Town) -> Iterator[Town]:
    worker = _worker(town)
    with town.db.transaction() as session:
        for days in (40, 3, 0):
            at = NOW - timedelta(days=days, minutes=5)
            session.add(PositionFix(worker_id=worker, at=at, lon=120.3, lat=29.6, received_at=NOW))
    yield town
    with town.db.transaction() as session:
        session.execute(delete(PositionFix))
    if town.db.dialect == "postgresql":
        with town.db.transaction() as session:
            for day in day_partitions(town.db):
                session.execute(text(f"DROP TABLE {partition_name(day)}"))


def _worker(town: Town) -> str:
    with town.db.read() as session:
        return str(session.scalar(text("SELECT id FROM grid_workers ORDER BY id LIMIT 1")))


def _count(town: Town, table: str = "position_fixes") -> int:
    with town.db.read() as session:
        return int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def test_day_partitions_are_created_ahead_and_for_late_rows(fixes: Town) -> None:
    town = fixes
    created = ensure_partitions(town.db, NOW, 2)
    if town.db.dialect != "postgresql":
        assert created == [] and _count(town) == 3  # SQLite: one table, the town demo
        return
    today = NOW.date()
    days = {today - timedelta(days=40), today - timedelta(days=3)}
    days |= {today + timedelta(days=i) for i in range(3)}
    assert set(day_partitions(town.db)) >= days
    assert _count(town) == 3 and _count(town, DEFAULT) == 0  # moved out of the default
    assert _count(town, partition_name(today)) == 1
    assert ensure_partitions(town.db, NOW, 2) == []  # idempotent
    with town.db.transaction() as session:  # a new row lands in its day's partition
        worker = _worker(town)
        at = NOW + timedelta(days=1)
        session.add(PositionFix(worker_id=worker, at=at, lon=1.0, lat=1.0, received_at=NOW))
    assert _count(town, partition_name(today + timedelta(days=1))) == 1


def test_the_retention_drops_old_days(fixes: Town) -> None:
    town = fixes
    ensure_partitions(town.db, NOW, 1)
    assert drop_expired(town.db, NOW, 0) == ([], 0)  # 0: kept for ever
    dropped, deleted = drop_expired(town.db, NOW, 30)
    if town.db.dialect == "postgresql":
        assert dropped == [partition_name((NOW - timedelta(days=40)).date())] and deleted == 0
    else:
        assert dropped == [] and deleted == 1
    with town.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PositionFix)) == 2
    assert maintain(town.db, NOW, 1, 30).dropped == []


def test_the_scheduler_runs_the_partitions_job(fixes: Town) -> None:
    town = fixes
    config = AppConfig()
    scheduler = WatcherScheduler(town.db, town.reference, config, FixedClock(TOWN_NOW), holder="t")
    assert scheduler.run_job("partitions")
    if town.db.dialect == "postgresql":
        ahead = NOW.date() + timedelta(days=config.tracks.partition_days_ahead)
        assert ahead in day_partitions(town.db)
