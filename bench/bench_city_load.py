"""Benchmark: a whole city's load on one machine, production server against development one.

The city seed (2,168 villages, 8,436 grids, 26,713 workers, 2 days of history) on a fresh
PostgreSQL database, the Redis bus, one capture shard, and then, for each server:

* ``run.py serve --workers 2`` (gunicorn, two processes; every one runs the outbox relay, the live
  hub and the scheduler's watchers, one acting by its lease) or ``run.py serve --dev`` (Werkzeug,
  one process);
* **positions**: every worker one fix per 30 s (~890 fixes/s), sent as a positioning gateway
  would, in 4 concurrent ``POST /api/v1/positions`` a second (one integration token);
* **cases**: ``CASES_PER_S`` reports a second (``POST /api/v1/cases``, 16 keep-alive senders) — a
  city's 9,000–10,000 cases a day compressed into minutes;
* **screens**: 20 wall screens (``socketio.Client`` over websocket, 4 processes of 5, a wall token
  each) on ``/live``; each asks for a refresh every 30 s, as the wall does after a change.

Measured over ``SECONDS`` after ``WARMUP_S``: accepted rates and errors; push latency of every
reported case to every screen (the report sent → its ``delta`` in the screen's handler; one
machine, one clock) and of position fixes (the fix's time, which is when it was sent → in a
screen's ``positions`` batch; sampled, one worker in 20); the screens' chains (a ``prev`` that is
not the seq a screen holds is a break); snapshot sizes (whole at connect, refreshes after); CPU and
memory per process (gunicorn master and workers, capture, the PostgreSQL backends of the
database, Redis) from /proc; and, when ``py-spy`` is on the PATH (or ``BENCH_PYSPY``), the
workers' CPU per thread (relay, live ticker, scheduler, Redis listener, request and websocket
threads) by the threads' names.

Everything — server, database, Redis, senders, screens — shares this machine's cores (run the
whole bench under ``nice`` on a shared machine; the screens are not niced further: a starved
screen falls behind, and its latency would measure the screen, not the server). Run alone:
``nice python -m bench.bench_city_load`` (``--servers production`` or ``development`` for one,
``--seconds`` for the window; ``BENCH_CITY_LOGS=DIR`` keeps the servers' logs).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench import ms, percentiles
from bench.bench_intake import _free_port, _wait_healthy
from bench.bench_serving import REDIS_URL, _postgres_database
from bench.machine import describe, load_average

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 150.0
WARMUP_S = 20.0
CASES_PER_S = 60
CASE_SENDERS = 16
FIX_EVERY_S = 30  # each worker one fix per 30 s
POSITION_REQUESTS_PER_S = 4
SCREENS, SCREEN_PROCESSES = 20, 4
REFRESH_EVERY_S = 30.0
SAMPLE_ONE_FIX_IN = 20


@dataclass(frozen=True)
class City:
    config: Path
    port: int
    database: str
    integration: str
    wall: str
    workers: list[tuple[str, float, float]]  # id, lon, lat of the worker's grid
    points: list[tuple[float, float]]  # grid centres, where cases are reported
    seed_s: float


def _config(tmp: Path, url: str, port: int, capture_port: int) -> Path:
    config = tmp / "config.toml"
    channel = f"gcc-bench-city-{uuid.uuid4().hex[:8]}"
    config.write_text(
        f'[server]\nport = {port}\ndata_dir = "{tmp}/var"\nworkers = 2\nthreads = 200\n'
        f'[database]\nurl = "{url}"\npool_size = 10\n'
        f'[bus]\nbackend = "redis"\nredis_url = "{REDIS_URL}"\nchannel = "{channel}"\n'
        '[demo]\nenabled = false\nsimulator = false\nscale = "city"\n'
        "[security]\ntoken_rate_per_second = 10000\ntoken_burst = 100000\n"
        f'[video]\ncapture_urls = ["http://127.0.0.1:{capture_port}"]\n',
        encoding="utf-8",
    )
    return config


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env["GCC_SECRET_KEY"] = secrets.token_urlsafe(32)
    env["GCC_CAPTURE_SECRET"] = secrets.token_urlsafe(32)
    return env


def seed_city(tmp: Path, url: str, database: str) -> City:
    from dashboard.accounts import create_token
    from dashboard.config import load_config
    from dashboard.domain.roles import Role
    from dashboard.storage.models import Grid, GridWorker
    from dashboard.wiring import build_services

    port = _free_port()
    config = _config(tmp, url, port, _free_port())
    run = [sys.executable, "run.py", "--config", str(config)]
    started = time.monotonic()
    subprocess.run([*run, "db", "upgrade"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*run, "seed", "--scale", "city", "--days", "2"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    seed_s = time.monotonic() - started
    services = build_services(load_config(config))
    try:
        now = services.clock.now()
        with services.db.transaction() as session:
            integration = create_token(
                session, "bench-gateway", Role.INTEGRATION, now, all_areas=True
            ).token
            wall = create_token(session, "bench-wall", Role.WALL, now, all_areas=True).token
            grids = {
                c: (lon, lat)
                for c, lon, lat in session.execute(select(Grid.code, Grid.lon, Grid.lat))
            }
            workers = [
                (w, *grids[g])
                for w, g in session.execute(
                    select(GridWorker.id, GridWorker.grid_code).order_by(GridWorker.id)
                )
                if g in grids
            ]
    finally:
        services.close()
    points = sorted(grids.values())
    return City(config, port, database, integration, wall, workers, points, seed_s)


# --- the senders (child processes) -----------------------------------------------------------


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, token: str) -> int:
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    response.read()
    return response.status


def _cases(city: City, start: float, stop: Any, results: Any) -> None:
    """Reports paced at CASES_PER_S from CASE_SENDERS threads; (id, sent, answered) each."""
    lock = threading.Lock()
    state = {"k": 0}
    done: list[tuple[int, float, float]] = []
    errors: dict[str, int] = {}

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", city.port, timeout=30)
        while True:
            with lock:
                k = state["k"]
                state["k"] += 1
            due = start + k / CASES_PER_S
            if stop.is_set():
                break
            time.sleep(max(0.0, due - time.time()))
            lon, lat = city.points[(k * 7919) % len(city.points)]
            body = json.dumps(
                {
                    "category": "01002",
                    "description": f"城市压力测试 {k}",
                    "lon": lon,
                    "lat": lat,
                    "source": "grid_worker",
                }
            ).encode()
            sent = time.time()
            try:
                conn.request(
                    "POST",
                    "/api/v1/cases",
                    body=body,
                    headers={
                        "Authorization": f"Bearer {city.integration}",
                        "Content-Type": "application/json",
                    },
                )
                response = conn.getresponse()
                answer = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as err:
                with lock:
                    errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", city.port, timeout=30)
                continue
            if status == 201:
                with lock:
                    done.append((int(json.loads(answer)["id"]), sent, time.time()))
            else:
                with lock:
                    errors[str(status)] = errors.get(str(status), 0) + 1
        conn.close()

    threads = [threading.Thread(target=sender) for _ in range(CASE_SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put(("cases", done, errors))


def _positions(city: City, start: float, stop: Any, results: Any) -> None:
    """Each second the 1/30 of the workers whose turn it is, in POSITION_REQUESTS_PER_S posts
    sent at once (a gateway's concurrent requests, each on its own keep-alive connection)."""
    lock = threading.Lock()
    totals = {"sent": 0, "accepted": 0}
    latencies: list[float] = []
    errors: dict[str, int] = {}

    def slot(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", city.port, timeout=30)
        second = 0
        while not stop.is_set():
            time.sleep(max(0.0, start + second - time.time()))
            due = city.workers[second % FIX_EVERY_S :: FIX_EVERY_S][i::POSITION_REQUESTS_PER_S]
            second += 1
            at = datetime.now(UTC).isoformat()
            fixes = [
                {"worker": w, "lon": lon + 0.0003, "lat": lat - 0.0002, "time": at}
                for w, lon, lat in due
            ]
            body = json.dumps({"fixes": fixes}).encode()
            t0 = time.time()
            try:
                status = _post(conn, "/api/v1/positions", body, city.integration)
            except (OSError, http.client.HTTPException) as err:
                with lock:
                    errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", city.port, timeout=30)
                continue
            with lock:
                latencies.append(time.time() - t0)
                totals["sent"] += len(fixes)
                if status == 200:
                    totals["accepted"] += len(fixes)
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1
        conn.close()

    threads = [threading.Thread(target=slot, args=(i,)) for i in range(POSITION_REQUESTS_PER_S)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.time() - start
    results.put(("positions", totals["sent"], totals["accepted"], latencies, errors, seconds))


# --- the screens (child processes) -----------------------------------------------------------


@dataclass
class ScreenLog:
    cases: dict[int, float] = field(default_factory=dict)  # case id -> receipt time
    fix_latencies: list[float] = field(default_factory=list)
    fixes: int = 0
    batches: int = 0
    whole: list[int] = field(default_factory=list)  # sizes (inflated JSON bytes)
    refreshes: list[int] = field(default_factory=list)
    breaks: int = 0
    deltas: int = 0
    disconnects: int = 0
    seq: int | None = None
    closing: bool = False
    first_batch: float = 0.0
    last_batch: float = 0.0


def _screen(url: str, token: str, log: ScreenLog, lock: threading.Lock) -> Any:
    from tests.integration.live_helpers import InOrderClient  # wire order, as a browser has it

    client = InOrderClient(reconnection=False)

    def snapshot(msg: dict[str, Any]) -> None:
        size = len(json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode())
        with lock:
            (log.refreshes if msg.get("refresh") else log.whole).append(size)
            log.seq = msg["seq"]

    def delta(msg: dict[str, Any]) -> None:
        received = time.time()
        with lock:
            log.deltas += 1
            if log.seq is not None and msg.get("prev") != log.seq:
                log.breaks += 1
            log.seq = msg["seq"]
            payload = msg.get("payload") or {}
            if msg.get("topic") == "case" and payload.get("action") == "report":
                log.cases.setdefault(int(payload["id"]), received)

    def positions(msg: dict[str, Any]) -> None:
        received = time.time()
        fixes = msg.get("fixes") or []
        sampled = [
            received - datetime.fromisoformat(f[3]).timestamp()
            for f in fixes
            if hash(f[0]) % SAMPLE_ONE_FIX_IN == 0
        ]
        with lock:
            log.first_batch = log.first_batch or received
            log.last_batch = received
            log.batches += 1
            log.fixes += len(fixes)
            log.fix_latencies.extend(sampled)

    def gone(*_: Any) -> None:
        with lock:
            log.disconnects += not log.closing

    client.on("snapshot", snapshot, namespace="/live")
    client.on("delta", delta, namespace="/live")
    client.on("positions", positions, namespace="/live")
    client.on("disconnect", gone, namespace="/live")
    client.connect(
        url, namespaces=["/live"], transports=["websocket"], auth={"token": token}, wait_timeout=60
    )
    return client


def _screens(url: str, token: str, n: int, offset: float, commands: Any, results: Any) -> None:
    lock = threading.Lock()
    logs = [ScreenLog() for _ in range(n)]
    clients = [_screen(url, token, log, lock) for log in logs]
    deadline = time.monotonic() + 120
    while any(not log.whole for log in logs) and time.monotonic() < deadline:
        time.sleep(0.1)
    results.put(("ready", n))
    next_refresh = time.monotonic() + offset
    while True:
        with suppress(Exception):
            if commands.get(timeout=max(0.05, next_refresh - time.monotonic())) is None:
                break
        if time.monotonic() >= next_refresh:
            for client in clients:
                with suppress(Exception):
                    client.emit("resync", {"refresh": True}, namespace="/live")
            next_refresh += REFRESH_EVERY_S
    time.sleep(3)  # the last deltas and batches
    with lock:
        for log in logs:
            log.closing = True
    for client in clients:
        with suppress(Exception):
            client.disconnect()
    with lock:
        results.put(("screens", logs))


# --- processes: CPU and memory from /proc ------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int, tid: int | None = None) -> float:
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(t) for t in (task / "children").read_text().split()]
    return found


def _pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
    return pids


def _postgres_backends(database: str) -> list[int]:
    from sqlalchemy import create_engine, text

    from bench import PG_ADMIN_URL

    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database}
            )
            return [int(r[0]) for r in rows]
    finally:
        engine.dispose()


def _thread_names(pid: int) -> dict[int, str]:
    """OS thread id -> Python thread name, from ``py-spy dump`` (empty without py-spy)."""
    spy = os.environ.get("BENCH_PYSPY") or shutil.which("py-spy")
    if not spy:
        return {}
    try:
        out = subprocess.run(
            [spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {int(t, 0): n for t, n in re.findall(r'^Thread (\S+) \([^)]*\): "([^"]*)"', out, re.M)}


def _thread_kind(name: str) -> str:
    if name == "outbox-relay":
        return "outbox relay"
    if name == "live-ticker":
        return "live hub ticker"
    if name.startswith("APScheduler") or name.startswith("scheduler"):
        return "scheduler (watchers)"
    if "redis" in name.lower() or name.startswith("bus"):
        return "Redis listener"
    if name.startswith("ThreadPoolExecutor") or name.startswith("Thread-"):
        return "requests and websockets"
    return "other"


@dataclass
class Usage:
    """CPU and memory of some processes over the window (a process that ended meanwhile, such
    as a PostgreSQL backend the pool let go, counts what it spent up to its last sample)."""

    label: str
    pids: list[int]
    before: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    cpu: float = 0.0
    rss_max: float = 0.0

    def start(self) -> None:
        self.before = {p: _cpu(p) for p in self.pids}
        self.last = dict(self.before)

    def sample(self) -> None:
        self.rss_max = max(self.rss_max, sum(_rss_mib(p) for p in self.pids))
        for p in self.pids:
            if Path(f"/proc/{p}").exists():
                self.last[p] = max(self.last[p], _cpu(p))

    def stop(self) -> None:
        self.sample()
        self.cpu = sum(self.last[p] - self.before[p] for p in self.pids)


# --- one run -------------------------------------------------------------------------------------


@contextmanager
def _process(args: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@dataclass
class Result:
    label: str
    seconds: float
    cases: list[tuple[int, float, float]]
    case_errors: dict[str, int]
    fixes_sent: int
    fixes_accepted: int
    positions_seconds: float
    position_latencies: list[float]
    position_errors: dict[str, int]
    screens: list[ScreenLog]
    usage: list[Usage]
    threads: dict[str, float]
    load: tuple[str, str]


def measure(city: City, server: str, seconds: float) -> Result:
    env = _env()
    run = [sys.executable, "run.py", "--config", str(city.config)]
    serve = [*run, "serve", *(("--workers", "2") if server == "production" else ("--dev",))]
    logs = city.config.parent
    load_before = load_average()
    with (
        _process([*run, "capture", "--shard", "0/1"], logs / "capture.log", env) as capture,
        _process(serve, logs / f"{server}.log", env) as web,
    ):
        _wait_healthy(f"http://127.0.0.1:{city.port}/healthz", web)
        time.sleep(3)  # every worker up
        ctx = mp.get_context("spawn")
        results = ctx.Queue()
        stopping = ctx.Event()
        start = time.time() + 1
        positions = ctx.Process(target=_positions, args=(city, start, stopping, results))
        positions.start()
        time.sleep(FIX_EVERY_S + 2)  # every worker on patrol: whole snapshots carry them all
        commands = [ctx.Queue() for _ in range(SCREEN_PROCESSES)]
        url = f"http://127.0.0.1:{city.port}"
        per = SCREENS // SCREEN_PROCESSES
        screens = [
            ctx.Process(
                target=_screens,
                args=(url, city.wall, per, 5 + i * REFRESH_EVERY_S / SCREEN_PROCESSES, q, results),
            )
            for i, q in enumerate(commands)
        ]
        for p in screens:
            p.start()
        ready = 0
        while ready < SCREENS:
            kind, n = results.get(timeout=180)
            ready += n
        cases = ctx.Process(target=_cases, args=(city, time.time(), stopping, results))
        cases.start()
        time.sleep(WARMUP_S)
        workers = _children(web.pid)
        usage = [
            Usage("web: gunicorn master" if server == "production" else "web: Werkzeug", [web.pid])
        ]
        usage += [Usage(f"web: worker {i + 1}", [pid]) for i, pid in enumerate(workers)]
        usage += [
            Usage("capture shard (no camera watched)", [capture.pid]),
            Usage("PostgreSQL backends of the database", _postgres_backends(city.database)),
            Usage("Redis (shared server)", _pids_named("redis-server")),
            Usage("load: 20 screens (4 processes)", [p.pid for p in screens if p.pid]),
            Usage("load: senders (cases, positions)", [cases.pid or 0, positions.pid or 0]),
        ]
        threaded = workers or [web.pid]
        names = {pid: _thread_names(pid) for pid in threaded}
        thread_cpu = {(pid, tid): _cpu(pid, tid) for pid in threaded for tid in names[pid]}
        for u in usage:
            u.start()
        window_start = time.time()
        load_start = load_average()
        while time.time() < window_start + seconds:
            for u in usage:
                u.sample()
            time.sleep(min(5.0, max(0.0, window_start + seconds - time.time())))
        for u in usage:
            u.stop()
        window_end = time.time()
        threads: dict[str, float] = {}
        for (pid, tid), before in thread_cpu.items():
            kind = _thread_kind(names[pid][tid])
            threads[kind] = threads.get(kind, 0.0) + _cpu(pid, tid) - before
        load_end = load_average()
        stopping.set()
        got: dict[str, Any] = {}
        while len(got) < 2:
            item = results.get(timeout=120)
            got[item[0]] = item[1:]
        for q in commands:
            q.put(None)
        logs_: list[ScreenLog] = []
        while len(logs_) < SCREENS:
            item = results.get(timeout=120)
            if item[0] == "screens":
                logs_ += item[1]
        for p in [*screens, cases, positions]:
            p.join(10)
    reported, case_errors = got["cases"]
    fixes_sent, fixes_accepted, pos_latencies, pos_errors, pos_seconds = got["positions"]
    return Result(
        server,
        seconds,
        [c for c in reported if window_start <= c[1] < window_end],
        case_errors,
        fixes_sent,
        fixes_accepted,
        pos_seconds,
        pos_latencies,
        pos_errors,
        logs_,
        usage,
        threads,
        (load_before, f"{load_start} → {load_end}"),
    )


# --- the report -------------------------------------------------------------------------------


def _pcts(samples: list[float]) -> str:
    if not samples:
        return "–"
    p50, p95, p99 = percentiles(samples, 50, 95, 99)
    return f"{ms(p50)} / {ms(p95)} / {ms(p99)} (max {ms(max(samples))})"


def mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def report(r: Result) -> str:
    window = r.positions_seconds
    sent_at = {case_id: sent for case_id, sent, _ in r.cases}
    push = [
        log.cases[case_id] - sent
        for log in r.screens
        for case_id, sent in sent_at.items()
        if case_id in log.cases
    ]
    missing = sum(1 for log in r.screens for case_id in sent_at if case_id not in log.cases)
    answered = [answer - sent for _, sent, answer in r.cases]
    fixes = [x for log in r.screens for x in log.fix_latencies]
    whole = [s for log in r.screens for s in log.whole]
    refreshes = [s for log in r.screens for s in log.refreshes]
    rates = [log.batches / max(1.0, log.last_batch - log.first_batch) for log in r.screens]
    batch_rate = sum(rates) / max(1, len(rates))
    lines = [
        f"**{r.label} server** — load average {r.load[0]} before, {r.load[1]} over the window",
        "",
        "| | |",
        "|---|---|",
        f"| cases accepted in the {r.seconds:.0f} s window | {len(r.cases):,} "
        f"({len(r.cases) / r.seconds:.1f}/s; aimed {CASES_PER_S}/s) |",
        f"| case errors (whole run) | {r.case_errors or 'none'} |",
        f"| a report's answer p50 / p95 / p99 | {_pcts(answered)} |",
        f"| fixes accepted (whole run, {window:.0f} s) | {r.fixes_accepted:,} of {r.fixes_sent:,} "
        f"({r.fixes_accepted / window:,.0f}/s) |",
        f"| position request errors | {r.position_errors or 'none'} |",
        f"| a positions request's answer p50 / p95 / p99 | {_pcts(r.position_latencies)} |",
        f"| push: report sent → delta on a screen, p50 / p95 / p99 ({len(push):,} pairs) "
        f"| {_pcts(push)} |",
        f"| (case, screen) pairs that never arrived | {missing:,} |",
        f"| push: fix sent → on a screen, p50 / p95 / p99 (one worker in {SAMPLE_ONE_FIX_IN}) "
        f"| {_pcts(fixes)} |",
        f"| chain breaks / disconnects over {len(r.screens)} screens "
        f"| {sum(log.breaks for log in r.screens)} / {sum(log.disconnects for log in r.screens)} |",
        f"| whole snapshots (at connect): count, mean size | {len(whole)}, "
        f"{mb(sum(whole) / max(1, len(whole)))} |",
        f"| refreshes: count, mean / largest size | {len(refreshes)}, "
        f"{mb(sum(refreshes) / max(1, len(refreshes)))} / {mb(max(refreshes, default=0))} |",
        f"| positions batches per screen per second | {batch_rate:.2f} |",
        "",
        "| process | CPU (share of one core) | RSS max |",
        "|---|---:|---:|",
        *[f"| {u.label} | {u.cpu / r.seconds:.0%} | {u.rss_max:,.0f} MiB |" for u in r.usage],
    ]
    if r.threads:
        lines += [
            "",
            "Inside the web process(es), CPU by thread alive at the window's start (named by "
            "py-spy; share of one core): "
            + ", ".join(
                f"{kind} {cpu / r.seconds:.0%}"
                for kind, cpu in sorted(r.threads.items(), key=lambda kv: -kv[1])
            )
            + ".",
        ]
    return "\n".join(lines)


def run(servers: tuple[str, ...] = ("production", "development"), seconds: float = SECONDS) -> str:
    started = time.monotonic()
    sections = []
    with tempfile.TemporaryDirectory(prefix="gcc-bench-city-") as tmp, _postgres_database() as url:
        database = url.rsplit("/", 1)[1]
        city = seed_city(Path(tmp), url, database)
        for server in servers:
            sections.append(report(measure(city, server, seconds)))
        keep = os.environ.get("BENCH_CITY_LOGS")  # a directory to keep the servers' logs in
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for log in Path(tmp).glob("*.log"):
                shutil.copy(log, Path(keep) / log.name)
    return "\n".join(
        [
            "## A city's load on one machine (`bench/bench_city_load.py`)",
            "",
            f"The city seed ({len(city.workers):,} workers, {len(city.points):,} grids, 2 days "
            f"of history; seeded in {city.seed_s:.0f} s) on PostgreSQL with the Redis bus and "
            f"one capture shard; every worker one fix per {FIX_EVERY_S} s in "
            f"{POSITION_REQUESTS_PER_S} gateway requests a second, {CASES_PER_S} reports a "
            f"second, {SCREENS} wall screens over websocket (each asking a refresh every "
            f"{REFRESH_EVERY_S:.0f} s); {WARMUP_S:.0f} s of warm-up, then {seconds:.0f} s "
            f"measured. Machine: {describe()}.",
            "",
            *[s + "\n" for s in sections],
            f"_(city_load: {time.monotonic() - started:.0f} s; load average {load_average()} "
            "at the end)_",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", default="production,development")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    print(run(tuple(args.servers.split(",")), args.seconds))
