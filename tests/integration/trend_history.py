"""A generated case history for the trend tests: ~15 months of cases in every state, written
straight into ``cases`` (the figures are about stored rows, not about how they got there), and
the direct computation of every figure from those rows, which the roll-up must equal."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.metrics import ClosureCounts, Period
from dashboard.domain.status import CaseStatus
from dashboard.domain.trend_periods import DateRange
from dashboard.reference import ReferenceData
from dashboard.services.metrics import period_counts
from dashboard.services.trend_rollups import tables
from dashboard.storage.db import Database
from dashboard.storage.models import Case, Grid, TrendMark, TrendState, Village
from dashboard.storage.scoping import in_area

TZ = ZoneInfo("Asia/Shanghai")
S = CaseStatus
FIRST_DAY = date(2025, 1, 1)
LAST_DAY = date(2026, 3, 31)
OPEN_STATES = (S.REGISTERED, S.DISPATCHED, S.HANDLING, S.RETURNED, S.REWORK, S.HANDLED, S.SUSPENDED)
SOURCES = ("grid_worker", "hotline", "public", "camera", "police", "emergency")
DEPARTMENTS = ("urban", "police", "market", "environment", "justice")


def clear_trends(db: Database) -> None:
    with db.transaction() as session:
        for model in (*tables(), TrendMark, TrendState):
            session.execute(delete(model))


def local(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(0), TZ) + timedelta(hours=hour)


@dataclass(frozen=True)
class Places:
    grids: list[tuple[str, str, str, str, float, float]]  # grid, village, town, county, lon, lat

    @classmethod
    def of(cls, db: Database) -> Places:
        with db.read() as session:
            rows = session.execute(
                select(Grid.code, Grid.village_code, Village.town_code, Grid.lon, Grid.lat)
                .join(Village, Village.code == Grid.village_code)
                .order_by(Grid.code)
            ).all()
        return cls([(g, v, t, t[:6], lon, lat) for g, v, t, lon, lat in rows])


def case_row(
    places: Places,
    rng: random.Random,
    reference: ReferenceData,
    reported: datetime,
    **fixed: Any,
) -> dict[str, Any]:
    """One case in a random state, its times consistent (registered after reported, …)."""
    grid, village, town, county, lon, lat = rng.choice(places.grids)
    subs = reference.categories.subs
    category = rng.choice(subs).code
    row: dict[str, Any] = {
        "source": rng.choice(SOURCES),
        "emergency": rng.random() < 0.05,
        "category_code": None,
        "reported_category": category,
        "description": "生成的历史案件",
        "lon": lon,
        "lat": lat,
        "grid_code": grid,
        "village_code": village,
        "town_code": town,
        "county_code": county,
        "reporter": "gen",
        "reported_at": reported,
        "rework_count": 0,
        "extension_count": 0,
        "dispatch_count": 0,
        "return_count": 0,
        "version": 1,
        **dict.fromkeys(
            (
                "voided_at",
                "registered_at",
                "deadline",
                "department_code",
                "dispatched_at",
                "handled_at",
                "checked_at",
                "closed_at",
                "closed_on_time",
                "suspended_at",
            )
        ),
    }
    roll = rng.random()
    times = [reported]
    if roll < 0.08:  # voided
        row |= {"status": S.VOIDED.value, "voided_at": reported + timedelta(hours=2), "open": False}
        times.append(row["voided_at"])
    elif roll < 0.12:  # still waiting for registration
        row |= {"status": S.ACCEPTED.value, "open": True}
    else:
        registered = reported + timedelta(hours=rng.uniform(0.2, 30))
        deadline = registered + timedelta(hours=rng.uniform(4, 240))
        row |= {
            "category_code": category if rng.random() < 0.9 else rng.choice(subs).code,
            "registered_at": registered,
            "deadline": deadline,
            "department_code": rng.choice(DEPARTMENTS),
            "dispatch_count": rng.choice((1, 1, 1, 2)),
            "return_count": 1 if rng.random() < 0.1 else 0,
            "extension_count": 1 if rng.random() < 0.1 else 0,
            "rework_count": rng.choice((0, 0, 0, 0, 1, 2)),
            "dispatched_at": registered + timedelta(minutes=30),
        }
        times.append(registered)
        fate = rng.random()
        if fate < 0.75:  # closed, a fifth of them late
            late = rng.random() < 0.2
            closed = (
                deadline + timedelta(hours=rng.uniform(1, 200))
                if late
                else registered + (deadline - registered) * rng.uniform(0.1, 1.0)
            )
            handled = closed - (closed - registered) * rng.uniform(0.05, 0.5)
            row |= {
                "status": rng.choice((S.CLOSED, S.EVALUATED)).value,
                "handled_at": handled,
                "checked_at": closed,
                "closed_at": closed,
                "closed_on_time": closed <= deadline,
                "open": False,
            }
            times += [handled, closed]
        else:
            state = rng.choice(OPEN_STATES)
            row |= {"status": state.value, "open": True}
            if state in (S.HANDLED, S.REWORK) or rng.random() < 0.2:
                row["handled_at"] = registered + timedelta(hours=rng.uniform(1, 100))
                times.append(row["handled_at"])
            if state is S.SUSPENDED:
                row["suspended_at"] = registered + timedelta(hours=1)
    row.update(fixed)
    row["updated_at"] = max(times)
    return row


def generate(
    db: Database,
    reference: ReferenceData,
    seed: int = 13,
    first: date = FIRST_DAY,
    last: date = LAST_DAY,
    per_day: tuple[int, int] = (1, 5),
    now: datetime | None = None,
) -> int:
    """Random cases reported every day from ``first`` to ``last``; times beyond ``now`` (if
    given) are cut: a case "closed" after now is still open."""
    rng = random.Random(seed)
    places = Places.of(db)
    rows = []
    day = first
    while day <= last:
        for _ in range(rng.randint(*per_day)):
            reported = local(day, rng.uniform(0, 24) if rng.random() < 0.3 else rng.uniform(8, 18))
            row = case_row(places, rng, reference, reported)
            if now is not None:
                row = cut_at(row, now)
                if row is None:
                    continue
            rows.append(row)
        day += timedelta(days=1)
    with db.transaction() as session:
        session.execute(insert(Case), rows)
    return len(rows)


def cut_at(row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The row as it stood at ``now``: later steps undone (None: not yet reported)."""
    if row["reported_at"] > now:
        return None
    row = dict(row)
    for name in ("voided_at", "registered_at", "handled_at", "closed_at"):
        if row.get(name) is not None and row[name] > now:
            if name == "voided_at":
                row |= {"status": S.REPORTED.value, "voided_at": None, "open": True}
            elif name == "registered_at":
                row |= {"status": S.ACCEPTED.value, "registered_at": None, "deadline": None}
                row |= {"department_code": None, "category_code": None, "closed_at": None}
                row |= {"handled_at": None, "dispatch_count": 0, "open": True}
                row |= {"closed_on_time": None, "rework_count": 0, "extension_count": 0}
                row |= {"return_count": 0}
            elif name == "handled_at":
                row["handled_at"] = None
            else:
                row |= {"status": S.HANDLED.value, "closed_at": None, "open": True}
                row |= {"closed_on_time": None, "checked_at": None}
    times = [
        row.get(n) for n in ("reported_at", "voided_at", "registered_at", "handled_at", "closed_at")
    ]
    row["updated_at"] = max(t for t in times if t is not None)
    return row


# --- the direct computation -----------------------------------------------------------------


def direct_period(dates: DateRange) -> Period:
    return Period(local(dates.first, 0), local(dates.last + timedelta(days=1), 0))


@dataclass(frozen=True)
class Direct:
    counts: ClosureCounts
    reported: int
    emergencies: int
    handling_cases: int
    handling_seconds: int


def direct(
    db: Database, calendar: WorkingCalendar, dates: DateRange, now: datetime, area: str | None
) -> Direct:
    """Every figure straight from the cases: metrics.period_counts for the closure counts, plain
    SQL counts for reported, the calendar for the handling time."""
    period = direct_period(dates)
    with db.read() as session:
        counts = period_counts(session, period.start, period.end, now, area)
        base = [
            Case.reported_at >= period.start,
            Case.reported_at < period.end,
            *in_area(Case.village_code, area),
        ]
        reported = session.scalar(select(func.count()).select_from(Case).where(*base)) or 0
        emergencies = (
            session.scalar(
                select(func.count()).select_from(Case).where(*base, Case.emergency.is_(True))
            )
            or 0
        )
        closed = session.execute(
            select(Case.registered_at, Case.closed_at).where(
                Case.closed_at >= period.start,
                Case.closed_at < period.end,
                Case.registered_at.is_not(None),
                Case.status != S.VOIDED.value,
                *in_area(Case.village_code, area),
            )
        ).all()
    seconds = [int(calendar.working_time_between(r, c).total_seconds()) for r, c in closed]
    return Direct(counts, reported, emergencies, len(seconds), sum(seconds))
