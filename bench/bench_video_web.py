"""Benchmark: wall tiles from the capture service to the screens over the ``/video`` websocket.

A real ``run.py serve`` and ``run.py capture`` over the seeded town (its ~180 cameras are all
``synthetic:``, so the capture side is cheap and the web side's cost shows), and screens that are
``socketio.Client``s in this process: each watches its tiles and acknowledges every frame as it
arrives (a fast screen), or 2 s later (a slow one). CPU is each server process's own (utime +
stime from /proc over the window) in % of one core. Measured per scenario:

* updates per second per tile (median over the screens' tiles) and frames delivered in total;
* the age of a frame on arrival (arrival time − the frame's capture time; one machine, one
  clock): capture → fan-out long-poll → flow control → websocket → the client's handler;
* the first frame after ``watch`` of cameras nobody watched (their readers start on demand);
* the slow screen gets fewer frames instead of a queue: its frames' age stays bounded.

``BENCH_VIDEO_WEB_SECONDS`` sets the measuring window (default 10). Run alone:
``python -m bench video_web``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import percentiles
from dashboard.domain.roles import Role
from dashboard.storage.db import Database
from tests.integration.live_helpers import (
    Deployment,
    InOrderClient,
    Server,
    free_port,
    make_deployment,
    running,
)
from tests.integration.video_helpers import (
    CAPTURE_SECRET,
    SECRET_ENV,
    CaptureProcess,
    camera_ids,
    capture_process,
)

SECONDS = float(os.environ.get("BENCH_VIDEO_WEB_SECONDS", "10"))
SLOW_ACK_S = 2.0  # slower than the tiles come: the screen must get fewer, not late ones
# (label, screens, tiles per screen, the screens share their cameras, slow screens)
SCENARIOS = (
    ("1 screen × 16 tiles", 1, 16, True, 0),
    ("1 screen × 64 tiles", 1, 64, True, 0),
    ("4 screens × 64 tiles, same cameras", 4, 64, True, 0),
    ("4 screens × 64 tiles, 160 cameras", 4, 64, False, 0),
    ("2 screens × 64 tiles, one acks after 2 s", 2, 64, True, 1),
)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Screen:
    slow: bool = False
    client: InOrderClient = field(default_factory=lambda: InOrderClient(reconnection=False))
    arrivals: list[tuple[float, str, float]] = field(default_factory=list)  # (t, camera, age s)
    first: dict[str, float] = field(default_factory=dict)  # camera -> monotonic first arrival

    def __post_init__(self) -> None:
        self.client.on("frame", self._frame, namespace="/video")

    def _frame(self, data: dict[str, object]) -> None:
        now, wall = time.monotonic(), time.time()
        camera = str(data["id"])
        age = wall - datetime.fromisoformat(str(data["at"])).timestamp()
        self.arrivals.append((now, camera, age))
        self.first.setdefault(camera, now)
        ack = {"id": camera, "seq": data["seq"]}
        if self.slow:
            threading.Timer(SLOW_ACK_S, self._ack, (ack,)).start()
        else:
            self._ack(ack)

    def _ack(self, ack: dict[str, object]) -> None:
        if self.client.connected:
            self.client.emit("ack", ack, namespace="/video")


@dataclass
class Result:
    label: str
    web_cpu: float
    capture_cpu: float
    rate: float  # median updates/s per tile (fast screens)
    slow_rate: float | None
    frames: int
    age_p50: float
    age_p95: float
    slow_age_p95: float | None
    first_p50: float
    first_p95: float


@contextmanager
def _stack(tmp: Path) -> Iterator[tuple[Deployment, Server, CaptureProcess]]:
    port = free_port()
    deployment = make_deployment(tmp, bus=f"[video]\ncapture_port = {port}\n")
    deployment.env[SECRET_ENV] = CAPTURE_SECRET
    log = tmp / "capture.log"
    with (
        capture_process(deployment.config, port, deployment.env, log) as capture,
        running(deployment) as (server,),
    ):
        yield deployment, server, capture


def _scenario(
    server: Server, capture: CaptureProcess, token: str, ids: list[str], spec: tuple
) -> Result:
    label, n_screens, tiles, shared, n_slow = spec
    screens = [Screen(slow=i < n_slow) for i in range(n_screens)]
    for screen in screens:
        screen.client.connect(
            server.url, namespaces=["/video"], transports=["websocket"], auth={"token": token}
        )
    watched = []
    started = time.monotonic()
    for i, screen in enumerate(screens):
        first = 0 if shared else i * tiles // 2
        watched.append(ids[first : first + tiles])
        screen.client.call("watch", {"ids": watched[-1]}, namespace="/video", timeout=10)
    time.sleep(3.0)  # readers started, first frames out: measure the steady state
    web0, cap0, t0 = (
        cpu_seconds(server.process.pid),
        cpu_seconds(capture.process.pid),
        time.monotonic(),
    )
    time.sleep(SECONDS)
    t1 = time.monotonic()
    web_cpu = 100 * (cpu_seconds(server.process.pid) - web0) / (t1 - t0)
    cap_cpu = 100 * (cpu_seconds(capture.process.pid) - cap0) / (t1 - t0)
    for screen in screens:
        screen.client.call("pause", {}, namespace="/video", timeout=10)
    done = [threading.Thread(target=s.client.disconnect) for s in screens]
    for thread in done:
        thread.start()
    for thread in done:
        thread.join()
    return _result(label, screens, watched, started, (t0, t1), web_cpu, cap_cpu)


def _result(
    label: str,
    screens: list[Screen],
    watched: list[list[str]],
    started: float,
    window: tuple[float, float],
    web_cpu: float,
    cap_cpu: float,
) -> Result:
    t0, t1 = window

    def rates(screen: Screen, ids: list[str]) -> list[float]:
        inside = [c for t, c, _ in screen.arrivals if t0 <= t < t1]
        return [inside.count(c) / (t1 - t0) for c in ids]

    def ages(group: list[Screen]) -> list[float]:
        return [a for s in group for t, _, a in s.arrivals if t0 <= t < t1]

    fast = [s for s in screens if not s.slow]
    slow = [s for s in screens if s.slow]
    fast_rates = [
        r for s, ids in zip(screens, watched, strict=True) if not s.slow for r in rates(s, ids)
    ]
    slow_rates = [
        r for s, ids in zip(screens, watched, strict=True) if s.slow for r in rates(s, ids)
    ]
    firsts = [
        s.first[c] - started
        for s, ids in zip(screens, watched, strict=True)
        for c in ids
        if c in s.first
    ]
    age50, age95 = percentiles(ages(fast), 50, 95)
    first50, first95 = percentiles(firsts, 50, 95)
    return Result(
        label=label,
        web_cpu=web_cpu,
        capture_cpu=cap_cpu,
        rate=percentiles(fast_rates, 50)[0],
        slow_rate=percentiles(slow_rates, 50)[0] if slow else None,
        frames=sum(1 for s in screens for t, _, _ in s.arrivals if t0 <= t < t1),
        age_p50=age50,
        age_p95=age95,
        slow_age_p95=percentiles(ages(slow), 95)[0] if slow else None,
        first_p50=first50,
        first_p95=first95,
    )


def run() -> str:
    with (
        tempfile.TemporaryDirectory(prefix="bench-video-web-") as tmp,
        _stack(Path(tmp)) as (deployment, server, capture),
    ):
        ids = _camera_ids(deployment)
        token = deployment.token("bench-video-web", Role.WALL)
        results = []
        for spec in SCENARIOS:
            results.append(_scenario(server, capture, token, ids, spec))
            _wait_idle(capture)
    return _report(results)


def _camera_ids(deployment: Deployment) -> list[str]:
    db = Database.from_url(deployment.database_url)
    try:
        return camera_ids(db, 200)
    finally:
        db.dispose()


def _wait_idle(capture: CaptureProcess, timeout: float = 30.0) -> None:
    """Let every reader stop (idle after ~10 s) so the next scenario starts cold."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c["state"] == "idle" for c in capture.status()["cameras"]):
            return
        time.sleep(0.5)


def _report(results: list[Result]) -> str:
    lines = [
        "## Video wall tiles over the websocket (`/video`)",
        "",
        f"`run.py serve` + `run.py capture`, the seeded town's synthetic cameras (a tile every "
        f"~1 s), screens in the benchmark process; {SECONDS:.0f} s windows after 3 s of warm-up. "
        "CPU in % of one core. Age = arrival − capture time of the frame.",
        "",
        "| scenario | web CPU | capture CPU | updates/s per tile | frames | age p50 / p95 "
        "| first frame after watch p50 / p95 | slow screen: updates/s, age p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        slow = "—" if r.slow_rate is None else f"{r.slow_rate:.2f}, {r.slow_age_p95 * 1000:.0f} ms"
        lines.append(
            f"| {r.label} | {r.web_cpu:.1f} % | {r.capture_cpu:.1f} % | {r.rate:.2f} | "
            f"{r.frames:,} | {r.age_p50 * 1000:.0f} / {r.age_p95 * 1000:.0f} ms | "
            f"{r.first_p50 * 1000:.0f} / {r.first_p95 * 1000:.0f} ms | {slow} |"
        )
    lines += [
        "",
        "One fan-out thread per web process long-polls the capture service for the union of the "
        "watched cameras; each screen gets at most one unacknowledged frame per camera (latest "
        "frame wins), so a slow screen receives fewer frames and never a backlog.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
