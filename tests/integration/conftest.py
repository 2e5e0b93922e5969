"""Integration fixtures: the seeded ``town`` region on both backends, and a CaseService over it.

Seeding the town takes about a second, so each backend is seeded once per test session into a
database of its own (a SQLite file and a separate PostgreSQL database), never the one behind the
shared ``database`` fixture, which empties its database around every test. Between tests the
``town`` fixture deletes what tests create (cases, their audit trail, attachments, the outbox) and
puts every village light back to ok, so no test can see another's cases or village states.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from dashboard.clock import FixedClock
from dashboard.config import AppConfig
from dashboard.reference import load_reference
from dashboard.seed.loader import seed
from dashboard.services.cases import CaseService
from dashboard.services.regions import RegionLocator
from dashboard.services.villages import rule_from_config
from dashboard.storage.db import Database
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import Village
from tests.integration.support import (
    CREATED_BY_TESTS,
    TOWN_NOW,
    TOWN_SEED,
    SeededTown,
    Town,
    fresh_postgres_database,
)


def _seed_town(db: Database) -> SeededTown:
    upgrade(db.engine)
    config = AppConfig()
    reference = load_reference(config)
    rule = rule_from_config(config.rules.village)
    report = seed(db, reference, rule, scale="town", seed=TOWN_SEED, days=0, now=TOWN_NOW)
    assert report.counts["cases"] == 0 and report.counts["grids"] > 0
    locator = RegionLocator(db)
    locator.reload()
    return SeededTown(db, reference, rule, locator)


@pytest.fixture(scope="session")
def _town_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededTown]:
    path: Path = tmp_path_factory.mktemp("town") / "town.db"
    db = Database.from_url(f"sqlite:///{path}")
    yield _seed_town(db)
    db.dispose()


@pytest.fixture(scope="session")
def _town_postgresql(postgres_url: str) -> Iterator[SeededTown]:
    with fresh_postgres_database(postgres_url, "town") as url:
        db = Database.from_url(url)
        try:
            yield _seed_town(db)
        finally:
            db.dispose()


def _reset(db: Database) -> None:
    """Delete what tests add to the seeded town (cases and everything hanging off them, what the
    watchers raised, saved layouts) and put every village light back to ok."""
    with db.transaction() as session:
        for model in CREATED_BY_TESTS:
            session.execute(delete(model))
        session.execute(
            update(Village).values(
                status="ok", red_since=None, red_reasons="", open_ratio=None, status_changed_at=None
            )
        )


def _town(seeded: SeededTown) -> Iterator[Town]:
    _reset(seeded.db)
    clock = FixedClock(TOWN_NOW)
    service = CaseService(seeded.db, seeded.reference, seeded.locator, clock, seeded.rule)
    yield Town(seeded.db, seeded.reference, seeded.rule, seeded.locator, clock, service)
    _reset(seeded.db)


@pytest.fixture(params=["sqlite", "postgresql"])
def town(request: pytest.FixtureRequest) -> Iterator[Town]:
    """The seeded town on each backend, no cases, every village ok, the clock at TOWN_NOW."""
    yield from _town(request.getfixturevalue(f"_town_{request.param}"))


@pytest.fixture
def pg_town(_town_postgresql: SeededTown) -> Iterator[Town]:
    """The town on PostgreSQL alone, for races that SQLite's single writer cannot have."""
    yield from _town(_town_postgresql)
