"""Helpers of the video tests: a real capture process (``run.py capture``) over a seeded database,
and a Socket.IO client of ``/video`` that records frames and acknowledges them when told to.

``start_capture`` writes a config naming the database and a free port, starts ``python run.py
--config … capture`` with a secret in the environment and waits until ``/v1/status`` answers.
Cameras of the seeded town are all ``synthetic:``; ``LEAKY_URL`` is a credentialed stream URL a
test puts in a camera row (``leaky_camera``) to prove it never reaches a response.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import socketio
from sqlalchemy import delete, select

from dashboard.storage.db import Database
from dashboard.storage.models import Camera
from tests.integration.live_helpers import ROOT, InOrderClient, free_port, wait_until
from tests.processes import terminate

CAPTURE_SECRET = "video-tests-capture-secret-not-a-secret"
SECRET_ENV = "GCC_CAPTURE_SECRET"
LEAKY_PASSWORD = "Leak3dPassw0rd"
LEAKY_URL = f"rtsp://admin:{LEAKY_PASSWORD}@127.0.0.1:9/stream1"  # port 9: nothing answers
LEAKY_ID = "CAM-LEAKY-01"
VIDEO_NS = "/video"


@dataclass
class CaptureProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    log_file: IO[bytes]

    def status(self) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + "/v1/status", headers={"X-Capture-Secret": CAPTURE_SECRET}
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            return dict(json.loads(resp.read()))

    def camera(self, camera_id: str) -> dict[str, Any] | None:
        return next((c for c in self.status()["cameras"] if c["id"] == camera_id), None)

    def log_text(self) -> str:
        self.log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.log_file.closed:
            return
        terminate(self.process)
        self.log_file.close()


def capture_config(tmp: Path, database_url: str, port: int, extra: str = "") -> Path:
    config = tmp / "capture.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp}/var"\n[database]\nurl = "{database_url}"\n'
        f"[video]\ncapture_port = {port}\nidle_stop_seconds = 3\n{extra}",
        encoding="utf-8",
    )
    return config


@contextmanager
def running_capture(tmp: Path, database_url: str) -> Iterator[CaptureProcess]:
    """``run.py capture`` on a free port over ``database_url``, answering; stopped on exit."""
    port = free_port()
    config = capture_config(tmp, database_url, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env[SECRET_ENV] = CAPTURE_SECRET
    with capture_process(config, port, env, tmp / "capture.log") as capture:
        yield capture


@contextmanager
def capture_process(
    config: Path, port: int, env: dict[str, str], log: Path
) -> Iterator[CaptureProcess]:
    """``run.py --config CONFIG capture`` (its [video] section names ``port``), answering."""
    log_file = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(config), "capture"],
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
    )
    capture = CaptureProcess(f"http://127.0.0.1:{port}", process, log, log_file)
    try:
        wait_until(lambda: _answers(capture), 60, "the capture service's /v1/status")
        yield capture
    finally:
        capture.stop()


def _answers(capture: CaptureProcess) -> bool:
    if capture.process.poll() is not None:
        raise AssertionError(f"run.py capture exited:\n{capture.log_text()[-3000:]}")
    try:
        capture.status()
    except (OSError, urllib.error.HTTPError):
        return False
    return True


@contextmanager
def leaky_camera(db: Database, village_code: str) -> Iterator[str]:
    """A camera row whose stream URL carries a password (never to be seen outside capture)."""
    with db.transaction() as session:
        session.add(
            Camera(
                id=LEAKY_ID,
                name="泄漏测试摄像头",
                lon=120.0,
                lat=29.0,
                village_code=village_code,
                kind="main_road",
                stream_url=LEAKY_URL,
                substream_url=LEAKY_URL.replace("stream1", "stream2"),
            )
        )
    try:
        yield LEAKY_ID
    finally:
        with db.transaction() as session:
            session.execute(delete(Camera).where(Camera.id == LEAKY_ID))


def camera_ids(db: Database, n: int, prefix: str = "") -> list[str]:
    with db.read() as session:
        query = select(Camera.id).where(Camera.stream_url == "synthetic:").order_by(Camera.id)
        if prefix:
            query = query.where(Camera.village_code.startswith(prefix))
        return list(session.scalars(query.limit(n)))


@dataclass
class VideoClient:
    """A screen of the video wall: records ``frame``/``status``/``error`` events; acknowledges
    frames automatically when ``auto_ack`` (a fast screen) or never (a stalled one)."""

    auto_ack: bool = True
    frames: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # The stock client handles each websocket message in a thread of its own, which can split a
    # binary frame from its attachment; this one handles them in wire order.
    client: socketio.Client = field(default_factory=lambda: InOrderClient(reconnection=False))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client.on("frame", self._frame, namespace=VIDEO_NS)
        self.client.on("status", self._status, namespace=VIDEO_NS)
        self.client.on("error", self._error, namespace=VIDEO_NS)

    def _frame(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.frames.append(data)
        if self.auto_ack:
            self.client.emit("ack", {"id": data["id"], "seq": data["seq"]}, namespace=VIDEO_NS)

    def _status(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.statuses.append(data)

    def _error(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.errors.append(data)

    def connect(self, url: str, token: str, timeout: float = 10) -> VideoClient:
        self.client.connect(
            url,
            namespaces=[VIDEO_NS],
            transports=["websocket"],
            auth={"token": token},
            wait_timeout=timeout,
        )
        return self

    def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        return self.client.call(event, data, namespace=VIDEO_NS, timeout=timeout)

    def frames_of(self, camera_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [f for f in self.frames if f["id"] == camera_id]

    def seen(self) -> set[str]:
        with self._lock:
            return {f["id"] for f in self.frames}

    def wait(self, check: Callable[[VideoClient], Any], what: str, timeout: float = 20) -> Any:
        return wait_until(lambda: check(self), timeout, what)

    def disconnect(self) -> None:
        if self.client.connected:
            self.client.disconnect()
