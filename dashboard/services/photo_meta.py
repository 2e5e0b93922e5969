"""Photo metadata: strip what a stored photo must not carry, keep what the case needs.

A phone's photo carries its GPS position, the device's make, model and serial number, the owner's
name, thumbnails and maker notes. None of it belongs in the case file (the case has its own,
checked location); the GPS of a grid worker's home photo or a serial that identifies the phone
would leak with every photo shown or exported. Kept: the capture time (EXIF DateTimeOriginal,
returned as data) and the orientation (or the picture would show sideways).

Works on the bytes, without decoding the image (no pixels change, no quality lost):
- JPEG: the APP1 EXIF segment is replaced by a minimal one holding Orientation and
  DateTimeOriginal only; XMP (APP1), IPTC/Photoshop (APP13) and comments (COM) are dropped;
- PNG: ``eXIf``, ``tEXt``, ``zTXt``, ``iTXt`` and ``tIME`` chunks are dropped;
- WebP: the ``EXIF`` and ``XMP `` chunks are dropped (and their flags cleared).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003


@dataclass(frozen=True)
class Stripped:
    data: bytes
    captured_at: datetime | None  # the camera's local time, naive (EXIF has no zone)


def strip_metadata(content_type: str, data: bytes) -> Stripped:
    if content_type == "image/jpeg":
        return _strip_jpeg(data)
    if content_type == "image/png":
        return Stripped(_strip_png(data), None)
    if content_type == "image/webp":
        return Stripped(_strip_webp(data), None)
    return Stripped(data, None)


# --- JPEG -------------------------------------------------------------------------------------

_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})


def _strip_jpeg(data: bytes) -> Stripped:
    out = bytearray(data[:2])  # SOI
    orientation, captured = None, None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in _NO_LENGTH:
            out += data[i : i + 2]
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        segment = data[i : i + 2 + length]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return Stripped(_with_exif(bytes(out), orientation, captured), _parse_time(captured))
        body = segment[4:]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            orientation, captured = _read_exif(body[6:])
        elif marker in (0xE1, 0xED, 0xFE) or (0xE2 <= marker <= 0xEF and marker != 0xEE):
            pass  # XMP, IPTC, comments, other APPn (ICC profiles in APP2 are kept below)
        else:
            out += segment
        if marker == 0xE2 and body.startswith(b"ICC_PROFILE"):
            out += segment  # colours: not personal, and needed to show the photo right
        i += 2 + length
    return Stripped(data, None)  # not a JPEG we understand: the decoder check refuses it


def _with_exif(jpeg: bytes, orientation: int | None, captured: bytes | None) -> bytes:
    if orientation is None and captured is None:
        return jpeg
    exif = _minimal_exif(orientation, captured)
    segment = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    return jpeg[:2] + segment + jpeg[2:]


def _minimal_exif(orientation: int | None, captured: bytes | None) -> bytes:
    """A little TIFF: IFD0 with Orientation and a pointer to an Exif IFD with the time."""
    entries0: list[bytes] = []
    ifd0_count = (orientation is not None) + (captured is not None)
    ifd0_size = 2 + 12 * ifd0_count + 4
    exif_ifd_at = 8 + ifd0_size
    if orientation is not None:
        entries0.append(struct.pack("<HHIHH", ORIENTATION, 3, 1, orientation, 0))
    tail = b""
    if captured is not None:
        entries0.append(struct.pack("<HHII", EXIF_IFD, 4, 1, exif_ifd_at))
        value = captured[:19] + b"\x00"
        value_at = exif_ifd_at + 2 + 12 + 4
        tail = (
            struct.pack("<H", 1)
            + struct.pack("<HHII", DATETIME_ORIGINAL, 2, len(value), value_at)
            + struct.pack("<I", 0)
            + value
        )
    ifd0 = struct.pack("<H", ifd0_count) + b"".join(entries0) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd0 + tail


def _read_exif(tiff: bytes) -> tuple[int | None, bytes | None]:
    """Orientation and DateTimeOriginal from an EXIF TIFF block (None where absent/corrupt)."""
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (first,) = struct.unpack(order + "I", tiff[4:8])
        ifd0 = _entries(tiff, order, first)
        orientation = None
        if ORIENTATION in ifd0:
            kind, _count, raw = ifd0[ORIENTATION]
            orientation = struct.unpack(order + "H", raw[:2])[0] if kind == 3 else None
        captured = None
        if EXIF_IFD in ifd0:
            (at,) = struct.unpack(order + "I", ifd0[EXIF_IFD][2])
            sub = _entries(tiff, order, at)
            if DATETIME_ORIGINAL in sub:
                kind, count, raw = sub[DATETIME_ORIGINAL]
                if kind == 2 and 19 <= count <= 64:
                    (offset,) = struct.unpack(order + "I", raw)
                    captured = tiff[offset : offset + 19]
        return orientation, captured
    except (KeyError, struct.error, IndexError):
        return None, None


def _entries(tiff: bytes, order: str, at: int) -> dict[int, tuple[int, int, bytes]]:
    (count,) = struct.unpack(order + "H", tiff[at : at + 2])
    found = {}
    for n in range(min(count, 512)):
        base = at + 2 + 12 * n
        tag, kind, number = struct.unpack(order + "HHI", tiff[base : base + 8])
        found[tag] = (kind, number, tiff[base + 8 : base + 12])
    return found


def _parse_time(raw: bytes | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.strptime(raw.decode("ascii"), "%Y:%m:%d %H:%M:%S")
    except (UnicodeDecodeError, ValueError):
        return None


# --- PNG and WebP -----------------------------------------------------------------------------

_PNG_DROP = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    i = 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if kind not in _PNG_DROP:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            break
    return bytes(out)


def _strip_webp(data: bytes) -> bytes:
    if data[12:16] != b"VP8X":
        return data  # a simple WebP has no metadata chunks
    chunks = bytearray()
    i = 12
    while i + 8 <= len(data):
        kind = data[i : i + 4]
        (length,) = struct.unpack("<I", data[i + 4 : i + 8])
        end = i + 8 + length + (length & 1)
        if kind not in (b"EXIF", b"XMP "):
            chunks += data[i:end]
        i = end
    chunks[8] &= ~(0x08 | 0x04) & 0xFF  # VP8X flags: no EXIF, no XMP any more
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)
