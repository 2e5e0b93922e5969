"""The outbox relay on both backends (SQLite and PostgreSQL), with the real buses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard.clock import FixedClock
from dashboard.services.alarms import AckRefused, record_alarm_ack
from dashboard.storage.bus import BusError, Event, InMemoryBus
from dashboard.storage.db import Database
from dashboard.storage.models import OutboxEvent
from dashboard.storage.outbox import enqueue, last_published_id, wake_on_outbox_commit
from streams.protocol import TOPIC_ALARM_ACK
from streams.redis_bus import RedisBus
from streams.relay import OutboxRelay
from tests.integration.live_helpers import free_port, wait_until
from tests.integration.support import Town, make_report

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _write(db: Database, n: int, topic: str = "case") -> list[int]:
    ids = []
    for i in range(n):
        with db.transaction() as session:
            row = enqueue(session, topic, {"i": i, "village": "330681109002"}, NOW)
            session.flush()
            ids.append(row.id)
    return ids


def _rows(db: Database) -> list[OutboxEvent]:
    with db.read() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


class Recorder:
    """A subscriber that keeps what it gets (thread-safe)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def seqs(self) -> list[int]:
        with self._lock:
            return [e.seq for e in self.events]


@pytest.fixture
def bus() -> Iterator[tuple[InMemoryBus, Recorder]]:
    bus, seen = InMemoryBus(), Recorder()
    bus.subscribe(seen)
    yield bus, seen
    bus.close()


def test_rows_go_out_in_id_order_once_chained_by_prev(
    database: Database, bus: tuple[InMemoryBus, Recorder]
) -> None:
    memory, seen = bus
    ids = _write(database, 5)
    relay = OutboxRelay(database, memory, FixedClock(NOW), batch_size=3)

    assert relay.publish_pending() == 3  # one batch
    assert relay.publish_pending() == 2
    assert relay.publish_pending() == 0
    assert seen.seqs() == ids
    assert [e.prev for e in seen.events] == [0, *ids[:-1]]
    assert seen.events[0].payload == {"i": 0, "village": "330681109002"}
    assert all(row.published_at == NOW for row in _rows(database))
    with database.read() as session:
        assert last_published_id(session) == ids[-1]


def test_rows_wait_in_the_outbox_while_the_bus_is_down(
    database: Database, bus: tuple[InMemoryBus, Recorder]
) -> None:
    memory, seen = bus
    ids = _write(database, 3)
    down = RedisBus(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        with pytest.raises(BusError):
            OutboxRelay(database, down, FixedClock(NOW)).publish_pending()
    finally:
        down.close()
    assert all(row.published_at is None for row in _rows(database))

    assert OutboxRelay(database, memory, FixedClock(NOW)).publish_pending() == 3
    assert seen.seqs() == ids


def test_a_commit_with_outbox_rows_wakes_the_relay_and_others_do_not(database: Database) -> None:
    woken: list[int] = []
    remove = wake_on_outbox_commit(database.sessions, lambda: woken.append(1))
    try:
        _write(database, 1)
        assert woken == [1]
        with database.transaction() as session:  # a commit without outbox rows
            session.execute(select(OutboxEvent.id))
        with pytest.raises(RuntimeError), database.transaction() as session:
            enqueue(session, "case", {}, NOW)
            session.flush()
            raise RuntimeError("rolled back")
        assert woken == [1]
    finally:
        remove()


def test_the_relay_thread_publishes_what_a_local_service_commits(
    database: Database, bus: tuple[InMemoryBus, Recorder]
) -> None:
    memory, seen = bus
    relay = OutboxRelay(database, memory, FixedClock(NOW))
    remove = wake_on_outbox_commit(database.sessions, relay.notify)
    relay.start()
    try:
        ids = _write(database, 4)
        wait_until(lambda: seen.seqs() == ids, 10, "the four events")
    finally:
        relay.stop()
        remove()
    assert relay.health() == {"running": False, "down": None, "published": 4}


def test_two_relays_publish_every_row_once_in_order(
    database: Database, bus: tuple[InMemoryBus, Recorder]
) -> None:
    """Two relays (as in two server processes) on one database and one bus: the deployment lock
    (PostgreSQL advisory lock; one lock per database in a process on SQLite) keeps the order."""
    memory, seen = bus
    relays = [OutboxRelay(database, memory, FixedClock(NOW), batch_size=7) for _ in range(2)]
    for relay in relays:
        relay.start()
    try:
        ids = _write(database, 200)
        wait_until(lambda: len(seen.seqs()) >= len(ids), 20, "every event")
    finally:
        for relay in relays:
            relay.stop()
    assert seen.seqs() == ids
    assert [e.prev for e in seen.events] == [0, *ids[:-1]]
    assert sum(r.published for r in relays) == len(ids)


def test_pruning_keeps_recent_rows_and_the_newest(
    database: Database, bus: tuple[InMemoryBus, Recorder]
) -> None:
    memory, _ = bus
    ids = _write(database, 3)
    OutboxRelay(database, memory, FixedClock(NOW)).publish_pending()
    later = OutboxRelay(database, memory, FixedClock(NOW + timedelta(days=2)))

    assert later.prune() == 2
    assert [r.id for r in _rows(database)] == ids[-1:]  # the newest stays: ids never go back
    (newer,) = _write(database, 1)
    assert newer > ids[-1]
    assert later.prune() == 1  # no longer the newest; the unpublished one is never pruned
    assert [r.id for r in _rows(database)] == [newer]


def test_an_alarm_acknowledgement_is_an_outbox_row_of_an_emergency(town: Town) -> None:
    emergency = town.cases.report(make_report(town, emergency=True))
    ordinary = town.cases.report(make_report(town, grid_index=1))

    payload = record_alarm_ack(town.db, emergency.id, "op-li", NOW)
    assert payload == {
        "case_id": emergency.id,
        "by": "op-li",
        "at": NOW.isoformat(),
        "village": emergency.village_code,
        "town": emergency.town_code,
    }
    assert town.outbox(TOPIC_ALARM_ACK)[-1].payload == payload
    for case_id, code in ((ordinary.id, "not_an_emergency"), (987_654, "case_not_found")):
        with pytest.raises(AckRefused) as refused:
            record_alarm_ack(town.db, case_id, "op-li", NOW)
        assert refused.value.code == code
    assert len(town.outbox(TOPIC_ALARM_ACK)) == 1
