"""Sign-in throttling: exponential back-off per address, per account and per (account, address).

Replaces the hard lock-out an attacker controlled (five wrong passwords locked any account, the
duty commander's or the admin's, for 15 minutes). Now each failed sign-in counts against three
keys, each with its own rule:

- the pair (account, address): ``lockout_threshold`` failures, then 1 s, 2 s, 4 s … up to
  ``lockout_minutes`` — guessing one password from one place slows to a crawl;
- the address, whatever the account: ``sign_in_address_threshold`` failures, then the same
  back-off — password spraying (one password against many accounts) from one place stops;
- the account, whatever the address: ``sign_in_account_threshold`` failures, then a back-off
  capped at ``sign_in_account_max_seconds`` (a minute by default) — a distributed guess is slowed,
  but nobody can keep the real user out for more than that cap by failing on purpose.

An attempt while any of its keys is backing off is refused with 429 and ``Retry-After`` before the
password is even checked. A successful sign-in clears its pair and account keys. Failures are
forgotten ``2 × cap`` (at least 15 minutes) after the last one.

The state is shared by every server process through Redis when the bus is Redis (one Lua script
per failure, atomic), with the times from the app's controlled clock; when Redis cannot be
reached, or with the in-process bus, it lives in the process (``MemoryThrottle``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dashboard.config import SecurityConfig

logger = logging.getLogger(__name__)

FORGET_AFTER_MIN_S = 15 * 60
BASE_DELAY_S = 1.0


@dataclass(frozen=True)
class BackoffRule:
    threshold: int  # failures allowed before the back-off starts
    cap: float  # the longest wait, seconds
    base: float = BASE_DELAY_S

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failures in a row: 0, …, base, 2·base, … cap."""
        if failures < self.threshold:
            return 0.0
        return float(min(self.cap, self.base * 2 ** min(failures - self.threshold, 40)))

    @property
    def forget_after(self) -> float:
        return max(2 * self.cap, FORGET_AFTER_MIN_S)


class ThrottleStore(Protocol):
    def blocked_until(self, key: str) -> float:
        """Epoch seconds before which ``key`` may not try again (0: free)."""

    def fail(self, key: str, now: float, rule: BackoffRule) -> float:
        """Count a failure of ``key`` at ``now``; returns the new blocked-until time."""

    def clear(self, key: str) -> None: ...


class MemoryThrottle:
    """The state in this process (the demo, or while Redis is away). Thread-safe."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[int, float, float]] = {}  # failures, until, forget_at
        self._lock = threading.Lock()

    def blocked_until(self, key: str) -> float:
        with self._lock:
            state = self._state.get(key)
        return state[1] if state else 0.0

    def fail(self, key: str, now: float, rule: BackoffRule) -> float:
        with self._lock:
            failures, _until, forget_at = self._state.get(key, (0, 0.0, 0.0))
            if forget_at and forget_at <= now:
                failures = 0
            failures += 1
            delay = rule.delay(failures)
            until = now + delay if delay else 0.0
            self._state[key] = (failures, until, now + rule.forget_after)
            if len(self._state) > 10_000:  # many addresses: drop the forgotten ones
                self._state = {k: v for k, v in self._state.items() if v[2] > now}
        return until

    def clear(self, key: str) -> None:
        with self._lock:
            self._state.pop(key, None)


# KEYS[1]; ARGV = now, threshold, base, cap, ttl_ms. Returns blocked-until as a string.
_FAIL_LUA = """
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local until_ = 0
if failures >= threshold then
  local exponent = math.min(failures - threshold, 40)
  until_ = now + math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ exponent)
end
redis.call('HSET', KEYS[1], 'until', tostring(until_))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return tostring(until_)
"""


class RedisThrottle:
    """The state in Redis, shared by the server processes; this process's memory when Redis is
    away (logged once a minute): an outage of Redis must not open or close the sign-in."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}:signin:"
        self._script = client.register_script(_FAIL_LUA)
        self._fallback = MemoryThrottle()
        self._warned_at = 0.0

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisThrottle:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, prefix)

    def blocked_until(self, key: str) -> float:
        import redis

        try:
            value = self._client.hget(self._prefix + key, "until")
        except redis.RedisError as err:
            self._warn(err)
            return self._fallback.blocked_until(key)
        return max(float(value or 0), self._fallback.blocked_until(key))

    def fail(self, key: str, now: float, rule: BackoffRule) -> float:
        import redis

        ttl_ms = int(rule.forget_after * 1000)
        try:
            value = self._script(
                keys=[self._prefix + key], args=[now, rule.threshold, rule.base, rule.cap, ttl_ms]
            )
        except redis.RedisError as err:
            self._warn(err)
            return self._fallback.fail(key, now, rule)
        return float(value)

    def clear(self, key: str) -> None:
        import redis

        self._fallback.clear(key)
        try:
            self._client.delete(self._prefix + key)
        except redis.RedisError as err:
            self._warn(err)

    def _warn(self, err: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            logger.warning("sign-in throttle: Redis unavailable (%s); counting here", err)


@dataclass(frozen=True)
class Setback:
    """A key that has just started backing off (for the audit log)."""

    scope: str  # pair | address | account
    seconds: float


class SignInThrottle:
    def __init__(self, store: ThrottleStore, config: SecurityConfig) -> None:
        self.store = store
        cap = config.lockout_minutes * 60
        self.rules = {
            "pair": BackoffRule(config.lockout_threshold, cap),
            "address": BackoffRule(config.sign_in_address_threshold, cap),
            "account": BackoffRule(
                config.sign_in_account_threshold, min(cap, config.sign_in_account_max_seconds)
            ),
        }

    @staticmethod
    def keys(username: str, ip: str) -> dict[str, str]:
        name = username.strip().lower()[:60]
        return {
            "pair": f"pair:{name}|{ip}",
            "address": f"address:{ip}",
            "account": f"account:{name}",
        }

    def wait(self, username: str, ip: str, now: datetime) -> float:
        """Seconds before this attempt may be made (0: go ahead)."""
        at = now.timestamp()
        until = max(self.store.blocked_until(k) for k in self.keys(username, ip).values())
        return max(0.0, until - at)

    def failed(self, username: str, ip: str, now: datetime) -> list[Setback]:
        at = now.timestamp()
        started = []
        for scope, key in self.keys(username, ip).items():
            until = self.store.fail(key, at, self.rules[scope])
            if until > at:
                started.append(Setback(scope, until - at))
        return started

    def succeeded(self, username: str, ip: str) -> None:
        keys = self.keys(username, ip)
        self.store.clear(keys["pair"])
        self.store.clear(keys["account"])
