"""The watchers on both databases over the seeded town: idempotent (twice, after a restart), loss-
free (a late run catches up with the exact due moments), with their outbox events; the call list,
patrol flags, the roll-up against a hand count, and the lease between two schedulers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from dashboard.config import AppConfig
from dashboard.domain.deadlines import yellow_moment
from dashboard.domain.status import Action
from dashboard.domain.supervision import OUTSIDE, SILENT
from dashboard.scheduler import WatcherScheduler
from dashboard.services.rollups import run_rollups
from dashboard.services.watch_common import FEW, WatchSettings, enqueue_all, insert_new
from dashboard.services.watchers import (
    MomentCache,
    run_deadline_watch,
    run_patrol_watch,
    run_village_watch,
)
from dashboard.storage.db import Database
from dashboard.storage.models import (
    CallListEntry,
    CallLogEntry,
    DailyRollup,
    GridWorker,
    OutboxEvent,
    PatrolFlag,
    PositionFix,
    Reminder,
    SchedulerLease,
    SupervisionOrder,
    WatcherRun,
    WorkerPosition,
)
from tests.integration.support import TO_CLOSED, TOWN_NOW, Town, act, make_report, walk

_WATCHER_TABLES = (
    Reminder,
    SupervisionOrder,
    CallLogEntry,
    CallListEntry,
    PatrolFlag,
    DailyRollup,
    WatcherRun,
    SchedulerLease,
    PositionFix,
    WorkerPosition,
)
TO_DISPATCHED = (Action.ACCEPT, Action.REGISTER, Action.DISPATCH)


def _clear(town: Town) -> None:
    with town.db.transaction() as session:
        for model in _WATCHER_TABLES:
            session.execute(delete(model))


@pytest.fixture
def w(town: Town) -> Iterator[Town]:
    """The town with the watchers' tables empty (the town fixture deletes cases after us)."""
    _clear(town)
    yield town
    _clear(town)


def _rows(town: Town, model: Any) -> list[Any]:
    with town.db.read() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def _dispatched(town: Town, grid: int = 0) -> int:
    town.clock.set(TOWN_NOW)
    case_id = town.cases.report(make_report(town, grid)).id
    walk(town, case_id, TO_DISPATCHED)
    return case_id


def _deadline(town: Town, case_id: int) -> tuple[datetime, datetime]:
    case = town.case(case_id)
    assert case.registered_at is not None and case.deadline is not None
    return case.registered_at, case.deadline


# --- the deadline watcher -----------------------------------------------------------------------


def test_reminder_then_order_once_each_with_their_events(w: Town) -> None:
    case_id = _dispatched(w)
    start, deadline = _deadline(w, case_id)
    yellow = yellow_moment(start, deadline, w.reference.calendar)
    cache = MomentCache()

    before = run_deadline_watch(w.db, w.reference, yellow - timedelta(microseconds=1), cache=cache)
    assert before.items == 0
    first = run_deadline_watch(w.db, w.reference, yellow, cache=cache)
    again = run_deadline_watch(w.db, w.reference, yellow + timedelta(minutes=1), cache=cache)
    assert first.inserted == {"reminder": 1, "supervision_order": 0}
    assert again.items == 0
    (reminder,) = _rows(w, Reminder)
    assert (reminder.case_id, reminder.deadline, reminder.due_at) == (case_id, deadline, yellow)

    red = run_deadline_watch(w.db, w.reference, deadline, cache=cache)
    assert red.inserted == {"reminder": 0, "supervision_order": 1}
    (order,) = _rows(w, SupervisionOrder)
    assert (order.case_id, order.due_at, order.status, order.supervisor) == (
        case_id,
        deadline,
        "open",
        "system",
    )
    assert "时限" in order.opinion  # the default opinion, in Chinese

    (event,) = w.outbox("reminder")
    assert event.payload["id"] == reminder.id and event.payload["case_id"] == case_id
    case = w.case(case_id)
    assert event.payload["village"] == case.village_code and event.payload["town"] == case.town_code
    (event,) = w.outbox("supervision_order")
    assert event.payload["department"] == case.department_code
    assert set(event.payload) >= {"id", "stage", "deadline", "issued_at", "opinion", "status"}


def test_a_restart_neither_duplicates_nor_misses(w: Town) -> None:
    late = _dispatched(w, 0)
    soon = _dispatched(w, 1)
    _, late_deadline = _deadline(w, late)
    start, soon_deadline = _deadline(w, soon)
    # The watcher was down while both turned yellow and red: a run much later gets all four,
    # each dated when it became due.
    now = late_deadline + timedelta(days=3)
    first = run_deadline_watch(w.db, w.reference, now)
    assert first.inserted == {"reminder": 2, "supervision_order": 2}
    # A "restarted" process: new settings and cache objects, same data → nothing new.
    restarted = run_deadline_watch(w.db, w.reference, now, WatchSettings(), MomentCache())
    assert restarted.items == 0
    due = {r.case_id: r.due_at for r in _rows(w, Reminder)}
    assert due[soon] == yellow_moment(start, soon_deadline, w.reference.calendar)
    assert {o.case_id: o.due_at for o in _rows(w, SupervisionOrder)}[soon] == soon_deadline
    assert len(w.outbox("reminder")) == 2 and len(w.outbox("supervision_order")) == 2


def test_suspended_none_then_resumed_and_extended_against_the_new_deadline(w: Town) -> None:
    case_id = _dispatched(w)
    _, deadline = _deadline(w, case_id)
    act(w, case_id, Action.SUSPEND, at=TOWN_NOW + timedelta(hours=1))
    assert run_deadline_watch(w.db, w.reference, deadline + timedelta(days=1)).items == 0

    act(w, case_id, Action.RESUME, at=TOWN_NOW + timedelta(days=2))
    _, resumed = _deadline(w, case_id)
    assert resumed > deadline
    result = run_deadline_watch(w.db, w.reference, resumed)
    assert result.inserted == {"reminder": 1, "supervision_order": 1}
    assert {o.deadline for o in _rows(w, SupervisionOrder)} == {resumed}

    extended = resumed + timedelta(days=7)
    act(w, case_id, Action.EXTEND, at=resumed + timedelta(hours=1), deadline=extended)
    result = run_deadline_watch(w.db, w.reference, extended)
    assert result.inserted == {"reminder": 1, "supervision_order": 1}
    assert sorted(o.deadline for o in _rows(w, SupervisionOrder)) == [resumed, extended]


def test_not_registered_or_handled_cases_get_nothing(w: Town) -> None:
    w.clock.set(TOWN_NOW)
    accepted = w.cases.report(make_report(w, 0)).id
    act(w, accepted, Action.ACCEPT)
    handled = _dispatched(w, 1)
    walk(w, handled, (Action.START, Action.HANDLED))
    _, deadline = _deadline(w, handled)
    assert run_deadline_watch(w.db, w.reference, deadline + timedelta(days=30)).items == 0


# --- the call list -----------------------------------------------------------------------------


def test_call_list_entry_at_the_red_duration_once_then_resolved(w: Town) -> None:
    ids = []
    for minute in range(5):  # 5 open cases in one village: 100 % open → red
        w.clock.set(TOWN_NOW + timedelta(minutes=minute))
        ids.append(w.cases.report(make_report(w, 0)).id)
    village = w.village(w.case(ids[0]).village_code)
    assert village.status == "red" and village.red_since is not None
    due = village.red_since + w.rule.call_after
    settings = WatchSettings(village_rule=w.rule)

    assert (
        run_village_watch(w.db, w.reference, due - timedelta(microseconds=1), settings).items == 0
    )
    assert run_village_watch(w.db, w.reference, due, settings).inserted == {"call_list": 1}
    assert run_village_watch(w.db, w.reference, due + timedelta(minutes=5), settings).items == 0
    (entry,) = _rows(w, CallListEntry)
    assert (entry.village_code, entry.red_since, entry.listed_at) == (
        village.code,
        village.red_since,
        due,
    )
    (event,) = w.outbox("call_list")
    assert event.payload["village_name"] == village.name and event.payload["status"] == "open"

    for case_id in ids:  # all voided: the village leaves red, the entry resolves
        act(w, case_id, Action.VOID, at=due + timedelta(minutes=10))
    resolved = run_village_watch(w.db, w.reference, due + timedelta(minutes=11), settings)
    assert resolved.changed == {"call_list": 1}
    (entry,) = _rows(w, CallListEntry)
    assert entry.status == "resolved" and entry.resolved_at == due + timedelta(minutes=11)
    assert [e.payload["status"] for e in w.outbox("call_list")] == ["open", "resolved"]


# --- patrol ------------------------------------------------------------------------------------


def _workers(town: Town) -> list[GridWorker]:
    with town.db.read() as session:
        return list(session.scalars(select(GridWorker).order_by(GridWorker.id).limit(2)))


def _fix(town: Town, worker: GridWorker, at: datetime, lon: float, lat: float) -> None:
    where = town.locator(lon, lat)
    with town.db.transaction() as session:
        session.add(PositionFix(worker_id=worker.id, at=at, lon=lon, lat=lat, received_at=at))
        session.merge(
            WorkerPosition(
                worker_id=worker.id,
                at=at,
                lon=lon,
                lat=lat,
                grid_code=where.grid_code if where else None,
            )
        )


def test_patrol_flags_raised_once_and_cleared(w: Town) -> None:
    quiet, wanderer = _workers(w)
    home = w.grid(0)
    with w.db.read() as session:
        own = session.get(type(home), quiet.grid_code)
        away = session.scalars(
            select(type(home)).where(type(home).code != wanderer.grid_code).limit(1)
        ).one()
    assert own is not None
    _fix(w, quiet, TOWN_NOW, own.lon, own.lat)  # 09:00 inside, then nothing
    for minute in (0, 10, 25):  # the wanderer: outside from 09:00 on
        _fix(w, wanderer, TOWN_NOW + timedelta(minutes=minute), away.lon, away.lat)
    settings = WatchSettings(silent=timedelta(minutes=30), outside=timedelta(minutes=20))
    run = lambda at: run_patrol_watch(w.db, w.reference, at, settings, w.locator)  # noqa: E731

    assert run(TOWN_NOW + timedelta(minutes=19)).items == 0
    assert run(TOWN_NOW + timedelta(minutes=20)).inserted == {"patrol_flag": 1}  # outside
    assert run(TOWN_NOW + timedelta(minutes=30)).inserted == {"patrol_flag": 1}  # silent
    assert run(TOWN_NOW + timedelta(minutes=31)).items == 0
    flags = {f.kind: f for f in _rows(w, PatrolFlag)}
    assert flags[OUTSIDE].worker_id == wanderer.id and flags[OUTSIDE].since == TOWN_NOW
    assert flags[SILENT].worker_id == quiet.id and flags[SILENT].since == TOWN_NOW

    _fix(w, quiet, TOWN_NOW + timedelta(minutes=35), own.lon, own.lat)
    cleared = run(TOWN_NOW + timedelta(minutes=36))
    assert cleared.changed == {"patrol_flag": 1}
    assert {f.kind: f.cleared_at for f in _rows(w, PatrolFlag)}[SILENT] is not None
    events = [(e.payload["kind"], e.payload["cleared_at"] is None) for e in w.outbox("patrol_flag")]
    assert events == [(OUTSIDE, True), (SILENT, True), (SILENT, False)]


# --- roll-ups ----------------------------------------------------------------------------------


def test_rollup_matches_a_hand_count_and_is_idempotent(w: Town) -> None:
    day = TOWN_NOW.date()
    w.clock.set(TOWN_NOW)
    closed = w.cases.report(make_report(w, 0)).id
    walk(w, closed, TO_CLOSED)
    reworked = w.cases.report(make_report(w, 0)).id
    walk(w, reworked, (*TO_DISPATCHED, Action.START, Action.HANDLED, Action.CHECK_FAIL))
    emergency = w.cases.report(make_report(w, 0, emergency=True)).id
    late = _dispatched(w, 0)
    # Reported the next day: not in this day's roll-up.
    w.clock.set(TOWN_NOW + timedelta(days=1))
    w.cases.report(make_report(w, 0))

    assert run_rollups(w.db, w.reference, day, TOWN_NOW) > 0
    first = _rollup(w, day)
    assert run_rollups(w.db, w.reference, day, TOWN_NOW) == len(first)
    assert _rollup(w, day) == first
    totals = {k: sum(r[k] for r in first) for k in first[0] if isinstance(first[0][k], int)}
    assert totals == {
        "reported": 4,
        "closed": 1,
        "closed_on_time": 1,
        "open_end": 3,
        "overdue_open": 0,  # 5 working days: nothing past its deadline at the day's end
        "reworked": 1,
        "emergencies": 1,
    }
    assert {r["town_code"] for r in first} == {w.case(late).town_code}
    assert emergency and reworked


def _rollup(town: Town, day: Any) -> list[dict[str, Any]]:
    with town.db.read() as session:
        rows = session.scalars(
            select(DailyRollup)
            .where(DailyRollup.day == day.isoformat())
            .order_by(DailyRollup.town_code, DailyRollup.category_code, DailyRollup.department_code)
        )
        return [
            {c.name: getattr(r, c.name) for c in DailyRollup.__table__.c if c.name != "computed_at"}
            for r in rows
        ]


# --- the lease ---------------------------------------------------------------------------------


def test_one_scheduler_acts_and_the_other_takes_over_after_the_lease(w: Town) -> None:
    case_id = _dispatched(w)
    _, deadline = _deadline(w, case_id)
    w.clock.set(deadline + timedelta(minutes=1))
    config = AppConfig()
    a = WatcherScheduler(w.db, w.reference, config, w.clock, holder="host:1:a")
    b = WatcherScheduler(w.db, w.reference, config, w.clock, holder="host:2:b")

    assert a.run_job("deadline") is True
    assert b.run_job("deadline") is False  # a holds the lease
    assert a.run_job("deadline") is True  # renewed, nothing new
    assert a.lease.current_holder() == "host:1:a"
    w.clock.set(w.clock.now() + timedelta(seconds=config.supervision.lease_seconds))
    assert b.run_job("deadline") is True  # a's lease expired: b takes over
    assert a.run_job("deadline") is False
    assert b.lease.current_holder() == "host:2:b"

    with w.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SupervisionOrder)) == 1
        runs = list(session.execute(select(WatcherRun.holder, WatcherRun.items, WatcherRun.error)))
    assert [tuple(r) for r in runs] == [
        ("host:1:a", 2, None),
        ("host:1:a", 0, None),
        ("host:2:b", 0, None),
    ]


# --- the write helpers -------------------------------------------------------------------------


def test_insert_new_returns_only_new_rows_and_bulk_events(database: Database) -> None:
    table = SchedulerLease.__table__
    rows = [
        {"name": f"n{i}", "holder": "h", "expires_at": TOWN_NOW, "renewed_at": TOWN_NOW}
        for i in range(3)
    ]
    with database.transaction() as session:
        assert {r.name for r in insert_new(session, table, rows[:2], ["name"])} == {"n0", "n1"}
    with database.transaction() as session:
        assert [r.name for r in insert_new(session, table, rows, ["name"])] == ["n2"]
        assert insert_new(session, table, rows, ["name"]) == []
    villages = ("330681001001", "330681001002")
    payloads = [
        {"id": i, "village": villages[i % 2], "town": "330681001", "department": "urban"}
        for i in range(FEW + 10)
    ]
    with database.transaction() as session:
        enqueue_all(session, "reminder", payloads, TOWN_NOW)  # many: one summary per place
        enqueue_all(session, "reminder", payloads[:2], TOWN_NOW)  # a few: one event each
    with database.read() as session:
        events = list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    summaries = [e.payload for e in events[:2]]
    assert {e.topic for e in events[:2]} == {"supervision_batch"}
    assert sorted((s["village"], s["count"], s["kind"]) for s in summaries) == [
        (villages[0], (FEW + 10 + 1) // 2, "reminder"),
        (villages[1], (FEW + 10) // 2, "reminder"),
    ]
    assert all(s["town"] == "330681001" and s["department"] == "urban" for s in summaries)
    assert [(e.topic, e.payload["id"]) for e in events[2:]] == [("reminder", 0), ("reminder", 1)]
    assert events[0].published_at is None
