"""The grid workers' 按期核实率 and 按期核查率 on the rankings (``GET /api/v1/rankings`` and the
rankings page), on SQLite and PostgreSQL, against a direct computation from the raw cases and
their trails: a week of public reports verified on time and late, by a worker and by the
worker's phone sign-in, checks passed and failed, a verification still waiting and overdue at
the week's end (late for every worker of the grid), a check waiting but not yet overdue, one
verified by the command room (nobody's task)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from dashboard.clock import FixedClock
from dashboard.domain.deadlines import TimeLimit, deadline_for
from dashboard.domain.metrics import rate
from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.scheduler import WatcherScheduler
from dashboard.services.patrol_days import live_days, refresh, stored_days
from dashboard.services.rankings import rankings
from dashboard.simulator.patrol_day import record_day
from dashboard.storage.models import (
    Case,
    CaseEvent,
    Grid,
    GridWorker,
    PatrolDay,
    PositionFix,
    User,
    WorkerPosition,
)
from layouts import leadership as lay
from tests.integration import test_security_support as support
from tests.integration.support import SHANGHAI, make_report, request
from tests.integration.test_security_support import SecureApp

_secure_apps, secure = support._secure_apps, support.secure  # fixtures
lite_secure = support.lite_secure

FIRST, LAST = "2026-11-16", "2026-11-22"  # Monday to Sunday, the week before TOWN_NOW


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


class _Grids:
    def __init__(self, app: SecureApp) -> None:
        self.db = app.services.db

    def grid(self, index: int = 0) -> Grid:
        with self.db.read() as session:
            return session.scalars(select(Grid).order_by(Grid.code).offset(index).limit(1)).one()


def _step(app: SecureApp, case_id: int, action: Action, when: datetime, **kw: Any) -> None:
    app.clock.set(when)
    app.services.cases.act(case_id, request(action, **kw))


def _report(app: SecureApp, when: datetime, **changes: Any) -> int:
    """A report at ``when`` in the first grid, accepted five minutes later."""
    app.clock.set(when)
    report = make_report(_Grids(app), **changes)  # type: ignore[arg-type]
    case_id = app.services.cases.report(report).id
    _step(app, case_id, Action.ACCEPT, when + timedelta(minutes=5))
    return case_id


def _public(app: SecureApp, when: datetime) -> int:
    public = {"source": Source.PUBLIC, "actor": "resident", "role": Role.INTEGRATION}
    return _report(app, when, description="公众上报：路灯不亮", **public)


def _to_handling(app: SecureApp, case_id: int, after: datetime) -> None:
    _step(app, case_id, Action.REGISTER, after + timedelta(minutes=10))
    _step(app, case_id, Action.DISPATCH, after + timedelta(minutes=20))
    _step(app, case_id, Action.START, after + timedelta(minutes=30))


def _history(app: SecureApp) -> tuple[str, list[str]]:
    """The week's story in the first grid; its worker and every worker of that grid."""
    with app.services.db.read() as session:
        grid = session.scalars(select(Grid).order_by(Grid.code).limit(1)).one()
        workers = list(
            session.scalars(
                select(GridWorker.id)
                .where(GridWorker.grid_code == grid.code, GridWorker.active.is_(True))
                .order_by(GridWorker.id)
            )
        )
    worker = workers[0]
    app.user("wang-phone", Role.GRID_WORKER, worker_id=worker)
    me = {"actor": worker, "role": Role.GRID_WORKER}

    # A: verified within 2 working hours; its check 6 working hours after "handled": late.
    a = _public(app, at(16, 9))
    _step(app, a, Action.REQUEST_VERIFY, at(16, 9, 10))
    _step(app, a, Action.VERIFY, at(16, 10), **me)
    _to_handling(app, a, at(16, 10))
    _step(app, a, Action.HANDLED, at(17, 9))
    _step(app, a, Action.CHECK_PASS, at(17, 16), **me)
    # B: asked on Wednesday 16:30, verified Thursday 09:00 by the worker's phone: on time
    # (one working hour on Wednesday, half an hour on Thursday).
    b = _public(app, at(18, 16))
    _step(app, b, Action.REQUEST_VERIFY, at(18, 16, 30))
    _step(app, b, Action.VERIFY, at(19, 9), actor="wang-phone", role=Role.GRID_WORKER)
    # C: asked on Friday morning, never verified: overdue at the week's end.
    c = _public(app, at(20, 9))
    _step(app, c, Action.REQUEST_VERIFY, at(20, 9, 10))
    # D: verified by the command room (a commander on the phone): nobody's task; then a failed
    # check on time, the department again, a passed check on time.
    d = _public(app, at(16, 14))
    _step(app, d, Action.REQUEST_VERIFY, at(16, 14, 10))
    _step(app, d, Action.VERIFY, at(16, 15), actor="shift-wang", role=Role.COMMANDER)
    _to_handling(app, d, at(16, 15))
    _step(app, d, Action.HANDLED, at(18, 9))
    _step(app, d, Action.CHECK_FAIL, at(18, 11), **me)
    _step(app, d, Action.HANDLED, at(19, 9))
    _step(app, d, Action.CHECK_PASS, at(19, 10), **me)
    # E: handled on Friday 14:00, not checked yet: due Monday 09:00, after the week's end.
    e = _report(app, at(20, 10))
    _to_handling(app, e, at(20, 10, 5))
    _step(app, e, Action.HANDLED, at(20, 14))
    return worker, workers


def _direct(app: SecureApp, now: datetime) -> dict[str, list[int]]:
    """Straight from the raw rows: every case's trail walked step by step."""
    tz = SHANGHAI
    start = datetime.combine(datetime.fromisoformat(FIRST).date(), time(0), tz).astimezone(UTC)
    end = datetime.combine(
        datetime.fromisoformat(LAST).date() + timedelta(days=1), time(0), tz
    ).astimezone(UTC)
    cutoff = min(now, end)
    cal = app.services.reference.calendar
    config = app.services.config.evaluation
    limits = {
        "verify": TimeLimit.parse(config.verify_limit),
        "check": TimeLimit.parse(config.check_limit),
    }
    does = {"verify": {"verify"}, "check": {"check_pass", "check_fail"}}
    waits = {"verifying": "verify", "handled": "check"}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    with app.services.db.read() as session:
        active = {w.id: w.grid_code for w in session.scalars(select(GridWorker)) if w.active}
        bound = {
            u.username: u.worker_id for u in session.scalars(select(User)) if u.worker_id in active
        }
        cases = list(session.scalars(select(Case)))
        trails = defaultdict(list)
        for event in session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
            trails[event.case_id].append(event)

    def add(worker: str, kind: str, on_time: bool) -> None:
        base = 0 if kind == "verify" else 2
        counts[worker][base] += 1
        counts[worker][base + 1] += int(on_time)

    def late_for_grid(grid: str, kind: str) -> None:
        for worker, its_grid in active.items():
            if its_grid == grid:
                add(worker, kind, False)

    for case in cases:
        status, waiting = None, None
        for event in trails[case.id]:
            if event.to_status == status:
                continue
            if waiting is not None:
                kind, given = waiting
                deadline = deadline_for(given, limits[kind], cal)
                if event.action in does[kind] and start <= event.at < end:
                    worker = event.actor if event.actor in active else bound.get(event.actor)
                    if worker is not None:
                        add(worker, kind, event.at <= deadline)
                elif given < cutoff <= event.at and deadline <= cutoff:
                    late_for_grid(case.grid_code, kind)
                waiting = None
            if event.to_status in waits:
                waiting = (waits[event.to_status], event.at)
            status = event.to_status
        if waiting is not None:
            kind, given = waiting
            if given < cutoff and deadline_for(given, limits[kind], cal) <= cutoff:
                late_for_grid(case.grid_code, kind)
    return dict(counts)


def test_on_time_verify_and_check_rates_equal_the_raw_trails(secure: SecureApp) -> None:
    app = secure
    worker, grid_workers = _history(app)
    now = support.TOWN_NOW
    app.clock.set(now)
    app.user("leader-li", Role.LEADER)
    client, _ = app.signed_in("leader-li")
    with app.generous():
        body = client.get(f"/api/v1/rankings?from={FIRST}&to={LAST}").get_json()
    assert body["limits"] == {"verify": "2h", "check": "4h"}
    direct = _direct(app, now)
    shown = {
        r["id"]: [
            r["on_time_verify_rate"]["denominator"],
            r["on_time_verify_rate"]["numerator"],
            r["on_time_check_rate"]["denominator"],
            r["on_time_check_rate"]["numerator"],
        ]
        for r in body["workers"]
    }
    assert {w: c for w, c in shown.items() if any(c)} == direct
    # The story: A and B on time, C late (3 due); A's check late, D's two on time (3 due).
    assert direct[worker] == [3, 2, 3, 2]
    for other in grid_workers[1:]:  # C waited for every worker of the grid
        assert direct[other] == [1, 0, 0, 0]
    row = next(r for r in body["workers"] if r["id"] == worker)
    assert row["on_time_verify_rate"] == {"value": 66.67, "numerator": 2, "denominator": 3}
    assert row["on_time_check_rate"] == {"value": 66.67, "numerator": 2, "denominator": 3}


def test_the_rankings_page_says_each_rate_with_its_counts(secure: SecureApp) -> None:
    """The page's worker table, built by the page's own functions from the service's figures:
    each rate with its counts and, on hover, its formula; the footnote names the limits."""
    app = secure
    worker, _ = _history(app)
    services = app.services
    found = rankings(
        services.db,
        services.reference,
        services.config.evaluation,
        Scope(),
        date(2026, 10, 24),
        date(2026, 11, 22),  # the page's period at TOWN_NOW: 30 days up to yesterday
        support.TOWN_NOW,
        "zh",
        tracks=services.config.tracks,
    )
    page = json.dumps(
        lay.rankings_page(
            found, {"closure": 0.3, "on_time_handling": 0.3, "rework": 0.3}, "zh"
        ).to_plotly_json(),
        default=lambda c: c.to_plotly_json(),
        ensure_ascii=False,
    )
    assert "按期核实率 = 2 / 3" in page and "按期核查率 = 2 / 3" in page
    assert f"rank-worker-{worker}" in page
    assert "2个工作时内完成的核实" in page and "4个工作时内完成的核查" in page


PATROL_DAYS = (date(2026, 11, 17), date(2026, 11, 18))  # inside FIRST … LAST


@contextmanager
def _patrolled(app: SecureApp) -> Iterator[list[str]]:
    """Two recorded patrol days (the simulator's walk, stored through the positions service
    and its GPS filters) of the town's first three workers; removed afterwards (the live
    positions as they were)."""
    db = app.services.db
    with db.read() as session:
        live = [
            {c.name: getattr(p, c.name) for c in WorkerPosition.__table__.columns}
            for p in session.scalars(select(WorkerPosition))
        ]
    try:
        for day in PATROL_DAYS:
            assert record_day(db, day, 3, seed=day.day) > 0
        with db.read() as session:
            walked = sorted(set(session.scalars(select(PositionFix.worker_id))))
        yield walked
    finally:
        with db.transaction() as session:
            session.execute(delete(PatrolDay))
            session.execute(delete(PositionFix))
            session.execute(delete(WorkerPosition))
            if live:
                session.execute(insert(WorkerPosition), live)


def test_patrol_figures_equal_the_tracks_own_summary(secure: SecureApp) -> None:
    """Distance, time on patrol, the share inside the own grid and household coverage of
    ``GET /api/v1/rankings`` equal the tracks' own patrol summary (``GET /workers/{id}/patrol``,
    one call per local day) added up, for each worker who walked."""
    app = secure
    with _patrolled(app) as walked:
        assert len(walked) == 3
        app.clock.set(support.TOWN_NOW)
        app.user("leader-li", Role.LEADER)
        client, _ = app.signed_in("leader-li")
        with app.generous():
            body = client.get(f"/api/v1/rankings?from={FIRST}&to={LAST}").get_json()
            rows = {r["id"]: r for r in body["workers"]}
            for worker in walked:
                days = []
                for day in PATROL_DAYS:
                    start = datetime.combine(day, time(0), SHANGHAI).isoformat()
                    end = datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).isoformat()
                    answer = client.get(
                        f"/api/v1/workers/{worker}/patrol",
                        query_string={"from": start, "to": end},
                    )
                    assert answer.status_code == 200, answer.get_json()
                    days.append(answer.get_json())
                with app.services.db.read() as session:
                    grid = session.get(Grid, session.get(GridWorker, worker).grid_code)
                    households = grid.households
                shown = rows[worker]["patrol"]
                distance = sum(d["distance_m"] for d in days)
                patrol = sum(d["patrol_s"] for d in days)
                inside = sum(d["inside_s"] for d in days)
                passed = sum(round(d["household_coverage"] * households) for d in days)
                assert shown["days"] == 2
                assert shown["fixes"] == sum(d["fixes"] for d in days) > 100
                assert shown["flagged"] == sum(d["flagged"] for d in days)
                assert shown["distance_km"] == pytest.approx(distance / 1000, abs=0.006)
                assert shown["distance_km"] > 1
                assert abs(shown["patrol_s"] - patrol) <= 2  # the days' seconds are rounded
                assert patrol > 3600
                share = shown["inside_share"]
                assert share["denominator"] == shown["patrol_s"]
                assert abs(share["numerator"] - inside) <= 2
                assert share["value"] == pytest.approx(100 * inside / patrol, abs=0.02)
                cover = shown["household_coverage"]
                assert cover == {
                    "value": rate(passed, 2 * households),
                    "numerator": passed,
                    "denominator": 2 * households,
                }
        # the days outside the period are not counted
        with app.generous():
            later = client.get("/api/v1/rankings?from=2026-11-19&to=2026-11-22").get_json()
        assert all(r["patrol"]["days"] == 0 for r in later["workers"])


def test_the_rankings_page_says_the_patrol_with_its_counts(lite_secure: SecureApp) -> None:
    app = lite_secure
    services = app.services
    with _patrolled(app) as walked:
        found = rankings(
            services.db,
            services.reference,
            services.config.evaluation,
            Scope(),
            date.fromisoformat(FIRST),
            date.fromisoformat(LAST),
            support.TOWN_NOW,
            "zh",
            tracks=services.config.tracks,
        )
        page = json.dumps(
            lay.rankings_page(
                found, {"closure": 0.3, "on_time_handling": 0.3, "rework": 0.3}, "zh"
            ).to_plotly_json(),
            default=lambda c: c.to_plotly_json(),
            ensure_ascii=False,
        )
        row = next(r for r in found["workers"] if r["id"] == walked[0])
        p = row["patrol"]
        cover = p["household_coverage"]
        assert f"巡查里程 = {p['distance_km']:.2f} 公里（2 个巡查日，{p['fixes']} 个定位点" in page
        assert f"住户覆盖率 = {cover['numerator']} 户次 / {cover['denominator']} 户次" in page
        assert "网格内时长占比 = " in page and "住户覆盖率 = 各巡查日经过" in page
        assert "巡查日 = 至少有一个可信定位点的日子" in page


def _stored(app: SecureApp) -> list[tuple[Any, ...]]:
    with app.services.db.read() as session:
        return [
            tuple(getattr(r, c.name) for c in PatrolDay.__table__.columns)
            for r in session.scalars(select(PatrolDay).order_by(PatrolDay.day, PatrolDay.worker_id))
        ]


def test_stored_patrol_days_equal_the_live_summary(secure: SecureApp) -> None:
    """The scheduler's nightly ``patrol-days`` job stores each worker-day's summary; the
    rankings then read them and say exactly what they said from the fixes. A rerun changes
    nothing; a fix arriving late for a stored day recomputes that day (and only it)."""
    app = secure
    services = app.services
    db, tz, tracks = services.db, services.reference.calendar.tz, services.config.tracks
    first, last = PATROL_DAYS[0], PATROL_DAYS[-1]
    with _patrolled(app) as walked:
        app.clock.set(support.TOWN_NOW)
        app.user("leader-li", Role.LEADER)
        client, _ = app.signed_in("leader-li")
        url = f"/api/v1/rankings?from={FIRST}&to={LAST}"
        with app.generous():
            live = client.get(url).get_json()["workers"]  # nothing stored yet: from the fixes
        jobs = WatcherScheduler(
            db, services.reference, services.config, FixedClock(support.TOWN_NOW)
        )
        assert jobs.run_job("patrol-days")
        rows = _stored(app)
        assert len(rows) == 2 * len(walked)
        assert {r[0] for r in rows} == set(walked) and {r[1] for r in rows} == set(PATROL_DAYS)
        stored, computed = stored_days(db, None, first, last)
        assert computed == set(PATROL_DAYS)
        key = lambda d: (d.day, d.worker_id)  # noqa: E731
        assert sorted(stored, key=key) == sorted(
            live_days(db, tracks, tz, None, first, last), key=key
        )
        with app.generous():
            assert client.get(url).get_json()["workers"] == live
        # again: nothing stale, nothing written, the rows as they were
        assert refresh(db, tracks, tz, support.TOWN_NOW, 31) == 0
        assert jobs.run_job("patrol-days") and _stored(app) == rows
        # a late fix of the first day (received after its computation): that day only, again
        late = support.TOWN_NOW + timedelta(hours=1)
        with db.transaction() as session:
            session.execute(
                insert(PositionFix),
                [
                    {
                        "worker_id": walked[0],
                        "at": datetime.combine(first, time(23, 50), SHANGHAI),
                        "lon": 121.5,
                        "lat": 31.2,
                        "received_at": late,
                        "valid": False,
                        "flags": "jump",
                    }
                ],
            )
        assert refresh(db, tracks, tz, late + timedelta(hours=1), 31) == len(walked)
        again = _stored(app)
        assert [r for r in again if r[1] == last] == [r for r in rows if r[1] == last]
        moved = next(r for r in again if r[1] == first and r[0] == walked[0])
        before = next(r for r in rows if r[1] == first and r[0] == walked[0])
        assert moved[8] == before[8] + 1  # fixes_filtered: the late (flagged) fix counted
        stored, _ = stored_days(db, None, first, last)
        assert sorted(stored, key=key) == sorted(
            live_days(db, tracks, tz, None, first, last), key=key
        )


def test_the_patrol_days_job_back_fills_a_bounded_number_of_days(lite_secure: SecureApp) -> None:
    app = lite_secure
    services = app.services
    db, tz, tracks = services.db, services.reference.calendar.tz, services.config.tracks
    later = support.TOWN_NOW + timedelta(days=3)  # the job missed three nights
    with _patrolled(app) as walked:
        assert refresh(db, tracks, tz, later, 31, limit=1) == len(walked)
        assert {r[1] for r in _stored(app)} == {PATROL_DAYS[-1]}  # the newest first
        assert refresh(db, tracks, tz, later, 31, limit=1) == len(walked)
        assert {r[1] for r in _stored(app)} == set(PATROL_DAYS)
        assert refresh(db, tracks, tz, later, 31, limit=1) == 0
        # outside the window: not looked at
        assert refresh(db, tracks, tz, later + timedelta(days=60), 31) == 0
