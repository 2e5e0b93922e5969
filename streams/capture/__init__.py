"""The capture service: one reader per camera, shared by every viewer (issue 4, VIDEO.md).

It runs as its own process (``python run.py capture [--shard I/N]``) and serves an internal HTTP
API (streams.capture.server) that the web processes call through ``CaptureClient``
(streams.capture.client). Cameras are spread over shards by a stable hash of their id.
"""

from __future__ import annotations

import zlib


def shard_of(camera_id: str, n: int) -> int:
    """The shard (0..n-1) owning ``camera_id``: CRC-32 of its UTF-8 id, stable across runs."""
    if n < 1:
        raise ValueError("the number of shards must be at least 1")
    return zlib.crc32(camera_id.encode("utf-8")) % n
