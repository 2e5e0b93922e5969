"""The trend roll-up: ``trend_rollups`` holds, per local day × village × category × department ×
source, the additive figures of dashboard.domain.trend_figures (``day_parts``), maintained
incrementally from the cases that changed.

``refresh(db, calendar)`` reads the cases written since the last refresh — ``updated_at`` at or
after the stored position (less ``OVERLAP``, for transactions that committed late) or an id above
the highest one seen — and recomputes every day they touch *now* and every day they touched at the
previous refresh (``trend_marks``), so a changed category, a later handling or a closure moves
the case's counts from its old day to its new one. A day is recomputed from all its cases (its
rows deleted and written again), so running it twice changes nothing. The first refresh builds
the whole history in one pass. The trends service refreshes before it reads (a no-op costs one
indexed query), and the scheduler refreshes every few minutes, so the page never waits long.

Cases are never deleted in production; a case deleted by hand (or a database restored from a
backup) needs ``rebuild`` (``python run.py trends rebuild``).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.metrics import CaseFacts
from dashboard.domain.trend_figures import (
    ADDITIVE,
    DayParts,
    WorkingTimer,
    day_bounds,
    day_parts,
)
from dashboard.services.metrics import facts_of
from dashboard.storage.db import Database
from dashboard.storage.models import Case, TrendMark, TrendRollup, TrendState

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
STATE = "cases"
_BATCH = 5000
_LOCK = threading.Lock()  # one refresh at a time in a process (PostgreSQL: an advisory lock too)
_ADVISORY_KEY = 0x7452454E44  # "tREND"

Key = tuple[str, str, str, str, str]  # day, village, category, department, source

COLUMNS = (
    Case.id,
    Case.status,
    Case.reported_at,
    Case.registered_at,
    Case.deadline,
    Case.handled_at,
    Case.closed_at,
    Case.department_code,
    Case.category_code,
    Case.reported_category,
    Case.source,
    Case.reporter,
    Case.rework_count,
    Case.extension_count,
    Case.dispatch_count,
    Case.return_count,
    Case.village_code,
    Case.emergency,
    Case.updated_at,
)


@dataclass(frozen=True, slots=True)
class TrendCase:
    """One case as the roll-up sees it: the metrics' facts and the roll-up's dimensions."""

    id: int
    facts: CaseFacts
    category: str  # the registered category, else the reported one
    emergency: bool
    updated_at: datetime


def trend_case(row: Any) -> TrendCase:
    facts = facts_of(row)
    category = row.category_code or row.reported_category or ""
    return TrendCase(row.id, facts, category, bool(row.emergency), row.updated_at)


def _contributions(
    cases: Iterable[TrendCase], calendar: WorkingCalendar, only: set[date] | None = None
) -> tuple[dict[Key, DayParts], dict[int, list[date]]]:
    sums: dict[Key, DayParts] = defaultdict(DayParts)
    marks: dict[int, list[date]] = {}
    timer = WorkingTimer(calendar)
    for case in cases:
        parts = day_parts(case.facts, case.emergency, calendar, timer)
        marks[case.id] = sorted(parts)
        f = case.facts
        for day, part in parts.items():
            if only is not None and day not in only:
                continue
            key = (
                day.isoformat(),
                f.village_code or "",
                case.category,
                f.department_code or "",
                f.source,
            )
            sums[key] = sums[key] + part
    return sums, marks


def _rows(sums: dict[Key, DayParts]) -> Iterator[dict[str, Any]]:
    for (day, village, category, department, source), parts in sums.items():
        yield {
            "day": day,
            "village_code": village,
            "category_code": category,
            "department_code": department,
            "source": source,
            **{n: getattr(parts, n) for n in ADDITIVE},
        }


def _insert(session: Session, rows: Iterable[dict[str, Any]], model: Any) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            session.execute(insert(model), batch)
            batch = []
    if batch:
        session.execute(insert(model), batch)


def _mark_rows(marks: dict[int, list[date]]) -> Iterator[dict[str, Any]]:
    for case_id, days in marks.items():
        yield {"case_id": case_id, "days": ",".join(d.isoformat() for d in days)}


def _lock(session: Session, db: Database) -> None:
    if db.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})


def rebuild(db: Database, calendar: WorkingCalendar) -> int:
    """Build the whole roll-up from the cases (the first refresh, or after cases were deleted);
    returns the number of cases read."""
    with _LOCK, db.transaction() as session:
        _lock(session, db)
        return _rebuild(session, calendar)


def _rebuild(session: Session, calendar: WorkingCalendar) -> int:
    session.execute(delete(TrendRollup))
    session.execute(delete(TrendMark))
    session.execute(delete(TrendState))
    rows = session.execute(select(*COLUMNS).execution_options(yield_per=_BATCH))
    seen = {"n": 0, "top": 0}
    newest: list[datetime] = []

    def stream() -> Iterator[TrendCase]:
        for row in rows:
            case = trend_case(row)
            seen["n"] += 1
            seen["top"] = max(seen["top"], case.id)
            if not newest or case.updated_at > newest[0]:
                newest[:] = [case.updated_at]
            yield case

    sums, marks = _contributions(stream(), calendar)
    _insert(session, _rows(sums), TrendRollup)
    _insert(session, _mark_rows(marks), TrendMark)
    session.add(
        TrendState(name=STATE, updated_at=newest[0] if newest else None, max_id=seen["top"])
    )
    logger.info("trend roll-up rebuilt: %d cases, %d rows", seen["n"], len(sums))
    return seen["n"]


def refresh(db: Database, calendar: WorkingCalendar) -> int:
    """Bring the roll-up up to date with the cases; returns the number of changed cases read."""
    with db.read() as session:
        if _up_to_date(session):
            return 0  # nothing written since: two index look-ups, no lock
    with _LOCK, db.transaction() as session:
        _lock(session, db)
        state = session.get(TrendState, STATE)
        if state is None:
            return _rebuild(session, calendar)
        newest_id, newest_at = _newest(session)
        changed_filter = [Case.id > state.max_id]
        if state.updated_at is not None:
            changed_filter.append(Case.updated_at >= state.updated_at - OVERLAP)
        changed = [
            trend_case(r) for r in session.execute(select(*COLUMNS).where(or_(*changed_filter)))
        ]
        if not changed:
            state.max_id, state.updated_at = newest_id, newest_at
            return 0
        ids = [c.id for c in changed]
        old: set[date] = set()
        for chunk in _chunks(ids):
            for marked in session.scalars(
                select(TrendMark.days).where(TrendMark.case_id.in_(chunk))
            ):
                old |= {date.fromisoformat(d) for d in marked.split(",") if d}
        _, new_marks = _contributions(changed, calendar)
        days = old | {d for ds in new_marks.values() for d in ds}
        _recompute_days(session, calendar, days)
        for chunk in _chunks(ids):
            session.execute(delete(TrendMark).where(TrendMark.case_id.in_(chunk)))
        _insert(session, _mark_rows(new_marks), TrendMark)
        newest = max(c.updated_at for c in changed)
        if state.updated_at is None or newest > state.updated_at:
            state.updated_at = newest
        state.max_id = max(state.max_id, *ids)
        return len(changed)


def _newest(session: Session) -> tuple[int, datetime | None]:
    newest_id, newest_at = session.execute(
        select(func.max(Case.id), func.max(Case.updated_at))
    ).one()
    return int(newest_id or 0), newest_at


def _up_to_date(session: Session) -> bool:
    state = session.get(TrendState, STATE)
    return state is not None and _newest(session) == (state.max_id, state.updated_at)


def _chunks(ids: list[int], size: int = 900) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _recompute_days(session: Session, calendar: WorkingCalendar, days: set[date]) -> None:
    """Every roll-up row of ``days`` again, from all the cases touching them."""
    if not days:
        return
    tz = calendar.tz
    for chunk in _day_runs(sorted(days)):
        first, last = chunk[0], chunk[-1]
        start, end = day_bounds(first, tz).start, day_bounds(last, tz).end
        touching = or_(
            *(
                (col >= start) & (col < end)
                for col in (Case.reported_at, Case.registered_at, Case.handled_at, Case.closed_at)
            )
        )
        cases = [trend_case(r) for r in session.execute(select(*COLUMNS).where(touching))]
        wanted = set(chunk)
        sums, _ = _contributions(cases, calendar, only=wanted)
        session.execute(
            delete(TrendRollup).where(TrendRollup.day.in_([d.isoformat() for d in chunk]))
        )
        _insert(session, _rows(sums), TrendRollup)


def _day_runs(days: list[date], longest: int = 31) -> Iterator[list[date]]:
    """Sorted days in runs of consecutive days (at most ``longest`` each)."""
    run: list[date] = []
    for day in days:
        if run and (day - run[-1] != timedelta(days=1) or len(run) >= longest):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


def rolled_up_cases(db: Database) -> int:
    """How many cases the roll-up has marked (for the status of the roll-up)."""
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(TrendMark)) or 0)
