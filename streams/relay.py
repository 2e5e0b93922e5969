"""The outbox relay: publishes committed ``outbox`` rows on the bus, in id order, exactly once.

Services write an outbox row in the same transaction as the change it announces. The relay, a
thread in every server process, reads unpublished rows in id order, publishes each as
``Event(topic, payload, seq=row.id, prev=<seq published before>)`` and marks them published only
after the bus took them. When the bus is down (BusError) the rows stay and go out, in order, once
it is back. It wakes when a local transaction committed an outbox row and otherwise polls (a
cheap indexed query), faster for a moment after it found work.

One relay at a time per deployment: on PostgreSQL a transaction-level advisory lock lets a single
process publish a batch (its rows are also taken ``FOR UPDATE SKIP LOCKED``), so the order holds
across processes; SQLite is one process, where a local lock is enough. A batch goes out in one
``publish_many`` (one Redis round trip). A row can reach subscribers twice — when the bus failed
in the middle of a batch, or the database between the bus taking it and the commit — and the live
layer drops such repeats by ``seq``: "exactly once" holds for the screens.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.clock import Clock
from dashboard.storage.bus import BusError, Event, EventBus
from dashboard.storage.db import Database, StorageError
from dashboard.storage.models import OutboxEvent
from dashboard.storage.outbox import last_published_id

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
IDLE_POLL_S = 0.15  # nothing happened lately: look every 150 ms
BUSY_POLL_S = 0.01  # rows were found in the last BUSY_WINDOW_S: look every 10 ms
BUSY_WINDOW_S = 2.0
BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 2.0
KEEP_PUBLISHED = timedelta(days=1)
PRUNE_EVERY_S = 600.0
ADVISORY_LOCK_KEY = 0x6763_635F_7265_6C79  # "gcc_rely": one relay per PostgreSQL database

_local_locks: dict[str, threading.Lock] = {}  # one batch at a time per database in this process
_local_locks_guard = threading.Lock()


def _local_lock(db: Database) -> threading.Lock:
    key = db.engine.url.render_as_string(hide_password=True)
    with _local_locks_guard:
        return _local_locks.setdefault(key, threading.Lock())


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        *,
        batch_size: int = BATCH_SIZE,
        keep_published: timedelta = KEEP_PUBLISHED,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.batch_size = batch_size
        self.keep_published = keep_published
        self._local = _local_lock(db)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0
        self._down: str | None = None  # what is failing (bus/database) during an outage
        self._busy_until = 0.0
        self._next_prune = 0.0
        self.published = 0

    # --- the thread -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self) -> None:
        """A local transaction committed outbox rows: publish now instead of at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._step()

    def _step(self) -> None:
        self._wait()
        if self._stop.is_set():
            return
        try:
            count = self.publish_pending()
            self._prune_now_and_then()
        except BusError as err:
            self._failed("bus", err)
            return
        except (SQLAlchemyError, StorageError) as err:  # StorageError: the database is away
            self._failed("database", err)
            return
        except Exception as err:  # a bug must not end the thread: log it, back off, go on
            logger.exception("outbox relay step failed")
            self._failed("relay", err)
            return
        self._recovered()
        if count:
            self._busy_until = time.monotonic() + BUSY_WINDOW_S
        if count >= self.batch_size:
            self._wake.set()  # more rows are waiting

    def _wait(self) -> None:
        if self._backoff:  # an outage: wait it out, whatever commits in the meantime
            self._stop.wait(self._backoff)
            return
        busy = time.monotonic() < self._busy_until
        self._wake.wait(BUSY_POLL_S if busy else IDLE_POLL_S)
        self._wake.clear()

    def _failed(self, what: str, err: Exception) -> None:
        self._backoff = min(max(self._backoff * 2, BACKOFF_START_S), BACKOFF_MAX_S)
        if self._down is None:  # once per outage, not per row or per retry
            self._down = what
            logger.warning(
                "outbox relay: the %s is unavailable (%s); events wait in the outbox",
                what,
                type(err).__name__,
            )

    def _recovered(self) -> None:
        if self._down is not None:
            logger.warning("outbox relay: the %s is back; delayed events are going out", self._down)
        self._down = None
        self._backoff = 0.0

    # --- one batch --------------------------------------------------------------------------

    def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many went out.

        Raises BusError when the bus refused the batch: no row is marked, so the whole batch goes
        out again (whatever part of it the bus did deliver is dropped by seq downstream).
        """
        with self._local, self.db.transaction() as session:
            if not self._take_deployment_lock(session):
                return 0  # another process is publishing this moment
            rows = session.execute(
                select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            prev = last_published_id(session)
            events = []
            for row_id, topic, payload in rows:
                events.append(Event(topic, dict(payload), seq=row_id, prev=prev))
                prev = row_id
            self.bus.publish_many(events)  # BusError: nothing is marked, all go again later
            done = [event.seq for event in events]
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(done))
                .values(published_at=self.clock.now())
            )
        self.published += len(done)
        return len(done)

    def _take_deployment_lock(self, session: Session) -> bool:
        if self.db.dialect != "postgresql":
            return True
        return bool(session.scalar(select(func.pg_try_advisory_xact_lock(ADVISORY_LOCK_KEY))))

    # --- housekeeping -----------------------------------------------------------------------

    def _prune_now_and_then(self) -> None:
        now = time.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            self.prune()

    def prune(self) -> int:
        """Delete rows published longer ago than ``keep_published``.

        The newest row always stays: SQLite (no AUTOINCREMENT) would otherwise hand out its id
        again, and a seq must never go backwards.
        """
        cutoff = self.clock.now() - self.keep_published
        newest = select(func.max(OutboxEvent.id)).scalar_subquery()
        with self.db.transaction() as session:
            result = session.execute(
                delete(OutboxEvent)
                .where(OutboxEvent.published_at < cutoff)
                .where(OutboxEvent.id < newest)
                .execution_options(synchronize_session=False)
            )
        removed = int(getattr(result, "rowcount", 0) or 0)
        if removed:
            logger.info("outbox relay pruned %s published events", removed)
        return removed

    def health(self) -> dict[str, Any]:
        return {
            "running": self._thread is not None,
            "down": self._down,
            "published": self.published,
        }
