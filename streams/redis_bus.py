"""Redis pub/sub bus for several server processes (one channel per deployment)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import redis

from streams.bus import BusError, Event, EventBus, Handler

logger = logging.getLogger(__name__)


class RedisBus(EventBus):
    def __init__(self, url: str, channel: str = "gcc") -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self.channel = f"{channel}:events"
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

    def publish(self, event: Event) -> None:
        try:
            self._client.publish(self.channel, event.to_json())
        except redis.RedisError as err:
            raise BusError(f"redis publish failed: {type(err).__name__}") from err

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)
            if self._listener is None:
                self._listener = threading.Thread(
                    target=self._listen, name="redis-bus", daemon=True
                )
                self._listener.start()

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                self._pump()
            except redis.RedisError as err:
                logger.warning(
                    "redis bus listener lost its connection (%s); retrying", type(err).__name__
                )
                self._stop.wait(1.0)

    def _pump(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        try:
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                event = Event.from_json(message["data"])
                with self._lock:
                    handlers = list(self._handlers)
                for handler in handlers:
                    try:
                        handler(event)
                    except Exception:
                        logger.exception("bus handler failed for topic %s", event.topic)
        finally:
            pubsub.close()

    def health(self) -> dict[str, Any]:
        try:
            self._client.ping()
            return {"ok": True, "backend": "redis"}
        except redis.RedisError as err:
            return {"ok": False, "backend": "redis", "error": type(err).__name__}

    def close(self) -> None:
        self._stop.set()
        self._client.close()
