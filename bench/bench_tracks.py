"""Benchmark: patrol tracks (issue 16) on PostgreSQL + Redis.

* **OsmAnd single-fix requests/s, 50 concurrent senders**: a real server (``run.py serve``,
  the seeded town on PostgreSQL, ``[bus] backend = "redis"``, ``[tracks] osmand_port``) and 50
  keep-alive HTTP clients (threads in 2 processes), each a device bound to a worker, sending
  ``GET /?id=…&lat=…&lon=…&timestamp=…`` one fix per request to the OsmAnd port for a fixed time.
  The server is ``run.py serve --workers N`` (gunicorn) for N in ``BENCH_TRACKS_WORKERS``
  (1,2,4); the server's CPU (master and workers) and PostgreSQL's are measured from /proc.
* **a 10-hour track**: 36,000 fixes (one a second, the worst case) and 1,200 (one every 30 s,
  the Traccar Client's fastest): the track read (``read_track``) and everything the replay page
  computes before its first frame (``build_replay``: stops, summary, coverage, the JSON).
* **everyone at one moment, 26,000 workers**: 26,000 grid workers with a fix a minute for the
  30 minutes before the moment, on that day's partition: ``everyone_at`` (one index probe per
  worker).
* **bytes per fix**: the day partition (table, primary key and the (worker_id, at) index) over its
  rows on PostgreSQL; the same rows' pages on SQLite (``dbstat``); a city-year on paper.

``python -m bench tracks`` (or ``python -m bench.bench_tracks``).
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

from bench import PG_ADMIN_URL, ms, percentiles, timed
from dashboard.config import AppConfig, load_config
from dashboard.reference import load_reference
from dashboard.seed.loader import seed
from dashboard.services.patrol_stats import everyone_at
from dashboard.services.positions import Fix, PositionService
from dashboard.services.track_replay import build_replay
from dashboard.services.tracks import DeviceRegistry, read_track, read_track_columns
from dashboard.services.villages import rule_from_config
from dashboard.storage.bus import InMemoryBus
from dashboard.storage.db import Database
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import Grid, GridWorker
from dashboard.storage.partitions import ensure_partitions, partition_name
from tests.integration.support import fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/15"
SENDERS, PROCESSES, SECONDS = 50, 2, 15.0
SERVER_PROCESSES = [int(x) for x in os.environ.get("BENCH_TRACKS_WORKERS", "1,2,4").split(",")]
CITY_WORKERS = 26_000
NOW = datetime(2026, 6, 17, 6, 0, tzinfo=UTC)  # 14:00 in Shaoxing


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seeded(url: str) -> tuple[Database, list[str], list[tuple[float, float]]]:
    db = Database.from_url(url, pool_size=4)
    upgrade(db.engine)
    config = AppConfig()
    rule = rule_from_config(config.rules.village)
    seed(db, load_reference(config), rule, scale="town", seed=7, days=0, now=NOW)
    with db.read() as session:
        workers = list(session.scalars(select(GridWorker.id).order_by(GridWorker.id)))
        points = [(g.lon, g.lat) for g in session.scalars(select(Grid).order_by(Grid.code))]
    return db, workers, points


# --- OsmAnd requests/s -------------------------------------------------------------------------


def _sender(
    port: int,
    devices: list[str],
    point: tuple[float, float],
    seconds: float,
    out: Any,
    base: int,
) -> None:
    import threading

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def one(device: str, k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        i, bad = 0, 0
        while time.monotonic() < stop_at:
            i += 1
            lon, lat = point[0] + (i % 50) * 1e-5, point[1] + k * 1e-6
            path = f"/?id={device}&lat={lat:.6f}&lon={lon:.6f}&timestamp={base + i}&speed=1.0"
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=one, args=(d, k)) for k, d in enumerate(devices)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, errors[0], time.process_time()))


@contextmanager
def _server(tmp: Path, url: str, workers: int) -> Iterator[tuple[int, int]]:
    port, osmand = _free_port(), _free_port()
    config = tmp / "config.toml"
    config.write_text(
        f'[server]\nport = {port}\ndata_dir = "{tmp}/var"\nmax_connections_per_address = 1000\n'
        f'[database]\nurl = "{url}"\npool_size = 20\n'
        f'[bus]\nbackend = "redis"\nredis_url = "{REDIS_URL}"\n'
        f'channel = "gcc-bench-{uuid.uuid4().hex[:8]}"\n'
        f"[tracks]\nosmand_port = {osmand}\n"
        "[supervision]\nenabled = false\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env["GCC_SECRET_KEY"] = secrets.token_urlsafe(32)
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(config), "serve", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", osmand, timeout=2)
                conn.request("GET", "/?id=none&lat=1&lon=1")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)
        yield osmand, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _cpu(pid: int) -> float:
    """CPU seconds of a process and its children (gunicorn's master and its workers)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _settle(pid: int, timeout: float = 90.0) -> None:
    """Wait until the server's processes use less than a tenth of a core over 2 s."""
    deadline = time.monotonic() + timeout
    before = _cpu(pid)
    while time.monotonic() < deadline:
        time.sleep(2)
        now = _cpu(pid)
        if now - before < 0.2:
            return
        before = now


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(x) for x in (task / "children").read_text().split())
    return found


def _backend_cpu(db: Database) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the bench's database (not the other
    databases of the shared server)."""
    with db.read() as session:
        pids = session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _osmand(
    url: str, db: Database, workers: list[str], point: tuple[float, float], processes: list[int]
) -> list[str]:
    registry = DeviceRegistry(db)
    devices = [f"bench{i:03d}" for i in range(SENDERS)]
    for device, worker in zip(devices, workers, strict=False):
        registry.bind(device, worker, "bench", NOW)
    lines = [
        "| server | senders | requests | errors | stored | requests/s | p50 | p99 | "
        "server CPU | PostgreSQL CPU | senders' CPU | CPU per fix: server + database |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run, count in enumerate(processes):
        # Each run's fixes are newer than the last run's: in-order fixes, the usual case (a
        # late backlog is judged among the stored fixes around it, a slower path).
        base = int(time.time()) - (len(processes) + 1) * 3600 + run * 3600
        with db.read() as session:
            before = session.scalar(text("SELECT count(*) FROM position_fixes")) or 0
        with (
            tempfile.TemporaryDirectory(prefix="gcc-bench-tracks-") as tmp,
            _server(Path(tmp), url, count) as (port, pid),
        ):
            _settle(pid)  # every worker booted and idle (a booting worker eats the CPU)
            ctx = mp.get_context("spawn")
            out = ctx.Queue()
            share = SENDERS // PROCESSES
            procs = [
                ctx.Process(
                    target=_sender,
                    args=(port, devices[i * share : (i + 1) * share], point, SECONDS, out, base),
                )
                for i in range(PROCESSES)
            ]
            cpu0, pg0, started = _cpu(pid), _backend_cpu(db), time.perf_counter()
            for p in procs:
                p.start()
            results = [out.get() for _ in procs]
            wall = time.perf_counter() - started
            cpu, pg_end = _cpu(pid) - cpu0, _backend_cpu(db)
            pg = sum(v - pg0.get(k, 0.0) for k, v in pg_end.items())
            senders_cpu = sum(r[2] for r in results)
            for p in procs:
                p.join()
        latencies = [x for r in results for x in r[0]]
        errors = sum(r[1] for r in results)
        with db.read() as session:
            stored = (session.scalar(text("SELECT count(*) FROM position_fixes")) or 0) - before
        p50, p99 = percentiles(latencies, 50, 99)
        n = max(len(latencies), 1)
        lines.append(
            f"| gunicorn, {count} worker(s) | {SENDERS} | {len(latencies):,} | {errors} | "
            f"{stored:,} | {len(latencies) / wall:,.0f} | {ms(p50)} | {ms(p99)} | "
            f"{cpu / wall:.0%} of a core | {pg / wall:.0%} | {senders_cpu / wall:.0%} | "
            f"{cpu / n * 1000:.2f} + {pg / n * 1000:.2f} ms |"
        )
    return lines


# --- the 10-hour track ---------------------------------------------------------------------------


def _ten_hours(db: Database, worker: str, point: tuple[float, float], step_s: int) -> list[str]:
    start = NOW - timedelta(hours=10)
    n = 10 * 3600 // step_s
    fixes = []
    for i in range(n):
        angle = i / n * 40
        lon = point[0] + 0.002 * (i % 600) / 600 * (1 if (i // 600) % 2 else -1)
        lat = point[1] + 0.0005 * (angle % 7)
        fixes.append(Fix(worker, lon, lat, start + timedelta(seconds=i * step_s), 8.0))
    service = PositionService(db, InMemoryBus(), lambda lon, lat: None)
    for i in range(0, len(fixes), 5000):
        service.store(fixes[i : i + 5000], NOW)
    config = load_config(None).tracks
    read_track(db, worker, start, NOW)  # warm: the first read pays for the pages
    samples = []
    for _ in range(3):
        track, read = timed(lambda: read_track(db, worker, start, NOW))
        _, read_columns = timed(lambda: read_track_columns(db, worker, start, NOW))
        replay, built = timed(lambda: build_replay(db, config, [worker], start, NOW))
        samples.append((read, read_columns, built))
    import json

    read, read_columns, built = (min(x[i] for x in samples) for i in range(3))
    worst = max(x[2] for x in samples)
    drawn = replay.workers[0].fixes
    size = len(json.dumps(drawn))
    return [
        f"| {len(track):,} (1 per {step_s} s) | {ms(read)} | {ms(read_columns)} | "
        f"**{ms(built)}** (worst {ms(worst)}) | {len(drawn):,} | "
        f"{len(replay.workers[0].stops)} | {size / 1e6:.2f} MB |"
    ]


# --- everyone at one moment ----------------------------------------------------------------------


def _city_moment(db: Database) -> list[str]:
    with db.transaction() as session:
        grid, village = session.execute(text("SELECT code, village_code FROM grids LIMIT 1")).one()
        session.execute(
            text(
                "INSERT INTO grid_workers (id, name, phone, role, grid_code, village_code, "
                "home_lon, home_lat, active) SELECT 'C' || lpad(g::text, 6, '0'), '城市网格员', "
                "'', 'grid_worker', :grid, :village, 120.3, 29.6, true "
                "FROM generate_series(1, :n) g"
            ),
            {"grid": grid, "village": village, "n": CITY_WORKERS},
        )
    ensure_partitions(db, NOW, 1)
    with db.transaction() as session:
        session.execute(
            text(
                "INSERT INTO position_fixes (worker_id, at, lon, lat, accuracy, received_at, "
                "valid, flags) SELECT w.id, :moment - make_interval(mins => m) "
                "- make_interval(secs => random() * 50), 120.3 + random() * 0.3, "
                "29.6 + random() * 0.3, 8, :moment, true, '' FROM grid_workers w "
                "CROSS JOIN generate_series(0, 29) m WHERE w.id LIKE 'C%'"
            ),
            {"moment": NOW},
        )
        session.execute(text("ANALYZE position_fixes"))
    everyone_at(db, None, NOW)  # warm
    samples = [timed(lambda: everyone_at(db, None, NOW)) for _ in range(3)]
    found = len(samples[0][0])
    best = min(s for _, s in samples)
    return [
        f"| {CITY_WORKERS:,} workers, {CITY_WORKERS * 30:,} fixes that day | {found:,} | "
        f"{ms(best)} | {ms(max(s for _, s in samples))} |"
    ]


def _bytes_pg(db: Database) -> tuple[float, int]:
    name = partition_name(NOW.date())
    with db.read() as session:
        rows = session.scalar(text(f"SELECT count(*) FROM {name}")) or 0
        size = session.scalar(text(f"SELECT pg_total_relation_size('{name}')")) or 0
    return size / max(rows, 1), rows


def _bytes_sqlite(tmp: Path) -> float:
    path = tmp / "bytes.db"
    db, workers, points = _seeded(f"sqlite:///{path}")
    service = PositionService(db, InMemoryBus(), lambda lon, lat: None)
    n = 100_000
    fixes = [
        Fix(
            workers[i % 100],
            points[0][0] + i * 1e-7,
            points[0][1],
            NOW - timedelta(seconds=n - i),
            8.0,
        )
        for i in range(n)
    ]
    for i in range(0, n, 5000):
        service.store(fixes[i : i + 5000], NOW)
    db.dispose()
    with sqlite3.connect(path) as conn:
        size = conn.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('position_fixes', "
            "'ix_position_fixes_worker_at')"
        ).fetchone()[0]
    return float(size) / n


def run() -> str:
    load_before = os.getloadavg()[0]
    with fresh_postgres_database(PG_ADMIN_URL, "bench_tracks") as url:
        db, workers, points = _seeded(url)
        try:
            ensure_partitions(db, NOW, 1)
            osmand = _osmand(url, db, workers, points[0], SERVER_PROCESSES)
            ten = _ten_hours(db, workers[60], points[1], 1) + _ten_hours(
                db, workers[61], points[2], 30
            )
            moment = _city_moment(db)
            per_fix, rows = _bytes_pg(db)
        finally:
            db.dispose()
    with tempfile.TemporaryDirectory(prefix="gcc-bench-bytes-") as tmp:
        per_fix_sqlite = _bytes_sqlite(Path(tmp))
    load_after = os.getloadavg()[0]
    year = CITY_WORKERS * 60 * 10 * 365
    return "\n".join(
        [
            "## Patrol tracks (OsmAnd door, replay, everyone at one moment, storage)",
            "",
            'The seeded town on PostgreSQL (local server) with `[bus] backend = "redis"`; '
            "`run.py serve --workers N` (gunicorn, threaded workers; the OsmAnd door on a port "
            "of its own, bound once in gunicorn's master and served by every worker). "
            f"Load average {load_before:.1f} before, {load_after:.1f} after (2 cores shared "
            "with other work: the 50 senders run on the same 2 cores as the server, PostgreSQL "
            "and Redis). Best and worst of 3 where stated.",
            "",
            "### OsmAnd: one fix per request, 50 concurrent senders (aim 4,000/s)",
            "",
            *osmand,
            "",
            "### A 10-hour track: read, and the replay page's work before the first frame "
            "(aim < 1 s)",
            "",
            "| fixes | read_track (API, objects) | read_track_columns | build_replay (read, "
            "stops, summary, coverage, the fixes to draw: the first frame's data) | fixes drawn "
            "| stops | drawn JSON |",
            "|---|---|---|---|---|---|---|",
            *ten,
            "",
            "### Everyone at one moment (aim < 1 s)",
            "",
            "| data | workers found | best of 3 | worst of 3 |",
            "|---|---|---|---|",
            *moment,
            "",
            "### Bytes per stored fix",
            "",
            f"- PostgreSQL: **{per_fix:.0f} bytes** per fix (the day partition with its primary "
            f"key and the (worker_id, at) index, {rows:,} rows).",
            f"- SQLite: **{per_fix_sqlite:.0f} bytes** per fix (table and index pages, 100,000 "
            "fixes).",
            f"- A city-year (26,000 workers × 1 fix/min × 10 h × 365 days = {year / 1e9:.2f} "
            f"billion fixes): **{year * per_fix / 1e12:.2f} TB** on PostgreSQL "
            f"({year * per_fix / 365 / 1e9:.1f} GB a day, one partition each).",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
