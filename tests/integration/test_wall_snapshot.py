"""The wall's snapshot (dashboard.read.wall) on the seeded town, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, update

from dashboard.domain.metrics import (
    Period,
    by_department,
    closure_rate,
    on_time_closure_rate,
    on_time_handling_rate,
)
from dashboard.domain.permissions import UNLIMITED, Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.read.wall import wall_snapshot
from dashboard.services.alarms import record_alarm_ack
from dashboard.services.cases import CaseReport
from dashboard.services.metrics import case_facts, period_counts
from dashboard.storage.models import Case, GridWorker, WorkerPosition
from tests.integration.support import TOWN_NOW, Town

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = TOWN_NOW.astimezone(UTC)  # Monday 09:00 in Shaoxing = 01:00 UTC


def report(town: Town, grid: int, at: datetime, **extra: Any) -> int:
    town.clock.set(at)
    g = town.grid(grid)
    fields: dict[str, Any] = {
        "category_code": "05001",
        "description": "路边垃圾堆积",
        "source": Source.GRID_WORKER,
    } | extra
    record = town.cases.report(
        CaseReport(lon=g.lon, lat=g.lat, actor="gw-0001", role=Role.GRID_WORKER, **fields)
    )
    town.clock.set(NOW)
    return record.id


def snap(town: Town, scope: Scope = UNLIMITED) -> dict[str, Any]:
    with town.db.read() as session:
        return wall_snapshot(session, scope, NOW, SHANGHAI)


@pytest.fixture
def clean_positions(town: Town) -> Iterator[Town]:
    yield town
    with town.db.transaction() as session:
        session.execute(delete(WorkerPosition))


def test_reports_are_counted_by_day_source_category_and_hour(town: Town) -> None:
    old = report(town, 0, NOW - timedelta(hours=30), source=Source.HOTLINE)
    yesterday = report(town, 0, NOW - timedelta(hours=10), source=Source.HOTLINE)
    early = [report(town, 1, NOW - timedelta(minutes=50)) for _ in range(2)]
    latest = report(town, 2, NOW, source=Source.PUBLIC, category_code="01001")
    data = snap(town)
    assert data["kpis"]["reported_today"] == 3  # the day started at 00:00 Shaoxing time
    assert data["kpis"]["open"] == 5
    assert data["sources"] == {"hotline": 1, "grid_worker": 2, "public": 1}  # last 24 h
    assert data["categories"] == [
        {"code": "05001", "count": 3},
        {"code": "01001", "count": 1},
    ]
    assert data["trend"]["start"] == "2026-11-22T02:00:00+00:00"
    reported = data["trend"]["reported"]
    assert len(reported) == 24 and sum(reported) == 4
    assert reported[13] == 1 and reported[22] == 2 and reported[23] == 1
    assert [c["id"] for c in data["feed"]] == [latest, *reversed(early), yesterday, old]
    assert data["feed"][0]["source"] == "public" and data["feed"][0]["open"] is True
    assert data["day_start"] == "2026-11-22T16:00:00+00:00"
    assert data["day_end"] == "2026-11-23T16:00:00+00:00"


def test_red_villages_and_unacknowledged_alarms(town: Town) -> None:
    village = town.grid(0).village_code
    for minutes in (4, 3, 2, 1, 0):  # in time order: each report refreshes the village light
        report(town, 0, NOW - timedelta(minutes=minutes))
    fire = report(
        town,
        40,
        NOW,
        source=Source.EMERGENCY,
        category_code="03001",
        description='<b>厂房起火</b> "浓烟"',
    )
    data = snap(town)
    red = {v["code"] for v in data["villages"] if v["status"] == "red"}
    assert village in red and town.grid(40).village_code in red
    assert data["kpis"]["red_villages"] == len(red) == 2
    assert [a["case_id"] for a in data["alarms"]] == [fire]
    assert data["alarms"][0]["description"] == '<b>厂房起火</b> "浓烟"'
    assert data["alarms"][0]["emergency"] is True
    record_alarm_ack(town.db, fire, "张三", NOW)
    assert snap(town)["alarms"] == []


def test_only_emergencies_reported_since_the_server_started_ring(town: Town) -> None:
    before = report(town, 40, NOW - timedelta(hours=1), source=Source.EMERGENCY)
    since = report(town, 41, NOW - timedelta(minutes=5), source=Source.EMERGENCY)
    with town.db.read() as session:
        data = wall_snapshot(session, UNLIMITED, NOW, SHANGHAI, NOW - timedelta(minutes=10))
    assert [a["case_id"] for a in data["alarms"]] == [since]
    assert before in {c["id"] for c in data["feed"]}  # history stays in the feed, silent
    assert [a["case_id"] for a in snap(town)["alarms"]] == [since, before]  # no start given


def test_the_scope_limits_every_panel(town: Town) -> None:
    report(town, 0, NOW)
    other_village = town.grid(60).village_code
    assert other_village != town.grid(0).village_code
    data = snap(town, Scope(area_code=other_village))
    assert data["kpis"]["reported_today"] == 0 and data["feed"] == []
    assert sum(data["trend"]["reported"]) == 0 and data["sources"] == {}
    assert [v["code"] for v in data["villages"]] == [other_village]
    mine = snap(town, Scope(area_code=town.grid(0).village_code))
    assert mine["kpis"]["reported_today"] == 1 and len(mine["feed"]) == 1


def _set(town: Town, case_id: int, **values: Any) -> None:
    with town.db.transaction() as session:
        session.execute(update(Case).where(Case.id == case_id).values(**values))


def test_a_department_wall_counts_only_cases_dispatched_to_it(town: Town) -> None:
    """Issue 12: the wall's scope had lost the department rule the case list and the API apply
    (``dispatched_at IS NOT NULL``), so a case assigned but not yet dispatched showed up."""
    waiting, dispatched = report(town, 0, NOW), report(town, 1, NOW)
    _set(town, waiting, department_code="urban", dispatched_at=None)
    _set(town, dispatched, department_code="urban", dispatched_at=NOW)
    data = snap(town, Scope(department_code="urban"))
    assert data["kpis"]["reported_today"] == 1
    assert [item["id"] for item in data["feed"]] == [dispatched]


def test_rates_overdue_and_departments_follow_the_metric_definitions(town: Town) -> None:
    day = timedelta(days=1)
    ids = [report(town, i, NOW - timedelta(days=5, minutes=i)) for i in range(8)]
    registered = NOW - 4 * day
    common = {"registered_at": registered, "dispatch_count": 1, "department_code": "urban"}
    closed = {"status": "closed", "open": False}
    # closed on time, closed late, closed without a deadline (self-handled on the spot)
    _set(town, ids[0], **common, **closed, deadline=NOW - day, handled_at=NOW - 2 * day,
         closed_at=NOW - 2 * day)  # fmt: skip
    _set(town, ids[1], **common, **closed, deadline=NOW - 3 * day, handled_at=NOW - 2 * day,
         closed_at=NOW - 2 * day)  # fmt: skip
    _set(town, ids[2], status="closed", open=False, closed_at=NOW - day)
    # open overdue: dispatched and unhandled; handled but not yet checked; suspended (not overdue)
    _set(town, ids[3], **common, status="handling", deadline=NOW - day)
    _set(town, ids[4], **common, status="handled", deadline=NOW - day, handled_at=NOW - 2 * day)
    _set(town, ids[5], **common, status="suspended", deadline=NOW - day)
    # open, deadline ahead (the next deadline to pass); voided (never counts)
    _set(town, ids[6], **common, status="handling", deadline=NOW + timedelta(hours=3))
    _set(town, ids[7], status="voided", open=False, voided_at=NOW - day)

    data = snap(town)
    with town.db.read() as session:
        counts = period_counts(session, NOW - 30 * day, NOW, NOW)
        period = Period(NOW - 30 * day, NOW)
        departments = by_department(case_facts(session, period, NOW), period, NOW)
    kpis = data["kpis"]
    assert (counts.closed, counts.closed_on_time, counts.open_overdue) == (3, 2, 2)
    assert kpis["closure_rate"] == closure_rate(counts) == 60.0
    assert kpis["on_time_rate"] == on_time_closure_rate(counts) == 40.0
    assert kpis["overdue_now"] == counts.open_overdue == 2
    assert kpis["closed_today"] == 0 and kpis["open"] == 4
    assert data["next_deadline"] == (NOW + timedelta(hours=3)).isoformat()
    (urban,) = data["departments"]
    assert urban["code"] == "urban" and urban["open"] == 4 and urban["overdue"] == 2
    assert urban["handled"] == departments["urban"].handled == 3
    assert urban["on_time_rate"] == on_time_handling_rate(departments["urban"])


def test_workers_on_patrol_are_those_with_a_recent_fix(clean_positions: Town) -> None:
    town = clean_positions
    with town.db.read() as session:
        workers = session.query(GridWorker).order_by(GridWorker.id).limit(3).all()
    with town.db.transaction() as session:
        for worker, age in zip(workers, (1, 9, 11), strict=True):
            session.add(
                WorkerPosition(
                    worker_id=worker.id,
                    at=NOW - timedelta(minutes=age),
                    lon=worker.home_lon,
                    lat=worker.home_lat,
                    grid_code=worker.grid_code,
                )
            )
    data = snap(town)
    assert data["kpis"]["on_patrol"] == 2  # a fix older than 10 minutes is off patrol
    assert sorted(p[0] for p in data["positions"]) == sorted(w.id for w in workers[:2])
    elsewhere = snap(town, Scope(area_code="330681109999"))
    assert elsewhere["positions"] == []


def test_a_fixed_number_of_queries_whatever_the_size(town: Town) -> None:
    """Grouped queries only: more cases and villages never mean more statements."""

    def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(town.db.engine, "before_cursor_execute", count)
        try:
            snap(town)
        finally:
            event.remove(town.db.engine, "before_cursor_execute", count)
        return len(seen)

    empty = statements()
    for i in range(12):
        report(town, i * 7, NOW - timedelta(minutes=12 - i))
    assert statements() == empty <= 12
