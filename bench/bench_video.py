"""Benchmark: the capture service (video wall) against the GStreamer RTSP test server.

A real ``run.py capture`` process reads H.264 cameras from tests/integration/rtsp_server.py
(640×360, 10 fps, a keyframe every 10 frames — one per second —, no overlay) on the same
machine; a client in this process asks for frames as the web side does. CPU is the capture
process's own (utime + stime from /proc over the measuring window) in % of one core; the RTSP
server's CPU is listed separately. Measured:

* wall tiles: keyframe-only decoding, one 320×180 JPEG per keyframe; 16, 64 and 150 cameras
  asked for by one long-polling client (as the web process's one fan-out thread does): total
  CPU, CPU per camera, updates per second per tile (median and slowest) and memory;
* full-size views: the main stream fully decoded and JPEG-encoded for MJPEG viewers, per camera;
* 1 vs 20 MJPEG viewers of the same camera (one decoder shared: should be nearly flat);
* added latency of the full-size view: the viewer's receipt time − the frame's capture time
  (the ``X-Frame-At`` of each MJPEG part: after decoding, so FFmpeg's own decode delay is not in
  it);
* offline detection and recovery with the default settings (watchdog 4 s, backoff 1/5/10/60 s):
  the server killed (connection closed) and stalled (``kill -STOP``), then back.

Parameters (environment): ``BENCH_VIDEO_WALLS`` (default ``16,64,150``), ``BENCH_VIDEO_SECONDS``
(measuring window, default 10), ``BENCH_VIDEO_VIEWERS`` (default 20), ``BENCH_VIDEO_STORM``
(cameras opened at once with and without ``OPENCV_FFMPEG_IS_THREAD_SAFE``, default 16). The wall
cameras share one encoder in the RTSP server (``--same-stream``: 150 encoders would take the
whole machine) but each is its own RTSP session and decoder in the capture service. A quick run:
``BENCH_VIDEO_WALLS=4,8 BENCH_VIDEO_SECONDS=3 python -m bench video``.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import percentiles
from streams.capture.client import CaptureClient, CaptureUnavailable
from tests.integration.capture_helpers import (
    CameraRow,
    CaptureProcess,
    RtspServer,
    make_capture_deployment,
    raw_status,
    start_capture,
)
from tests.integration.live_helpers import wait_until

WALLS = tuple(int(n) for n in os.environ.get("BENCH_VIDEO_WALLS", "16,64,150").split(","))
SECONDS = float(os.environ.get("BENCH_VIDEO_SECONDS", "10"))
VIEWERS = int(os.environ.get("BENCH_VIDEO_VIEWERS", "20"))
FULL_CAMERAS = 4  # cameras opened at full size at once for the per-camera figure
STORM = int(os.environ.get("BENCH_VIDEO_STORM", "16"))  # cameras opened at once, flag on/off
STREAM = ("--width", "640", "--height", "360", "--fps", "10", "--gop", "10", "--no-overlay")
# Readers stop soon after the last request, so one phase does not pay for the previous one.
VIDEO = "idle_stop_seconds = 2"
TICK = os.sysconf("SC_CLK_TCK")
MARK = b"X-Frame-At: "


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Load:
    """CPU (% of one core) of the capture process and of the RTSP server over a window."""

    capture: float
    server: float
    seconds: float


@contextmanager
def measured(capture_pid: int, server_pid: int) -> Iterator[list[Load]]:
    out: list[Load] = []
    c0, s0, t0 = cpu_seconds(capture_pid), cpu_seconds(server_pid), time.monotonic()
    yield out
    dt = time.monotonic() - t0
    out.append(
        Load(
            100 * (cpu_seconds(capture_pid) - c0) / dt,
            100 * (cpu_seconds(server_pid) - s0) / dt,
            dt,
        )
    )


class Wall:
    """One long-polling client asking for the tiles of ``ids`` (the web side's fan-out)."""

    def __init__(self, client: CaptureClient, ids: list[str]) -> None:
        self.client, self.after = client, dict.fromkeys(ids, 0)
        self.counts = dict.fromkeys(ids, 0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                frames = self.client.frames(self.after, wait=1.0)
            except CaptureUnavailable:
                time.sleep(0.2)  # the service is away: try again shortly
                continue
            for f in frames:
                self.after[f.camera_id] = f.seq
                self.counts[f.camera_id] += 1

    def __enter__(self) -> Wall:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)


class Viewer:
    """One MJPEG viewer: counts parts and the age of each frame at receipt."""

    def __init__(self, client: CaptureClient, camera_id: str) -> None:
        self.client, self.camera_id = client, camera_id
        self.frames, self.ages = 0, []  # type: ignore[var-annotated]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        stream = self.client.mjpeg(self.camera_id)
        buffer = b""
        try:
            for chunk in stream:
                now = time.time()
                buffer = self._parse(buffer + chunk, now)
                if self.stop.is_set():
                    return
        finally:
            stream.close()  # type: ignore[attr-defined]

    def _parse(self, buffer: bytes, now: float) -> bytes:
        """Count the parts whose ``X-Frame-At`` header is in ``buffer``; return the rest that
        may still hold a split header."""
        while True:
            i = buffer.find(MARK)
            if i < 0:
                return buffer[-len(MARK) :]
            j = buffer.find(b"\r\n", i)
            if j < 0:
                return buffer[i:]
            self.frames += 1
            self.ages.append(now - float(buffer[i + len(MARK) : j]))
            buffer = buffer[j:]

    def __enter__(self) -> Viewer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)


def _idle(capture: CaptureProcess) -> None:
    wait_until(lambda: all(c["readers"] == 0 for c in raw_status(capture)), 60, "readers idle")


def _wall(capture: CaptureProcess, server: RtspServer, n: int) -> dict[str, object]:
    client = capture.client()
    ids = [f"R{i}" for i in range(1, n + 1)]
    started = time.monotonic()
    with Wall(client, ids) as wall:
        wait_until(lambda: all(wall.counts.values()), 120, f"a first frame from {n} tiles")
        first_all = time.monotonic() - started
        time.sleep(2.0)  # settle: every reader past its open
        before = dict(wall.counts)
        with measured(capture.process.pid, server.pid) as load:
            time.sleep(SECONDS)
        rates = sorted((wall.counts[i] - before[i]) / load[0].seconds for i in ids)
        rss = rss_mib(capture.process.pid)
    client.close()
    _idle(capture)
    return {"n": n, "load": load[0], "rates": rates, "first_all": first_all, "rss": rss}


def _viewers(
    capture: CaptureProcess, server: RtspServer, cameras: list[str], per_camera: int
) -> tuple[Load, list[Viewer]]:
    client = capture.client()
    viewers = [Viewer(client, c) for c in cameras for _ in range(per_camera)]
    for v in viewers:
        v.__enter__()
    try:
        wait_until(lambda: all(v.frames >= 3 for v in viewers), 60, "full-size frames")
        for v in viewers:
            v.frames, v.ages = 0, []
        with measured(capture.process.pid, server.pid) as load:
            time.sleep(SECONDS)
    finally:
        for v in viewers:
            v.__exit__()
        client.close()
    _idle(capture)
    return load[0], viewers


def _state_of(client: CaptureClient, camera_id: str) -> str:
    return next((s.state for s in client.status() if s.id == camera_id), "absent")


def _timed(check: Callable[[], object], timeout: float, what: str) -> float:
    started = time.monotonic()
    wait_until(check, timeout, what, step=0.05)
    return time.monotonic() - started


def _failures(capture: CaptureProcess, flaky: RtspServer) -> list[tuple[str, float]]:
    client = capture.client()
    rows = []
    with Wall(client, ["F1"]):
        wait_until(lambda: _state_of(client, "F1") == "online", 30, "F1 online")
        flaky.stop()
        rows.append(("server killed → camera offline", _timed(
            lambda: _state_of(client, "F1") != "online", 30, "offline")))  # fmt: skip
        time.sleep(3.0)  # down a while: the reader is in its backoff
        flaky.start()
        rows.append(("server back (killed 3 s) → camera online", _timed(
            lambda: _state_of(client, "F1") == "online", 90, "online")))  # fmt: skip
        time.sleep(2.0)
        os.kill(flaky.pid, signal.SIGSTOP)
        try:
            rows.append(("server stalled (SIGSTOP) → camera offline", _timed(
                lambda: _state_of(client, "F1") != "online", 60, "offline")))  # fmt: skip
        finally:
            os.kill(flaky.pid, signal.SIGCONT)
        rows.append(("server resumed (SIGCONT) → camera online", _timed(
            lambda: _state_of(client, "F1") == "online", 90, "online")))  # fmt: skip
    client.close()
    return rows


def _open_storm(tmp: Path, cameras: list[CameraRow], flag: str) -> tuple[float, int]:
    """Seconds until the first ``STORM`` tiles are all live when asked for at once, with
    ``OPENCV_FFMPEG_IS_THREAD_SAFE=flag``; and the failed opens on the way."""
    deployment = make_capture_deployment(tmp, cameras[:STORM], video=VIDEO)
    deployment.env["OPENCV_FFMPEG_IS_THREAD_SAFE"] = flag
    with start_capture(deployment) as capture:
        client = capture.client()
        started = time.monotonic()
        with Wall(client, [c.id for c in cameras[:STORM]]) as wall:
            wait_until(lambda: all(wall.counts.values()), 300, f"{STORM} tiles live")
            took = time.monotonic() - started
        failed = sum(int(c["connects"]) - 1 for c in raw_status(capture) if c["connects"])
        client.close()
    return took, failed


def run() -> str:
    most = max(max(WALLS), FULL_CAMERAS, STORM)
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        server = RtspServer(most, None, *STREAM, "--same-stream").launch()
        flaky = RtspServer(1, None, *STREAM).launch()
        try:
            server.wait_ready()
            flaky.wait_ready()
            cameras = [CameraRow(f"R{i}", server.url(i)) for i in range(1, most + 1)]
            storms = {flag: _open_storm(Path(tmp) / f"storm{flag}", cameras, flag) for flag in "10"}
            cameras.append(CameraRow("F1", flaky.url(1)))
            deployment = make_capture_deployment(Path(tmp), cameras, video=VIDEO)
            with start_capture(deployment) as capture:
                idle_cpu = _idle_cpu(capture)
                walls = [_wall(capture, server, n) for n in WALLS]
                full_ids = [f"R{i}" for i in range(1, FULL_CAMERAS + 1)]
                full, _ = _viewers(capture, server, full_ids, 1)
                one, one_viewers = _viewers(capture, server, ["R1"], 1)
                many, many_viewers = _viewers(capture, server, ["R1"], VIEWERS)
                failures = _failures(capture, flaky)
        finally:
            server.stop()
            flaky.stop()
    report = _report(idle_cpu, walls, full, one, one_viewers, many, many_viewers, failures)
    return report + _storm_report(storms)


def _storm_report(storms: dict[str, tuple[float, int]]) -> str:
    lines = [
        "",
        f"Opening {STORM} cameras at once (a wall page appearing), until every tile has a frame:",
        "",
        "| OPENCV_FFMPEG_IS_THREAD_SAFE | all tiles live after | failed opens (retried) |",
        "|---|---|---|",
        *(f"| {flag} | {took:.1f} s | {failed} |" for flag, (took, failed) in storms.items()),
        "",
        "The capture process sets it to 1 (parallel opens); with 0 OpenCV opens one stream at "
        "a time, so one slow camera delays every other.",
    ]
    return "\n".join(lines) + "\n"


def _idle_cpu(capture: CaptureProcess) -> float:
    c0, t0 = cpu_seconds(capture.process.pid), time.monotonic()
    time.sleep(2.0)
    return 100 * (cpu_seconds(capture.process.pid) - c0) / (time.monotonic() - t0)


def _report(
    idle: float,
    walls: list[dict[str, object]],
    full: Load,
    one: Load,
    one_viewers: list[Viewer],
    many: Load,
    many_viewers: list[Viewer],
    failures: list[tuple[str, float]],
) -> str:
    lines = [
        "## video: the capture service against the RTSP test server",
        "",
        "`run.py capture` reading H.264 cameras (640×360, 10 fps, a keyframe a second) from the "
        "GStreamer RTSP test server on the same 2-core machine (one shared encoder there, each "
        "camera its own RTSP session and decoder here); CPU in % of one core, the capture "
        f"process alone (idle: {idle:.1f} %), the RTSP server's in its own column. Wall tiles "
        "decode keyframes only (`avdiscard;nonkey`) and send one 320×180 JPEG per keyframe to one "
        "long-polling client (the web side's fan-out thread).",
        "",
        "| wall | capture CPU | per camera | updates/s per tile (median / slowest) | tiles ≥ 0.5/s "
        "| all tiles live after | capture RSS | RTSP server CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in walls:
        load, rates, n = w["load"], w["rates"], w["n"]
        assert isinstance(load, Load) and isinstance(rates, list) and isinstance(n, int)
        ok = sum(1 for r in rates if r >= 0.5)
        lines.append(
            f"| {n} cameras | {load.capture:.0f} % | {load.capture / n:.2f} % "
            f"| {statistics.median(rates):.2f} / {rates[0]:.2f} | {ok}/{n} "
            f"| {w['first_all']:.1f} s | {w['rss']:.0f} MiB | {load.server:.0f} % |"
        )
    ages = [a * 1000 for v in one_viewers for a in v.ages]
    p50, p95 = percentiles(ages, 50, 95) if ages else (float("nan"), float("nan"))
    fps_one = sum(v.frames for v in one_viewers) / one.seconds
    fps_many = sum(v.frames for v in many_viewers) / many.seconds / max(1, len(many_viewers))
    lines += [
        "",
        "| full-size views (MJPEG) | capture CPU | per camera | frames/s per viewer |",
        "|---|---|---|---|",
        f"| {FULL_CAMERAS} cameras, 1 viewer each | {full.capture:.0f} % "
        f"| {full.capture / FULL_CAMERAS:.1f} % | — |",
        f"| 1 camera, 1 viewer | {one.capture:.1f} % | {one.capture:.1f} % | {fps_one:.1f} |",
        f"| 1 camera, {len(many_viewers)} viewers | {many.capture:.1f} % | {many.capture:.1f} % "
        f"| {fps_many:.1f} |",
        "",
        f"Added latency of the full-size view (capture time → the viewer's receipt, 1 viewer, "
        f"{len(ages)} frames): p50 {p50:.0f} ms, p95 {p95:.0f} ms.",
        "",
        "| failure (defaults: watchdog 4 s, backoff 1/5/10/60 s) | seconds |",
        "|---|---|",
        *(f"| {what} | {secs:.1f} |" for what, secs in failures),
        "",
        "Aim: 150 cameras on the wall at ≥ 0.5 updates/s each within half of this machine "
        "(100 % of one core); viewers of the same camera share one decoder (flat CPU).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
