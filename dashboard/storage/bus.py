"""The event bus behind one interface: in-process for the embedded demo, Redis at scale.

Publishers hand over ``Event``s (topic + JSON payload + the outbox id as sequence number);
subscribers get them in publish order. The outbox relay is the only publisher of domain events,
so the database stays the source of truth and a bus outage loses nothing.

Sequenced events (``seq > 0``, from the relay) also carry ``prev``: the ``seq`` the relay
published just before, deployment-wide. A subscriber whose last seen ``seq`` differs from
``prev`` missed events (a Redis subscriber that reconnected) and must resynchronise its screens.
Ephemeral events (positions, camera status) have ``seq = 0`` and ``prev = None``.
"""

from __future__ import annotations

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


class BusError(Exception):
    """The bus could not take the event (the caller keeps it and retries)."""


@dataclass(frozen=True)
class Event:
    topic: str
    payload: dict[str, Any]
    seq: int = 0
    prev: int | None = None  # the seq published just before this one (sequenced events only)

    def to_json(self) -> str:
        return json.dumps(
            {"topic": self.topic, "payload": self.payload, "seq": self.seq, "prev": self.prev},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        data = json.loads(raw)
        prev = data.get("prev")
        return cls(
            topic=str(data["topic"]),
            payload=dict(data["payload"]),
            seq=int(data.get("seq", 0)),
            prev=None if prev is None else int(prev),
        )


Handler = Callable[[Event], None]


class EventBus(ABC):
    @abstractmethod
    def publish(self, event: Event) -> None:
        """Deliver to every subscriber, or raise BusError."""

    def publish_many(self, events: Sequence[Event]) -> None:
        """Deliver ``events`` in order, or raise BusError (then any prefix may have gone out:
        the caller publishes them again and subscribers drop repeats by ``seq``)."""
        for event in events:
            self.publish(event)

    @abstractmethod
    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Register a handler; returns a function that unsubscribes it."""

    @abstractmethod
    def health(self) -> dict[str, Any]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class InMemoryBus(EventBus):
    """One process: handlers run in the publisher's thread, in order."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self.published = 0

    def publish(self, event: Event) -> None:
        with self._lock:
            handlers = list(self._handlers)
            self.published += 1
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # a broken screen must not stop the others
                logger.exception("bus handler failed for topic %s", event.topic)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def health(self) -> dict[str, Any]:
        return {"ok": True, "backend": "memory", "published": self.published}
