"""The demo's first ten minutes (docs/demo.md) on a fresh demo database, on a controlled clock.

A fresh demo database is what ``python run.py`` makes at its first start: the demo region with
``[demo] history_days`` of history, seeded at the start. Then the demo simulator (the one the
demo runs, with the demo's configuration) and the supervision watchers (the scheduler's own jobs,
every minute from the start) run on a fixed clock moved forward in steps of ``TICK``. The test
finds, at the start, one to three red villages of 31, a call list that is not empty (with a
logged call) and no alarm from the history; and then every item of the table in docs/demo.md no
later than the minute it says.

Two starts: a working Monday morning and a Saturday night (no office hours, no working time for
the deadlines: the opening must not depend on the hour). SQLite, the demo's own backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.clock import FixedClock
from dashboard.config import parse_config
from dashboard.container import Services
from dashboard.domain.permissions import UNLIMITED
from dashboard.read.wall import wall_snapshot
from dashboard.scheduler import WatcherScheduler
from dashboard.seed.loader import seed
from dashboard.services.villages import rule_from_config
from dashboard.simulator.launch import demo_simulator
from dashboard.storage.migrate import upgrade
from dashboard.storage.models import (
    Attachment,
    CallListEntry,
    CallLogEntry,
    CaseEvent,
    OutboxEvent,
    Reminder,
    SupervisionOrder,
    Village,
)
from dashboard.wiring import build_services
from streams.protocol import TOPIC_CASE, TOPIC_VILLAGE
from tests.integration.support import SHANGHAI

DEMO_MD = Path(__file__).resolve().parents[2] / "docs" / "demo.md"
STARTS = {
    "monday-morning": datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI),
    "saturday-night": datetime(2026, 11, 28, 22, 30, tzinfo=SHANGHAI),
}
TICK = timedelta(seconds=10)
WATCH_EVERY = timedelta(seconds=60)  # [supervision] deadline/village_interval_seconds
DURATION = timedelta(minutes=10)


@dataclass
class Opening:
    services: Services
    start: datetime
    first: dict[str, datetime]  # item of docs/demo.md -> when it first happened


def _demo_rows() -> dict[str, float]:
    """``item -> minute`` from the table of docs/demo.md (rows ``| ≤ N | … | `item` |``)."""
    rows = re.findall(
        r"^\|\s*≤\s*(\d+(?:\.\d+)?)\s*\|.*`([a-z_]+)`\s*\|\s*$", DEMO_MD.read_text(), re.M
    )
    return {item: float(minute) for minute, item in rows}


def _fresh_demo(tmp: Path, start: datetime) -> Services:
    config = parse_config(
        f'[server]\ndata_dir = "{tmp}"\n[database]\nurl = "sqlite:///{tmp / "demo.db"}"\n',
        "demo test config",
    )
    services = build_services(config, FixedClock(start))
    upgrade(services.db.engine)
    demo = config.demo
    seed(
        services.db,
        services.reference,
        rule_from_config(config.rules.village),
        scale=demo.scale,
        seed=demo.seed,
        days=demo.history_days,
        now=start,
    )
    services.locator.reload()
    return services


def _first_happenings(services: Services, start: datetime) -> dict[str, datetime]:
    """When each item of docs/demo.md first happened after ``start`` (read from the database:
    the audit trail, the watchers' rows, and the outbox the screens are fed from)."""
    first: dict[str, datetime] = {}

    def seen(item: str, at: datetime | None) -> None:
        if at is not None and at >= start and (item not in first or at < first[item]):
            first[item] = at

    with services.db.read() as session:
        for action in ("report", "dispatch", "close"):
            seen(
                action,
                session.scalar(
                    select(func.min(CaseEvent.at)).where(
                        CaseEvent.action == action, CaseEvent.at >= start
                    )
                ),
            )
        for event in session.scalars(
            select(CaseEvent).where(CaseEvent.action == "handled", CaseEvent.at >= start)
        ):
            ids = event.attachments.get("ids") or []
            stored = session.scalars(select(Attachment.id).where(Attachment.id.in_(ids))).all()
            if ids and len(stored) == len(ids):  # real photos, shown on the case page
                seen("handled", event.at)
        seen(
            "reminder",
            session.scalar(select(func.min(Reminder.raised_at)).where(Reminder.raised_at >= start)),
        )
        seen(
            "order",
            session.scalar(
                select(func.min(SupervisionOrder.issued_at)).where(
                    SupervisionOrder.issued_at >= start
                )
            ),
        )
        red_at: dict[str, datetime] = {}
        outbox = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.topic.in_([TOPIC_CASE, TOPIC_VILLAGE]))
            .order_by(OutboxEvent.id)
        )
        for row in outbox:
            p = row.payload
            if (
                row.topic == TOPIC_CASE
                and p.get("emergency") is True
                and p.get("action") == "report"
            ):
                seen("alarm", row.created_at)  # streams.screens.is_new_emergency: the alarm
            elif row.topic == TOPIC_VILLAGE and p["status"] == "red":
                red_at.setdefault(p["code"], row.created_at)
                seen("red", row.created_at)
            elif row.topic == TOPIC_VILLAGE and p["code"] in red_at:
                seen("red_and_back", row.created_at)
    return first


@pytest.fixture(scope="module", params=list(STARTS))
def opening(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Opening]:
    start = STARTS[request.param]
    services = _fresh_demo(tmp_path_factory.mktemp(f"demo-{request.param}"), start)
    yield Opening(services, start, {})
    services.close()


def test_the_demo_opens_on_a_town_in_mid_story(opening: Opening) -> None:
    services, start = opening.services, opening.start
    with services.db.read() as session:
        red = session.scalars(select(Village).where(Village.status == "red")).all()
        villages = session.scalar(select(func.count()).select_from(Village))
        listed = session.scalars(select(CallListEntry).where(CallListEntry.status == "open")).all()
        calls = session.scalars(select(CallLogEntry)).all()
        alarms = wall_snapshot(session, UNLIMITED, start, SHANGHAI, alarms_since=start)["alarms"]
        history = wall_snapshot(session, UNLIMITED, start, SHANGHAI)["alarms"]
    assert villages == 31 and 1 <= len(red) <= 3, [(v.name, v.red_reasons) for v in red]
    assert listed and all(e.red_since <= start - timedelta(hours=2) for e in listed)
    assert {e.village_code for e in listed} <= {v.code for v in red}
    contacts = {v.code: (v.contact_name, v.contact_phone) for v in red}
    assert calls and all(c.callee and c.phone for c in calls)
    assert any((c.callee, c.phone) == contacts.get(c.village_code) for c in calls)
    assert history and alarms == []  # an open emergency of the history, and it does not ring


def test_every_item_of_docs_demo_md_happens_in_the_first_ten_minutes(opening: Opening) -> None:
    services, start = opening.services, opening.start
    clock = services.clock
    assert isinstance(clock, FixedClock)
    simulator = demo_simulator(services)
    watchers = WatcherScheduler(services.db, services.reference, services.config, clock)
    now, next_watch = start, start
    while now <= start + DURATION:
        clock.set(now)
        if now >= next_watch:  # the scheduler's first run is at the start, then every minute
            assert watchers.run_job("deadline") and watchers.run_job("village")
            next_watch += WATCH_EVERY
        simulator.step(now)
        now += TICK
    assert not simulator.stats.refused, simulator.stats.refused
    assert simulator.stats.adopted > 100  # the history's open cases go on
    first = _first_happenings(services, start)
    expected = _demo_rows()
    assert set(expected) == {
        "report", "dispatch", "handled", "close", "red", "red_and_back", "reminder", "order",
        "alarm",
    }  # fmt: skip
    minutes = {item: (at - start) / timedelta(minutes=1) for item, at in first.items()}
    late = {item: minutes.get(item) for item, m in expected.items() if minutes.get(item, 99) > m}
    assert not late, f"later than docs/demo.md says (minutes): {late}; all: {minutes}"
