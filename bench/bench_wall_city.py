"""The live wall at city scale in headless Chromium: first paint, long tasks, bytes.

``python -m bench wall_city`` seeds the city (2,168 villages, 26,713 workers, 2 days of history)
into a temporary SQLite database, starts ``python run.py`` on it with the simulator (every worker
walking), opens ``/wall`` at 1920×1080 and records for ``WALL_SECONDS`` (default 60) of live
updates:

- when the map was first painted (the wall marks ``#wall-map[data-red]`` once its layer is drawn),
- every long task (> 50 ms, ``PerformanceObserver('longtask')``) at load and while live,
- the bytes of every HTTP response as sent (``encodedDataLength``, so after any gzip) and of every
  websocket message (the payload, as the page receives it, after permessage-deflate inflating),
  and whether the socket negotiated permessage-deflate.

``python -m bench.bench_wall_city --url http://127.0.0.1:PORT`` measures a server already running
(e.g. an older checkout on the same database, for a before/after).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import describe, load_average

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("WALL_SECONDS", "60"))

WATCH = """
window.__lt = [];
window.__mapAt = null;
try {
  new PerformanceObserver((l) => l.getEntries().forEach((e) =>
    window.__lt.push([e.startTime, e.duration]))).observe({type: 'longtask', buffered: true});
} catch (e) {}
new MutationObserver(() => {
  const m = document.getElementById('wall-map');
  if (m && m.dataset.red !== undefined && window.__mapAt === null)
    window.__mapAt = performance.now();
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


@dataclass
class Measure:
    map_ms: float | None = None
    load_tasks: list[float] = field(default_factory=list)
    live_tasks: list[float] = field(default_factory=list)
    http: dict[str, int] = field(default_factory=dict)
    ws_in: list[tuple[str, int]] = field(default_factory=list)
    deflate: bool = False
    live_seconds: float = 0.0
    marks: dict[str, float] = field(default_factory=dict)
    slow: list[tuple[str, int, int]] = field(default_factory=list)
    split: float = 0.0


def _browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--window-size=1920,1080",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(driver_path), options=options)


def _event_name(payload: str) -> str:
    """The Socket.IO event of a websocket text frame (42/live,["snapshot",{…}])."""
    start = payload.find('["')
    if start < 0:
        return "control"
    return payload[start + 2 : payload.find('"', start + 2)]


def measure(url: str, seconds: float = SECONDS, load_window_s: float = 15.0) -> Measure:
    driver = _browser()
    out = Measure()
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
        )
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
        driver.get(url + "/wall")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            at = driver.execute_script("return window.__mapAt")
            if at is not None:
                out.map_ms = float(at)
                break
            time.sleep(0.2)
        time.sleep(max(0.0, load_window_s - (out.map_ms or 0) / 1000))
        split = float(driver.execute_script("return performance.now()"))
        time.sleep(seconds)
        out.live_seconds = seconds
        out.split = split
        marks = driver.execute_script(
            "return performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])"
        )
        out.marks = {name: float(at) for name, at in marks or []}
        out.slow = [tuple(x) for x in driver.execute_script("return (window.GccWall||{}).slow||[]")]
        tasks = driver.execute_script("return window.__lt") or []
        out.load_tasks = [d for s, d in tasks if s < split]
        out.live_tasks = [d for s, d in tasks if s >= split]
        urls: dict[str, str] = {}
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            method, params = msg["method"], msg.get("params", {})
            if method == "Network.responseReceived":
                urls[params["requestId"]] = params["response"]["url"]
            elif method == "Network.loadingFinished":
                name = urls.get(params["requestId"], "?").split("?")[0].replace(url, "")
                out.http[name] = out.http.get(name, 0) + int(params["encodedDataLength"])
            elif method == "Network.webSocketHandshakeResponseReceived":
                headers = {k.lower(): v for k, v in params["response"]["headers"].items()}
                out.deflate = "permessage-deflate" in headers.get("sec-websocket-extensions", "")
            elif method == "Network.webSocketFrameReceived":
                payload = params["response"]["payloadData"]
                out.ws_in.append((_event_name(payload), len(payload.encode())))
    finally:
        driver.quit()
    return out


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def report(m: Measure, label: str) -> str:
    by_event: dict[str, list[int]] = {}
    for name, size in m.ws_in:
        by_event.setdefault(name, []).append(size)
    page = sum(m.http.values())
    geo = sum(v for k, v in m.http.items() if "geojson" in k)
    rows = [
        f"| first paint of the map | {m.map_ms / 1000:.2f} s |"
        if m.map_ms
        else "| first paint of the map | never |",
        f"| long tasks at load (first 15 s) | {len(m.load_tasks)}, longest "
        f"{max(m.load_tasks, default=0):.0f} ms, {sum(m.load_tasks) / 1000:.1f} s in all |",
        f"| long tasks while live ({m.live_seconds:.0f} s) | {len(m.live_tasks)}, longest "
        f"{max(m.live_tasks, default=0):.0f} ms, {sum(m.live_tasks) / 1000:.1f} s in all |",
        f"| HTTP bytes at load (as sent) | {_mb(page)} (villages/towns GeoJSON {_mb(geo)}) |",
        f"| socket permessage-deflate | {'yes' if m.deflate else 'no'} |",
    ]
    for name in ("wall:start", "wall:connected", "wall:snapshot", "wall:panels", "wall:layer"):
        if name in m.marks:
            rows.append(f"| `{name}` (after navigation) | {m.marks[name] / 1000:.2f} s |")
    steps: dict[str, list[int]] = {}
    for name, ms, at in m.slow:
        steps.setdefault(("live " if at >= m.split else "load ") + name, []).append(ms)
    for name, values in sorted(steps.items()):
        rows.append(f"| steps over 16 ms: {name} | {len(values)}, longest {max(values)} ms |")
    for name in ("snapshot", "positions", "delta"):
        sizes = by_event.get(name, [])
        if sizes:
            rows.append(
                f"| `{name}` messages | {len(sizes)}, {_mb(sum(sizes) / len(sizes))} each on "
                f"average (inflated), {_mb(max(sizes))} the largest |"
            )
    return "\n".join([f"**{label}**", "", "| | |", "|---|---|", *rows, ""])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    config = tmp / "config.toml"
    config.write_text(
        f'[server]\nport = {port}\ndata_dir = "{tmp}/var"\n'
        f'[database]\nurl = "sqlite:///{tmp}/var/city.db"\n'
        '[demo]\nscale = "city"\nhistory_days = 2\n'
        # every worker out, one fix each per 30 s: ~890 fixes/s (DOMAIN.md: 430–870 for a city)
        '[simulator]\nshift_start = "00:00"\nshift_end = "23:59"\ntick_seconds = 30.0\n'
        f"[video]\ncapture_port = {_free_port()}\n",
        encoding="utf-8",
    )
    run = [sys.executable, "run.py", "--config", str(config)]
    subprocess.run(
        [*run, "seed", "--scale", "city", "--days", "2"], cwd=ROOT, check=True, capture_output=True
    )
    log = (tmp / "app.log").open("wb")
    process = subprocess.Popen(run, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the city demo did not start")


def run() -> str:
    started = time.monotonic()
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-wall-") as name:
        tmp = Path(name)
        process, url = _start(tmp)
        try:
            time.sleep(20)  # the simulator's first fixes reach every worker
            result = measure(url)
        finally:
            process.terminate()
            process.wait(30)
    return "\n".join(
        [
            "## The live wall at city scale (`bench/bench_wall_city.py`)",
            "",
            "The city seed (2,168 villages, 26,713 workers, 2 days of history) served by "
            "`python run.py` with its simulator (every worker walking, one fix each per 30 s, "
            "~890 fixes/s), `/wall` at 1920×1080 in headless Chromium (software rendering) on "
            f"the same machine: {describe()}.",
            "",
            report(result, "This checkout"),
            f"_(wall_city: {time.monotonic() - started:.0f} s; load average {load})_",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="a running server (default: seed and start one)")
    parser.add_argument("--label", default="measured")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    if args.url:
        print(report(measure(args.url, args.seconds), args.label))
    else:
        print(run())
