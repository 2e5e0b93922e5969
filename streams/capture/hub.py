"""The capture hub: which cameras are read, at which quality, for whom.

Every request naming a camera is demand: its reader starts if it is not running and keeps
running while it is asked for, stopping ``idle_stop_seconds`` after the last request (an open
MJPEG view is demand for as long as it is open). There is one reader per camera and quality,
however many requests or viewers share it: tiles (320×180, from the sub-stream or keyframes of
the main stream) and full size (the main stream fully decoded, only while a full view or a
snapshot wants it). New frames wake every waiting request through one condition variable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from dashboard.config import VideoConfig
from streams.capture.errors import CameraOffline, UnknownCamera
from streams.capture.records import Frame
from streams.capture.registry import CameraEntry, Registry, resolve
from streams.capture.sources import FfmpegSource, FrameSource
from streams.capture.synthetic import SyntheticCamera, SyntheticSource
from streams.capture.worker import CameraWorker, FrameSlot, WorkerSettings

logger = logging.getLogger(__name__)

TILE, FULL = "tile", "full"
QUALITIES = (TILE, FULL)
SYNTHETIC_FULL = (1280, 720, 10.0)  # width, height, fps of a synthetic camera's full view
SYNTHETIC_TILE_FPS = 1.0
SNAPSHOT_WAIT_S = 5.0
MAX_WAIT_S = 30.0
HOUSEKEEPING_S = 0.5
REGISTRY_RELOAD_S = 60.0  # new, changed and removed cameras are seen within this

Key = tuple[str, str]  # (camera id, quality)


@dataclass
class _Reader:
    worker: CameraWorker
    lease_until: float  # monotonic; the reader stops after this unless viewers remain
    # A tile reader "borrows" while the camera's full-size reader is online: its own worker is
    # stopped and the tiles are scaled from the full-size frames, so an open full view does
    # not cost a second connection and decoder for the same camera.
    borrowed: bool = False


class CaptureHub:
    def __init__(self, registry: Registry, video: VideoConfig) -> None:
        self._registry, self._video = registry, video
        self._cond = threading.Condition()
        self._readers: dict[Key, _Reader] = {}
        self._slots: dict[Key, FrameSlot] = {}
        self._viewers: dict[Key, int] = {}
        self._opens: dict[str, int] = {}  # readers started per camera (all qualities), ever
        self._tile_fed: dict[str, float] = {}  # when a borrowing tile last got a frame
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._housekeeping, name="capture-hub", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            for reader in self._readers.values():
                reader.worker.stop()
            self._readers.clear()
            self._cond.notify_all()

    def _housekeeping(self) -> None:
        reloaded = time.monotonic()
        while not self._stop.wait(HOUSEKEEPING_S):
            now = time.monotonic()
            if now - reloaded >= REGISTRY_RELOAD_S:
                reloaded = now
                self._reload()
            with self._cond:
                for key, reader in list(self._readers.items()):
                    if reader.lease_until < now and not self._viewers.get(key):
                        reader.worker.stop()
                        del self._readers[key]
                        self._slots[key].clear()  # a later viewer must not get it as new
                        logger.debug("camera %s (%s): idle, reader stopped", *key)
                self._share_decoders()
                workers = [r.worker for r in self._readers.values() if not r.borrowed]
            for worker in workers:
                worker.check(now)

    def _share_decoders(self) -> None:
        """Tiles of a camera whose full-size reader is online come from that reader; its own
        tile reader restarts when the full-size one stops or fails. Called with the lock."""
        for (camera_id, quality), reader in list(self._readers.items()):
            if quality != TILE:
                continue
            full = self._readers.get((camera_id, FULL))
            full_online = full is not None and full.worker.state == "online"
            if full_online and not reader.borrowed:
                reader.worker.stop()
                reader.borrowed = True
            elif reader.borrowed and not full_online:
                entry = self._registry.get(camera_id)
                if entry is None:  # removed from the registry meanwhile
                    del self._readers[(camera_id, quality)]
                    continue
                reader.worker = self._worker(entry, TILE)
                reader.worker.start()
                reader.borrowed = False

    def _feed_tile(self, camera_id: str, image: np.ndarray) -> None:
        """A full-size frame: also the tile, when the tile reader borrows (at most tile_max_fps)."""
        reader = self._readers.get((camera_id, TILE))
        if reader is None or not reader.borrowed:
            return
        now, v = time.monotonic(), self._video
        if now - self._tile_fed.get(camera_id, 0.0) < 1.0 / v.tile_max_fps:
            return
        self._tile_fed[camera_id] = now
        tile = cv2.resize(image, (v.tile_width, v.tile_height), interpolation=cv2.INTER_AREA)
        self._slots[(camera_id, TILE)].put(tile, time.time())

    def _reload(self) -> None:
        try:
            self._registry.reload()
        except Exception:  # the database may be away for a while: keep the cameras known
            logger.warning("capture: the camera registry could not be reloaded", exc_info=True)

    # --- demand ----------------------------------------------------------------------------

    def known(self, camera_id: str) -> bool:
        return self._registry.get(camera_id) is not None

    def demand(self, ids: list[str], quality: str, hold_s: float = 0.0) -> None:
        """Start (or keep) the readers of ``ids``; raises UnknownCamera for an unknown id."""
        entries = []
        for camera_id in ids:
            entry = self._registry.get(camera_id)
            if entry is None:
                raise UnknownCamera(f"unknown camera {camera_id}")
            entries.append(entry)
        until = time.monotonic() + hold_s + self._video.idle_stop_seconds
        with self._cond:
            for entry in entries:
                key = (entry.id, quality)
                reader = self._readers.get(key)
                if reader is None:
                    reader = _Reader(self._worker(entry, quality), until)
                    self._readers[key] = reader
                    self._opens[entry.id] = self._opens.get(entry.id, 0) + 1
                    reader.worker.start()
                reader.lease_until = max(reader.lease_until, until)

    @contextmanager
    def viewing(self, ids: list[str], quality: str) -> Iterator[None]:
        """Count the caller as a viewer of ``ids`` while inside (keeps the readers running)."""
        keys = [(i, quality) for i in ids]
        with self._cond:
            for key in keys:
                self._viewers[key] = self._viewers.get(key, 0) + 1
        try:
            yield
        finally:
            until = time.monotonic() + self._video.idle_stop_seconds
            with self._cond:
                for key in keys:
                    self._viewers[key] -= 1
                    if not self._viewers[key]:
                        del self._viewers[key]
                    if key in self._readers:
                        self._readers[key].lease_until = max(self._readers[key].lease_until, until)

    # --- frames ----------------------------------------------------------------------------

    def newer(self, ids: list[str], after: Mapping[str, int], quality: str) -> list[Frame]:
        frames = []
        for camera_id in ids:
            slot = self._slots.get((camera_id, quality))
            if slot is not None and slot.current > after.get(camera_id, 0):
                frame = slot.frame()
                if frame is not None:
                    frames.append(frame)
        return frames

    def wait_frames(
        self, ids: list[str], after: Mapping[str, int], quality: str, wait: float
    ) -> list[Frame]:
        """Frames newer than ``after``, as soon as there is one, or [] after ``wait`` s."""
        wait = min(max(wait, 0.0), MAX_WAIT_S)
        self.demand(ids, quality, hold_s=wait)
        deadline = time.monotonic() + wait
        with self.viewing(ids, quality):
            while True:
                with self._cond:
                    seqs = self._seqs(ids, quality)
                    fresh = any(seq > after.get(i, 0) for i, seq in seqs.items())
                    remaining = deadline - time.monotonic()
                    if not fresh and remaining > 0 and not self._stop.is_set():
                        self._cond.wait(remaining)
                        continue
                return self.newer(ids, after, quality)

    def _state(self, key: Key) -> str:
        reader = self._readers.get(key)
        if reader is None:
            return "idle"
        if reader.borrowed:
            full = self._readers.get((key[0], FULL))
            return full.worker.state if full is not None else "starting"
        return reader.worker.state

    def _seqs(self, ids: list[str], quality: str) -> dict[str, int]:
        return {i: s.current for i in ids if (s := self._slots.get((i, quality))) is not None}

    def snapshot(self, camera_id: str, quality: str, timeout: float = SNAPSHOT_WAIT_S) -> Frame:
        """The newest frame; starts the reader and waits up to ``timeout`` for a first one."""
        self.demand([camera_id], quality)
        key = (camera_id, quality)
        deadline = time.monotonic() + timeout
        with self.viewing([camera_id], quality), self._cond:
            while True:
                slot, state = self._slots.get(key), self._state(key)
                if slot is not None and slot.current and state == "online":
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set() or state == "offline":
                    raise CameraOffline(f"camera {camera_id} has no current frame")
                self._cond.wait(remaining)
        frame = slot.frame()
        if frame is None:
            raise CameraOffline(f"camera {camera_id} has no current frame")
        return frame

    def stream(self, camera_id: str, keepalive_s: float = 5.0) -> Generator[Frame]:
        """Full-size frames for an MJPEG view, each new one once (the last one repeated every
        ``keepalive_s`` so a closed connection is noticed); runs until the caller stops."""
        self.demand([camera_id], FULL)
        key, seq, sent_at = (camera_id, FULL), 0, 0.0
        with self.viewing([camera_id], FULL):
            while not self._stop.is_set():
                with self._cond:
                    slot = self._slots.get(key)
                    due = time.monotonic() - sent_at >= keepalive_s
                    if slot is None or not slot.current or (slot.current <= seq and not due):
                        self._cond.wait(keepalive_s)
                        continue
                frame = slot.frame()
                if frame is not None:
                    seq, sent_at = frame.seq, time.monotonic()
                    yield frame

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # --- readers ---------------------------------------------------------------------------

    def _worker(self, entry: CameraEntry, quality: str) -> CameraWorker:
        v = self._video
        slot = self._slots.setdefault(
            (entry.id, quality),
            FrameSlot(entry.id, v.tile_quality if quality == TILE else v.full_quality),
        )
        base = WorkerSettings(watchdog_s=v.watchdog_seconds, backoff_s=tuple(v.backoff_seconds))
        if quality == TILE:
            settings = WorkerSettings(
                base.watchdog_s, base.backoff_s, v.tile_max_fps, (v.tile_width, v.tile_height)
            )
        else:
            settings = WorkerSettings(base.watchdog_s, base.backoff_s, max_width=v.full_max_width)
        open_source, decoding = self._source_factory(entry, quality)
        feed = (lambda image: self._feed_tile(entry.id, image)) if quality == FULL else None
        return CameraWorker(
            entry.id, quality, open_source, slot, settings, self._notify, decoding, feed
        )

    def _source_factory(
        self, entry: CameraEntry, quality: str
    ) -> tuple[Callable[[], FrameSource], str]:
        v = self._video
        if entry.synthetic:
            w, h, fps = (v.tile_width, v.tile_height, SYNTHETIC_TILE_FPS)
            if quality == FULL:
                w, h, fps = SYNTHETIC_FULL

            def synthetic() -> FrameSource:
                camera = SyntheticCamera(entry.id, entry.name, entry.stream_url, w, h)
                return SyntheticSource(camera, fps)

            return synthetic, "substream" if quality == TILE else "full"
        sub = quality == TILE and bool(entry.substream_url)
        url = entry.substream_url if sub and entry.substream_url else entry.stream_url
        keyframes = quality == TILE and (v.tile_keyframes_only or not sub)
        decoding = "full" if quality == FULL else ("substream" if sub else "keyframes")

        def ffmpeg() -> FrameSource:
            return FfmpegSource(resolve(url), keyframes_only=keyframes)  # env read at open time

        return ffmpeg, decoding

    # --- status ----------------------------------------------------------------------------

    def status(self) -> list[dict[str, object]]:
        with self._cond:
            readers = dict(self._readers)
            viewers = dict(self._viewers)
            opens = dict(self._opens)
        return [self._camera_status(cid, readers, viewers, opens) for cid in self._registry.ids()]

    def _camera_status(
        self,
        camera_id: str,
        readers: dict[Key, _Reader],
        viewers: dict[Key, int],
        opens: dict[str, int],
    ) -> dict[str, object]:
        """``readers``: readers running now (0-2); ``readers_started``: readers ever started for
        this camera (one per demand period and quality, however many viewers); ``connects``:
        stream opens of the current reader (reconnects included)."""
        full, tile = readers.get((camera_id, FULL)), readers.get((camera_id, TILE))
        main = full or tile
        out: dict[str, object] = {
            "id": camera_id, "state": "idle", "fps": 0.0, "age": None, "reason": "",
            "viewers": sum(viewers.get((camera_id, q), 0) for q in QUALITIES),
            "decoding": main.worker.decoding if main else "none", "width": 0, "height": 0,
            "readers": int(full is not None) + int(tile is not None and not tile.borrowed),
            "readers_started": opens.get(camera_id, 0), "connects": 0,
        }  # fmt: skip
        if main is not None:
            out.update(main.worker.status())
            slot = self._slots.get((camera_id, main.worker.quality))
            if slot is not None:
                out["width"], out["height"] = slot.size
        return out
