"""Benchmark: the development server against the production server, and one process against two.

``POST /api/v1/cases`` (JSON, no photo) over real HTTP from N client threads with keep-alive
connections, against:

* the embedded SQLite town: ``run.py serve --dev`` (Werkzeug, the demo's server) and
  ``run.py serve`` (gunicorn, one worker);
* PostgreSQL (a fresh database on the shared server, dropped afterwards) with the Redis bus (its
  own channel): ``run.py serve --workers 1`` and ``--workers 2``.

Each row gives the accepted rate (wall clock), the latency percentiles the clients saw, the CPU
the server's processes (master and workers) spent per case and the rate that CPU allows on one
core: on a shared machine (load average in the report) the wall clock measures the neighbours
too, the CPU time mostly does not. Aim (issue 15): 500 cases/s on PostgreSQL with two processes.
Run alone: ``python -m bench.bench_serving``; only the PostgreSQL rows with two workers (16 and
32 client threads): ``python -m bench.bench_serving --postgres 2``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from bench import PG_ADMIN_URL, ms, percentiles
from bench.bench_intake import (
    Town,
    _case,
    _clients,
    _free_port,
    _prepare,
    _wait_healthy,
    seeded_town,
)
from dashboard.config import load_config
from dashboard.wiring import build_services

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ((4, 100), (16, 40))  # client threads × cases each
AIM = 500
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its live children (gunicorn's workers)."""
    total = 0.0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(t) for t in (task / "children").read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _rss_mib(pid: int) -> float:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(t) for t in (task / "children").read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


@contextmanager
def _server(town: Town, *args: str) -> Iterator[int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env["GCC_SECRET_KEY"] = secrets.token_urlsafe(32)
    log = (town.config.parent / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(town.config), "serve", *args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{town.port}/healthz", process)
        time.sleep(2)  # every worker up (gunicorn answers as soon as the first one is)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _measure(town: Town, label: str, args: tuple[str, ...], first: int) -> list[str]:
    rows = []
    with _server(town, *args) as pid:
        _clients(town, [[_case(town, first - 1)]])  # warm-up
        n = first
        for threads, each in SHAPES:
            work = [[_case(town, n + t * each + i) for i in range(each)] for t in range(threads)]
            n += threads * each
            cpu = _tree_cpu(pid)
            wall, latencies, retried = _clients(town, work)
            cpu = _tree_cpu(pid) - cpu
            cases = threads * each
            p50, p95, p99 = percentiles(latencies, 50, 95, 99)
            note = f" ({retried} × 503 retried)" if retried else ""
            rows.append(
                f"| {label}{note} | {threads} | {cases / wall:,.0f} | {ms(p50)} | {ms(p95)} "
                f"| {ms(p99)} | {ms(cpu / cases)} | {cases / cpu:,.0f} | {_rss_mib(pid):,.0f} |"
            )
    return rows


def _postgres_town(tmp: Path, url: str) -> Town:
    port = _free_port()
    config = tmp / "config.toml"
    channel = f"gcc-bench-{uuid.uuid4().hex[:8]}"
    config.write_text(
        f'[server]\nport = {port}\ndata_dir = "{tmp}/var"\n[database]\nurl = "{url}"\n'
        f'[bus]\nbackend = "redis"\nredis_url = "{REDIS_URL}"\nchannel = "{channel}"\n'
        "[security]\ntoken_rate_per_second = 10000\ntoken_burst = 100000\n",
        encoding="utf-8",
    )
    return seeded_town(config, port)


@contextmanager
def _postgres_database() -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gcc_bench_serving_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _hot_path(town: Town, n: int = 500) -> str:
    """CPU per case through the Flask test client (no network), and the village refresh's part
    of it (timed around CaseService's call; the refresh also flushes the case's rows first)."""
    import dashboard.services.cases as cases_module
    from dashboard.app import create_app

    refresh = cases_module.refresh_villages
    spent = [0.0]

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return refresh(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - started

    services = build_services(load_config(town.config))
    cases_module.refresh_villages = timed  # type: ignore[assignment]
    try:
        client = create_app(services).test_client()
        headers = {"Authorization": f"Bearer {town.token}", "Content-Type": "application/json"}
        for i in range(30):  # warm-up
            client.post("/api/v1/cases", data=_case(town, 50_000 + i)[1], headers=headers)
        spent[0] = 0.0
        cpu = time.process_time()
        for i in range(n):
            answer = client.post("/api/v1/cases", data=_case(town, 60_000 + i)[1], headers=headers)
            assert answer.status_code == 201, answer.get_data(as_text=True)
        cpu = time.process_time() - cpu
    finally:
        cases_module.refresh_villages = refresh  # type: ignore[assignment]
        services.close()
    return (
        f"Hot path, SQLite, Flask test client (no network), {n} cases: {ms(cpu / n)} CPU per "
        f"case, of which the village refresh {ms(spent[0] / n)} ({spent[0] / cpu:.0%})."
    )


def run() -> str:
    load_before = os.getloadavg()[0]
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gcc-bench-serving-") as tmp:
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        town = _prepare(sqlite_dir)
        hot = _hot_path(town)
        rows += _measure(town, "SQLite, development server (Werkzeug)", ("--dev",), 10_000)
        rows += _measure(town, "SQLite, production server (gunicorn, 1 worker)", (), 20_000)
        pg_dir = Path(tmp) / "pg"
        pg_dir.mkdir()
        with _postgres_database() as url:
            town = _postgres_town(pg_dir, url)
            for workers in (1, 2):
                label = f"PostgreSQL + Redis, gunicorn, {workers} worker(s)"
                rows += _measure(town, label, ("--workers", str(workers)), 30_000 * workers)
    load_after = os.getloadavg()[0]
    return "\n".join(
        [
            "## Serving: development against production server, one process against two",
            "",
            "`POST /api/v1/cases` over HTTP (keep-alive clients in this process) into the seeded "
            "town (no history); one integration token (its rate limit raised). *CPU per case* "
            "is the server's processes (gunicorn master and workers) together; *one core "
            "allows* is cases per CPU-second. Load average of the machine: "
            f"{load_before:.1f} before, {load_after:.1f} after (2 cores, shared with other "
            "work: the wall-clock rates are what was left over).",
            "",
            "| server | client threads | cases/s | p50 | p95 | p99 | CPU per case "
            "| one core allows | RSS MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Aim: {AIM} cases/s on PostgreSQL with two processes.",
            "",
            hot,
            "",
        ]
    )


def postgres_rows(
    workers: int = 2, shapes: tuple[tuple[int, int], ...] = ((16, 60), (32, 30))
) -> str:
    """Only the PostgreSQL rows with ``workers`` processes (``--postgres 2``): the intake aim's
    own configuration, quick enough to repeat before and after a change."""
    global SHAPES
    load_before = os.getloadavg()
    saved, SHAPES = SHAPES, shapes
    try:
        with (
            tempfile.TemporaryDirectory(prefix="gcc-bench-serving-") as tmp,
            _postgres_database() as url,
        ):
            town = _postgres_town(Path(tmp), url)
            label = f"PostgreSQL + Redis, gunicorn, {workers} worker(s)"
            rows = _measure(town, label, ("--workers", str(workers)), 40_000)
    finally:
        SHAPES = saved
    load_after = os.getloadavg()
    return "\n".join(
        [
            f"load average before {load_before[0]:.1f} / {load_before[1]:.1f} / "
            f"{load_before[2]:.1f}, after {load_after[0]:.1f} / {load_after[1]:.1f} / "
            f"{load_after[2]:.1f}",
            "| server | client threads | cases/s | p50 | p95 | p99 | CPU per case "
            "| one core allows | RSS MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--postgres"]:
        print(postgres_rows(int(sys.argv[2]) if len(sys.argv) > 2 else 2))
    else:
        print(run())
