"""Benchmark: seeding the city scale (all of Shaoxing) with a case history, on both backends.

Each backend gets a fresh database (a SQLite file in a temporary directory; ``CREATE DATABASE
bench_…`` on the local PostgreSQL server), migrated, then filled by the production
``dashboard.seed.loader.seed`` with a progress callback that notes when each stage starts and
last advances. Engine events count the SQL statements and the time spent executing them;
/proc gives the CPU time of this process and of the PostgreSQL backends, which other load on a
shared machine does not inflate as it does the wall clock.

The seeded databases are kept for ``bench_villages`` and dropped by :func:`release_all` (which
``python -m bench`` calls, and which also runs at exit). ``BENCH_DAYS`` sets the history length.
Run alone: ``python -m bench.bench_seed``.
"""

from __future__ import annotations

import atexit
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from bench import NOW, PG_ADMIN_URL, RULE, SEED, share, timed
from dashboard.config import AppConfig
from dashboard.reference import load_reference
from dashboard.seed.history import REPORTS_PER_DAY
from dashboard.seed.loader import BATCH, SeedReport, seed
from dashboard.storage.db import Database
from dashboard.storage.migrate import upgrade

SCALE = "city"
BACKENDS = ("sqlite", "postgresql")
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# The demo's default history (30 days, ~250,000 cases at city scale): a few minutes per backend
# on two cores, within ~10 minutes even while other work triples the wall-clock times.
DAYS = int(os.environ.get("BENCH_DAYS", "30"))


@dataclass
class SeededDatabase:
    """A seeded benchmark database, kept until :func:`release_all`."""

    backend: str
    db: Database
    report: SeedReport
    drop: Callable[[], None]


_SEEDED: dict[str, SeededDatabase] = {}


# --- creating and dropping the databases ----------------------------------------------------


def _sqlite_database() -> tuple[Database, Callable[[], None], Path]:
    directory = Path(tempfile.mkdtemp(prefix="gcc-bench-"))
    path = directory / "bench.db"
    db = Database.from_url(f"sqlite:///{path}")

    def drop() -> None:
        db.dispose()
        shutil.rmtree(directory, ignore_errors=True)

    return db, drop, path


def _postgres_database() -> tuple[Database, Callable[[], None]]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    db = Database.from_url(url)

    def drop() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, drop


def release_all() -> None:
    """Drop every database this process seeded (idempotent)."""
    while _SEEDED:
        _, seeded = _SEEDED.popitem()
        seeded.drop()


atexit.register(release_all)


def database_bytes(backend: str, db: Database, sqlite_path: Path | None = None) -> int:
    """On-disk size: the SQLite file plus its -wal, or ``pg_database_size``."""
    if backend == "sqlite":
        assert sqlite_path is not None
        wal = sqlite_path.with_name(sqlite_path.name + "-wal")
        return sqlite_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    with db.read() as session:
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)


# --- measuring a seed ------------------------------------------------------------------------


class StatementMeter:
    """Running totals of the SQL statements an engine executes and the time spent in them."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.seconds = 0.0
        self._start = 0.0
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._start = time.perf_counter()

    def _after(self, *_: Any) -> None:
        self.statements += 1
        self.seconds += time.perf_counter() - self._start

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._before)
        event.remove(self._engine, "after_cursor_execute", self._after)


@dataclass(frozen=True)
class Mark:
    """An instant of the seed: wall clock, this process's CPU time, SQL statements so far."""

    wall: float
    cpu: float
    statements: int = 0
    sql_s: float = 0.0

    def __sub__(self, other: Mark) -> Mark:
        return Mark(
            self.wall - other.wall,
            self.cpu - other.cpu,
            self.statements - other.statements,
            self.sql_s - other.sql_s,
        )


class StageClock:
    """A ``seed(progress=…)`` callback: the mark when each stage started and last advanced."""

    def __init__(self, meter: StatementMeter) -> None:
        self.meter = meter
        self.started: dict[str, Mark] = {}
        self.advanced: dict[str, Mark] = {}

    def mark(self) -> Mark:
        return Mark(
            time.perf_counter(), time.process_time(), self.meter.statements, self.meter.seconds
        )

    def __call__(self, stage: str, total: int | None) -> Callable[[int], None]:
        self.started[stage] = self.advanced[stage] = self.mark()

        def advance(n: int) -> None:
            self.advanced[stage] = self.mark()

        return advance


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (/proc/PID/stat), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(db: Database) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving ``db`` (empty for SQLite)."""
    if db.dialect != "postgresql":
        return {}
    with db.read() as session:
        pids = session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    return {int(pid): _process_cpu(int(pid)) for pid in pids}


@dataclass
class SeedRun:
    backend: str
    days: int
    migrate_s: float
    total: Mark  # the whole seed() call
    stages: dict[str, Mark]
    counts: dict[str, int]
    events: int
    size_bytes: int
    server_cpu_s: float | None  # the PostgreSQL backends during the seed; None for SQLite


def _stages(clock: StageClock, end: Mark) -> dict[str, Mark]:
    started, advanced = clock.started, clock.advanced
    return {
        "region": advanced["region"] - started["region"],
        "write": started["cases"] - advanced["region"],
        "history": advanced["cases"] - started["cases"],
        "refresh": end - advanced["cases"],
    }


def _count_events(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(text("SELECT count(*) FROM case_events")) or 0)


def seed_backend(backend: str, days: int = DAYS) -> SeedRun:
    """Seed the city into a fresh database of ``backend``; keep it for the villages bench."""
    sqlite_path = None
    if backend == "sqlite":
        db, drop, sqlite_path = _sqlite_database()
    else:
        db, drop = _postgres_database()
    try:
        _, migrate_s = timed(lambda: upgrade(db.engine))
        reference = load_reference(AppConfig())
        clock = StageClock(StatementMeter(db.engine))
        server_before = server_cpu(db)
        start = clock.mark()
        report = seed(
            db, reference, RULE, scale=SCALE, seed=SEED, days=days, now=NOW, progress=clock
        )
        end = clock.mark()
        clock.meter.close()
        server_after = server_cpu(db)
    except BaseException:
        drop()
        raise
    release(backend)
    _SEEDED[backend] = SeededDatabase(backend, db, report, drop)
    return SeedRun(
        backend=backend,
        days=days,
        migrate_s=migrate_s,
        total=end - start,
        stages=_stages(clock, end),
        counts=report.counts,
        events=_count_events(db),
        size_bytes=database_bytes(backend, db, sqlite_path),
        server_cpu_s=(
            sum(server_after.values()) - sum(server_before.get(p, 0.0) for p in server_after)
            if server_after
            else None
        ),
    )


def release(backend: str) -> None:
    seeded = _SEEDED.pop(backend, None)
    if seeded is not None:
        seeded.drop()


def seeded(backend: str, days: int = DAYS) -> SeededDatabase:
    """The database seeded by this process for ``backend``, seeding one now if there is none."""
    if backend not in _SEEDED:
        seed_backend(backend, days)
    return _SEEDED[backend]


# --- the report -------------------------------------------------------------------------------


def _minutes(seconds: float) -> str:
    return f"{seconds:,.0f} s ({seconds / 60:.1f} min)"


def _rows(runs: list[SeedRun]) -> list[tuple[str, list[str]]]:
    def cases(r: SeedRun) -> int:
        return r.counts["cases"]

    def per_batch(r: SeedRun) -> str:
        batches = max(1, math.ceil(cases(r) / BATCH))
        return f"{r.stages['history'].statements / batches:,.0f}"

    def cpu(r: SeedRun) -> str:
        server = "in-process" if r.server_cpu_s is None else f"{r.server_cpu_s:,.0f} s"
        return f"{r.total.cpu:,.0f} s / {server}"

    def per_cpu(r: SeedRun) -> str:
        return f"{cases(r) / (r.total.cpu + (r.server_cpu_s or 0.0)):,.0f}"

    def stage(name: str) -> Callable[[SeedRun], str]:
        return lambda r: (
            f"{r.stages[name].wall:,.1f} s ({share(r.stages[name].wall, r.total.wall)})"
        )

    def history(r: SeedRun) -> Mark:
        return r.stages["history"]

    metrics: list[tuple[str, Callable[[SeedRun], str]]] = [
        ("history days / cases / case events", lambda r: f"{r.days} / {cases(r):,} / {r.events:,}"),
        ("schema migration, before the seed (s)", lambda r: f"{r.migrate_s:.2f} s"),
        ("1. region generation (s, share of total)", stage("region")),
        ("2. people generation + region & people write (s)", stage("write")),
        ("3. history generate + insert (s)", stage("history")),
        ("   of which executing SQL (s)", lambda r: f"{history(r).sql_s:,.1f} s"),
        ("   CPU time of this process (s)", lambda r: f"{history(r).cpu:,.1f} s"),
        ("   SQL statements executed per 5,000-case batch", per_batch),
        ("4. final village refresh + commit (s)", stage("refresh")),
        ("**total seed** (aim: minutes)", lambda r: f"**{_minutes(r.total.wall)}**"),
        ("history rate (cases/s, stage 3)", lambda r: f"{cases(r) / history(r).wall:,.0f}"),
        ("overall rate (cases/s, whole seed)", lambda r: f"{cases(r) / r.total.wall:,.0f}"),
        (
            f"one day of city history, ~{REPORTS_PER_DAY[SCALE]:,} cases (s/day)",
            lambda r: f"{history(r).wall / r.days:,.1f} s",
        ),
        ("CPU time, whole seed: this process / PostgreSQL backends (s)", cpu),
        ("cases per CPU second, both processes (whole seed)", per_cpu),
        ("database size (MiB)", lambda r: f"{r.size_bytes / 2**20:,.0f} MiB"),
        (
            "bytes per case (size / cases, incl. events)",
            lambda r: f"{r.size_bytes / cases(r):,.0f}",
        ),
    ]
    return [(label, [cell(r) for r in runs]) for label, cell in metrics]


def _table(runs: list[SeedRun]) -> list[str]:
    header = "| metric (unit) | " + " | ".join(LABELS[r.backend] for r in runs) + " |"
    lines = [header, "|---|" + "---:|" * len(runs)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in _rows(runs)]
    return lines


def section(runs: list[SeedRun]) -> str:
    counts = runs[0].counts
    lines = [
        "## City seed (`bench/bench_seed.py`)",
        "",
        f"`dashboard.seed.loader.seed(scale='city', seed={SEED}, days={runs[0].days})` into a "
        "fresh, migrated database per backend (SQLite file in WAL mode; a new PostgreSQL "
        f"database on the local server), history ending {NOW:%Y-%m-%d %H:%M} UTC. "
        f"Region: {counts['towns']:,} towns, {counts['villages']:,} villages, "
        f"{counts['grids']:,} grids, {counts['workers']:,} workers, {counts['cameras']:,} cameras. "
        "Stages are timed with the loader's progress callback (stage 2 ends when the history "
        "starts; stage 4 also clears the outbox and writes schema_info). Size includes the "
        "SQLite -wal file. CPU times (this process; the PostgreSQL backends serving the "
        "connections, from /proc, without the server's background writers) show the work "
        "apart from other load on the machine; wall-clock times include it.",
        "",
        *_table(runs),
        "",
    ]
    return "\n".join(lines)


def run() -> str:
    """Seed both backends (keeping them for bench_villages) and return the markdown section."""
    return section([seed_backend(backend) for backend in BACKENDS])


if __name__ == "__main__":
    try:
        print(run())
    finally:
        release_all()
