"""Engine and session factory: the one place that knows how to connect.

Sessions are opened by callers (``with database.transaction() as session``); repositories and
services never open or commit one themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from dashboard.storage.timeouts import (
    Timeouts,
    bound_the_ping,
    bounded_connect,
    postgres_connect_args,
)

logger = logging.getLogger(__name__)


class StorageError(Exception):
    """The database could not be reached or refused the operation."""


class DatabaseUnavailable(StorageError):
    """The database did not answer in time (partition, stall, exhausted pool, SQLite lock):
    nothing was written, the caller may retry shortly (HTTP 503 with Retry-After)."""


# What "the database is away or too slow" looks like through SQLAlchemy: the driver's
# operational errors (refused, timed out, cancelled by statement_timeout, lock timeout), a
# closed connection, and the pool's own timeout when every connection is busy.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)


def _sqlite_pragmas(busy_ms: int, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the wall read while the intake writes; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, timeouts: Timeouts | None = None
) -> Engine:
    """The engine; ``timeouts`` bound connecting, statements and the pool (the server's
    Timeouts.from_config); without them only connecting is bounded (migrations, tools)."""
    limits = timeouts or Timeouts.connect_only()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        busy = limits.statement if limits.statement is not None else 10.0
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": busy}
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, int(busy * 1000)))
        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=limits.pool,
        connect_args=postgres_connect_args(limits),
    )
    event.listen(engine, "do_connect", partial(bounded_connect, limits))
    bound_the_ping(engine, limits)
    return engine


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        """``kwargs`` as make_engine's (``timeouts=Timeouts.from_config(…)`` for a server)."""
        return cls(make_engine(url, **kwargs))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error. A database that is
        away or too slow raises DatabaseUnavailable (the storage boundary's translation)."""
        try:
            with self.sessions() as session, session.begin():
                yield session
        except UNAVAILABLE_ERRORS as err:
            raise _unavailable(err) from err

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self.sessions() as session:
                yield session
        except UNAVAILABLE_ERRORS as err:
            raise _unavailable(err) from err

    def ping(self) -> dict[str, Any]:
        """For /healthz: is the database reachable, and which backend is it."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return {"ok": True, "backend": self.dialect}
        except SQLAlchemyError as err:
            logger.warning("database ping failed: %s", type(err).__name__)
            return {"ok": False, "backend": self.dialect, "error": type(err).__name__}

    def dispose(self) -> None:
        self.engine.dispose()


def _unavailable(err: SQLAlchemyError) -> DatabaseUnavailable:
    orig = getattr(err, "orig", None) or err
    logger.warning("database unavailable: %s: %s", type(orig).__name__, str(orig).strip()[:200])
    return DatabaseUnavailable(type(orig).__name__)
