"""Benchmark: the village rule at city scale (``dashboard.services.villages.refresh_villages``).

On the databases ``bench_seed`` seeded (or on fresh ones seeded here when run alone):

* every village recomputed from scratch (all lights reset first, outside the timing), split into
  the three GROUP BY queries (``count_villages``), the pure rule (``recompute_all``), the rest of
  ``refresh_villages`` (loading the village rows, comparing, ORM bookkeeping) and the write
  (flush of the changed rows and their outbox events, commit);
* the same refresh when nothing changed (a periodic tick);
* a single-village refresh, what every case write does inside its transaction;
* the plans (``EXPLAIN`` / ``EXPLAIN QUERY PLAN``) and times of the three count queries, captured
  from ``count_villages`` itself through engine events;
* on SQLite, the single-village refresh and its plans again without planner statistics (the seed
  ends with ``ANALYZE``; a database filled by live intake never runs it).

Run alone: ``python -m bench.bench_villages``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, event, func, select, text, update

from bench import NOW, RULE, SEED, ms, percentiles, share, timed
from bench.bench_seed import BACKENDS, LABELS, release_all, seeded
from dashboard.domain.village_status import INITIAL, recompute_all
from dashboard.services.villages import count_villages, refresh_villages
from dashboard.storage.db import Database
from dashboard.storage.models import Case, OutboxEvent, Village

FULL_RUNS = 10
SINGLE_RUNS = 1_000
QUERY_RUNS = 10
QUERIES = ("window (last 24 h)", "open emergencies", "open overdue")
RULE_INDEXES = ("ix_cases_village_reported", "ix_cases_open_deadline")


# --- full refresh -----------------------------------------------------------------------------


@dataclass
class FullRefresh:
    total: list[float] = field(default_factory=list)  # refresh_villages() + commit
    refresh: list[float] = field(default_factory=list)  # the refresh_villages() call
    counts: list[float] = field(default_factory=list)  # count_villages()
    rule: list[float] = field(default_factory=list)  # recompute_all()
    write: list[float] = field(default_factory=list)  # flush + commit
    written: int = 0  # village rows updated per run
    changes: int = 0  # status changes (outbox events) per run
    tick: list[float] = field(default_factory=list)  # nothing to change: refresh + commit

    def rest(self) -> list[float]:
        return [r - c - p for r, c, p in zip(self.refresh, self.counts, self.rule, strict=True)]


def _reset(db: Database) -> None:
    """Every village back to its initial state (ok, no ratio), the outbox emptied."""
    with db.transaction() as session:
        session.execute(
            update(Village).values(status="ok", red_since=None, red_reasons="", open_ratio=None)
        )
        session.execute(delete(OutboxEvent))


def _refresh_all(db: Database) -> tuple[float, float, int, int]:
    """One ``refresh_villages`` of every village and its commit, timed apart."""
    session = db.sessions()
    try:
        session.begin()
        changes, refresh_s = timed(lambda: refresh_villages(session, RULE, NOW))
        written = len(session.dirty)
        _, write_s = timed(session.commit)
    finally:
        session.close()
    return refresh_s, write_s, written, len(changes)


def _count_and_rule(db: Database) -> tuple[float, float]:
    """``count_villages`` and ``recompute_all`` over every village (from INITIAL), timed apart."""
    with db.read() as session:
        counts, counts_s = timed(lambda: count_villages(session, RULE, NOW))
        codes = session.scalars(select(Village.code)).all()
    previous = dict.fromkeys(codes, INITIAL)
    _, rule_s = timed(lambda: recompute_all(previous, counts, NOW, RULE))
    return counts_s, rule_s


def full_refresh(db: Database) -> FullRefresh:
    result = FullRefresh()
    for _ in range(FULL_RUNS):
        _reset(db)
        refresh_s, write_s, result.written, result.changes = _refresh_all(db)
        counts_s, rule_s = _count_and_rule(db)
        result.total.append(refresh_s + write_s)
        result.refresh.append(refresh_s)
        result.write.append(write_s)
        result.counts.append(counts_s)
        result.rule.append(rule_s)
    for _ in range(FULL_RUNS):
        refresh_s, write_s, _, _ = _refresh_all(db)
        result.tick.append(refresh_s + write_s)
    return result


# --- single village ---------------------------------------------------------------------------


def _refresh_one(db: Database, code: str) -> float:
    with db.transaction() as session:

        def work() -> None:
            refresh_villages(session, RULE, NOW, [code])
            session.flush()

        return timed(work)[1]


def single_refresh(db: Database, codes: Sequence[str]) -> list[float]:
    rng = random.Random(SEED)
    return [_refresh_one(db, rng.choice(codes)) for _ in range(SINGLE_RUNS)]


# --- the count queries: plans and times -------------------------------------------------------


@dataclass(frozen=True)
class CountQuery:
    name: str
    scope: str
    statement: str
    parameters: Any


def capture_count_queries(db: Database, scope: str, codes: list[str] | None) -> list[CountQuery]:
    """The GROUP BY statements ``count_villages`` sends, as sent (engine event)."""
    captured: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "GROUP BY" in statement:
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        with db.read() as session:
            count_villages(session, RULE, NOW, codes)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return [
        CountQuery(name, scope, stmt, params)
        for name, (stmt, params) in zip(QUERIES, captured, strict=True)
    ]


def explain(db: Database, query: CountQuery) -> list[str]:
    sqlite = db.dialect == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (COSTS OFF) "
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + query.statement, query.parameters).all()
    return [str(row[-1] if sqlite else row[0]).strip() for row in rows]


def query_p50(db: Database, query: CountQuery) -> float:
    def once() -> None:
        with db.engine.connect() as conn:
            conn.exec_driver_sql(query.statement, query.parameters).all()

    return percentiles([timed(once)[1] for _ in range(QUERY_RUNS)], 50)[0]


def plan_verdict(plan: Sequence[str]) -> str:
    """Which indexes a plan uses, and whether it reads every case.

    SQLite's ``SCAN cases USING INDEX …`` reads every row in the index's order (to skip sorting
    for GROUP BY): a full scan all the same, unlike ``SEARCH`` (a range of the index).
    """
    text_ = "\n".join(plan)
    indexes = ", ".join(f"`{i}`" for i in sorted(set(re.findall(r"ix_\w+", text_))))
    if "Seq Scan on cases" in text_ or re.search(r"\bSCAN cases\b", text_):
        return "**full scan of cases**" + (f" in {indexes} order" if indexes else "")
    if not indexes:
        return "no index named"
    return indexes + ("" if any(i in text_ for i in RULE_INDEXES) else " (not the rule's indexes)")


# --- one backend ------------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: str
    villages: int
    days: int
    context: dict[str, int]
    full: FullRefresh
    single: list[float]
    plans: list[tuple[CountQuery, list[str], float]]
    # SQLite only: the single-village refresh again without planner statistics (a file filled
    # by live intake rather than the seed, which ends with ANALYZE).
    single_no_stats: list[float] | None = None


def forget_statistics(db: Database) -> bool:
    """Delete SQLite's planner statistics (``sqlite_stat1``); False when there were none."""
    with db.engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            conn.execute(text("DELETE FROM sqlite_stat1"))
            found = True
        else:
            found = False
    db.engine.dispose()  # new connections read the statistics afresh
    return found


def _plans(
    db: Database, queries: Sequence[CountQuery]
) -> list[tuple[CountQuery, list[str], float]]:
    return [(q, explain(db, q), query_p50(db, q)) for q in queries]


def _context(db: Database) -> dict[str, int]:
    def count(*where: Any) -> int:
        with db.read() as session:
            return int(session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)

    return {
        "cases": count(),
        "window": count(Case.reported_at >= RULE.window_start(NOW), Case.reported_at <= NOW),
        "open": count(Case.open.is_(True)),
        "overdue": count(Case.open.is_(True), Case.deadline < NOW),
    }


def bench_backend(backend: str) -> BackendResult:
    seed = seeded(backend)
    db = seed.db
    with db.read() as session:
        codes = list(session.scalars(select(Village.code).order_by(Village.code)))
    one = [codes[len(codes) // 2]]
    queries = capture_count_queries(db, "all villages", None)
    queries += capture_count_queries(db, "one village", one)
    result = BackendResult(
        backend=backend,
        villages=len(codes),
        days=seed.report.days,
        context=_context(db),
        full=full_refresh(db),
        single=single_refresh(db, codes),
        plans=_plans(db, queries),
    )
    if backend == "sqlite" and forget_statistics(db):  # last: it changes every plan after it
        result.plans += _plans(db, capture_count_queries(db, "one village, no statistics", one))
        result.single_no_stats = single_refresh(db, codes)
    return result


# --- the report -------------------------------------------------------------------------------


def _p(samples: Sequence[float], q: float) -> float:
    return percentiles(samples, q)[0]


def _full_table(results: list[BackendResult]) -> list[str]:
    head = " | ".join(f"{LABELS[r.backend]} p50 | {LABELS[r.backend]} p95" for r in results)
    lines = [f"| metric (unit) | {head} |", "|---|" + "---:|" * (2 * len(results))]

    def row(label: str, pick: Callable[[FullRefresh], list[float]], with_share: bool) -> str:
        cells = []
        for r in results:
            samples, p50 = pick(r.full), _p(pick(r.full), 50)
            part = f" ({share(p50, _p(r.full.total, 50))})" if with_share else ""
            cells += [ms(p50) + part, ms(_p(samples, 95))]
        return f"| {label} | " + " | ".join(cells) + " |"

    lines += [
        row("**full refresh** of every village: `refresh_villages` + commit (ms)",
            lambda f: f.total, False),
        row("— `count_villages`: the 3 GROUP BY queries (ms, share)", lambda f: f.counts, True),
        row("— `recompute_all`: the pure rule (ms, share)", lambda f: f.rule, True),
        row("— rest of `refresh_villages`: load rows, compare, ORM (ms, share)",
            lambda f: f.rest(), True),
        row("— writing: flush UPDATEs + outbox INSERTs, commit (ms, share)",
            lambda f: f.write, True),
        row("repeat refresh with nothing to change, e.g. a periodic tick (ms)",
            lambda f: f.tick, False),
    ]  # fmt: skip
    written = " | ".join(f"{r.full.written:,} | {r.full.changes:,}" for r in results)
    lines.append(f"| village rows written / status changes per full refresh (count) | {written} |")
    return lines


def _single_table(results: list[BackendResult]) -> list[str]:
    lines = [
        "| metric (unit) | " + " | ".join(LABELS[r.backend] for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for label, q in (("p50 (ms)", 50.0), ("p99 (ms)", 99.0), ("max (ms)", 100.0)):
        lines.append(f"| {label} | " + " | ".join(ms(_p(r.single, q)) for r in results) + " |")
    ratio = " | ".join(f"{_p(r.full.total, 50) / _p(r.single, 50):,.0f}×" for r in results)
    lines.append(f"| full refresh p50 / single-village p50 (ratio) | {ratio} |")
    for label, q in (("p50", 50.0), ("p99", 99.0)):
        cells = [ms(_p(r.single_no_stats, q)) if r.single_no_stats else "–" for r in results]
        lines.append(
            f"| {label} without planner statistics, SQLite only (ms) | " + " | ".join(cells) + " |"
        )
    return lines


def _plan_table(results: list[BackendResult]) -> list[str]:
    lines = [
        "| backend | query | scope | index used | p50 (ms) |",
        "|---|---|---|---|---:|",
    ]
    for r in results:
        for query, plan, p50 in r.plans:
            lines.append(
                f"| {LABELS[r.backend]} | {query.name} | {query.scope} | {plan_verdict(plan)} "
                f"| {ms(p50)} |"
            )
    return lines


def _plans_text(results: list[BackendResult]) -> list[str]:
    lines = ["<details><summary>Plans as printed by the databases</summary>", ""]
    for r in results:
        for query, plan, _ in r.plans:
            lines += [f"{LABELS[r.backend]}, {query.name}, {query.scope}:", "", "```"]
            lines += plan
            lines += ["```", ""]
    return [*lines, "</details>", ""]


def section(results: list[BackendResult]) -> str:
    first = results[0]
    ctx = first.context
    lines = [
        "## Village refresh (`bench/bench_villages.py`)",
        "",
        f"City scale, {first.days} days of history: {first.villages:,} villages, "
        f"{ctx['cases']:,} cases of which "
        f"{ctx['window']:,} in the 24 h window, {ctx['open']:,} open and {ctx['overdue']:,} open "
        f"and overdue at {NOW:%Y-%m-%d %H:%M} UTC; DOMAIN.md's default rule (24 h, 5 cases, "
        "80 % / 70 %, emergencies on), on the databases the seed section filled (seeded here "
        "the same way when this section runs alone); the seed ends with `ANALYZE`, so both "
        "planners have statistics.",
        "",
        f"### Every village recomputed from scratch ({FULL_RUNS} runs per backend)",
        "",
        "Before each run every village is reset to ok with no ratio (untimed). The split times "
        "`count_villages` and `recompute_all` in separate calls on the same data; the rest of "
        "`refresh_villages` is the difference.",
        "",
        *_full_table(results),
        "",
        f"### Single-village refresh ({SINGLE_RUNS:,} runs, random villages)",
        "",
        "`refresh_villages(session, rule, now, [code])` + flush inside a transaction: what "
        "every case write adds (its commit is the case write's). The last rows repeat it on "
        "SQLite after deleting the planner statistics (`sqlite_stat1`; measured after "
        "everything else): a file filled by live intake rather than the seed never runs "
        "`ANALYZE`.",
        "",
        *_single_table(results),
        "",
        "### The count queries",
        "",
        "The three statements `count_villages` sends (captured from it), explained with "
        f"`EXPLAIN (COSTS OFF)` / `EXPLAIN QUERY PLAN`; p50 of {QUERY_RUNS} executions "
        "with fetch. Expected indexes: " + ", ".join(f"`{i}`" for i in RULE_INDEXES) + ".",
        "",
        *_plan_table(results),
        "",
        *_plans_text(results),
    ]
    return "\n".join(lines)


def run() -> str:
    return section([bench_backend(backend) for backend in BACKENDS])


if __name__ == "__main__":
    try:
        print(run())
    finally:
        release_all()
