"""Helpers of the capture tests and the video benchmark: a camera database, the capture process,
and the RTSP test server (tests/integration/rtsp_server.py, run with Debian's python3).

``make_capture_deployment`` writes a config and a migrated SQLite database holding the given
cameras (one county, town and village around them); ``start_capture`` runs ``python run.py
capture`` on it as a subprocess on a free port and waits for it to answer; ``RtspServer`` starts
the GStreamer RTSP server on a free (or given) port and waits for its READY line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.storage.db import Database
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import Camera, County, Town, Village
from streams.capture.client import CaptureClient
from tests.integration.live_helpers import free_port, wait_until
from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"  # the GStreamer gi bindings live there, not in the venv
RTSP_SCRIPT = Path(__file__).resolve().parent / "rtsp_server.py"
SECRET = "capture-tests-secret-not-a-secret"
_SQUARE = '{"type": "Polygon", "coordinates": [[[120, 29], [121, 29], [121, 30], [120, 29]]]}'


@dataclass(frozen=True)
class CameraRow:
    id: str
    stream_url: str
    substream_url: str | None = None
    name: str = ""


@dataclass
class CaptureDeployment:
    dir: Path
    config: Path
    port: int
    env: dict[str, str]


def make_camera_db(url: str, cameras: Sequence[CameraRow]) -> None:
    db = Database.from_url(url)
    try:
        upgrade(db.engine)
        with db.transaction() as s:
            s.add(County(code="330681", name="诸暨市", geometry=_SQUARE))
            s.add(Town(code="330681100", name="枫桥镇", county_code="330681", geometry=_SQUARE,
                       lon=120.5, lat=29.5))  # fmt: skip
            s.add(Village(code="330681100001", name="枫桥村", town_code="330681100",
                          kind="village", geometry=_SQUARE, lon=120.5, lat=29.5,
                          contact_name="", contact_phone=""))  # fmt: skip
            s.flush()
            for c in cameras:
                s.add(Camera(id=c.id, name=c.name or c.id, lon=120.5, lat=29.5,
                             village_code="330681100001", kind="road", stream_url=c.stream_url,
                             substream_url=c.substream_url))  # fmt: skip
    finally:
        db.dispose()


def make_capture_deployment(
    tmp: Path,
    cameras: Sequence[CameraRow],
    *,
    video: str = "",
    env: dict[str, str] | None = None,
) -> CaptureDeployment:
    """``video``: extra lines of the ``[video]`` table (after capture_port), e.g.
    ``watchdog_seconds = 2`` — then ``[[video.cameras]]`` tables if any."""
    port = free_port()
    url = f"sqlite:///{tmp}/capture.db"
    make_camera_db(url, cameras)
    config = tmp / "config.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp}/var"\n[database]\nurl = "{url}"\n'
        f"[video]\ncapture_port = {port}\n{video}\n",
        encoding="utf-8",
    )
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    full_env["GCC_CAPTURE_SECRET"] = SECRET
    full_env.update(env or {})
    return CaptureDeployment(tmp, config, port, full_env)


@dataclass
class CaptureProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def client(self, secret: str = SECRET) -> CaptureClient:
        return CaptureClient([self.url], secret)

    def output(self) -> str:
        return "".join(self.log)

    def wait_ready(self) -> None:
        wait_until(
            lambda: self.ready.is_set() or self.process.poll() is not None, 60, "capture READY"
        )
        if not self.ready.is_set():
            raise AssertionError(f"capture did not start:\n{self.output()}")

    def stop(self) -> None:
        terminate(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()


def launch_capture(deployment: CaptureDeployment, *args: str) -> CaptureProcess:
    """``run.py capture`` on the deployment, not yet waited for; its combined output is
    collected in ``log`` (a shard's URL is its ``capture_urls`` entry: set ``url`` then)."""
    process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(deployment.config), "capture", *args],
        cwd=ROOT, env=deployment.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    capture = CaptureProcess(process, f"http://127.0.0.1:{deployment.port}")

    def pump() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            capture.log.append(line)
            if "READY" in line:
                capture.ready.set()

    threading.Thread(target=pump, daemon=True).start()
    return capture


@contextmanager
def start_capture(deployment: CaptureDeployment, *args: str) -> Iterator[CaptureProcess]:
    capture = launch_capture(deployment, *args)
    try:
        capture.wait_ready()
        yield capture
    finally:
        capture.stop()


class RtspServer:
    """The GStreamer RTSP test server with ``cameras`` mounts ``/cam1`` … (a real process)."""

    def __init__(self, cameras: int, port: int | None = None, *extra: str) -> None:
        self.cameras, self.port, self.extra = cameras, port or free_port(), extra
        self.process: subprocess.Popen[str] | None = None

    def url(self, n: int, credentials: str = "") -> str:
        return f"rtsp://{credentials}127.0.0.1:{self.port}/cam{n}"

    def start(self) -> RtspServer:
        return self.launch().wait_ready()

    def launch(self) -> RtspServer:
        """Start the process without waiting (start several, then ``wait_ready`` each)."""
        cmd = [SYSTEM_PYTHON, str(RTSP_SCRIPT), "--port", str(self.port),
               "--cameras", str(self.cameras), *self.extra]  # fmt: skip
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        return self

    def wait_ready(self) -> RtspServer:
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            rest = line + self.process.stdout.read()
            self.stop()
            raise AssertionError(f"the RTSP test server did not start:\n{rest}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


def camera_states(client: CaptureClient) -> dict[str, str]:
    return {s.id: s.state for s in client.status()}


def raw_status(capture: CaptureProcess) -> list[dict[str, object]]:
    """The /v1/status body as sent (to search it for leaks, read the debug counters)."""
    import urllib.request

    req = urllib.request.Request(capture.url + "/v1/status", headers={"X-Capture-Secret": SECRET})
    with urllib.request.urlopen(req, timeout=10) as response:
        return list(json.loads(response.read())["cameras"])


def until(check: object, timeout: float, what: str) -> object:
    started = time.monotonic()
    result = wait_until(check, timeout, what)  # type: ignore[arg-type]
    return result, time.monotonic() - started
