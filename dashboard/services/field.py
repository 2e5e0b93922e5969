"""What a grid worker's phone reads (the field app, issue 14): their worker record and grid, the
tasks waiting in their grid, their own reports with the trail, and their track of today.

Scoping: everything here is the signed-in worker's own — tasks are the cases of *their grid*
(核实: a public report sent to verify; 核查: a department's fix to check on site), reports are the
cases *they* reported (the report's actor is their user name or their worker id: the simulator and
a phone token act as the worker id). A principal without a worker record gets nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.case_light import case_light
from dashboard.domain.roles import Role
from dashboard.domain.status import CaseStatus
from dashboard.reference import ReferenceData
from dashboard.security.principal import Principal
from dashboard.storage.models import (
    Case,
    CaseEvent,
    Grid,
    GridWorker,
    PositionFix,
    Town,
    Village,
)

MAX_TASKS = 100
MAX_REPORTS = 50
MAX_TRACK = 3_000  # fixes of today (one every 30 s for a 24-hour day is 2,880)

# Task kinds: the status a case waits in for the grid worker, and the actions that answer it.
TASK_STATUSES = {CaseStatus.VERIFYING.value: "verify", CaseStatus.HANDLED.value: "check"}


@dataclass(frozen=True)
class FieldContext:
    reference: ReferenceData
    now: datetime
    yellow_at: float


def worker_of(session: Session, principal: Principal) -> GridWorker | None:
    """The worker record a principal acts as (a bound user or a phone token), or None."""
    if principal.worker_id is None:
        return None
    worker = session.get(GridWorker, principal.worker_id)
    return worker if worker is not None and worker.active else None


def actor_names(principal: Principal) -> list[str]:
    """The names a worker's own reports carry as actor."""
    names = {principal.name}
    if principal.worker_id:
        names.add(principal.worker_id)
    return sorted(names)


def profile(session: Session, worker: GridWorker) -> dict[str, Any]:
    grid = session.get(Grid, worker.grid_code)
    village = session.get(Village, worker.village_code)
    town = session.get(Town, village.town_code) if village is not None else None
    return {
        "id": worker.id,
        "name": worker.name,
        "grid": worker.grid_code,
        "village": worker.village_code,
        "village_name": village.name if village is not None else "",
        "town_name": town.name if town is not None else "",
        "households": grid.households if grid is not None else 0,
        "grid_geometry": json.loads(grid.geometry) if grid is not None else None,
        "home": [worker.home_lon, worker.home_lat],
    }


def tasks(session: Session, worker: GridWorker, ctx: FieldContext) -> list[dict[str, Any]]:
    """Cases of the worker's grid waiting for them: verify (核实) and check (核查), oldest first."""
    query = (
        select(Case)
        .where(Case.grid_code == worker.grid_code, Case.status.in_(list(TASK_STATUSES)))
        .order_by(Case.updated_at, Case.id)
        .limit(MAX_TASKS)
    )
    return [task_row(row, ctx) for row in session.scalars(query)]


def task_row(row: Case, ctx: FieldContext) -> dict[str, Any]:
    light = case_light(
        row.registered_at,
        row.deadline,
        row.suspended_at,
        row.open,
        ctx.now,
        ctx.reference.calendar,
        ctx.yellow_at,
    )
    return _case_summary(row, ctx) | {
        "kind": TASK_STATUSES.get(row.status),
        "light": None if light is None else light.value,
        "waiting_since": row.updated_at.isoformat(),
    }


def my_reports(session: Session, principal: Principal, ctx: FieldContext) -> list[dict[str, Any]]:
    """The worker's own reports, newest first, each with its trail (action, status, time)."""
    reported = (
        select(CaseEvent.case_id)
        .where(CaseEvent.action == "report", CaseEvent.actor.in_(actor_names(principal)))
        .order_by(CaseEvent.case_id.desc())
        .limit(MAX_REPORTS)
    )
    ids = list(session.scalars(reported))
    if not ids:
        return []
    rows = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    trails: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    events = select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.id)
    for event in session.scalars(events):
        trails[event.case_id].append(
            {"action": event.action, "status": event.to_status, "at": event.at.isoformat()}
        )
    out = []
    for case_id in ids:
        row = rows[case_id]
        out.append(
            _case_summary(row, ctx)
            | {
                "status": row.status,
                "open": row.open,
                "trail": trails[case_id],
                "satisfaction": row.satisfaction,
            }
        )
    return out


def track_today(session: Session, worker_id: str, ctx: FieldContext) -> list[list[float]]:
    """The worker's fixes since local midnight, oldest first, as [lon, lat]."""
    tz = ctx.reference.calendar.tz
    local = ctx.now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    query = (
        select(PositionFix.lon, PositionFix.lat)
        .where(
            PositionFix.worker_id == worker_id,
            PositionFix.at >= midnight,
            PositionFix.at <= ctx.now + timedelta(minutes=5),
        )
        .order_by(PositionFix.at)
        .limit(MAX_TRACK)
    )
    return [[float(lon), float(lat)] for lon, lat in session.execute(query)]


def _case_summary(row: Case, ctx: FieldContext) -> dict[str, Any]:
    code = row.category_code or row.reported_category
    names = {"zh": code, "en": code}
    if code in ctx.reference.categories:
        sub = ctx.reference.categories.get(code)
        names = {"zh": sub.name_zh, "en": sub.name_en}
    return {
        "id": row.id,
        "status": row.status,
        "source": row.source,
        "emergency": row.emergency,
        "category": code,
        "category_name": names,
        "description": row.description,
        "address": row.address,
        "lon": row.lon,
        "lat": row.lat,
        "reported_at": row.reported_at.isoformat(),
        "deadline": row.deadline.isoformat() if row.deadline else None,
    }


# Who may start a video call to a grid worker: the command room, never a phone (issue 14).
CALLING_ROLES = frozenset({Role.ADMIN, Role.COMMANDER, Role.DISPATCHER, Role.SUPERVISOR})
