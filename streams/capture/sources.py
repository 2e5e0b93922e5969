"""Frame sources: a camera stream read through OpenCV's FFmpeg backend, or a synthetic camera.

The settings are VIDEO.md's: always ``cv2.CAP_FFMPEG`` with 5 s open and read timeouts; options
``rtsp_transport;tcp`` (setting the options drops OpenCV's default ``prefer_tcp``), small
``analyzeduration``/``probesize`` for a fast open, and ``avdiscard;nonkey`` — decode keyframes
only — for wall tiles of a camera without a sub-stream. ``configure_process()`` must run before
the first capture opens (``run.py capture`` calls it first thing): it lets FFmpeg open streams in
parallel (``OPENCV_FFMPEG_IS_THREAD_SAFE=1``, without it one hung camera blocks every other open)
and gives each stream one decoder thread (``OPENCV_FFMPEG_THREADS=1``, lower latency).

OpenCV reads ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` from the environment at every open, so tiles
(keyframes only) and full views need different values at open time. ``_OptionsGate`` lets any
number of opens with the same options run together and makes an open with other options wait
until those are done, so no open ever sees the other kind's options.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod

import cv2
import numpy as np

from streams.capture.errors import CaptureError

OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000
# timeout (µs): FFmpeg's socket I/O timeout. Without it a stalled camera (kill -STOP: the TCP
# connection stays open) blocks read() until the camera resumes, whatever the read timeout.
BASE_OPTIONS = "rtsp_transport;tcp|analyzeduration;500000|probesize;65536|timeout;5000000"
KEYFRAMES_OPTIONS = BASE_OPTIONS + "|avdiscard;nonkey"
_PROCESS_ENV = {
    "OPENCV_FFMPEG_IS_THREAD_SAFE": "1",
    "OPENCV_FFMPEG_THREADS": "1",
    "OPENCV_LOG_LEVEL": "ERROR",  # no per-open warnings in the service's log
    # FFmpeg's own messages go straight to stderr, past the log redaction, and name camera
    # hosts ("Connection to tcp://10.0.0.8:554 failed"): quiet. Set 24 (warnings) to debug.
    "OPENCV_FFMPEG_LOGLEVEL": "-8",
    "OPENCV_FFMPEG_CAPTURE_OPTIONS": BASE_OPTIONS,
}


class SourceError(CaptureError):
    """The stream could not be opened or stopped delivering (message without the URL)."""


def configure_process(environ: dict[str, str] | None = None) -> None:
    """Set the FFmpeg environment of a capture process; variables already set are kept
    (so ``OPENCV_FFMPEG_IS_THREAD_SAFE=0`` can be load-tested against the default)."""
    env = os.environ if environ is None else environ
    for key, value in _PROCESS_ENV.items():
        env.setdefault(key, value)
    if environ is None:  # cv2 may be imported already: its log level is read at import
        cv2.utils.logging.setLogLevel(2)  # 2 = LOG_LEVEL_ERROR


class _OptionsGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._current = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS", BASE_OPTIONS)
        self._opening = 0

    def enter(self, options: str) -> None:
        with self._cond:
            while self._current != options and self._opening:
                self._cond.wait()
            if self._current != options:
                os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = options
                self._current = options
            self._opening += 1

    def leave(self) -> None:
        with self._cond:
            self._opening -= 1
            self._cond.notify_all()


_GATE = _OptionsGate()


class FrameSource(ABC):
    """What a camera reader reads from. ``read()`` blocks until a frame is there; it returns
    None when the stream answered without a new frame, and raises SourceError when it broke."""

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def read(self) -> np.ndarray | None: ...

    @abstractmethod
    def close(self) -> None: ...


class FfmpegSource(FrameSource):
    def __init__(self, url: str, *, keyframes_only: bool) -> None:
        self._url = url  # resolved (may hold credentials): never logged, never in a message
        self._options = KEYFRAMES_OPTIONS if keyframes_only else BASE_OPTIONS
        self._cap: cv2.VideoCapture | None = None
        self._last_pos = -1.0

    def __repr__(self) -> str:
        return "FfmpegSource(<url hidden>)"

    def open(self) -> None:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS,
            cv2.CAP_PROP_N_THREADS, 1,  # as OPENCV_FFMPEG_THREADS=1, per capture
        ]  # fmt: skip
        _GATE.enter(self._options)
        try:
            cap = cv2.VideoCapture(self._url, cv2.CAP_FFMPEG, params)
        finally:
            _GATE.leave()
        if not cap.isOpened():
            cap.release()
            raise SourceError("the stream could not be opened")
        self._cap, self._last_pos = cap, -1.0

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            raise SourceError("not open")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SourceError("the stream ended or stopped answering")
        # A stalled stream may hand back the last buffered frame again: only a frame whose
        # timestamp moved on is new.
        pos = float(self._cap.get(cv2.CAP_PROP_POS_MSEC))
        if pos == self._last_pos and pos > 0:
            return None
        self._last_pos = pos
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
