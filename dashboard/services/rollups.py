"""The nightly roll-up: one ``daily_rollups`` row per local day × town × category × department.

Counts (by the case's current town, category — the registered one, else the reported one — and
department; "" when none):

* ``reported``, ``emergencies``: cases reported that day (emergencies: one-click or flagged);
* ``closed``, ``closed_on_time``: cases closed that day (on time: ``closed_on_time``);
* ``reworked``: failed checks (返工, ``check_fail`` events) that day;
* ``open_end``: cases open at the end of the day (reported before it, neither closed nor voided
  before it); ``overdue_open``: of those, past their deadline at the end of the day.

A day is recomputed from scratch (its rows deleted and written again in one transaction), so a
roll-up can run any number of times, and re-running an old day after late changes corrects it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from dashboard.reference import ReferenceData
from dashboard.storage.db import Database
from dashboard.storage.models import Case, CaseEvent, DailyRollup

logger = logging.getLogger(__name__)

COUNTS = (
    "reported",
    "closed",
    "closed_on_time",
    "overdue_open",
    "open_end",
    "reworked",
    "emergencies",
)
_CATEGORY = func.coalesce(Case.category_code, Case.reported_category, "")
_DEPARTMENT = func.coalesce(Case.department_code, "")
_GROUP = (Case.town_code, _CATEGORY, _DEPARTMENT)


def day_bounds(day: date, reference: ReferenceData) -> tuple[datetime, datetime]:
    """The UTC instants where the local ``day`` starts and ends (half-open)."""
    tz = reference.calendar.tz
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


def _ones(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _counts(
    session: Session, start: datetime, end: datetime
) -> dict[tuple[str, str, str], dict[str, int]]:
    table: dict[tuple[str, str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(COUNTS, 0)
    )

    def add(rows: Iterable[Any], names: tuple[str, ...]) -> None:
        for row in rows:
            key = (row[0], row[1], row[2])
            for name, value in zip(names, row[3:], strict=True):
                table[key][name] += int(value or 0)

    reported = select(*_GROUP, func.count(), _ones(Case.emergency.is_(True))).where(
        Case.reported_at >= start, Case.reported_at < end
    )
    add(session.execute(reported.group_by(*_GROUP)), ("reported", "emergencies"))
    closed = select(*_GROUP, func.count(), _ones(Case.closed_on_time.is_(True))).where(
        Case.closed_at >= start, Case.closed_at < end
    )
    add(session.execute(closed.group_by(*_GROUP)), ("closed", "closed_on_time"))
    reworked = (
        select(*_GROUP, func.count())
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(CaseEvent.action == "check_fail", CaseEvent.at >= start, CaseEvent.at < end)
    )
    add(session.execute(reworked.group_by(*_GROUP)), ("reworked",))
    open_at_end = and_(
        Case.reported_at < end,
        or_(Case.closed_at.is_(None), Case.closed_at >= end),
        or_(Case.voided_at.is_(None), Case.voided_at >= end),
    )
    overdue = and_(Case.deadline.is_not(None), Case.deadline <= end)
    still_open = select(*_GROUP, func.count(), _ones(overdue)).where(open_at_end)
    add(session.execute(still_open.group_by(*_GROUP)), ("open_end", "overdue_open"))
    return table


def run_rollups(db: Database, reference: ReferenceData, day: date, now: datetime) -> int:
    """Recompute the roll-up of the local ``day`` (``now``: when, for ``computed_at``); returns
    the number of rows written."""
    start, end = day_bounds(day, reference)
    computed = now
    with db.transaction() as session:
        table = _counts(session, start, end)
        session.execute(delete(DailyRollup).where(DailyRollup.day == day.isoformat()))
        rows = [
            {
                "day": day.isoformat(),
                "town_code": town,
                "category_code": category,
                "department_code": department,
                **counts,
                "computed_at": computed,
            }
            for (town, category, department), counts in table.items()
            if any(counts.values())
        ]
        if rows:
            session.execute(insert(DailyRollup), rows)
    logger.debug("roll-up of %s: %d rows", day, len(rows))
    return len(rows)


def missing_days(db: Database, reference: ReferenceData, today: date, back: int) -> list[date]:
    """Days in the ``back`` days before ``today`` that have cases but no roll-up rows yet."""
    if back <= 0:
        return []
    first = today - timedelta(days=back)
    with db.read() as session:
        done = set(
            session.scalars(
                select(DailyRollup.day).where(DailyRollup.day >= first.isoformat()).distinct()
            )
        )
        earliest = session.scalar(select(func.min(Case.reported_at)))
    if earliest is None:
        return []
    begin = max(first, earliest.astimezone(reference.calendar.tz).date())
    days = []
    day = begin
    while day < today:
        if day.isoformat() not in done:
            days.append(day)
        day += timedelta(days=1)
    return days
