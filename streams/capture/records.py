"""The frame records of ``GET /v1/frames``: the one binary format both sides agree on.

A body is a sequence of records, each ``[u32 header_len][header JSON][u32 jpeg_len][jpeg]``
(big-endian lengths). The header is ``{"id": str, "seq": int, "at": float, "w": int, "h": int}``
with ``at`` the capture time in seconds since the epoch (UTC).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

_LEN = struct.Struct(">I")


class RecordError(ValueError):
    """A frames body that does not follow the record format."""


@dataclass(frozen=True)
class Frame:
    """One JPEG of one camera; ``seq`` grows with every new frame of that camera and quality."""

    camera_id: str
    seq: int
    at: datetime
    width: int
    height: int
    jpeg: bytes


def encode_record(
    camera_id: str, seq: int, at: float, width: int, height: int, jpeg: bytes
) -> bytes:
    header = json.dumps(
        {"id": camera_id, "seq": seq, "at": at, "w": width, "h": height}, separators=(",", ":")
    ).encode("utf-8")
    return b"".join((_LEN.pack(len(header)), header, _LEN.pack(len(jpeg)), jpeg))


def encode_frames(frames: Iterable[Frame]) -> bytes:
    return b"".join(
        encode_record(f.camera_id, f.seq, f.at.timestamp(), f.width, f.height, f.jpeg)
        for f in frames
    )


def decode_frames(body: bytes) -> list[Frame]:
    frames: list[Frame] = []
    view, pos = memoryview(body), 0
    while pos < len(body):
        header, pos = _chunk(view, pos)
        jpeg, pos = _chunk(view, pos)
        try:
            h = json.loads(bytes(header))
            frames.append(
                Frame(
                    camera_id=str(h["id"]),
                    seq=int(h["seq"]),
                    at=datetime.fromtimestamp(float(h["at"]), UTC),
                    width=int(h["w"]),
                    height=int(h["h"]),
                    jpeg=bytes(jpeg),
                )
            )
        except (ValueError, KeyError, TypeError) as err:
            raise RecordError(f"bad frame header at byte {pos}") from err
    return frames


def _chunk(view: memoryview, pos: int) -> tuple[memoryview, int]:
    if pos + _LEN.size > len(view):
        raise RecordError(f"truncated length at byte {pos}")
    (n,) = _LEN.unpack_from(view, pos)
    start, end = pos + _LEN.size, pos + _LEN.size + n
    if end > len(view):
        raise RecordError(f"truncated record at byte {pos}")
    return view[start:end], end
