"""Benchmark: the intake API on the embedded SQLite (cases and position fixes per second).

On a freshly seeded town (no case history) in a temporary directory:

* ``POST /api/v1/cases`` (JSON, no photo) through Flask's test client in this process: the whole
  request path (token check, validation, locating the point, the case transaction with its audit
  entry, outbox event and village refresh) without a network;
* the same endpoint over real HTTP: ``python run.py serve`` as a subprocess (the production
  server, gunicorn with one worker, outbox relay and live layer running; before issue 15 it was
  Werkzeug's, see bench_serving for both side by side) and N client threads, each with its own
  keep-alive ``http.client`` connection;
* ``POST /api/v1/positions`` with batches of 500 and 5,000 fixes from the town's workers, in
  process and over HTTP.

Besides the wall-clock rate, each row gives the server's CPU time per request (this process's
for the test client, the server process's from /proc over HTTP) and the rate that CPU time
allows on one core: on a shared machine the wall clock also measures the neighbours, the CPU time
mostly does not. Aims (the issue): 500 cases/s, 50,000 fixes/s. Run alone:
``python -m bench.bench_intake``.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench import ms, percentiles
from dashboard.accounts import create_token
from dashboard.app import create_app
from dashboard.config import load_config
from dashboard.domain.roles import Role
from dashboard.seed.loader import seed
from dashboard.services.villages import rule_from_config
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import Grid, GridWorker
from dashboard.wiring import build_services

ROOT = Path(__file__).resolve().parent.parent
CASES_IN_PROCESS = 1_000
CASES_PER_THREAD = 200
THREADS = (1, 4, 16)
BATCHES = {500: 40, 5_000: 8}  # batch size → batches sent
AIM_CASES, AIM_FIXES = 500, 50_000
Request = tuple[str, bytes, int]  # path, JSON body, expected status


@dataclass(frozen=True)
class Town:
    """What the requests need: the config, where the grids are, the workers, a token."""

    config: Path
    port: int
    points: list[tuple[float, float]]
    workers: list[str]
    token: str


@dataclass(frozen=True)
class Run:
    label: str
    items: int  # cases or fixes
    wall: float  # seconds, first request sent to last answer read
    cpu: float  # server CPU seconds
    latencies: list[float]

    def row(self, aim: int, unit: str) -> str:
        rate, ceiling = self.items / self.wall, self.items / self.cpu
        p50, p95 = percentiles(self.latencies, 50, 95)
        per_request = self.cpu / len(self.latencies)
        verdict = "✔" if max(rate, ceiling) >= aim else "✘ below"
        return (
            f"| {self.label} | {self.items:,} | {rate:,.0f} {unit}/s | {ms(p50)} | {ms(p95)} "
            f"| {ms(per_request)} | {ceiling:,.0f} {unit}/s | {verdict} |"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(tmp: Path) -> Town:
    port = _free_port()
    config_path = tmp / "config.toml"
    config_path.write_text(
        f'[server]\nport = {port}\ndata_dir = "{tmp}/var"\n'
        f'[database]\nurl = "sqlite:///{tmp}/var/bench.db"\n'
        # One token sends everything here: lift its rate limit out of the way.
        "[security]\ntoken_rate_per_second = 10000\ntoken_burst = 100000\n",
        encoding="utf-8",
    )
    return seeded_town(config_path, port)


def seeded_town(config_path: Path, port: int) -> Town:
    """The town seeded (no history) into the database ``config_path`` names, and a token that
    may report anywhere in it."""
    services = build_services(load_config(config_path))
    try:
        upgrade(services.db.engine)
        now = services.clock.now()
        rule = rule_from_config(services.config.rules.village)
        seed(services.db, services.reference, rule, scale="town", seed=7, days=0, now=now)
        with services.db.transaction() as session:
            token = create_token(session, "bench", Role.INTEGRATION, now, all_areas=True).token
            points = [(g.lon, g.lat) for g in session.scalars(select(Grid).order_by(Grid.code))]
            workers = list(session.scalars(select(GridWorker.id).order_by(GridWorker.id)))
    finally:
        services.close()
    return Town(config_path, port, points, workers, token)


def _case(town: Town, i: int) -> Request:
    lon, lat = town.points[i % len(town.points)]
    body = {"category": "01002", "description": f"测试事件 {i}", "lon": lon, "lat": lat}
    return "/api/v1/cases", json.dumps({**body, "source": "grid_worker"}).encode(), 201


def _batches(town: Town, size: int, count: int, start: datetime) -> list[Request]:
    """``count`` batches of ``size`` fixes, moving forward in time, over every worker."""
    requests, n = [], 0
    for _ in range(count):
        fixes = []
        for _ in range(size):
            lon, lat = town.points[n % len(town.points)]
            at = (start + timedelta(milliseconds=n)).isoformat()
            fixes.append({"worker": town.workers[n % len(town.workers)], "lon": lon, "lat": lat})
            fixes[-1]["time"] = at
            n += 1
        requests.append(("/api/v1/positions", json.dumps({"fixes": fixes}).encode(), 200))
    return requests


# --- in process (Flask test client) -------------------------------------------------------


def _in_process(town: Town) -> list[Run]:
    services = build_services(load_config(town.config))
    try:
        client = create_app(services).test_client()
        headers = {"Authorization": f"Bearer {town.token}", "Content-Type": "application/json"}

        def send(label: str, requests: list[Request], per_request: int) -> Run:
            latencies = []
            wall, cpu = time.perf_counter(), time.process_time()
            for path, body, expected in requests:
                started = time.perf_counter()
                response = client.post(path, data=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == expected, response.get_data(as_text=True)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            return Run(label, per_request * len(requests), wall, cpu, latencies)

        send("warm-up", [_case(town, -1)], 1)
        runs = [send("test client", [_case(town, i) for i in range(CASES_IN_PROCESS)], 1)]
        start = datetime.now(UTC) - timedelta(hours=3)
        for size, count in BATCHES.items():
            label = f"test client, batches of {size:,}"
            runs.append(send(label, _batches(town, size, count, start), size))
            start += timedelta(minutes=30)
    finally:
        services.close()
    return runs


# --- over HTTP (python run.py serve) --------------------------------------------------------


@contextmanager
def _server(town: Town) -> Iterator[Callable[[], float]]:
    """The server running; yields a function reading its CPU seconds so far."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env["GCC_SECRET_KEY"] = secrets.token_urlsafe(32)
    log = (town.config.parent / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(town.config), "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{town.port}/healthz", process)
        yield lambda: _cpu_seconds(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not become healthy")


def _clients(town: Town, work: Sequence[list[Request]]) -> tuple[float, list[float], int]:
    """One thread per list of requests; the wall time, every latency, the 503s retried.

    A 503 (SQLite's writer lock not had within its timeout) is retried as a real client would,
    after a short pause; the latency is then that of the whole exchange.
    """
    latencies: list[float] = []
    errors: list[str] = []
    retried = [0]
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {town.token}", "Content-Type": "application/json"}

    def run(requests: list[Request]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", town.port, timeout=120)
        mine = []
        try:
            for path, body, expected in requests:
                started = time.perf_counter()
                while True:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    if response.status != 503:
                        break
                    with lock:
                        retried[0] += 1
                    time.sleep(0.1)
                mine.append(time.perf_counter() - started)
                if response.status != expected:
                    with lock:
                        errors.append(f"{response.status}: {data[:200]!r}")
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(w,)) for w in work]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} request(s) failed, e.g. {errors[0]}")
    return wall, latencies, retried[0]


def _over_http(town: Town) -> list[Run]:
    runs = []
    with _server(town) as server_cpu:

        def send(label: str, work: list[list[Request]], per_request: int) -> Run:
            cpu = server_cpu()
            wall, latencies, retried = _clients(town, work)
            cpu = server_cpu() - cpu
            if retried:
                label += f" ({retried} × 503 retried)"
            return Run(label, per_request * sum(map(len, work)), wall, cpu, latencies)

        n = 0
        for threads in THREADS:
            work = [[_case(town, n + t * CASES_PER_THREAD + i) for i in range(CASES_PER_THREAD)]
                    for t in range(threads)]  # fmt: skip
            n += threads * CASES_PER_THREAD
            runs.append(send(f"HTTP, {threads} client thread(s)", work, 1))
        start = datetime.now(UTC) - timedelta(hours=1)
        for size, count in BATCHES.items():
            requests = _batches(town, size, count, start)
            start += timedelta(minutes=20)
            work = [requests[i::2] for i in range(2)]
            runs.append(send(f"HTTP, 2 client threads, batches of {size:,}", work, size))
    return runs


# --- the report -------------------------------------------------------------------------------

_HEADER = (
    "| how | {items} | throughput | p50 | p95 | server CPU per request | one core's CPU allows "
    "| aim |\n|---|---:|---:|---:|---:|---:|---:|---|"
)


def run() -> str:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gcc-bench-intake-") as tmp:
        town = _prepare(Path(tmp))
        runs = _in_process(town) + _over_http(town)
    load_after = os.getloadavg()[0]
    cases = [r.row(AIM_CASES, "cases") for r in runs if "batches" not in r.label]
    fixes = [r.row(AIM_FIXES, "fixes") for r in runs if "batches" in r.label]
    return "\n".join(
        [
            "## Intake API (embedded SQLite)",
            "",
            f"The seeded town ({len(town.points)} grids, {len(town.workers)} workers, no case "
            "history) in a temporary SQLite file (WAL). One integration token sends everything "
            "(its rate limit raised). Latencies are per request as the client saw them. Load "
            f"average of the machine: {load_before:.1f} before, {load_after:.1f} after (2 "
            "cores: above 2, other work shared the CPU and the wall-clock rates are low).",
            "",
            f"### POST /api/v1/cases (aim {AIM_CASES} cases/s)",
            "",
            _HEADER.format(items="cases"),
            *cases,
            "",
            f"### POST /api/v1/positions (aim {AIM_FIXES:,} fixes/s)",
            "",
            _HEADER.format(items="fixes"),
            *fixes,
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
