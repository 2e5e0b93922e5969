"""Caps on full-size camera streams: per viewer and in total (this web process).

A full-size view makes the capture service decode a camera's main stream at full resolution and
holds a server thread for as long as it is open. A wall kiosk token opened 30 of them and the
capture service grew from 179 to 906 MiB. Each principal (a user, a device or kiosk token) may
hold ``video.max_full_views_per_viewer`` at once, the process ``video.max_full_views``; past
either the answer is 429 with ``Retry-After`` and the view is not opened. A slot is released
when the stream ends (the browser leaves or the camera stops).
"""

from __future__ import annotations

import threading
from collections import Counter


class FullViewLimits:
    def __init__(self, per_viewer: int, total: int) -> None:
        self.per_viewer, self.total = per_viewer, total
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, viewer: str) -> str | None:
        """Take a slot for ``viewer``; None when granted, else which cap refused it."""
        with self._lock:
            if self._open[viewer] >= self.per_viewer:
                return "viewer"
            if sum(self._open.values()) >= self.total:
                return "total"
            self._open[viewer] += 1
            return None

    def release(self, viewer: str) -> None:
        with self._lock:
            self._open[viewer] -= 1
            if self._open[viewer] <= 0:
                del self._open[viewer]

    def open_views(self) -> int:
        with self._lock:
            return sum(self._open.values())
