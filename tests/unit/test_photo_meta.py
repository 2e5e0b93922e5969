"""Metadata stripping of PNG and WebP files, and JPEGs without EXIF left as they are
(the JPEG EXIF case with GPS and a serial is in tests/integration/test_photo_hardening.py)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np

from dashboard.services.photo_meta import strip_metadata


def _encoded(ext: str, *params: int) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 255, size=(20, 30, 3), dtype=np.uint8)
    ok, data = cv2.imencode(ext, pixels, list(params))
    assert ok
    return bytes(data.tobytes())


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_png_text_chunks_are_dropped_and_the_image_still_decodes() -> None:
    png = _encoded(".png")
    tagged = png[:33] + _png_chunk(b"tEXt", b"Author\x00Li Ming 13800000000") + png[33:]
    stripped = strip_metadata("image/png", tagged)
    assert b"13800000000" not in stripped.data and stripped.data == png
    assert cv2.imdecode(np.frombuffer(stripped.data, np.uint8), cv2.IMREAD_COLOR) is not None


def test_webp_exif_chunks_are_dropped() -> None:
    lossy = _encoded(".webp", cv2.IMWRITE_WEBP_QUALITY, 80)
    vp8 = lossy[12:]  # the VP8 chunk of a simple WebP
    flags = bytes([0x08, 0, 0, 0]) + (29).to_bytes(3, "little") + (19).to_bytes(3, "little")
    exif = b"EXIF" + struct.pack("<I", 12) + b"GPS 30N120E!"
    body = b"VP8X" + struct.pack("<I", 10) + flags + vp8 + exif
    extended = b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    stripped = strip_metadata("image/webp", extended).data
    assert b"GPS 30N" not in stripped and stripped[20] & 0x08 == 0
    assert struct.unpack("<I", stripped[4:8])[0] == len(stripped) - 8
    assert cv2.imdecode(np.frombuffer(stripped, np.uint8), cv2.IMREAD_COLOR) is not None


def test_a_jpeg_without_metadata_is_unchanged() -> None:
    jpeg = _encoded(".jpg")
    result = strip_metadata("image/jpeg", jpeg)
    assert result.data == jpeg and result.captured_at is None
