"""Redis pub/sub bus for several server processes (one channel per deployment).

Every server process publishes (its outbox relay) and subscribes (its live screens) on the same
channel. Pub/sub keeps no history, so two rules keep the outbox's "nothing is lost" promise:

- the listener reconnects by itself after Redis restarts (backoff, logged once per outage), and
- ``publish`` refuses (BusError) while this process's own subscription is not live, and when
  Redis reports that nobody received the message although this process has subscribers: the
  relay then keeps the rows and retries, instead of marking them published into the void.

``publish_many`` sends a batch in one round trip (a pipeline): under load, one network wait per
batch instead of one per event keeps the relay from queueing for the GIL behind the websocket
writer threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.client import PubSub

from dashboard.storage.bus import BusError, Event, EventBus, Handler

logger = logging.getLogger(__name__)

RETRY_START_S = 0.2
RETRY_MAX_S = 2.0
POLL_S = 0.5  # how often the listener looks at the stop flag while the channel is quiet


class RedisBus(EventBus):
    def __init__(self, url: str, channel: str = "gcc") -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self.channel = f"{channel}:events"
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self._subscribed = threading.Event()  # set while the listener's subscription is live
        self._retry_s = RETRY_START_S
        self._outage = False

    # --- publishing -------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        local = self._has_handlers()
        if local and not self._subscribed.is_set():
            raise BusError("redis bus: this process's subscription is (re)connecting")
        try:
            receivers = int(self._client.publish(self.channel, event.to_json()))
        except redis.RedisError as err:
            raise BusError(f"redis publish failed: {type(err).__name__}") from err
        if local and receivers == 0:
            # Redis lost our subscription (it restarted) before the listener noticed.
            self._subscribed.clear()
            raise BusError("redis bus: nobody is subscribed (redis restarted?)")

    def publish_many(self, events: Sequence[Event]) -> None:
        """One round trip for the whole batch (a pipeline, not a transaction)."""
        local = self._has_handlers()
        if local and not self._subscribed.is_set():
            raise BusError("redis bus: this process's subscription is (re)connecting")
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.publish(self.channel, event.to_json())
                receivers = pipe.execute()
        except redis.RedisError as err:
            raise BusError(f"redis publish failed: {type(err).__name__}") from err
        if local and any(int(n) == 0 for n in receivers):
            self._subscribed.clear()
            raise BusError("redis bus: nobody is subscribed (redis restarted?)")

    # --- subscribing ------------------------------------------------------------------------

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

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the listener's subscription is live (start-up and tests)."""
        return self._subscribed.wait(timeout)

    def _has_handlers(self) -> bool:
        with self._lock:
            return bool(self._handlers)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                self._pump()
            except redis.RedisError as err:
                self._subscribed.clear()
                self._wait_before_retry(err)

    def _wait_before_retry(self, err: Exception) -> None:
        if not self._outage:
            self._outage = True
            logger.warning(
                "redis bus lost its subscription (%s); reconnecting in the background",
                type(err).__name__,
            )
        self._stop.wait(self._retry_s)
        self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)

    def _pump(self) -> None:
        pubsub = self._client.pubsub()
        try:
            self._subscribe(pubsub)
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=POLL_S)
                if message is not None and message["type"] == "message":
                    self._deliver(message["data"])
        finally:
            self._subscribed.clear()
            pubsub.close()

    def _subscribe(self, pubsub: PubSub) -> None:
        """Subscribe and wait for Redis to confirm, so ``publish`` knows we are listening."""
        pubsub.subscribe(self.channel)
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=POLL_S)
            if message is not None and message["type"] == "subscribe":
                break
        self._subscribed.set()
        self._retry_s = RETRY_START_S
        if self._outage:
            self._outage = False
            logger.warning("redis bus subscription is back")

    def _deliver(self, raw: bytes | str) -> None:
        try:
            event = Event.from_json(raw)
        except (ValueError, KeyError, TypeError):
            logger.warning("redis bus dropped a malformed message on %s", self.channel)
            return
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # a broken screen must not stop the others
                logger.exception("bus handler failed for topic %s", event.topic)

    # --- state ------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        try:
            self._client.ping()
        except redis.RedisError as err:
            return {"ok": False, "backend": "redis", "error": type(err).__name__}
        return {"ok": True, "backend": "redis", "subscribed": self._subscribed.is_set()}

    def close(self) -> None:
        self._stop.set()
        listener = self._listener
        if listener is not None and listener is not threading.current_thread():
            listener.join(timeout=2 * POLL_S + 1)
        self._client.close()
