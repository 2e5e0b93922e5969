"""Reports per 7-day window, grouped in SQL: the counts the rising finder and the campaign
effect read.

Windows are ``[origin + 7k days, origin + 7(k+1) days)`` from a UTC ``origin`` (a local
midnight); the window index is computed by the database (SQLite: ``julianday``; PostgreSQL:
``extract(epoch …)``), so years of history come back as one row per group and window. In a
zone with daylight saving a window would be an hour off twice a year; the command room's
zone (Asia/Shanghai) has none. Voided reports are not counted (duplicates, invalid ones).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, literal, select
from sqlalchemy.orm import Session

from dashboard.domain.status import CaseStatus
from dashboard.storage.models import Case

WEEK_SECONDS = 7 * 86400
CATEGORY = func.coalesce(Case.category_code, Case.reported_category)
MAJOR = func.substr(CATEGORY, 1, 2)


def window_index(session: Session, origin: datetime) -> Any:
    """The SQL expression of a case's window index from ``origin``."""
    if session.get_bind().dialect.name == "sqlite":
        naive = origin.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        days = func.julianday(Case.reported_at) - func.julianday(literal(naive))
        # + half a millisecond: julianday's float must not put an instant on a boundary below it
        return cast((days + 0.5 / 86_400_000) / 7, Integer)  # >= 0 here: truncation is floor
    seconds = func.extract("epoch", Case.reported_at - literal(origin.astimezone(UTC)))
    return cast(func.floor(seconds / WEEK_SECONDS), Integer)


def counts_by(
    session: Session,
    origin: datetime,
    weeks: int,
    groups: tuple[Any, ...],
    *conditions: ColumnElement[bool],
) -> dict[tuple[Any, ...], list[int]]:
    """``{group values: [count per window]}`` for reports in the ``weeks`` windows."""
    end = origin + timedelta(days=7 * weeks)
    index = window_index(session, origin).label("w")
    query = (
        select(*groups, index, func.count())
        .where(
            Case.reported_at >= origin,
            Case.reported_at < end,
            Case.status != CaseStatus.VOIDED.value,
            *conditions,
        )
        .group_by(*groups, index)
    )
    table: dict[tuple[Any, ...], list[int]] = {}
    for row in session.execute(query):
        key, w, n = tuple(row[: len(groups)]), int(row[len(groups)]), int(row[-1])
        if 0 <= w < weeks:
            table.setdefault(key, [0] * weeks)[w] += n
    return table


def total_by_week(
    session: Session, origin: datetime, weeks: int, *conditions: ColumnElement[bool]
) -> list[int]:
    found = counts_by(session, origin, weeks, (), *conditions)
    return found.get((), [0] * weeks)
