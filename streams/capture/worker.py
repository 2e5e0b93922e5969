"""One camera reader: a thread that keeps only the newest frame, watched for freshness.

``CameraWorker`` runs ``while not stop: connect (with backoff) → read frames`` in its own thread
and overwrites one ``FrameSlot`` per frame — never a queue, so a slow consumer gets fewer frames,
not older ones. The hub calls ``check()`` twice a second: a reader that has not produced a new
frame for the watchdog time (a stalled camera whose ``read()`` hangs or returns stale frames) is
abandoned — its thread is left to finish its blocked call and exit — and a fresh reader takes over
after the backoff (VIDEO.md: 1 s, 5 s, 10 s, 60 s).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
import numpy as np

from streams.capture.errors import CaptureError
from streams.capture.records import Frame
from streams.capture.sources import FrameSource

logger = logging.getLogger(__name__)

OPEN_GRACE_S = 6.0  # an open may take the 5 s open timeout before the watchdog counts
MAX_ABANDONED = 3  # readers left blocked in FFmpeg per camera before no new one is started
MAX_WATCHDOG_S = 30.0  # upper bound of the keyframe-interval-based watchdog


def backoff_delay(failures: int, steps: Sequence[float]) -> float:
    """Wait before the next attempt after ``failures`` failures in a row (1 = the first)."""
    if failures < 1:
        return 0.0
    return float(steps[min(failures, len(steps)) - 1])


class FrameSlot:
    """The newest frame of one camera and quality; ``seq`` never goes down, even across reader
    restarts and process restarts (it is at least the capture time in milliseconds)."""

    def __init__(self, camera_id: str, jpeg_quality: int) -> None:
        self.camera_id = camera_id
        self._quality = jpeg_quality
        self._lock = threading.Lock()
        self.seq = 0
        self._image: np.ndarray | None = None
        self._at = 0.0
        self._jpeg: bytes | None = None

    def put(self, image: np.ndarray, at: float) -> int:
        with self._lock:
            self.seq = max(self.seq + 1, int(at * 1000))
            self._image, self._at, self._jpeg = image, at, None
            return self.seq

    @property
    def current(self) -> int:
        """The seq of the frame held, 0 when none (before the first, after ``clear``)."""
        return self.seq if self._image is not None else 0

    def clear(self) -> None:
        """Forget the frame (its reader stopped: it is no longer current); seq stays."""
        with self._lock:
            self._image, self._jpeg = None, None

    def frame(self) -> Frame | None:
        """The newest frame as JPEG (encoded once per frame, on first demand)."""
        with self._lock:
            if self._image is None:
                return None
            if self._jpeg is None:
                ok, buf = cv2.imencode(
                    ".jpg", self._image, [cv2.IMWRITE_JPEG_QUALITY, self._quality]
                )
                if not ok:
                    return None
                self._jpeg = buf.tobytes()
            h, w = self._image.shape[:2]
            at = datetime.fromtimestamp(self._at, UTC)
            return Frame(self.camera_id, self.seq, at, w, h, self._jpeg)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the newest frame; (0, 0) before the first."""
        with self._lock:
            if self._image is None:
                return 0, 0
            h, w = self._image.shape[:2]
            return int(w), int(h)


@dataclass(frozen=True)
class WorkerSettings:
    watchdog_s: float = 4.0
    backoff_s: tuple[float, ...] = (1.0, 5.0, 10.0, 60.0)
    max_fps: float | None = None  # tiles: drop frames above this rate
    size: tuple[int, int] | None = None  # tiles: exact (w, h); None: keep
    max_width: int | None = None  # full views: scale down when wider


class CameraWorker:
    """The reader of one camera at one quality (``tile`` or ``full``)."""

    def __init__(
        self,
        camera_id: str,
        quality: str,
        open_source: Callable[[], FrameSource],
        slot: FrameSlot,
        settings: WorkerSettings,
        on_frame: Callable[[], None],
        decoding: str,
        on_image: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        self.camera_id, self.quality, self.decoding = camera_id, quality, decoding
        self._open_source, self._slot, self._settings = open_source, slot, settings
        self._on_frame, self._on_image = on_frame, on_image  # on_image: each new picture
        self._lock = threading.Lock()
        self._generation = 0
        self._stopped = threading.Event()
        self.state = "starting"
        self.reason = ""
        self.opens = 0
        self._since = time.monotonic()  # when the current state began
        self._last_frame = 0.0  # monotonic time of the newest frame
        self._interval = 0.0  # smoothed seconds between frames
        self._failures = 0
        self._thread: threading.Thread | None = None
        self._abandoned: list[threading.Thread] = []  # readers still blocked in a call
        self._parked = False  # too many blocked readers: no reader runs until one returns

    # --- lifecycle (called by the hub) -----------------------------------------------------

    def start(self) -> None:
        self._spawn(initial_delay=0.0)

    def stop(self) -> None:
        with self._lock:
            self._generation += 1
            self._stopped.set()

    def check(self, now: float) -> None:
        """The freshness watchdog: abandon a reader that stopped producing frames."""
        with self._lock:
            if self._stopped.is_set():
                return
            if self.state == "online":
                limit = min(max(self._settings.watchdog_s, 3 * self._interval), MAX_WATCHDOG_S)
                stale = now - self._last_frame > limit
                reason = f"no new frame for {limit:.0f} s"
            elif self.state in ("starting", "reconnecting"):
                stale = now - self._since > OPEN_GRACE_S + self._settings.watchdog_s
                reason = "the stream does not answer"
            elif self._parked:  # waiting for blocked readers to return before a new one
                stale, reason = True, "the stream hangs"
            else:
                return
        if not stale:
            return
        with self._lock:
            self._abandoned = [t for t in self._abandoned if t.is_alive()]
            if len(self._abandoned) >= MAX_ABANDONED:  # FFmpeg hangs: do not pile up more
                self._parked = True
                self._set_state("offline", "the stream hangs")
                return
            if self._thread is not None and self._thread.is_alive():
                self._abandoned.append(self._thread)
            self._parked = False
            self._failures += 1
            self._set_state("offline", reason)
            delay = backoff_delay(self._failures, self._settings.backoff_s)
        logger.warning("camera %s (%s): %s; reconnecting", self.camera_id, self.quality, reason)
        self._spawn(initial_delay=delay)

    def status(self) -> dict[str, object]:
        with self._lock:
            age = time.monotonic() - self._last_frame if self._last_frame else None
            fps = 1.0 / self._interval if self._interval > 0 and self.state == "online" else 0.0
            abandoned = sum(1 for t in self._abandoned if t.is_alive())
            return {"state": self.state, "fps": round(fps, 2), "age": age, "reason": self.reason,
                    "connects": self.opens, "abandoned": abandoned}  # fmt: skip

    # --- the reader thread -----------------------------------------------------------------

    def _spawn(self, initial_delay: float) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        thread = threading.Thread(
            target=self._run,
            args=(generation, initial_delay),
            name=f"camera-{self.camera_id}-{self.quality}",
            daemon=True,
        )
        with self._lock:
            self._thread = thread
        thread.start()

    def _current(self, generation: int) -> bool:
        return generation == self._generation and not self._stopped.is_set()

    def _run(self, generation: int, delay: float) -> None:
        while self._current(generation):
            if delay and self._stopped.wait(delay):
                return
            if not self._current(generation):
                return
            source = self._connect(generation)
            if source is not None:
                try:
                    self._pump(generation, source)
                finally:
                    source.close()
            if not self._current(generation):
                return
            with self._lock:
                self._failures += 1
                delay = backoff_delay(self._failures, self._settings.backoff_s)

    def _connect(self, generation: int) -> FrameSource | None:
        with self._lock:
            if self.state != "starting":
                self._set_state("reconnecting", self.reason)
            self.opens += 1
        try:
            source = self._open_source()
            source.open()
            return source
        except CaptureError as err:
            self._fail(generation, str(err))
        except Exception as err:  # OpenCV raises cv2.error for odd URLs; keep it URL-free
            self._fail(generation, f"the stream could not be opened ({type(err).__name__})")
        return None

    def _pump(self, generation: int, source: FrameSource) -> None:
        while self._current(generation):
            try:
                image = source.read()
            except CaptureError as err:
                self._fail(generation, str(err))
                return
            if image is not None and self._current(generation):
                self._deliver(image)

    def _deliver(self, image: np.ndarray) -> None:
        now = time.monotonic()
        s = self._settings
        if s.max_fps and self._last_frame and now - self._last_frame < 1.0 / s.max_fps:
            return
        shaped = self._shape(image)
        self._slot.put(shaped, time.time())
        if self._on_image is not None:
            self._on_image(shaped)
        with self._lock:
            if self._last_frame:
                gap = now - self._last_frame
                self._interval = gap if not self._interval else 0.8 * self._interval + 0.2 * gap
            self._last_frame = now
            self._failures = 0
            self._parked = False
            if self.state != "online":
                level = logging.INFO if self.state != "starting" else logging.DEBUG
                logger.log(level, "camera %s (%s): online", self.camera_id, self.quality)
                self._set_state("online", "")
        self._on_frame()

    def _shape(self, image: np.ndarray) -> np.ndarray:
        s = self._settings
        h, w = image.shape[:2]
        if s.size is not None and (w, h) != s.size:
            return cv2.resize(image, s.size, interpolation=cv2.INTER_AREA)
        if s.max_width is not None and w > s.max_width:
            size = (s.max_width, max(2, round(h * s.max_width / w)))
            return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return image

    def _fail(self, generation: int, reason: str) -> None:
        with self._lock:
            if generation != self._generation:
                return
            if self.state != "offline":
                logger.warning("camera %s (%s): offline: %s", self.camera_id, self.quality, reason)
            self._set_state("offline", reason)
        self._on_frame()  # wakes waiters so status changes are seen promptly

    def _set_state(self, state: str, reason: str) -> None:
        if state != self.state:
            self._since = time.monotonic()
        self.state, self.reason = state, reason
