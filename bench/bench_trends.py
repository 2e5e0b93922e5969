"""Benchmark: the trends page's panels over years of history on PostgreSQL (issue 13).

A fresh PostgreSQL database with the town region (no seeded history) gets ``BENCH_TRENDS_CASES``
cases (default 1,000,000) spread over the three years before ``NOW``, bulk-loaded with ``COPY``
(every state: voided, waiting, open, closed on time and late, reworked, extended). Then: the
first build of the trend roll-up (``trend_rollups.rebuild``), a refresh with nothing to do, a
refresh after 1,000 cases changed, and each panel of the page for a month and for a year
(median of three runs): the summary with 环比 and 同比, the places, the categories, the
departments, the trend series, the cases of the period (hour × weekday and map), the oldest open
cases, and the whole page (``TrendViews.build``). The database is dropped afterwards.

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
from dashboard.services.trend_rollups import rebuild, refresh
from dashboard.services.trend_view import TrendViews
from dashboard.services.trends import TrendQueries
from dashboard.storage.db import Database
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import Case, Grid, Village

CASES = int(os.environ.get("BENCH_TRENDS_CASES", "1000000"))
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 17, 10, 0, tzinfo=TZ)
RUNS = 3
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


def _median(fn: Callable[[], Any]) -> float:
    return statistics.median(timed(fn)[1] for _ in range(RUNS))


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
        with db.transaction() as session:  # 1,000 later writes (newer than every stamp)
            later = session.scalar(select(func.max(Case.updated_at))) + timedelta(seconds=1)
            ids = list(session.scalars(select(Case.id).where(Case.open.is_(True)).limit(1000)))
            session.execute(update(Case).where(Case.id.in_(ids)).values(updated_at=later))
        _, changed_s = timed(lambda: refresh(db, reference.calendar))
        with db.engine.begin() as conn:
            rows = conn.execute(text("SELECT count(*) FROM trend_rollups")).scalar()
        lines += [
            "## Trends (issue 13): the panels over three years on PostgreSQL",
            "",
            f"{CASES:,} cases over three years (town region), bulk-loaded with COPY in "
            f"{load_s:.0f} s; the trend roll-up holds {rows:,} rows.",
            "",
            "| step | time |",
            "|---|---|",
            f"| first build of the roll-up | {build_s:.1f} s |",
            f"| refresh, nothing changed | {ms(noop_s)} |",
            f"| refresh after 1,000 cases changed | {ms(changed_s)} |",
            "",
            "| panel (median of 3) | a month | a year |",
            "|---|---|---|",
        ]
        queries = TrendQueries(db, reference.calendar)
        views = TrendViews(db, reference)
        month = DateRange(date(2026, 5, 1), date(2026, 5, 31))
        year = DateRange(date(2025, 1, 1), date(2025, 12, 31))

        def cases_in(span: DateRange) -> Callable[[], Any]:
            def go() -> Any:
                with db.read() as session:
                    return queries.cases_in(session, span, UNLIMITED, {})

            return go

        def by(span: DateRange, dim: str) -> Callable[[], Any]:
            return lambda: queries.figures(span, UNLIMITED, NOW, (dim,))

        panels: list[tuple[str, Callable[[DateRange], Callable[[], Any]]]] = [
            ("summary with 环比 and 同比", lambda s: lambda: queries.summary(s, UNLIMITED, NOW)),
            ("by village", lambda s: by(s, "village")),
            ("by 大类 and 小类", lambda s: by(s, "category")),
            ("by department", lambda s: by(s, "department")),
            ("trend series (day × 大类)", lambda s: lambda: queries.figures(s, UNLIMITED, NOW,
                                                                         ("day", "major"))),
            ("the period's cases (matrix, map)", cases_in),
            ("the whole page", lambda s: lambda: views.build(UNLIMITED, "zh", NOW, s,
                                                             PeriodKind.MONTH if s == month
                                                             else PeriodKind.YEAR)),
        ]  # fmt: skip
        for name, make in panels:
            lines.append(f"| {name} | {ms(_median(make(month)))} | {ms(_median(make(year)))} |")
        lines += [
            "",
            "The additive figures come from the roll-up (a sum over days); the open-and-overdue "
            "part at the cutoff is read from the cases (indexes on `deadline` and `open`). The "
            "period's cases (matrix, map) are read row by row: for a year at this scale they "
            "dominate the page.",
            "",
        ]
    finally:
        db.dispose()
        drop()
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
