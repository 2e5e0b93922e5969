"""The newest trusted position per worker in Redis (``[bus] backend = "redis"``), beside the
``worker_positions`` table: one hash ``<channel>:positions`` of ``worker → "epoch,lon,lat,grid"``.

A batch is one script call that, like the table's upsert, moves a worker only forward in time, so
a late fix from a phone's backlog never moves the dot back, whichever process stores it. Readers
that need every worker's dot many times a second (the wall of a city, the bench) read the hash
instead of the database; the database stays the durable record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import redis

_FORWARD = """
local n = 0
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local incoming = ARGV[i + 1]
  local at = tonumber(string.match(incoming, '^([^,]+)'))
  if (not current) or tonumber(string.match(current, '^([^,]+)')) < at then
    redis.call('HSET', KEYS[1], ARGV[i], incoming)
    n = n + 1
  end
end
return n
"""


class RedisLatest:
    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.client = client
        self.key = f"{channel}:positions"
        self._script = client.register_script(_FORWARD)

    @classmethod
    def from_url(cls, url: str, channel: str) -> RedisLatest:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return cls(client, channel)

    def update(self, rows: Sequence[dict[str, Any]]) -> None:
        """``rows`` as PositionService builds them for ``worker_positions``."""
        args: list[str] = []
        for row in rows:
            at = row["at"].timestamp()
            args += [
                row["worker_id"],
                f"{at:.3f},{row['lon']},{row['lat']},{row['grid_code'] or ''}",
            ]
        if args:
            self._script(keys=[self.key], args=args)

    def latest(self) -> dict[str, tuple[datetime, float, float, str | None]]:
        answer = {}
        stored: dict[bytes, bytes] = self.client.hgetall(self.key)  # type: ignore[assignment]
        for worker, value in stored.items():
            at, lon, lat, grid = value.decode().split(",")
            answer[worker.decode()] = (
                datetime.fromtimestamp(float(at), UTC),
                float(lon),
                float(lat),
                grid or None,
            )
        return answer
