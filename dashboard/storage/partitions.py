"""Day partitions of ``position_fixes`` on PostgreSQL, and the retention of fixes on both backends.

Migration 0010 makes ``position_fixes`` a natively partitioned table (``PARTITION BY RANGE
(at)``) with a default partition. ``ensure_partitions`` creates one partition per UTC day from
today to ``days_ahead`` days ahead (the scheduler's ``partitions`` job, hourly); a day that already
has rows in the default partition (late fixes, or a deployment that ran without the job) gets its
partition too: the rows are moved out of the default partition and the new table attached, in one
transaction. ``drop_expired`` drops whole day partitions older than the retention (instant, no
vacuum) and deletes the older rows of the default partition; on SQLite it deletes old rows.

So the present stays fast however many years are stored: the replay reads one worker's rows of a
few days through ``(worker_id, at)`` on a handful of day tables, and the writes touch today's.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, text

from dashboard.storage.db import Database
from dashboard.storage.models import PositionFix

logger = logging.getLogger(__name__)

TABLE = "position_fixes"
DEFAULT = f"{TABLE}_default"
_DAY = re.compile(rf"^{TABLE}_p(\d{{8}})$")


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def is_partition(table: str) -> bool:
    """A table of the partitioned ``position_fixes`` (a day, or the default one)."""
    return table == DEFAULT or _DAY.match(table) is not None


@dataclass(frozen=True)
class Maintenance:
    created: list[str]
    dropped: list[str]
    deleted_rows: int

    @property
    def items(self) -> int:
        return len(self.created) + len(self.dropped) + self.deleted_rows


def day_partitions(db: Database) -> list[date]:
    """The days that have a partition (PostgreSQL; empty on SQLite)."""
    if db.dialect != "postgresql":
        return []
    with db.read() as session:
        names = session.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t"
            ),
            {"t": TABLE},
        ).scalars()
        days = [_DAY.match(n) for n in names]
    return sorted(datetime.strptime(m.group(1), "%Y%m%d").date() for m in days if m)


def ensure_partitions(db: Database, now: datetime, days_ahead: int) -> list[str]:
    """Create the day partitions of today … today + ``days_ahead`` and of every day the default
    partition holds rows of; answer the names created."""
    if db.dialect != "postgresql":
        return []
    today = now.astimezone(UTC).date()
    wanted = {today + timedelta(days=i) for i in range(days_ahead + 1)}
    with db.read() as session:
        stray = session.execute(
            text(f"SELECT DISTINCT (at AT TIME ZONE 'UTC')::date FROM {DEFAULT}")
        ).scalars()
        wanted |= set(stray)
    existing = set(day_partitions(db))
    created = []
    for day in sorted(wanted - existing):
        _create(db, day)
        created.append(partition_name(day))
    if created:
        logger.info("position_fixes: %d day partition(s) created", len(created))
    return created


def _create(db: Database, day: date) -> None:
    name = partition_name(day)
    low = datetime.combine(day, time(), UTC)
    high = low + timedelta(days=1)
    bounds = {"low": low, "high": high}
    with db.transaction() as session:
        # First wait for the inserts in flight and hold new ones until the commit: an insert
        # that routed its row with the partitions of before the ATTACH would put a row of this
        # day into the default partition, which the ATTACH has just narrowed ("violates
        # partition constraint", seen with several server processes storing at start-up).
        session.execute(text(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE"))
        session.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
        session.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE at >= :low AND at < :high "
                f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
            ),
            bounds,
        )
        # Literal bounds: ATTACH takes no parameters. ISO text of a UTC datetime, never input.
        session.execute(
            text(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM "
                f"('{low.isoformat()}') TO ('{high.isoformat()}')"
            )
        )


def drop_expired(db: Database, now: datetime, retention_days: int) -> tuple[list[str], int]:
    """Drop (PostgreSQL) or delete (SQLite) the fixes older than ``retention_days``; 0 keeps
    everything. Answers the partitions dropped and the rows deleted."""
    if retention_days <= 0:
        return [], 0
    cutoff = now.astimezone(UTC) - timedelta(days=retention_days)
    dropped: list[str] = []
    if db.dialect == "postgresql":
        for day in day_partitions(db):
            if datetime.combine(day + timedelta(days=1), time(), UTC) <= cutoff:
                with db.transaction() as session:
                    session.execute(text(f"DROP TABLE {partition_name(day)}"))
                dropped.append(partition_name(day))
    with db.transaction() as session:
        result = session.execute(delete(PositionFix).where(PositionFix.at < cutoff))
        deleted = int(getattr(result, "rowcount", 0) or 0)
    if dropped or deleted:
        logger.info("position_fixes: dropped %s, deleted %d rows", dropped, deleted)
    return dropped, deleted


def maintain(db: Database, now: datetime, days_ahead: int, retention_days: int) -> Maintenance:
    """The scheduler's ``partitions`` job: partitions ahead, then the retention."""
    created = ensure_partitions(db, now, days_ahead)
    dropped, deleted = drop_expired(db, now, retention_days)
    return Maintenance(created, dropped, deleted)
