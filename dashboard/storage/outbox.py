"""The outbox: every change's event written in the change's own transaction.

A service adds an ``outbox`` row with ``enqueue`` in the same transaction as the change it
announces; the relay (``streams/relay.py``) publishes committed rows on the bus in id order.
``wake_on_outbox_commit`` tells the relay, after a commit that added rows, to publish now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, sessionmaker

from dashboard.storage.models import OutboxEvent


def enqueue(session: Session, topic: str, payload: dict[str, Any], now: datetime) -> OutboxEvent:
    """Add an outbox row to the caller's transaction (what the services do for every change)."""
    row = OutboxEvent(topic=topic, payload=payload, created_at=now)
    session.add(row)
    return row


_INSERT = insert(OutboxEvent.__table__)
# session.info key: this transaction added outbox rows (ORM objects or Core inserts); the relay
# is woken after its commit.
_ADDED = "outbox_added"


def enqueue_row(session: Session, topic: str, payload: dict[str, Any], now: datetime) -> None:
    """``enqueue`` as one Core insert (no ORM object, no flush): the case report's hot path.
    The relay is woken after the commit all the same."""
    session.connection().execute(_INSERT, {"topic": topic, "payload": payload, "created_at": now})
    session.info[_ADDED] = True


def last_published_id(session: Session) -> int:
    """The seq the relays published last (publish order: published_at, then id); 0 if none."""
    found = session.scalar(
        select(OutboxEvent.id)
        .where(OutboxEvent.published_at.is_not(None))
        .order_by(OutboxEvent.published_at.desc(), OutboxEvent.id.desc())
        .limit(1)
    )
    return int(found or 0)


def wake_on_outbox_commit(
    sessions: sessionmaker[Session], notify: Callable[[], None]
) -> Callable[[], None]:
    """Call ``notify`` after every commit of a session (from ``sessions``) that added outbox rows.

    This is how CaseService and every other service wake the relay without knowing about it.
    Returns a function that removes the hook again.
    """

    def mark(session: Session, _context: Any) -> None:
        if any(isinstance(obj, OutboxEvent) for obj in session.new):
            session.info[_ADDED] = True

    def wake(session: Session) -> None:
        if session.info.pop(_ADDED, False):
            notify()

    def forget(session: Session) -> None:
        session.info.pop(_ADDED, None)

    hooks = (("after_flush", mark), ("after_commit", wake), ("after_rollback", forget))
    for name, hook in hooks:
        event.listen(sessions, name, hook)

    def remove() -> None:
        for name, hook in hooks:
            event.remove(sessions, name, hook)

    return remove
