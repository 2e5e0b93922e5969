"""Shared fixtures: real databases (SQLite file and the real PostgreSQL server) and Redis.

PostgreSQL and Redis must be running (``make test`` starts them). When they are not, the tests
that need them FAIL with a message; they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dashboard.storage.db import Database
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import Base

# Hypothesis times each example; on a loaded 2-core machine that makes correct tests flaky.
# Correctness is what the properties check; speed belongs in bench/.
settings.register_profile("project", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("project")

PG_ADMIN_URL = os.environ.get(
    "GCC_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GCC_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gcc_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({err}); `make test` starts it")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as err:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({err}); `make test` starts it")
    return REDIS_URL


# The tables of the models that hold a row, and those whose id sequence has handed out a number
# (a rolled-back insert advances it too): what a test can have changed.
_PG_USED = """
SELECT t.relname FROM pg_sequences ps
JOIN pg_class s ON s.relname = ps.sequencename AND s.relnamespace = ps.schemaname::regnamespace
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE ps.last_value IS NOT NULL
"""


def _clear(db: Database) -> None:
    """Every table of the models empty, every id sequence back at its start.

    On PostgreSQL a TRUNCATE of all 45 tables costs ~0.1-0.5 s (each table's files are
    replaced), twice per test: only the tables a test wrote to, or whose sequence moved, are
    truncated (one query finds them, a few ms)."""
    tables = Base.metadata.sorted_tables
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            rows = " UNION ALL ".join(
                f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
            )
            known = {t.name for t in tables}
            used = set(conn.execute(text(rows)).scalars())
            used |= known & set(conn.execute(text(_PG_USED)).scalars())
            if used:
                names = ", ".join(f'"{name}"' for name in sorted(used))
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def _sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("db") / "test.db"
    db = Database.from_url(f"sqlite:///{path}")
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def _postgresql_db(postgres_url: str) -> Iterator[Database]:
    db = Database.from_url(postgres_url)
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated, empty database on each backend; emptied again after the test."""
    db: Database = request.getfixturevalue(f"_{request.param}_db")
    _clear(db)
    yield db
    _clear(db)
