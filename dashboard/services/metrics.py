"""Metrics over stored cases: stream the relevant rows as CaseFacts into the pure aggregators.

The definitions live in dashboard.domain.metrics only; SQL here merely narrows the rows to the
ones that can count for the period, so both can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dashboard.domain.metrics import (
    CaseFacts,
    ClosureCounts,
    Period,
    closure_counts,
    closure_rate,
    on_time_closure_rate,
)
from dashboard.domain.status import CaseStatus
from dashboard.storage.models import Case
from dashboard.storage.scoping import in_area

_COLUMNS = (
    Case.status,
    Case.reported_at,
    Case.registered_at,
    Case.deadline,
    Case.handled_at,
    Case.closed_at,
    Case.department_code,
    Case.category_code,
    Case.source,
    Case.reporter,
    Case.rework_count,
    Case.extension_count,
    Case.dispatch_count,
    Case.return_count,
    Case.village_code,
)


def case_facts(
    session: Session, period: Period, now: datetime, area: str | None = None
) -> Iterator[CaseFacts]:
    """Every case that can count in ``period`` evaluated at ``now`` (a superset is harmless)."""
    cutoff = min(now, period.end)

    def in_period(col: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        return and_(col >= period.start, col < period.end)

    query = select(*_COLUMNS).where(
        Case.status != CaseStatus.VOIDED.value,
        *in_area(Case.village_code, area),
        or_(
            in_period(Case.closed_at),
            in_period(Case.registered_at),
            in_period(Case.handled_at),
            and_(
                Case.deadline < cutoff,
                Case.registered_at < period.end,
                or_(Case.open.is_(True), Case.closed_at >= cutoff),
            ),
        ),
    )
    for row in session.execute(query.execution_options(yield_per=5000)):
        yield facts_of(row)


def facts_of(row: Any) -> CaseFacts:
    """A case row (the columns of ``_COLUMNS`` or more) as the metrics' facts: the one mapping,
    shared by the trends' roll-up."""
    return CaseFacts(
        status=CaseStatus(row.status),
        reported_at=row.reported_at,
        registered_at=row.registered_at,
        deadline=row.deadline,
        handled_at=row.handled_at,
        closed_at=row.closed_at,
        department_code=row.department_code,
        category_code=row.category_code,
        source=row.source,
        reporter_id=row.reporter or None,
        rework_count=row.rework_count,
        extension_count=row.extension_count,
        dispatch_count=row.dispatch_count,
        return_count=row.return_count,
        village_code=row.village_code,
    )


def period_counts(
    session: Session, start: datetime, end: datetime, now: datetime, area: str | None = None
) -> ClosureCounts:
    period = Period(start, end)
    return closure_counts(case_facts(session, period, now, area), period, now)


def closure_rates(
    session: Session, start: datetime, now: datetime, area: str | None = None
) -> dict[str, float | None]:
    counts = period_counts(session, start, now, now, area)
    return {
        "closure_rate": closure_rate(counts),
        "on_time_closure_rate": on_time_closure_rate(counts),
    }
