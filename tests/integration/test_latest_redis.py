"""The newest position per worker in Redis ([bus] backend = "redis"): only forward in time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import redis

from dashboard.storage.latest_redis import RedisLatest

T = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _row(worker: str, minutes: int, lon: float) -> dict[str, object]:
    return {
        "worker_id": worker,
        "at": T + timedelta(minutes=minutes),
        "lon": lon,
        "lat": 29.6,
        "grid_code": "330681109002001",
    }


def test_a_late_fix_never_moves_the_worker_back(redis_url: str) -> None:
    channel = f"gcc-test-{uuid.uuid4().hex[:8]}"
    latest = RedisLatest.from_url(redis_url, channel)
    try:
        latest.update([_row("a", 5, 120.5), _row("b", 1, 120.1)])
        latest.update([_row("a", 3, 120.3), _row("b", 2, 120.2)])  # a: late; b: newer
        now = latest.latest()
        assert now["a"] == (T + timedelta(minutes=5), 120.5, 29.6, "330681109002001")
        assert now["b"][:2] == (T + timedelta(minutes=2), 120.2)
    finally:
        redis.Redis.from_url(redis_url).delete(latest.key)
