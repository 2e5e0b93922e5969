"""Benchmark: searching cases at city scale (``dashboard.read.case_queries``).

On the city databases ``bench_seed`` seeded (or seeded here when run alone), the 100,000 open
dispatched cases of ``bench_watchers`` are bulk-inserted on top (registered over the 20 working
days before ``NOW``, so about half are past their deadline). Then, per backend, one page of 50
rows with its total for: the overdue list, the soon-due list (within 4 hours), each light,
every open case sorted by light, a text search, and streaming the whole overdue list as CSV rows
(``iter_case_rows``). For the light filter the section also says how many cases were judged one
by one in Python (the band of doubt near the yellow boundary and the suspended ones, see
``case_light_sql``) - everything else is decided by SQL. Each query runs three times; the
section shows the median. The synthetic rows are deleted afterwards.

Run alone: ``python -m bench.bench_case_queries`` (``BENCH_CASE_QUERIES_CASES`` changes 100,000).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

import dashboard.read.case_light_sql as light_sql
from bench import NOW, ms, timed
from bench.bench_seed import BACKENDS, DAYS, LABELS, release_all, seeded
from bench.bench_watchers import cleanup, insert_open_cases
from dashboard.config import AppConfig
from dashboard.domain.permissions import UNLIMITED
from dashboard.read.case_queries import CaseFilters, iter_case_rows, search_cases
from dashboard.reference import load_reference
from dashboard.storage.db import Database
from dashboard.storage.models import Case

CASES = int(os.environ.get("BENCH_CASE_QUERIES_CASES", "100000"))
RUNS = 3
QUERIES: list[tuple[str, CaseFilters, str]] = [
    ("overdue (`overdue=true`)", CaseFilters(overdue=True), "overdue"),
    ("soon due (`due_within_hours=4`)", CaseFilters(due_within_hours=4), "deadline"),
    ("light red", CaseFilters(light="red"), "-reported_at"),
    ("light yellow", CaseFilters(light="yellow"), "-reported_at"),
    ("light green", CaseFilters(light="green"), "-reported_at"),
    ("open, sorted by light", CaseFilters(status="open"), "light"),
    ("text search (`text=bench`)", CaseFilters(text="bench"), "-reported_at"),
]


@dataclass
class Result:
    backend: str
    open_cases: int
    rows: list[tuple[str, int, float, int]] = field(default_factory=list)  # name, total, s, judged
    csv_rows: int = 0
    csv_seconds: float = 0.0


class _Judged:
    """Counts the cases ``case_light_sql`` judges one by one (the rows it hands its judge)."""

    def __init__(self) -> None:
        self.count = 0
        self._original = light_sql._judge_yellow

    def __enter__(self) -> _Judged:
        def counting(rows: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += len(rows)
            return self._original(rows, *args, **kwargs)

        light_sql._judge_yellow = counting  # type: ignore[assignment]
        return self

    def __exit__(self, *_exc: object) -> None:
        light_sql._judge_yellow = self._original  # type: ignore[assignment]


def _median(run: Callable[[], Any]) -> tuple[Any, float]:
    results = [timed(run) for _ in range(RUNS)]
    return results[-1][0], statistics.median(seconds for _, seconds in results)


def _query(db: Database, filters: CaseFilters, sort: str) -> tuple[int, float, int]:
    calendar = load_reference(AppConfig()).calendar

    def once() -> int:
        with db.read() as session:
            page = search_cases(session, UNLIMITED, filters, NOW, calendar, sort=sort)
        return page.total

    with _Judged() as judged:
        total, seconds = _median(once)
    return total, seconds, judged.count // RUNS


def _stream(db: Database) -> tuple[int, float]:
    calendar = load_reference(AppConfig()).calendar

    def once() -> int:
        with db.read() as session:
            rows = iter_case_rows(session, UNLIMITED, CaseFilters(overdue=True), NOW, calendar)
            return sum(1 for _ in rows)

    return _median(once)


def bench_backend(backend: str) -> Result:
    db = seeded(backend, DAYS).db
    reference = load_reference(AppConfig())
    first_id = insert_open_cases(db, reference, CASES)
    try:
        with db.read() as session:
            open_cases = session.scalar(select(func.count()).where(Case.open.is_(True))) or 0
        result = Result(backend, open_cases)
        for name, filters, sort in QUERIES:
            total, seconds, judged = _query(db, filters, sort)
            result.rows.append((name, total, seconds, judged))
        result.csv_rows, result.csv_seconds = _stream(db)
    finally:
        cleanup(db, first_id)
    return result


def section(results: list[Result]) -> str:
    lines = [
        "## Case search (`bench/bench_case_queries.py`)",
        "",
        f"City scale ({DAYS} days of seeded history) plus {CASES:,} synthetic dispatched cases "
        f"({results[0].open_cases:,} open), at {NOW:%Y-%m-%d %H:%M} UTC. One page of 50 rows "
        f"with its total (`search_cases`, median of {RUNS}); *judged* = cases whose light was "
        "computed in Python to settle the yellow boundary (the rest is decided by SQL).",
        "",
        "| backend | query | total | time | judged |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        for name, total, seconds, judged in r.rows:
            lines.append(
                f"| {LABELS[r.backend]} | {name} | {total:,} | {ms(seconds)} | {judged:,} |"
            )
        rate = r.csv_rows / r.csv_seconds if r.csv_seconds else 0.0
        lines.append(
            f"| {LABELS[r.backend]} | CSV rows of every overdue case (`iter_case_rows`) "
            f"| {r.csv_rows:,} | {ms(r.csv_seconds)} ({rate:,.0f} rows/s) | – |"
        )
    return "\n".join(lines)


def run() -> str:
    return section([bench_backend(backend) for backend in BACKENDS])


if __name__ == "__main__":
    try:
        print(run())
    finally:
        release_all()
