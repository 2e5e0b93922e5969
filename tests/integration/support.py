"""Shared by the integration tests: the seeded town's handles (``SeededTown``, ``Town``), a fresh
PostgreSQL database, and builders for a case report, an action and a case walked through steps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from dashboard.clock import FixedClock
from dashboard.domain.lifecycle import ActionRequest
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.domain.village_status import VillageRule
from dashboard.reference import ReferenceData
from dashboard.services.cases import CaseRecord, CaseReport, CaseService
from dashboard.services.regions import RegionLocator
from dashboard.storage import models
from dashboard.storage.db import Database
from dashboard.storage.migrate import MIGRATIONS
from dashboard.storage.models import Case, CaseEvent, Grid, OutboxEvent, Village

# The newest revision of the migration scripts (0001 when these tests were written).
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 23 November 2026, 09:00 in Shaoxing: a working day inside the morning work period.
TOWN_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
TOWN_SEED = 7


@dataclass(frozen=True)
class SeededTown:
    """A migrated database holding the seeded town (no case history), and what reads it."""

    db: Database
    reference: ReferenceData
    rule: VillageRule
    locator: RegionLocator


@dataclass
class Town:
    """One test's view of the seeded town: its clock and a CaseService over the database."""

    db: Database
    reference: ReferenceData
    rule: VillageRule
    locator: RegionLocator
    clock: FixedClock
    cases: CaseService

    @property
    def backend(self) -> str:
        return self.db.dialect

    def grid(self, index: int = 0) -> Grid:
        """The ``index``-th grid (by code); its centroid lies inside it (the seed makes sure)."""
        with self.db.read() as session:
            return session.scalars(select(Grid).order_by(Grid.code).offset(index).limit(1)).one()

    def village(self, code: str) -> Village:
        with self.db.read() as session:
            row = session.get(Village, code)
            assert row is not None, f"no village {code}"
            return row

    def case(self, case_id: int) -> Case:
        with self.db.read() as session:
            row = session.get(Case, case_id)
            assert row is not None, f"no case {case_id}"
            return row

    def counts(self) -> dict[str, int]:
        """Rows in the tables a case change writes to."""
        with self.db.read() as session:
            return {
                model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Case, CaseEvent, OutboxEvent)
            }

    def outbox(self, topic: str | None = None) -> list[OutboxEvent]:
        with self.db.read() as session:
            query = select(OutboxEvent).order_by(OutboxEvent.id)
            if topic is not None:
                query = query.where(OutboxEvent.topic == topic)
            return list(session.scalars(query))

    def events(self, case_id: int | None = None) -> list[CaseEvent]:
        with self.db.read() as session:
            query = select(CaseEvent).order_by(CaseEvent.id)
            if case_id is not None:
                query = query.where(CaseEvent.case_id == case_id)
            return list(session.scalars(query))


@contextmanager
def fresh_postgres_database(server_url: str, label: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``server_url``; dropped on exit."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"gcc_{label}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Who does what in the command room (the role is recorded with every step).
ACTORS: dict[Action, tuple[str, Role]] = {
    Action.ACCEPT: ("op-li", Role.DISPATCHER),
    Action.VOID: ("op-li", Role.DISPATCHER),
    Action.REQUEST_VERIFY: ("op-li", Role.DISPATCHER),
    Action.VERIFY: ("gw-0001", Role.GRID_WORKER),
    Action.REGISTER: ("shift-wang", Role.COMMANDER),
    Action.DISPATCH: ("op-li", Role.DISPATCHER),
    Action.START: ("dept-zhao", Role.DEPARTMENT),
    Action.RETURN: ("dept-zhao", Role.DEPARTMENT),
    Action.EXTEND: ("shift-wang", Role.COMMANDER),
    Action.SUSPEND: ("shift-wang", Role.COMMANDER),
    Action.RESUME: ("shift-wang", Role.COMMANDER),
    Action.HANDLED: ("dept-zhao", Role.DEPARTMENT),
    Action.CHECK_PASS: ("gw-0001", Role.GRID_WORKER),
    Action.CHECK_FAIL: ("gw-0001", Role.GRID_WORKER),
    Action.SELF_HANDLE: ("gw-0001", Role.GRID_WORKER),
    Action.CLOSE: ("shift-wang", Role.COMMANDER),
    Action.EVALUATE: ("sup-chen", Role.SUPERVISOR),
}
# What each action needs besides actor and role, when the test does not say otherwise.
_NEEDS: dict[Action, dict[str, Any]] = {
    Action.VOID: {"reason": "duplicate of an earlier report"},
    Action.SUSPEND: {"reason": "the owner is away until tomorrow"},
    Action.HANDLED: {"attachments": ("photo-result",)},
    Action.SELF_HANDLE: {"attachments": ("photo-on-the-spot",)},
    Action.CHECK_FAIL: {"reason": "rubbish still on the verge"},
    Action.RETURN: {"reason": "not our responsibility"},
    Action.EVALUATE: {"satisfaction": 5},
}
# Reported → closed through the department (the ordinary loop).
TO_CLOSED = (
    Action.ACCEPT,
    Action.REGISTER,
    Action.DISPATCH,
    Action.START,
    Action.HANDLED,
    Action.CHECK_PASS,
    Action.CLOSE,
)


def make_report(town: Town, grid_index: int = 0, **overrides: Any) -> CaseReport:
    """A grid worker's report at the centroid of the ``grid_index``-th grid."""
    grid = town.grid(grid_index)
    values: dict[str, Any] = {
        "category_code": "01002",  # 邻里纠纷-like dispute, 5 working days, default: justice
        "description": "两户因排水沟堵塞发生争执",
        "lon": grid.lon,
        "lat": grid.lat,
        "source": Source.GRID_WORKER,
        "actor": "gw-0001",
        "role": Role.GRID_WORKER,
    }
    values.update(overrides)
    return CaseReport(**values)


def request(action: Action, **overrides: Any) -> ActionRequest:
    actor, role = ACTORS[action]
    values: dict[str, Any] = {"actor": actor, "role": role, **_NEEDS.get(action, {})}
    values.update(overrides)
    return ActionRequest(action, **values)


def act(
    town: Town, case_id: int, action: Action, at: datetime | None = None, **overrides: Any
) -> CaseRecord:
    """Move the clock to ``at`` (if given), then apply ``action`` through the service."""
    if at is not None:
        town.clock.set(at)
    return town.cases.act(case_id, request(action, **overrides))


def walk(town: Town, case_id: int, actions: tuple[Action, ...]) -> CaseRecord:
    record = town.cases.get(case_id)
    for action in actions:
        record = act(town, case_id, action)
    return record


# What tests add to a seeded region, in an order that deletes children before parents: cases
# and everything hanging off them, what the watchers raised, saved layouts, the outbox.
CREATED_BY_TESTS: tuple[type, ...] = (
    *(models.WebhookDelivery, models.WebhookSubscription),  # issue 17
    *(models.Open311Update, models.Open311Request),
    *(models.OutboxEvent, models.Reminder, models.SupervisionOrder, models.CallLogEntry),
    *(models.CallListEntry, models.PatrolFlag, models.DailyRollup, models.WatcherRun),
    *(models.SchedulerLease, models.CameraLayout, models.FieldCall, models.Attachment),
    models.CaseEvent,
    *(models.TrendRollup, models.TrendRollupMonth, models.TrendDaily, models.TrendDailyMonth),
    *(models.TrendCategory, models.TrendCategoryMonth, models.TrendSource),
    *(models.TrendSourceMonth, models.TrendHour, models.TrendHourMonth, models.TrendCell),
    *(models.TrendCellMonth, models.TrendSeries, models.TrendSeriesWeek, models.TrendOverdue),
    *(models.TrendMark, models.TrendState),
    models.Case,
    models.Campaign,
)


def token_scope(session: Any, role: Role, name: str, **given: Any) -> dict[str, Any]:
    """The scope a test's token of ``role`` gets when the test names none (tokens must carry
    their role's scope): a department token the justice office's (the default department of
    the 01002 dispute the tests report); a phone the worker named ``name`` if there is one,
    else the first worker of the first grid's village; an integration the whole deployment."""
    scope = dict(given)
    if role is Role.DEPARTMENT:
        scope.setdefault("department_code", "justice")
    elif role is Role.GRID_WORKER and not scope.get("worker_id"):
        worker = session.get(models.GridWorker, name)
        if worker is None:
            first_grid = session.scalars(select(Grid).order_by(Grid.code).limit(1)).one()
            worker = session.scalars(
                select(models.GridWorker)
                .where(models.GridWorker.village_code == first_grid.village_code)
                .order_by(models.GridWorker.id)
                .limit(1)
            ).one()
        scope["worker_id"] = worker.id
    elif role is Role.INTEGRATION and not scope.get("area_code"):
        scope.setdefault("all_areas", True)
    return scope
