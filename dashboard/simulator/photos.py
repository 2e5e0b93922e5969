"""Result photos for simulated cases: small synthetic JPEGs, different for every case.

The state machine wants a photo with HANDLED and SELF_HANDLE, and the photo service refuses the
same picture for a second case (reusing one "handled" photo is a known way to game the closure
rate), so each picture carries its case id and sequence number and is unique.
"""

from __future__ import annotations

import hashlib

import numpy as np

WIDTH, HEIGHT = 320, 240


def photo_id(case_id: int, seq: int, salt: str = "") -> str:
    """A content-address-like id for a photo the in-process simulator does not store."""
    return hashlib.sha256(f"sim-photo:{salt}:{case_id}:{seq}".encode()).hexdigest()


def synthetic_jpeg(case_id: int, seq: int, salt: str = "") -> bytes:
    """A 320×240 JPEG: a coloured scene with a few blocks and the case number written on it."""
    import cv2  # 0.2 s to import: only when a photo is really uploaded

    digest = hashlib.sha256(f"{salt}:{case_id}:{seq}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    image = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    image[:] = rng.integers(40, 200, 3, dtype=np.uint8)
    for _ in range(6):
        x, y = int(rng.integers(0, WIDTH - 40)), int(rng.integers(0, HEIGHT - 40))
        w, h = int(rng.integers(20, 120)), int(rng.integers(20, 90))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
    image += rng.integers(0, 12, image.shape, dtype=np.uint8)  # sensor noise: no two alike
    label = f"case {case_id} #{seq}"
    cv2.putText(image, label, (8, HEIGHT - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:  # pragma: no cover - OpenCV always encodes a plain BGR image
        raise RuntimeError("OpenCV could not encode the synthetic photo")
    return bytes(encoded.tobytes())
