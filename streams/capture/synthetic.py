"""Synthetic cameras for ``synthetic:`` URLs: the demo's video wall without camera hardware.

Every camera looks different (pattern and colour derived from its id, or named in the URL as
``synthetic:<pattern>``), shows its name and id, a moving ball and a clock with seconds, so a
frozen tile is obvious. Frames are drawn at the size and rate asked for — a wall tile gets a
320×180 frame once a second, not a 25 fps picture scaled down — so a hundred synthetic cameras
cost little. The static part is drawn once per camera; each frame is a copy plus a few shapes.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable
from datetime import datetime, tzinfo

import cv2
import numpy as np

from dashboard.domain.calendar import DEFAULT_TZ
from streams.capture.fonts import cjk_font
from streams.capture.sources import FrameSource

PATTERNS = ("bars", "grid", "gradient", "checker", "rings")


def pattern_of(camera_id: str, url: str = "synthetic:") -> str:
    """The pattern named in the URL (``synthetic:grid``), else one chosen by the id."""
    named = url.partition(":")[2].strip().lower()
    if named in PATTERNS:
        return named
    return PATTERNS[zlib.crc32(camera_id.encode("utf-8")) % len(PATTERNS)]


def _colour(camera_id: str) -> tuple[int, int, int]:
    hue = (zlib.crc32(b"hue:" + camera_id.encode("utf-8")) % 180) / 180.0
    hsv = np.array([[[int(hue * 180), 170, 200]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def background(camera_id: str, pattern: str, width: int, height: int) -> np.ndarray:
    """The static picture of a camera: its pattern in its colour."""
    colour = np.array(_colour(camera_id), dtype=np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if pattern == "bars":
        shade = 0.45 + 0.55 * ((xs * 7 // width) % 2)
    elif pattern == "grid":
        step = max(8, height // 6)
        lines = ((xs % step) < 2) | ((ys % step) < 2)
        shade = np.where(lines, 1.0, 0.35)
    elif pattern == "gradient":
        shade = 0.25 + 0.75 * (xs + ys) / (width + height)
    elif pattern == "checker":
        step = max(8, height // 5)
        shade = 0.4 + 0.6 * (((xs // step) + (ys // step)) % 2)
    else:  # rings
        r = np.hypot(xs - width / 2, ys - height / 2)
        shade = 0.4 + 0.6 * (np.sin(r / max(4.0, height / 18)) > 0)
    img = shade[..., None] * colour[None, None, :]
    picture: np.ndarray = np.clip(img, 0, 255).astype(np.uint8)
    return picture


class SyntheticCamera:
    """Draws the frames of one synthetic camera at a fixed size."""

    def __init__(
        self, camera_id: str, name: str, url: str, width: int, height: int, tz: tzinfo = DEFAULT_TZ
    ) -> None:
        # The clock shows the command room's time (the working calendar's zone), whatever zone
        # the server runs in, so a tile agrees with the wall's clock.
        self.camera_id, self.width, self.height, self._tz = camera_id, width, height, tz
        self._base = background(camera_id, pattern_of(camera_id, url), width, height)
        # One FontFace per camera: a face keeps the size of its last use, so sharing one
        # between reader threads draws text at another camera's size.
        self._font = cv2.FontFace(cjk_font())  # Chinese names, not "???"
        scale = height / 180
        band = int(44 * scale)
        self._base[:band] = (self._base[:band] * 0.35).astype(np.uint8)
        white, x = (255, 255, 255), int(6 * scale)
        size = max(10, int(16 * scale))
        cv2.putText(self._base, name or camera_id, (x, int(19 * scale)), white, self._font, size)
        cv2.putText(
            self._base, camera_id, (x, int(38 * scale)), (200, 200, 200), self._font,
            max(9, int(13 * scale)),
        )  # fmt: skip
        self._text_size = max(10, int(18 * scale))
        self._phase = (zlib.crc32(camera_id.encode("utf-8")) % 628) / 100.0

    def draw(self, now: float) -> np.ndarray:
        """The frame at ``now`` (seconds since the epoch): ball position and clock follow it."""
        img = self._base.copy()
        w, h, t = self.width, self.height, now + self._phase
        x = int(w / 2 + (w / 2 - h / 8) * math.sin(t * 0.9))
        y = int(h * 0.58 + h * 0.25 * math.sin(t * 1.7))
        cv2.circle(img, (x, y), max(4, h // 14), (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, (x, y), max(2, h // 30), (30, 30, 220), -1, cv2.LINE_AA)
        clock = datetime.fromtimestamp(now, self._tz).strftime("%H:%M:%S")
        org = (w - int(self._text_size * 5.2), h - int(self._text_size * 0.5))
        cv2.rectangle(img, (org[0] - 6, org[1] - self._text_size - 4), (w, h), (0, 0, 0), -1)
        cv2.putText(img, clock, org, (255, 255, 255), self._font, self._text_size)
        return img


class SyntheticSource(FrameSource):
    """A frame source like a camera: ``read()`` blocks until the next frame is due."""

    def __init__(
        self,
        camera: SyntheticCamera,
        fps: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._camera, self._interval = camera, 1.0 / fps
        self._clock, self._sleep = clock, sleep
        self._next = 0.0

    def open(self) -> None:
        self._next = self._clock()

    def read(self) -> np.ndarray | None:
        delay = self._next - self._clock()
        if delay > 0:
            self._sleep(delay)
        now = self._clock()
        self._next = max(self._next + self._interval, now)
        return self._camera.draw(now)

    def close(self) -> None:
        pass
