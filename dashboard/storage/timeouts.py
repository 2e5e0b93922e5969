"""Bounded waits on the database, so a partition answers 503 in seconds instead of hanging.

Four layers, each for a failure the others cannot see:

- ``connect_timeout``: opening a connection to an unreachable host (libpq, client side);
- ``statement_timeout``: a statement the server runs too long (server side, it cancels it);
- TCP keep-alives and ``tcp_user_timeout``: a peer that vanished (the kernel notices unacknowledged
  data or silent probes);
- a client-side bound on every wait for the server (``BoundedConnection``): the one that catches a
  partition where something in between still acknowledges the packets (a proxy, a NAT, a
  load balancer) but nothing comes back. psycopg waits on the socket for each step of an
  operation (execute, fetch, commit, rollback) through ``Connection.wait``; ours passes a timeout
  to it. Past it the connection is closed (its state is unknown) and an OperationalError raised,
  which SQLAlchemy sees as a disconnect: the connection is dropped from the pool and the caller
  gets DatabaseUnavailable (dashboard.storage.db), i.e. 503 with Retry-After. The pool's
  pre-ping (a no-op statement before each checkout) waits only ``connect`` seconds: a request
  arriving during a partition learns it in seconds, not after a whole statement timeout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dashboard.config import DatabaseConfig

# The client waits this much longer than statement_timeout, so the server's own cancellation
# (a clean "canceling statement" error on a healthy connection) wins whenever it can.
CLIENT_MARGIN_S = 2.0


@dataclass(frozen=True)
class Timeouts:
    connect: float
    statement: float | None  # None: statements are not bounded (migrations, tools)
    pool: float
    keepalive: int

    @classmethod
    def from_config(cls, database: DatabaseConfig) -> Timeouts:
        return cls(
            connect=database.connect_timeout_seconds,
            statement=database.statement_timeout_seconds,
            pool=database.pool_timeout_seconds,
            keepalive=database.keepalive_seconds,
        )

    @classmethod
    def connect_only(cls) -> Timeouts:
        return cls(connect=10.0, statement=None, pool=30.0, keepalive=10)

    @property
    def client_wait(self) -> float | None:
        return None if self.statement is None else self.statement + CLIENT_MARGIN_S


def postgres_connect_args(limits: Timeouts) -> dict[str, Any]:
    args: dict[str, Any] = {
        # libpq counts whole seconds and at least 2.
        "connect_timeout": max(2, math.ceil(limits.connect)),
        "keepalives": 1,
        "keepalives_idle": limits.keepalive,
        "keepalives_interval": max(1, limits.keepalive // 3),
        "keepalives_count": 3,
        # Data sent but not acknowledged for this long: the connection is dead (Linux).
        "tcp_user_timeout": int(2 * limits.keepalive * 1000),
    }
    if limits.statement is not None:
        args["options"] = f"-c statement_timeout={int(limits.statement * 1000)}"
    return args


def bound_the_ping(engine: Any, limits: Timeouts) -> None:
    """The pre-ping waits at most ``limits.connect`` (SQLAlchemy has no hook for it: the
    dialect's ``do_ping`` of this engine is wrapped)."""
    ping = engine.dialect.do_ping

    def bounded_ping(dbapi_connection: Any) -> bool:
        usual = getattr(dbapi_connection, "wait_limit", None)
        if usual is None:
            return bool(ping(dbapi_connection))
        dbapi_connection.wait_limit = limits.connect
        try:
            return bool(ping(dbapi_connection))
        finally:
            dbapi_connection.wait_limit = usual

    engine.dialect.do_ping = bounded_ping


def bounded_connect(
    limits: Timeouts, _dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]
) -> Any:
    """SQLAlchemy's ``do_connect`` hook: open a BoundedConnection instead of psycopg's own."""
    connection = _connection_class().connect(*cargs, **cparams)
    connection.wait_limit = limits.client_wait
    return connection


_CLASS: Any = None


def _connection_class() -> Any:
    """Built on first use: psycopg is imported only by processes that use PostgreSQL."""
    global _CLASS
    if _CLASS is None:
        import psycopg
        from psycopg import errors

        class BoundedConnection(psycopg.Connection):
            wait_limit: float | None = None

            def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
                limit = timeout if timeout is not None else self.wait_limit
                try:
                    return super().wait(gen, interval=interval, timeout=limit)
                except errors._WaitTimeout as err:  # psycopg's own wait-timeout signal
                    if timeout is not None:
                        raise  # a caller's own timeout (notifies, cancel): theirs to handle
                    self.close()  # mid-operation: its state is unknown, never reuse it
                    raise psycopg.OperationalError(
                        f"no answer from the database in {limit:.0f} s (connection closed)"
                    ) from err

        _CLASS = BoundedConnection
    return _CLASS
