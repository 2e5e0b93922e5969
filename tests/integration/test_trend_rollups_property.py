"""The trend roll-ups equal the raw cases after random changes (issue 13 item 7).

A small random history; then rounds of random changes to its cases (closures, reworks,
re-categorisations, moves, extensions, suspensions, voids, corrected closing times, new cases,
some with an old ``updated_at``) and, after each round, every figure the page and
``/api/v1/trends/summary`` show — the totals with 环比 and 同比, every breakdown (town, village,
大类, 小类, source, department, a breakdown narrowed to a town), the daily series, the
hour × weekday matrix and the map's cells — for random periods (ended, and holding ``now``) and
scopes (all, a town, a village, a department), compared with a direct computation over the raw
rows with the rules of ``dashboard.domain.metrics``. After the last round, the roll-ups kept by
deltas equal a rebuild from scratch, row for row. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from dashboard.domain.metrics import (
    ClosureCounts,
    Period,
    closure_counts,
    closure_rate,
    on_time_closure_rate,
    rework_rate,
)
from dashboard.domain.permissions import UNLIMITED, Scope
from dashboard.domain.status import OPEN_STATUSES, CaseStatus
from dashboard.domain.trend_figures import (
    CELL_DEGREES,
    Figures,
    cell_centre,
    handling_seconds,
)
from dashboard.domain.trend_periods import DateRange
from dashboard.services.trend_rollups import COLUMNS, TrendCase, rebuild, tables, trend_case
from dashboard.services.trends import TrendQueries, period_of
from dashboard.storage.db import Database
from dashboard.storage.models import Case
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api and the apps it shares
    apps_fixture,  # noqa: F401
)
from tests.integration.trend_history import Places, case_row, clear_trends, generate, local

S = CaseStatus
FIRST, LAST = date(2025, 12, 1), date(2026, 3, 17)
START = local(date(2026, 3, 17), 20)
DIMS = ("town", "village", "major", "category", "department", "source")
ROUNDS = 3


@pytest.fixture
def small(api: Api) -> Iterator[Api]:
    clear_trends(api.services.db)
    api.clock.set(START)
    generate(
        api.services.db, api.services.reference, seed=77, first=FIRST, last=LAST,
        per_day=(0, 3), now=START,
    )  # fmt: skip
    yield api
    clear_trends(api.services.db)


# --- the direct computation ---------------------------------------------------------------------


def _raw(db: Database) -> list[TrendCase]:
    with db.read() as session:
        return [trend_case(r) for r in session.execute(select(*COLUMNS))]


def _key(dim: str, case: TrendCase) -> str:
    f = case.facts
    return {
        "town": (f.village_code or "")[:9],
        "village": f.village_code or "",
        "major": case.category[:2],
        "category": case.category,
        "department": f.department_code or "",
        "source": f.source,
    }[dim]


def _in(scope: Scope, case: TrendCase) -> bool:
    f = case.facts
    return (scope.area_code is None or (f.village_code or "").startswith(scope.area_code)) and (
        scope.department_code is None or f.department_code == scope.department_code
    )


Direct = tuple[ClosureCounts, int, int, int, int]  # counts, reported, emergencies, handling


def _direct(cases: list[TrendCase], period: Period, now: datetime, calendar: Any) -> Direct:
    counts = closure_counts([c.facts for c in cases], period, now)
    reported = [c for c in cases if c.facts.reported_at in period]
    handled = [
        s
        for c in cases
        if c.facts.closed_at is not None and c.facts.closed_at in period
        if (s := handling_seconds(c.facts, calendar)) is not None
    ]
    emergencies = sum(1 for c in reported if c.emergency)
    return counts, len(reported), emergencies, len(handled), sum(handled)


def _rolled(figures: Figures) -> Direct:
    p = figures.parts
    return figures.counts, p.reported, p.emergencies, p.handling_cases, p.handling_seconds


def _nonzero(found: dict[Any, Direct]) -> dict[Any, Direct]:
    empty = (ClosureCounts(), 0, 0, 0, 0)
    return {k: v for k, v in found.items() if v != empty}


def _contract(d: Direct) -> dict[str, Any]:
    counts, reported = d[0], d[1]
    return {
        "reported": reported,
        "registered": counts.registered,
        "closed": counts.closed,
        "closed_on_time": counts.closed_on_time,
        "should_be_closed": counts.should_be_closed,
        "closure_rate": closure_rate(counts),
        "on_time_closure_rate": on_time_closure_rate(counts),
        "rework_rate": rework_rate(counts),
    }


def _check(
    queries: TrendQueries, raw: list[TrendCase], dates: DateRange, scope: Scope, now: datetime
) -> None:
    calendar = queries.calendar
    tz = calendar.tz
    period = period_of(dates, calendar)
    mine = [c for c in raw if _in(scope, c)]
    label = (dates, scope, now)
    # The summary (the JSON contract) with its 环比 and 同比: every key, every comparison.
    summary = queries.summary(dates, scope, now)
    body = summary.contract()
    comparison = summary.comparison
    for part, span in (
        (body, comparison.current),
        (body["previous"], comparison.previous),
        (body["last_year"], comparison.last_year.range),
    ):
        want = _contract(_direct(mine, period_of(span, calendar), now, calendar))
        assert {k: part[k] for k in want} == want, (label, span)
    # The page's totals (every KPI is a function of these) and every breakdown.
    assert _rolled(queries.total(dates, scope, now)) == _direct(mine, period, now, calendar), label
    for dim in DIMS:
        groups: dict[str, list[TrendCase]] = defaultdict(list)
        for case in mine:
            groups[_key(dim, case)].append(case)
        want_by = _nonzero({(k,): _direct(v, period, now, calendar) for k, v in groups.items()})
        got_by = _nonzero(
            {k: _rolled(f) for k, f in queries.figures(dates, scope, now, (dim,)).items()}
        )
        assert got_by == want_by, (label, dim)
    if mine:  # a breakdown narrowed to a place (the page's drill-down)
        town = (mine[0].facts.village_code or "")[:9]
        narrowed = [c for c in mine if (c.facts.village_code or "").startswith(town)]
        groups = defaultdict(list)
        for case in narrowed:
            groups[case.category].append(case)
        want_by = _nonzero({(k,): _direct(v, period, now, calendar) for k, v in groups.items()})
        found = queries.figures(dates, scope, now, ("category",), {"town": town})
        assert _nonzero({k: _rolled(f) for k, f in found.items()}) == want_by, (label, town)
    # The daily series: reports per day × 大类, and each day's event counts.
    series: dict[tuple[str, str], int] = defaultdict(int)
    for case in mine:
        if case.facts.reported_at in period:
            day = case.facts.reported_at.astimezone(tz).date().isoformat()
            series[(day, case.category[:2])] += 1
    got_series = queries.figures(dates, scope, now, ("day", "major"))
    assert {k: f.parts.reported for k, f in got_series.items() if f.parts.reported} == dict(series)
    assert queries.series(dates, scope, {}, weekly=False) == dict(series), label
    weekly: dict[tuple[str, str], int] = defaultdict(int)
    for (day_text, major), n in series.items():
        day = date.fromisoformat(day_text)
        weekly[((day - timedelta(days=day.weekday())).isoformat(), major)] += n
    assert queries.series(dates, scope, {}, weekly=True) == dict(weekly), label
    by_day = queries.figures(dates, scope, now, ("day",))
    for (day_text,), figures in by_day.items():
        day = date.fromisoformat(day_text)
        one = Period(local(day, 0), local(day + timedelta(days=1), 0))
        counts = closure_counts([c.facts for c in mine], one, one.end)
        got = figures.counts
        assert (got.closed, got.closed_on_time, got.registered, got.handled) == (
            counts.closed,
            counts.closed_on_time,
            counts.registered,
            counts.handled,
        ), (label, day)
    # The hour × weekday matrix and the map's cells.
    matrix = [[0] * 24 for _ in range(7)]
    cells: dict[tuple[float, float], int] = defaultdict(int)
    for case in mine:
        if case.facts.reported_at in period:
            moment = case.facts.reported_at.astimezone(tz)
            matrix[moment.weekday()][moment.hour] += 1
            x, y = int(case.lon // CELL_DEGREES), int(case.lat // CELL_DEGREES)
            cells[cell_centre(x, y)] += 1
    assert queries.matrix(dates, scope, {}) == matrix, label
    got_cells = {(lon, lat): n for lon, lat, n in queries.cells(dates, scope, {})}
    assert got_cells == dict(cells), label


# --- random changes -----------------------------------------------------------------------------


def _change(db: Database, reference: Any, rng: random.Random, at: datetime) -> int:
    """Ten to thirty random changes to the cases, as of ``at``; returns how many."""
    places = Places.of(db)
    subs = [s.code for s in reference.categories.subs]
    with db.read() as session:
        rows = list(session.execute(select(*COLUMNS, Case.open)))
    changes: list[tuple[int, dict[str, Any]]] = []

    def when(after: datetime | None) -> datetime:
        low = after or at - timedelta(days=20)
        return low + (at - low) * rng.random()

    kinds: list[Callable[[Any], dict[str, Any] | None]] = []

    def close(r: Any) -> dict[str, Any] | None:
        if r.registered_at is None or r.closed_at is not None or r.status == S.VOIDED.value:
            return None
        closed = when(max(r.registered_at, r.handled_at or r.registered_at))
        return {
            "status": S.CLOSED.value,
            "closed_at": closed,
            "open": False,
            "handled_at": r.handled_at or closed,
            "closed_on_time": closed <= r.deadline,
        }

    def rework(r: Any) -> dict[str, Any] | None:
        if r.closed_at is None:
            return None
        return {
            "status": S.REWORK.value,
            "closed_at": None,
            "open": True,
            "rework_count": r.rework_count + 1,
            "closed_on_time": None,
        }

    def recategorise(r: Any) -> dict[str, Any] | None:
        if r.registered_at is None:
            return None
        return {
            "category_code": rng.choice(subs),
            "department_code": rng.choice(("urban", "police", "market", "justice")),
        }

    def move(r: Any) -> dict[str, Any] | None:
        grid, village, town, county, lon, lat = rng.choice(places.grids)
        return {
            "grid_code": grid,
            "village_code": village,
            "town_code": town,
            "county_code": county,
            "lon": lon + rng.uniform(-0.004, 0.004),
            "lat": lat,
        }

    def extend(r: Any) -> dict[str, Any] | None:
        if r.deadline is None:
            return None
        return {
            "deadline": r.deadline + timedelta(days=rng.choice((-3, 2, 9))),
            "extension_count": r.extension_count + 1,
        }

    def suspend(r: Any) -> dict[str, Any] | None:
        if S(r.status) in OPEN_STATUSES and r.status != S.SUSPENDED.value:
            return {"status": S.SUSPENDED.value}
        if r.status == S.SUSPENDED.value:
            return {"status": S.HANDLING.value}
        return None

    def void(r: Any) -> dict[str, Any] | None:
        if r.registered_at is not None or r.status == S.VOIDED.value:
            return None
        return {"status": S.VOIDED.value, "open": False, "voided_at": when(r.reported_at)}

    def reclose(r: Any) -> dict[str, Any] | None:
        if r.closed_at is None or r.registered_at is None:
            return None
        closed = r.registered_at + (r.closed_at - r.registered_at) * rng.uniform(0.2, 3)
        closed = min(closed, at)
        return {"closed_at": closed, "handled_at": min(r.handled_at or closed, closed)}

    kinds += [close, rework, recategorise, move, extend, suspend, void, reclose]
    for r in rng.sample(rows, min(len(rows), rng.randint(10, 30))):
        values = rng.choice(kinds)(r)
        if values is not None:
            changes.append((r.id, values | {"updated_at": at}))
    new = []
    for _ in range(rng.randint(1, 5)):
        row = case_row(places, rng, reference, when(None))
        row = {k: (min(v, at) if isinstance(v, datetime) else v) for k, v in row.items()}
        if row.get("closed_at") is not None and row.get("registered_at") is not None:
            row["closed_at"] = max(row["closed_at"], row["registered_at"])
        if rng.random() < 0.3:
            row["updated_at"] = at - timedelta(days=400)  # an old stamp: found by its id
        new.append(row)
    with db.transaction() as session:
        for case_id, values in changes:
            session.execute(update(Case).where(Case.id == case_id).values(**values))
        session.execute(insert(Case), new)
    return len(changes) + len(new)


def _periods(rng: random.Random, now: datetime) -> list[DateRange]:
    today = now.date()
    result = [
        DateRange(date(2026, 2, 1), date(2026, 2, 28)),  # ended: the roll-up of midnights
        DateRange(today.replace(day=1), today + timedelta(days=3)),  # holding now
        DateRange(date(2025, 12, 15), date(2026, 3, 5)),  # whole months and days around them
    ]
    for _ in range(2):
        first = FIRST + timedelta(days=rng.randint(0, (today - FIRST).days))
        result.append(DateRange(first, first + timedelta(days=rng.randint(0, 40))))
    return result


def _tables(db: Database) -> dict[str, set[tuple[Any, ...]]]:
    with db.read() as session:
        return {
            model.__tablename__: {tuple(r) for r in session.execute(select(model.__table__))}
            for model in tables()
        }


def test_roll_ups_equal_the_raw_cases_after_random_changes(small: Api) -> None:
    api = small
    db, reference = api.services.db, api.services.reference
    queries = TrendQueries(db, reference.calendar)
    rng = random.Random(713)
    town = Places.of(db).grids[0][2]
    village = Places.of(db).grids[-1][1]
    scopes = [UNLIMITED, Scope(area_code=town), Scope(area_code=village),
              Scope(department_code="urban")]  # fmt: skip
    now = START
    queries.refresh()  # the first build
    for round_ in range(ROUNDS):
        if round_:
            now += timedelta(days=1, hours=rng.uniform(0, 5))
            assert _change(db, reference, rng, now) > 0
        raw = _raw(db)
        for dates in _periods(rng, now):
            for scope in scopes:
                _check(queries, raw, dates, scope, now)
    # The state at every midnight of the history (a one-day period ending there, looked at
    # later): the open-and-overdue counts of the closed-late cases come from their roll-up.
    raw = _raw(db)
    calendar = reference.calendar
    for offset in range((now.date() - FIRST).days):
        day = DateRange(FIRST + timedelta(days=offset), FIRST + timedelta(days=offset))
        want = _direct(raw, period_of(day, calendar), now, calendar)
        assert _rolled(queries.total(day, UNLIMITED, now)) == want, day
    kept = _tables(db)
    rebuild(db, reference.calendar)
    assert _tables(db) == kept  # the deltas left exactly what a rebuild writes
