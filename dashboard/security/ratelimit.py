"""Per-token rate limits: a token bucket for each API token.

Each token may send ``burst`` requests at once and ``rate`` per second after that; a request over
the limit gets 429 with ``Retry-After``. The refusal is decided before the token is even looked up
in the database (the bucket is keyed by the token's SHA-256), so a flood from one token costs the
server one dictionary lookup per request and does not slow the others.

Two backends behind one interface: ``MemoryBuckets`` (one process: the demo) and ``RedisBuckets``
(``[bus] backend = "redis"``: several server processes share each token's bucket through one Lua
script, atomic on the Redis server, timed by the Redis clock so the processes need not agree).
If Redis cannot be reached, requests are let through (logged once a minute): an outage of the
limiter must not become an outage of the command center.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def take(self, key: str) -> float:
        """Spend one request of ``key``'s bucket: 0.0 when allowed, else seconds to wait."""


class MemoryBuckets:
    """Token buckets in this process. Thread-safe; idle buckets are forgotten."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()
        self._next_prune = clock() + 60

    def take(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
            if now >= self._next_prune:
                self._prune(now)
        return wait

    def _prune(self, now: float) -> None:
        # A bucket full again is the same as no bucket: drop it so random tokens cannot grow us.
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        self._next_prune = now + 60


# KEYS[1] = bucket key; ARGV = rate, burst, ttl_ms. Returns the wait in microseconds (0 = allowed).
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return math.ceil(wait * 1000000)
"""


class RedisBuckets:
    """Token buckets shared by every process through Redis (one hash per token)."""

    def __init__(self, client: Any, prefix: str, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._client = client
        self._prefix = f"{prefix}:ratelimit:"
        self._script = client.register_script(_LUA)
        self._ttl_ms = max(1000, math.ceil(burst / rate * 1000) + 1000)
        self._warned_at = 0.0

    @classmethod
    def from_url(cls, url: str, prefix: str, rate: float, burst: int) -> RedisBuckets:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, prefix, rate, burst)

    def take(self, key: str) -> float:
        import redis

        try:
            wait_us = self._script(
                keys=[self._prefix + key], args=[self.rate, self.burst, self._ttl_ms]
            )
        except redis.RedisError as err:
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                logger.warning(
                    "rate limiter: Redis unavailable (%s); letting requests through", err
                )
            return 0.0
        return int(wait_us) / 1_000_000

    def close(self) -> None:
        self._client.close()


def retry_after(wait: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
