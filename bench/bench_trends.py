"""Benchmark: the trends page's panels over years of history on PostgreSQL (issue 13).

A fresh PostgreSQL database with the town region (no seeded history) gets ``BENCH_TRENDS_CASES``
cases (default 1,000,000) spread over the three years before ``NOW``, bulk-loaded with ``COPY``
(every state: voided, waiting, open, closed on time and late, reworked, extended). Then: the
first build of the trend roll-ups (``trend_rollups.rebuild``), a refresh with nothing to do, a
refresh after 1,000 cases changed (500 closed, 500 re-categorised, spread over the history), and
each panel of the page for a month and for a year (median and slowest of five runs): the summary
with 环比 and 同比, the places, the categories, the sources, the departments, the trend series,
the hour × weekday matrix, the map's cells, and the whole page (``TrendViews.build``). The
database is dropped afterwards.

Run alone: ``python -m bench.bench_trends`` (``BENCH_TRENDS_CASES=200000`` for a quicker run).
"""

from __future__ import annotations

import io
import os
import random
import statistics
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from bench import PG_ADMIN_URL, RULE, SEED, ms, timed
from dashboard.config import AppConfig
from dashboard.domain.permissions import UNLIMITED
from dashboard.domain.trend_periods import DateRange, PeriodKind
from dashboard.reference import load_reference
from dashboard.seed.loader import seed
from dashboard.services.trend_rollups import rebuild, refresh, tables
from dashboard.services.trend_view import TrendViews
from dashboard.services.trends import TrendQueries
from dashboard.storage.db import Database
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import Case, Grid, Village

CASES = int(os.environ.get("BENCH_TRENDS_CASES", "1000000"))
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 17, 10, 0, tzinfo=TZ)
RUNS = 5
COLUMNS = (
    "status", "source", "emergency", "category_code", "reported_category", "description", "lon",
    "lat", "address", "grid_code", "village_code", "town_code", "county_code", "department_code",
    "reporter", "reported_at", "registered_at", "deadline", "handled_at", "closed_at", "voided_at",
    "closed_on_time", "rework_count", "extension_count", "dispatch_count", "return_count",
    "suspend_count", "updated_at", "version", "open",
)  # fmt: skip
DEPARTMENTS = ("urban", "police", "market", "environment", "justice", "village")
SOURCES = ("grid_worker", "hotline", "public", "camera", "police", "emergency")


def _database() -> tuple[str, Callable[[], None]]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gcc_bench_trends_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _rows(db: Database, n: int) -> io.StringIO:
    rng = random.Random(SEED)
    with db.read() as session:
        grids = session.execute(
            select(Grid.code, Grid.village_code, Village.town_code, Grid.lon, Grid.lat).join(
                Village, Village.code == Grid.village_code
            )
        ).all()
    subs = [s.code for s in load_reference(AppConfig()).categories.subs]
    start = NOW - timedelta(days=3 * 365)
    span = (NOW - start).total_seconds()
    out = io.StringIO()
    for _ in range(n):
        grid, village, town, lon, lat = rng.choice(grids)
        reported = start + timedelta(seconds=rng.random() * span)
        category = rng.choice(subs)
        roll = rng.random()
        registered = deadline = handled = closed = voided = None
        status, is_open, on_time = "accepted", True, None
        rework = extension = dispatch = 0
        department = None
        if roll < 0.08:
            status, is_open, voided = "voided", False, reported + timedelta(hours=2)
        elif roll > 0.12:
            registered = reported + timedelta(hours=rng.uniform(0.2, 30))
            deadline = registered + timedelta(hours=rng.uniform(4, 240))
            department, dispatch = rng.choice(DEPARTMENTS), 1
            rework = rng.choice((0, 0, 0, 0, 1))
            extension = 1 if rng.random() < 0.06 else 0
            late = rng.random() < 0.2
            closed = (
                deadline + timedelta(hours=rng.uniform(1, 200))
                if late
                else registered + (deadline - registered) * rng.uniform(0.1, 1)
            )
            handled = closed - (closed - registered) * 0.3
            if closed < NOW:
                status, is_open, on_time = "closed", False, closed <= deadline
            else:
                status, closed, handled = "handling", None, None
        times = [t for t in (reported, registered, handled, closed, voided) if t is not None]
        row = (
            status, rng.choice(SOURCES), rng.random() < 0.03, category if registered else None,
            category, "bench", lon, lat, "", grid, village, town, town[:6], department, "bench",
            reported, registered, deadline, handled, closed, voided, on_time, rework, extension,
            dispatch, 0, 0, max(times), 1, is_open,
        )  # fmt: skip
        out.write("\t".join(_cell(v) for v in row) + "\n")
    out.seek(0)
    return out


def _load(db: Database, n: int) -> None:
    data = _rows(db, n)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        raw.commit()
    finally:
        raw.close()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE cases"))


def _times(fn: Callable[[], Any]) -> str:
    """The median and the slowest of ``RUNS`` runs."""
    samples = [timed(fn)[1] for _ in range(RUNS)]
    return f"{ms(statistics.median(samples))} / {ms(max(samples))}"


def _change(db: Database, reference: Any) -> float:
    """1,000 later writes spread over the history — 500 open cases closed, 500 closed ones
    given another category and department — and the time of the refresh that follows."""
    rng = random.Random(SEED + 1)
    subs = [s.code for s in reference.categories.subs]
    with db.transaction() as session:
        newest = session.scalar(select(func.max(Case.updated_at)))
        assert newest is not None
        later = newest + timedelta(seconds=1)
        open_ids = list(
            session.scalars(select(Case.id).where(Case.open.is_(True), Case.deadline.is_not(None)))
        )
        closed_ids = list(session.scalars(select(Case.id).where(Case.closed_at.is_not(None))))
        for case_id in rng.sample(open_ids, min(500, len(open_ids))):
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(status="closed", closed_at=later, handled_at=later, open=False,
                        updated_at=later)
            )  # fmt: skip
        for case_id in rng.sample(closed_ids, 500):
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(category_code=rng.choice(subs), department_code=rng.choice(DEPARTMENTS),
                        updated_at=later)
            )  # fmt: skip
    return timed(lambda: refresh(db, reference.calendar))[1]


def run() -> str:
    url, drop = _database()
    db = Database.from_url(url)
    lines: list[str] = []
    try:
        upgrade(db.engine)
        config = AppConfig()
        reference = load_reference(config)
        seed(db, reference, RULE, scale="town", seed=SEED, days=0, now=NOW)
        _, load_s = timed(lambda: _load(db, CASES))
        _, build_s = timed(lambda: rebuild(db, reference.calendar))
        _, noop_s = timed(lambda: refresh(db, reference.calendar))
        changed_s = _change(db, reference)
        with db.engine.begin() as conn:
            rows = {
                m.__tablename__: conn.execute(
                    text(f"SELECT count(*) FROM {m.__tablename__}")
                ).scalar()
                for m in tables()
            }
        lines += [
            "## Trends (issue 13): the panels over three years on PostgreSQL",
            "",
            f"{CASES:,} cases over three years (town region), bulk-loaded with COPY in "
            f"{load_s:.0f} s. Rows of the roll-ups: "
            + ", ".join(f"`{n}` {c:,}" for n, c in rows.items())
            + ".",
            "",
            "| step | time |",
            "|---|---|",
            f"| first build of the roll-ups | {build_s:.1f} s |",
            f"| refresh, nothing changed | {ms(noop_s)} |",
            f"| refresh after 1,000 cases changed (500 closed, 500 re-categorised, spread over "
            f"the three years) | {ms(changed_s)} |",
            "",
            f"| panel (median / slowest of {RUNS}) | a month | a year |",
            "|---|---|---|",
        ]
        queries = TrendQueries(db, reference.calendar)
        views = TrendViews(db, reference)
        month = DateRange(date(2026, 5, 1), date(2026, 5, 31))
        year = DateRange(date(2025, 1, 1), date(2025, 12, 31))

        def by(span: DateRange, dim: str) -> Callable[[], Any]:
            return lambda: queries.figures(span, UNLIMITED, NOW, (dim,))

        panels: list[tuple[str, Callable[[DateRange], Callable[[], Any]]]] = [
            ("summary with 环比 and 同比", lambda s: lambda: queries.summary(s, UNLIMITED, NOW)),
            ("by village", lambda s: by(s, "village")),
            ("by 大类", lambda s: by(s, "major")),
            ("by 小类", lambda s: by(s, "category")),
            ("by source", lambda s: by(s, "source")),
            ("by department", lambda s: by(s, "department")),
            ("trend series (大类 per day, per week for a year)",
             lambda s: lambda: queries.series(s, UNLIMITED, {}, s.days > 92)),
            ("hour × weekday matrix", lambda s: lambda: queries.matrix(s, UNLIMITED, {})),
            ("map cells", lambda s: lambda: queries.cells(s, UNLIMITED, {})),
            ("the whole page", lambda s: lambda: views.build(UNLIMITED, "zh", NOW, s,
                                                             PeriodKind.MONTH if s == month
                                                             else PeriodKind.YEAR)),
        ]  # fmt: skip
        for name, make in panels:
            lines.append(f"| {name} | {_times(make(month))} | {_times(make(year))} |")
        lines += [
            "",
            "Every panel reads roll-ups only: the additive figures from the narrowest roll-up "
            "holding the dimensions asked (whole months from its month twin), the open-and-"
            "overdue state at a past cutoff from `trend_overdue` (one day's rows) plus the cases "
            "open now (index on `open, deadline`), the matrix and the map from `trend_hours` "
            "and `trend_cells`.",
            "",
        ]
    finally:
        db.dispose()
        drop()
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
