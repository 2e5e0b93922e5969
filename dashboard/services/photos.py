"""Case photos: check an upload really is a JPEG, PNG or WebP image, store it, link it to a case.

Files are content-addressed (``<data_dir>/photos/<sha256>.<ext>``) and the ``attachments`` row's id
is the same SHA-256, so a photo is stored once. A photo belongs to one case: the same picture sent
as evidence for a second case is refused (``DuplicatePhoto``), because reusing one "handled" photo
for several cases is a known way to game the closure rate.

Checks, in order, before anything is written: the size (``PhotoTooLarge``, HTTP 413), the magic
bytes, the dimensions read from the header (a small file can declare a gigapixel image: refused
before decoding), then a full decode with OpenCV whose result must match the header.

Decompression bombs (a 301 KiB PNG declaring 40 megapixels of 16-bit RGBA decoded to 302 MiB, and
four in parallel took the process to 2.5 GiB): the memory a decode will need is estimated from the
header's dimensions (decoded to 8-bit BGR, whatever the file holds) and taken from one
``DecodeBudget`` per process; a decode that does not fit waits, then is refused (503, retry), and
one larger than the whole budget is refused outright (422). So decodes in flight never hold more
than ``security.max_decode_mb`` together, however many uploads arrive at once.

The stored file is the upload without its metadata (dashboard.services.photo_meta: no GPS, no
device serial), its capture time kept as ``Photo.captured_at``; the id is the SHA-256 of the
stored bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.errors import DomainError
from dashboard.services.photo_meta import strip_metadata
from dashboard.storage.models import Attachment

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo is the largest we decode
DEFAULT_DECODE_BYTES = 384 * 1024 * 1024
DECODE_WAIT_S = 10.0


class InvalidPhoto(DomainError):
    """Not a JPEG, PNG or WebP image we can decode (HTTP 422, field ``photos``)."""


class PhotoTooLarge(DomainError):
    """A photo over the configured size (HTTP 413)."""


class DuplicatePhoto(DomainError):
    """The same picture is already evidence for another case (HTTP 409)."""


class PhotoBusy(DomainError):
    """Too many large photos are being decoded right now (HTTP 503: retry in a moment)."""


class DecodeBudget:
    """Bytes of decoded pixels in flight at once in this process (see the module docstring)."""

    def __init__(self, total: int, wait: float = DECODE_WAIT_S) -> None:
        self.total, self.wait = total, wait
        self._used = 0
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        with self._cond:
            if not self._cond.wait_for(lambda: self._used + cost <= self.total, self.wait):
                raise PhotoBusy("photo_busy", "too many photos are being checked; retry shortly")
            self._used += cost
        try:
            yield
        finally:
            with self._cond:
                self._used -= cost
                self._cond.notify_all()


@dataclass(frozen=True)
class Photo:
    """A checked upload, not yet stored: ``path`` is where ``write`` puts it."""

    sha256: str
    content_type: str
    size: int
    width: int
    height: int
    path: Path
    data: bytes = field(repr=False)
    captured_at: datetime | None = None  # EXIF DateTimeOriginal (camera's local time), if any

    def write(self) -> None:
        """Store the file atomically (temp file + rename); an existing file is the same bytes."""
        if self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(self.data)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class PhotoStore:
    def __init__(
        self,
        root: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        budget: DecodeBudget | None = None,
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.budget = budget or DecodeBudget(DEFAULT_DECODE_BYTES)

    def inspect(self, data: bytes, name: str = "") -> Photo:
        """Check one upload (``name`` only makes the messages clearer); raise on a bad one."""
        label = f"photo {name!r}" if name else "the photo"
        if len(data) > self.max_bytes:
            raise PhotoTooLarge(
                "photo_too_large",
                f"{label} has {len(data):,} bytes; the limit is {self.max_bytes:,}",
            )
        content_type = sniff(data)
        if content_type is None:
            raise InvalidPhoto("not_an_image", f"{label} is not a JPEG, PNG or WebP image")
        size = header_size(content_type, data)
        if size is None:
            raise InvalidPhoto("corrupt_image", f"{label}: the image header cannot be read")
        width, height = size
        if width * height > self.max_pixels:
            raise InvalidPhoto(
                "image_too_large",
                f"{label} is {width}×{height}; at most {self.max_pixels:,} pixels",
            )
        cost = decode_cost(width, height)
        if cost > self.budget.total:
            raise InvalidPhoto(
                "image_too_large",
                f"{label} would need {cost // 2**20:,} MiB to decode; at most "
                f"{self.budget.total // 2**20:,} MiB",
            )
        with self.budget.hold(cost):
            shape = _decoded_shape(data)
        if shape != (height, width):
            raise InvalidPhoto("corrupt_image", f"{label} cannot be decoded as {content_type}")
        stripped = strip_metadata(content_type, data)
        digest = hashlib.sha256(stripped.data).hexdigest()
        return Photo(
            sha256=digest,
            content_type=content_type,
            size=len(stripped.data),
            width=width,
            height=height,
            path=self.path_for(digest, content_type),
            data=stripped.data,
            captured_at=stripped.captured_at,
        )

    def path_for(self, sha256: str, content_type: str) -> Path:
        return self.root / f"{sha256}.{_EXTENSIONS[content_type]}"


def attach_photos(
    session: Session, case_id: int, photos: Sequence[Photo], actor: str, now: datetime
) -> list[str]:
    """Link ``photos`` to the case inside the caller's transaction; returns their ids.

    A photo already linked to this case is kept (a retried upload); one linked to another case
    raises ``DuplicatePhoto``. Files are written before the caller commits, so a committed row
    always has its file; a failed commit can leave an unreferenced file, never a dangling row.
    """
    unique = list({p.sha256: p for p in photos}.values())
    if not unique:
        return []
    query = select(Attachment.id, Attachment.case_id).where(
        Attachment.id.in_([p.sha256 for p in unique])
    )
    owners = {sha256: owner for sha256, owner in session.execute(query)}
    if any(owner != case_id for owner in owners.values()):
        raise DuplicatePhoto(
            "duplicate_photo", "this photo is already attached to another case; take a new one"
        )
    for photo in unique:
        if photo.sha256 in owners:
            continue
        photo.write()
        session.add(
            Attachment(
                id=photo.sha256,
                case_id=case_id,
                content_type=photo.content_type,
                size=photo.size,
                width=photo.width,
                height=photo.height,
                uploaded_at=now,
                uploaded_by=actor,
            )
        )
    return [p.sha256 for p in unique]


def case_attachment_ids(session: Session, case_id: int) -> list[str]:
    query = select(Attachment.id).where(Attachment.case_id == case_id)
    return list(session.scalars(query.order_by(Attachment.uploaded_at, Attachment.id)))


def foreign_attachments(session: Session, case_id: int, ids: Collection[str]) -> list[str]:
    """The ids in ``ids`` that are not attachments of this case (unknown or another case's)."""
    if not ids:
        return []
    query = select(Attachment.id).where(Attachment.case_id == case_id, Attachment.id.in_(ids))
    known = set(session.scalars(query))
    return sorted(set(ids) - known)


# --- recognising the formats ------------------------------------------------------------------


def _decoded_shape(data: bytes) -> tuple[int, int] | None:
    """(height, width) of the fully decoded image, or None when OpenCV cannot decode it."""
    import cv2  # 0.2 s to import: only when a photo arrives, not with every CaseService user

    # 8-bit BGR whatever the file holds (a 16-bit RGBA PNG would take 8 bytes a pixel), and the
    # stored orientation (the header's width and height are compared, not the displayed ones).
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    return None if decoded is None else (int(decoded.shape[0]), int(decoded.shape[1]))


# Measured with OpenCV 4 (peak RSS growth of one cv2.imdecode into 8-bit BGR, 10 megapixels):
# ~6.2 bytes a pixel for baseline and progressive JPEG, PNG (8 or 16 bits) and WebP alike.
DECODE_BYTES_PER_PIXEL = 7


def decode_cost(width: int, height: int) -> int:
    """Bytes a full decode needs, estimated from the header's dimensions."""
    return DECODE_BYTES_PER_PIXEL * width * height


def sniff(data: bytes) -> str | None:
    """The content type from the magic bytes (never from the file name or the client's claim)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def header_size(content_type: str, data: bytes) -> tuple[int, int] | None:
    """(width, height) declared by the header, or None when it is malformed."""
    try:
        if content_type == "image/png":
            return _png_size(data)
        if content_type == "image/jpeg":
            return _jpeg_size(data)
        return _webp_size(data)
    except (struct.error, IndexError):
        return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            return None
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":  # lossy: 3-byte frame tag, start code, then 14-bit sizes
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: signature byte, then 14-bit (size - 1) fields
        if data[20] != 0x2F:
            return None
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit (size - 1) fields
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None
