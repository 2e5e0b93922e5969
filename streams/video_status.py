"""Camera status for the video wall: polled from the capture service while anyone watches.

``StatusPoller`` asks ``CaptureClient.status()`` every ``STATUS_INTERVAL_S`` while a screen is on
``/video`` or ``/live``; it sends each ``/video`` screen the state of the cameras it watches plus
every camera of its area whose state changed, and publishes each change on the bus as topic
``camera`` (streams.protocol) with the camera's village, so the live wall shows it. A camera the
capture service does not report (its shard is down) is ``"unknown"``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dashboard.domain.permissions import Permission
from dashboard.security.principal import Principal
from dashboard.services.cameras import camera_villages
from dashboard.storage.bus import BusError, Event
from streams import protocol as p
from streams.capture.client import CameraStatus, CaptureUnavailable
from streams.video_hub import VideoHub

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

STATUS_INTERVAL_S = 1.5
UNKNOWN = "unknown"


class CameraVillages:
    """Camera id -> village code (scope checks), re-read every ``TTL_S``."""

    TTL_S = 60.0

    def __init__(self, services: Services) -> None:
        self._db = services.db
        self._map: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, str]:
        with self._lock:
            if time.monotonic() - self._loaded_at > self.TTL_S:
                with self._db.read() as session:
                    self._map = camera_villages(session)
                self._loaded_at = time.monotonic()
            return self._map


def may_view(principal: Principal, village: str) -> bool:
    return principal.can(Permission.VIEW_CAMERAS) and principal.scope.allows_place(village)


class StatusPoller:
    """Polls ``CaptureClient.status()`` while anyone watches; sends and publishes changes."""

    def __init__(
        self,
        hub: VideoHub,
        services: Services,
        villages: CameraVillages,
        emit: Callable[[str, dict[str, Any], str], None],
        live_screens: Callable[[], bool],
    ) -> None:
        self._hub = hub
        self._services = services
        self._villages = villages
        self._emit = emit
        self._live_screens = live_screens
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._current: dict[str, dict[str, Any]] = {}  # camera -> its newest status
        self._polled_at = float("-inf")
        self._published: dict[str, str] = {}  # camera -> state last published on the bus

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="video-status", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def online(self) -> set[str]:
        with self._lock:
            return {c for c, s in self._current.items() if s["state"] == "online"}

    def send_now(self, sid: str) -> None:
        """The watched cameras' statuses to one screen (right after its ``watch``)."""
        with self._lock:
            current = dict(self._current)
            fresh = time.monotonic() - self._polled_at < 2 * STATUS_INTERVAL_S
        if not fresh:  # nobody was here for a while (or ever): ask now, not in 1.5 s
            self.poll_once()
            with self._lock:
                current = dict(self._current)
        cameras = [current.get(c) or _unknown(c) for c in self._hub.watching(sid)]
        self._emit("status", {"cameras": cameras}, sid)

    def _run(self) -> None:
        while not self._stop.wait(STATUS_INTERVAL_S):
            try:
                if self._hub.screens() or self._live_screens():
                    self.poll_once()
            except Exception:  # the poller must outlive one bad answer
                logger.exception("video status poll failed")

    def poll_once(self) -> None:
        with self._poll_lock:  # the thread, or a first screen that cannot wait for it
            self._poll()

    def _poll(self) -> None:
        statuses = self._read()
        known = self._villages()
        with self._lock:
            before = self._current
            self._current = {c: statuses.get(c) or _unknown(c) for c in known}
            self._polled_at = time.monotonic()
            current = self._current
        # The first poll is a baseline: screens get their watched cameras, not every camera.
        changed = {
            c for c, s in current.items() if before and before.get(c, {}).get("state") != s["state"]
        }
        for screen in self._hub.screens():
            ids = set(self._hub.watching(screen.sid)) | {
                c for c in changed if may_view(screen.principal, known[c])
            }
            if ids:
                cameras = [current.get(c) or _unknown(c) for c in sorted(ids)]
                self._emit("status", {"cameras": cameras}, screen.sid)
        self._publish(current, known)

    def _read(self) -> dict[str, dict[str, Any]]:
        client = self._services.capture
        if client is None:
            return {}
        try:
            return {s.id: _status_json(s) for s in client.status()}
        except CaptureUnavailable:
            return {}

    def _publish(self, current: dict[str, dict[str, Any]], known: dict[str, str]) -> None:
        first = not self._published
        for camera_id, status in current.items():
            state = status["state"]
            if self._published.get(camera_id) == state:
                continue
            self._published[camera_id] = state
            if first:
                continue  # the first poll is the baseline, not a burst of changes
            payload = {
                "id": camera_id,
                "status": state,
                "fps": status["fps"],
                "age": status["age"],
                "village": known.get(camera_id),
            }
            try:
                self._services.bus.publish(Event(p.TOPIC_CAMERA, payload))
            except BusError as err:
                logger.info("video: camera status not published: %s", err)


def _status_json(s: CameraStatus) -> dict[str, Any]:
    return {
        "id": s.id,
        "state": s.state,
        "fps": round(float(s.fps), 2),
        "age": None if s.age is None else round(float(s.age), 2),
        "viewers": s.viewers,
        "decoding": s.decoding,
    }


def _unknown(camera_id: str) -> dict[str, Any]:
    return {
        "id": camera_id,
        "state": UNKNOWN,
        "fps": 0.0,
        "age": None,
        "viewers": 0,
        "decoding": "none",
    }
