"""The video wall's per-process hub: screens, their flow control, and the one fan-out thread.

``VideoHub`` keeps the ``/video`` screens of this web process (principal, watched cameras) and
a dashboard.domain.video.FlowControl (at most one unacknowledged frame per screen and camera,
latest frame wins). ``FrameFanout`` is the only thing that asks the capture service for tiles:
one long-poll for the union of the watched cameras (``CaptureClient.frames``), never one request
per screen; nothing watched, no request (the capture side stops idle readers by itself). When a
screen starts watching a camera nobody watched, a one-off short poll of just the new cameras
("kick") brings its first picture without waiting for the running long-poll to return.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dashboard.domain.video import FlowControl, Send
from dashboard.security.principal import Principal
from streams.capture.client import CaptureClient, Frame

logger = logging.getLogger(__name__)

POLL_WAIT_S = 2.0  # the capture long-poll's wait
KICK_WAIT_S = 1.0
RETRY_S = (1.0, 2.0, 5.0)  # backoff while the capture service does not answer
STALE_S = 10.0  # an online camera without a new frame for this long: its seq is reset

Emit = Callable[[str, dict[str, Any], str], None]  # (event, data, sid)


@dataclass
class VideoScreen:
    sid: str
    principal: Principal
    paused: bool = False
    status_sent: dict[str, str] = field(default_factory=dict)  # camera -> last state sent


def frame_message(frame: Frame) -> dict[str, Any]:
    """The ``frame`` event's data (the JPEG travels as a binary attachment)."""
    return {
        "id": frame.camera_id,
        "seq": frame.seq,
        "at": frame.at.isoformat(),
        "w": frame.width,
        "h": frame.height,
        "jpeg": frame.jpeg,
    }


class VideoHub:
    """Thread-safe: the socket handlers, the fan-out and the status poller all call in."""

    def __init__(self, emit: Emit, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._emit = emit
        self._now = monotonic
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._screens: dict[str, VideoScreen] = {}
        self._flow: FlowControl[dict[str, Any]] = FlowControl()
        self._last_frame_at: dict[str, float] = {}  # camera -> monotonic time of its newest

    # --- screens ------------------------------------------------------------------------------

    def add(self, sid: str, principal: Principal) -> None:
        with self._lock:
            self._screens[sid] = VideoScreen(sid, principal)

    def remove(self, sid: str) -> None:
        with self._lock:
            self._screens.pop(sid, None)
            self._flow.remove(sid)

    def screen(self, sid: str) -> VideoScreen | None:
        with self._lock:
            return self._screens.get(sid)

    def screens(self) -> list[VideoScreen]:
        with self._lock:
            return list(self._screens.values())

    def watch(self, sid: str, camera_ids: Iterable[str]) -> set[str]:
        """Replace what the screen watches (an empty list pauses it); returns new demand."""
        with self._lock:
            if sid not in self._screens:
                return set()
            new, sends = self._flow.watch(sid, camera_ids, self._now())
            self._screens[sid].paused = not self._flow.watching(sid)
            if new:
                self._changed.notify_all()
        self._send(sends)
        return new

    def watching(self, sid: str) -> list[str]:
        with self._lock:
            return self._flow.watching(sid)

    def ack(self, sid: str, camera_id: str, seq: int) -> None:
        with self._lock:
            sends = self._flow.ack(sid, camera_id, seq, self._now())
        self._send(sends)

    # --- the fan-out's side ---------------------------------------------------------------------

    def demand(self) -> dict[str, int]:
        with self._lock:
            return self._flow.demand()

    def wait_for_demand(self, timeout: float) -> bool:
        with self._lock:
            if not self._flow.demand_ids():
                self._changed.wait(timeout)
            return bool(self._flow.demand_ids())

    def deliver(self, frames: Iterable[Frame]) -> int:
        """Offer frames to the screens; returns how many sends went out."""
        sends: list[Send[dict[str, Any]]] = []
        with self._lock:
            now = self._now()
            for frame in frames:
                if frame.seq > self._flow.newest_seq(frame.camera_id):
                    self._last_frame_at[frame.camera_id] = now
                sends += self._flow.offer(frame.camera_id, frame.seq, frame_message(frame), now)
            sends += self._flow.expired(now)
        self._send(sends)
        return len(sends)

    def restart(self, camera_ids: Iterable[str] | None = None) -> None:
        """Ask for these cameras (or all) from seq 0 again: the capture service restarted."""
        with self._lock:
            if camera_ids is None:
                self._flow.restart()
                self._last_frame_at.clear()
                return
            for camera_id in camera_ids:
                self._flow.restart(camera_id)
                self._last_frame_at.pop(camera_id, None)

    def stale(self, online: set[str]) -> list[str]:
        """Watched online cameras whose frames stopped coming: our seq may be ahead of theirs."""
        with self._lock:
            now = self._now()
            found = []
            for camera_id, seq in self._flow.demand().items():
                last = self._last_frame_at.setdefault(camera_id, now)
                if seq > 0 and camera_id in online and now - last > STALE_S:
                    found.append(camera_id)
            return found

    def _send(self, sends: list[Send[dict[str, Any]]]) -> None:
        for send in sends:
            self._emit("frame", send.frame, send.client)


class FrameFanout:
    """The one thread per web process that long-polls the capture service for tiles."""

    def __init__(
        self,
        hub: VideoHub,
        capture: Callable[[], CaptureClient | None],
        online: Callable[[], set[str]],
    ) -> None:
        self._hub = hub
        self._capture = capture
        self._online = online
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._polling: set[str] = set()
        self._kick_ids: set[str] = set()
        self._kicker: threading.Thread | None = None
        self._failures = 0

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="video-fanout", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def nudge(self, new_ids: set[str]) -> None:
        """New cameras are watched: fetch their first frames now, not after the running poll."""
        with self._lock:
            pending = new_ids - self._polling
            if not pending or not self._polling:
                return  # the main loop is idle (it wakes by itself) or already asks for them
            self._kick_ids |= pending
            if self._kicker is None:
                self._kicker = threading.Thread(target=self._kick, name="video-kick", daemon=True)
                self._kicker.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # the fan-out must outlive one bad answer
                logger.exception("video fan-out failed")
                self._stop.wait(RETRY_S[-1])

    def _step(self) -> None:
        if not self._hub.wait_for_demand(timeout=1.0):
            return
        client = self._capture()
        if client is None:
            self._stop.wait(RETRY_S[-1])
            return
        stale = self._hub.stale(self._online())
        if stale:
            logger.info("video: restarting the sequence of %d stale camera(s)", len(stale))
            self._hub.restart(stale)
        with self._lock:  # with nudge's lock: a nudge sees either this poll's set or none
            demand = self._hub.demand()
            self._polling = set(demand)
        try:
            frames = self._poll(client, demand, POLL_WAIT_S)
        finally:
            with self._lock:
                self._polling = set()
        self._hub.deliver(frames)

    def _poll(self, client: CaptureClient, demand: dict[str, int], wait: float) -> list[Frame]:
        from streams.capture.client import CaptureUnavailable

        try:
            frames = client.frames(demand, quality="tile", wait=wait)
        except CaptureUnavailable as err:
            delay = RETRY_S[min(self._failures, len(RETRY_S) - 1)]
            self._failures += 1
            if self._failures == 1:
                logger.warning("video: the capture service does not answer (%s)", err)
            self._hub.restart()  # a restarted capture service counts from 1 again
            self._stop.wait(delay)
            return []
        if self._failures:
            logger.info("video: the capture service answers again")
        self._failures = 0
        return frames

    def _kick(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                ids, self._kick_ids = self._kick_ids, set()
                if not ids:
                    self._kicker = None
                    return
            client = self._capture()
            demand = {k: v for k, v in self._hub.demand().items() if k in ids}
            if client is not None and demand:
                try:
                    self._hub.deliver(self._poll(client, demand, KICK_WAIT_S))
                except Exception:
                    logger.exception("video: first-frame poll failed")
