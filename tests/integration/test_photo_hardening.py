"""Image bombs and photo metadata (issue 11): a small file declaring a huge decode is refused
before decoding, decodes in flight share one memory budget, and a stored photo has no GPS or
device serial but keeps its capture time."""

from __future__ import annotations

import struct
import time
import zlib
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from dashboard.domain.roles import Role
from dashboard.services.photo_meta import DATETIME_ORIGINAL, _read_exif
from dashboard.services.photos import DecodeBudget, InvalidPhoto, PhotoBusy, PhotoStore
from tests.integration.test_api_support import (
    Api,
    apps_fixture,  # noqa: F401 - the fixtures lite_api and the apps it shares
    case_body,
    image,
    lite_api_fixture,  # noqa: F401
)

MIB = 1024 * 1024


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A valid 16-bit RGBA PNG of zeros: tiny on disk, 8 bytes a pixel when decoded as stored."""
    row = b"\x00" * (1 + 8 * width)  # filter byte + pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def test_a_png_bomb_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    bomb = png_bomb(4000, 2500)  # 10 megapixels: 80 MB as stored, ~70 MB to decode at 8 bits
    assert len(bomb) < 200 * 1024
    store = PhotoStore(tmp_path, budget=DecodeBudget(16 * MIB))
    start = time.perf_counter()
    with pytest.raises(InvalidPhoto) as refused:
        store.inspect(bomb, "bomb.png")
    assert refused.value.code == "image_too_large" and "MiB to decode" in refused.value.message
    assert time.perf_counter() - start < 0.2  # refused from the header, nothing decoded
    # Within the budget the same picture is checked by decoding it at 8 bits, not 16.
    assert PhotoStore(tmp_path, budget=DecodeBudget(128 * MIB)).inspect(bomb).width == 4000


def test_decodes_wait_for_the_memory_budget_then_are_refused(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path, budget=DecodeBudget(16 * MIB, wait=0.3))
    photo = image(width=1000, height=1000)  # 7 MB to decode
    # Other uploads are decoding: 2 MiB left, this one needs 7.
    with store.budget.hold(14 * MIB), pytest.raises(PhotoBusy):
        store.inspect(photo)
    assert store.inspect(photo).width == 1000  # the budget is free again


def _tiff_entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
    return struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")


def exif_with_gps_and_serial() -> bytes:
    """An APP1 EXIF segment as a phone writes it: make, model, orientation, GPS, serial, time."""
    # Layout (offsets from the TIFF header): IFD0 at 8 (5 entries), then Exif IFD, GPS IFD, data.
    ifd0_at, exif_at, gps_at, data_at = 8, 8 + 2 + 5 * 12 + 4, 0, 0
    exif_size = 2 + 2 * 12 + 4
    gps_at = exif_at + exif_size
    gps_size = 2 + 2 * 12 + 4
    data_at = gps_at + gps_size
    make, model = b"PhoneMaker\x00", b"Model-X9\x00"
    taken, serial = b"2026:11:30 08:15:42\x00", b"SERIAL-0042-XYZ\x00"
    lat = struct.pack("<IIIIII", 30, 1, 15, 1, 2710, 100)  # 30°15'27.10"
    blob = make + model + taken + serial + lat
    at = {
        "make": data_at,
        "model": data_at + len(make),
        "taken": data_at + len(make) + len(model),
        "serial": data_at + len(make) + len(model) + len(taken),
        "lat": data_at + len(make) + len(model) + len(taken) + len(serial),
    }
    ifd0 = (
        struct.pack("<H", 5)
        + _tiff_entry(0x010F, 2, len(make), struct.pack("<I", at["make"]))
        + _tiff_entry(0x0110, 2, len(model), struct.pack("<I", at["model"]))
        + _tiff_entry(0x0112, 3, 1, struct.pack("<H", 6))
        + _tiff_entry(0x8769, 4, 1, struct.pack("<I", exif_at))
        + _tiff_entry(0x8825, 4, 1, struct.pack("<I", gps_at))
        + struct.pack("<I", 0)
    )
    exif = (
        struct.pack("<H", 2)
        + _tiff_entry(DATETIME_ORIGINAL, 2, len(taken), struct.pack("<I", at["taken"]))
        + _tiff_entry(0xA431, 2, len(serial), struct.pack("<I", at["serial"]))
        + struct.pack("<I", 0)
    )
    gps = (
        struct.pack("<H", 2)
        + _tiff_entry(0x0001, 2, 2, b"N\x00")
        + _tiff_entry(0x0002, 5, 3, struct.pack("<I", at["lat"]))
        + struct.pack("<I", 0)
    )
    tiff = b"II*\x00" + struct.pack("<I", ifd0_at) + ifd0 + exif + gps + blob
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def test_stored_photos_lose_gps_and_serial_but_keep_the_capture_time(lite_api: Api) -> None:
    plain = image(width=80, height=60, seed=3)
    phone = plain[:2] + exif_with_gps_and_serial() + plain[2:]
    assert b"SERIAL-0042" in phone and b"PhoneMaker" in phone
    store = PhotoStore(Path("/nonexistent"))
    checked = store.inspect(phone, "phone.jpg")
    assert checked.captured_at == datetime(2026, 11, 30, 8, 15, 42)
    for secret in (b"SERIAL-0042", b"PhoneMaker", b"Model-X9", struct.pack("<I", 2710)):
        assert secret not in checked.data
    orientation, taken = _read_exif(checked.data[checked.data.index(b"Exif") + 6 :])
    assert orientation == 6 and taken == b"2026:11:30 08:15:42"  # kept, as data

    # Through the API: the file on disk is the stripped one, and it still decodes.
    created = lite_api.post(
        "/api/v1/cases",
        data={**{k: str(v) for k, v in case_body(lite_api).items()}, "photos": [(phone, "p.jpg")]},
        headers=lite_api.token(Role.GRID_WORKER),
        content_type="multipart/form-data",
    )
    assert created.status_code == 201, created.json
    (photo_id,) = (created.json or {})["attachments"]
    served = lite_api.get(
        f"/api/v1/attachments/{photo_id}", headers=lite_api.token(Role.DISPATCHER)
    ).data
    assert served == checked.data and b"SERIAL-0042" not in served
    decoded = cv2.imdecode(np.frombuffer(served, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape[:2] == (80, 60)  # orientation 6: turned


def test_an_upload_while_the_budget_is_spent_answers_503_and_stores_nothing(
    lite_api: Api,
) -> None:
    budget = lite_api.app.extensions["gcc_api"].photos.budget
    wait, budget.wait = budget.wait, 0.2
    before = lite_api.counts()
    try:
        with budget.hold(budget.total):  # every byte is taken by decodes in flight
            response = lite_api.post(
                "/api/v1/cases",
                data={
                    **{k: str(v) for k, v in case_body(lite_api).items()},
                    "photos": [(image(seed=11), "a.jpg")],
                },
                headers=lite_api.token(Role.GRID_WORKER),
                content_type="multipart/form-data",
            )
    finally:
        budget.wait = wait
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert (response.json or {})["error"] == "photo_busy"
    assert lite_api.counts() == before and lite_api.photo_files() == []
