"""Closure metrics over stored cases agree with the pure definitions, on both backends.

A small hand-built month of cases is written straight into ``cases`` with known timestamps. The
service narrows the rows with SQL and feeds them to ``dashboard.domain.metrics``; the same facts
given to the domain directly (no SQL) must give the same counts, and both must match the counts
worked out by hand below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.config import AppConfig
from dashboard.domain.metrics import (
    CaseFacts,
    ClosureCounts,
    Period,
    closure_counts,
    closure_rate,
    dispatch_accuracy,
    extension_rate,
    handling_rate,
    on_time_closure_rate,
    on_time_handling_rate,
    rework_rate,
)
from dashboard.domain.status import OPEN_STATUSES, CaseStatus
from dashboard.reference import load_reference
from dashboard.seed.loader import seed
from dashboard.services.metrics import closure_rates, period_counts
from dashboard.services.villages import rule_from_config
from dashboard.storage.db import Database
from dashboard.storage.models import Case, County, Department, Grid, Town, Village
from tests.integration.support import TOWN_NOW

TZ = ZoneInfo("Asia/Shanghai")
S = CaseStatus
VILLAGE = "330681109002"
GRID = VILLAGE + "001"


def _t(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


NOVEMBER = Period(_t(11, 1, 0), _t(12, 1, 0))
AFTER_NOVEMBER = _t(12, 10)


@dataclass(frozen=True)
class Spec:
    """One hand-made case; what it should count for in November is in its comment."""

    status: CaseStatus
    reported_at: datetime
    registered_at: datetime | None = None
    deadline: datetime | None = None
    handled_at: datetime | None = None
    closed_at: datetime | None = None
    department: str | None = "police"
    dispatch_count: int = 0
    return_count: int = 0
    rework_count: int = 0
    extension_count: int = 0


SPECS = [
    # 1 closed on time; handled on time; registered, dispatched right first time.
    Spec(S.CLOSED, _t(11, 2, 9), _t(11, 2), _t(11, 5), _t(11, 4), _t(11, 4, 15), dispatch_count=1),
    # 2 closed late after one rework; handled late; registered, dispatched right first time.
    Spec(
        S.EVALUATED,
        _t(11, 10, 8),
        _t(11, 10),
        _t(11, 12),
        _t(11, 13),
        _t(11, 14),
        dispatch_count=1,
        rework_count=1,
    ),
    # 3 open and overdue, still unhandled; dispatched twice after a return: not right first time.
    Spec(S.HANDLING, _t(11, 20, 8), _t(11, 20), _t(11, 25), dispatch_count=2, return_count=1),
    # 4 open, deadline after the cut-off: registered, extended once, dispatched right first time.
    Spec(S.DISPATCHED, _t(11, 28, 8), _t(11, 28), _t(12, 20), dispatch_count=1, extension_count=1),
    # 5 registered and closed in October: counts for nothing in November.
    Spec(S.CLOSED, _t(10, 15, 8), _t(10, 15), _t(10, 20), _t(10, 19), _t(10, 20), dispatch_count=1),
    # 6 voided: never counts.
    Spec(S.VOIDED, _t(11, 3), department=None),
    # 7 overdue, handled and closed only after the month: open overdue and unhandled at the end.
    Spec(S.CLOSED, _t(11, 15, 8), _t(11, 15), _t(11, 20), _t(12, 4), _t(12, 5), dispatch_count=1),
    # 8 overdue but suspended (clock stopped): registered and dispatched only.
    Spec(S.SUSPENDED, _t(11, 5, 8), _t(11, 5), _t(11, 10), dispatch_count=1),
    # 9 self-handled on the spot and closed, never registered: closed on time, handled on time.
    Spec(S.CLOSED, _t(11, 7, 8), None, None, _t(11, 7, 9), _t(11, 7, 11), department=None),
    # 10 registered in October, overdue and still open: open overdue and unhandled.
    Spec(S.DISPATCHED, _t(10, 25, 8), _t(10, 25), _t(10, 30), dispatch_count=1),
    # 11 closed exactly at the end of the month: not closed in November, open at the cut-off.
    Spec(
        S.CLOSED, _t(11, 25, 8), _t(11, 25), _t(11, 30), _t(11, 29), _t(12, 1, 0), dispatch_count=1
    ),
]

# Worked out by hand from the comments above (period: November; evaluated on 10 December).
EXPECTED = ClosureCounts(
    closed=3,  # 1, 2, 9
    closed_on_time=2,  # 1, 9
    open_overdue=4,  # 3, 7, 10, 11
    registered=7,  # 1, 2, 3, 4, 7, 8, 11
    reworks=1,  # 2
    extensions=1,  # 4
    dispatched=7,  # 1, 2, 3, 4, 7, 8, 11
    dispatched_right_first_time=6,  # all but 3
    handled=4,  # 1, 2, 9, 11 (handled on the 29th)
    handled_on_time=3,  # 1, 9, 11
    unhandled_overdue=3,  # 3, 7 (handled after the cut-off), 10
)


def _facts(spec: Spec) -> CaseFacts:
    return CaseFacts(
        status=spec.status,
        reported_at=spec.reported_at,
        registered_at=spec.registered_at,
        deadline=spec.deadline,
        handled_at=spec.handled_at,
        closed_at=spec.closed_at,
        department_code=spec.department,
        category_code="02001" if spec.registered_at else None,
        source="grid_worker",
        reporter_id="gw-0001",
        rework_count=spec.rework_count,
        extension_count=spec.extension_count,
        dispatch_count=spec.dispatch_count,
        return_count=spec.return_count,
        village_code=VILLAGE,
    )


def _row(spec: Spec) -> Case:
    last = max(t for t in (spec.reported_at, spec.registered_at, spec.closed_at) if t)
    return Case(
        status=spec.status.value,
        source="grid_worker",
        emergency=False,
        category_code="02001" if spec.registered_at else None,
        reported_category="02001",
        description="hand-made case",
        lon=120.45,
        lat=29.70,
        grid_code=GRID,
        village_code=VILLAGE,
        town_code=VILLAGE[:9],
        county_code=VILLAGE[:6],
        department_code=spec.department,
        reporter="gw-0001",
        reported_at=spec.reported_at,
        registered_at=spec.registered_at,
        dispatched_at=spec.registered_at if spec.dispatch_count else None,
        deadline=spec.deadline,
        handled_at=spec.handled_at,
        closed_at=spec.closed_at,
        voided_at=spec.reported_at if spec.status is S.VOIDED else None,
        suspended_at=spec.deadline - timedelta(days=1) if spec.status is S.SUSPENDED else None,
        rework_count=spec.rework_count,
        extension_count=spec.extension_count,
        dispatch_count=spec.dispatch_count,
        return_count=spec.return_count,
        closed_on_time=(
            None
            if spec.closed_at is None or spec.deadline is None
            else spec.closed_at <= spec.deadline
        ),
        updated_at=last,
        open=spec.status in OPEN_STATUSES,
    )


@pytest.fixture
def month(database: Database) -> Database:
    """The database holding the hand-made month of cases in one village."""
    geometry = '{"type":"Polygon","coordinates":[[[120,29],[121,29],[121,30],[120,29]]]}'
    with database.transaction() as session:
        session.add(Department(code="police", name_zh="派出所", name_en="Police", kind="stationed"))
        session.add(County(code=VILLAGE[:6], name="诸暨市", geometry=geometry))
        session.flush()
        session.add(
            Town(
                code=VILLAGE[:9],
                name="枫桥镇",
                county_code=VILLAGE[:6],
                geometry=geometry,
                lon=120.4,
                lat=29.7,
            )
        )
        session.flush()
        session.add(
            Village(
                code=VILLAGE,
                name="枫源村",
                town_code=VILLAGE[:9],
                kind="village",
                geometry=geometry,
                lon=120.45,
                lat=29.7,
                contact_name="陈",
                contact_phone="0575-00000000",
            )
        )
        session.flush()
        session.add(
            Grid(
                code=GRID,
                village_code=VILLAGE,
                households=100,
                geometry=geometry,
                lon=120.45,
                lat=29.7,
            )
        )
        session.flush()
        session.add_all(_row(spec) for spec in SPECS)
    return database


def test_period_counts_match_the_pure_definition_and_the_hand_count(month: Database) -> None:
    with month.read() as session:
        stored = period_counts(session, NOVEMBER.start, NOVEMBER.end, AFTER_NOVEMBER)

    assert closure_counts([_facts(s) for s in SPECS], NOVEMBER, AFTER_NOVEMBER) == EXPECTED
    assert stored == EXPECTED
    assert stored.should_be_closed == 7
    assert stored.should_be_handled == 7


def test_rates_match_hand_computed_values(month: Database) -> None:
    with month.read() as session:
        counts = period_counts(session, NOVEMBER.start, NOVEMBER.end, AFTER_NOVEMBER)

    assert closure_rate(counts) == 42.86  # 3 / 7
    assert on_time_closure_rate(counts) == 28.57  # 2 / 7
    assert rework_rate(counts) == 14.29  # 1 / 7
    assert handling_rate(counts) == 57.14  # 4 / 7
    assert on_time_handling_rate(counts) == 42.86  # 3 / 7
    assert extension_rate(counts) == 14.29  # 1 / 7
    assert dispatch_accuracy(counts) == 85.71  # 6 / 7


@pytest.mark.parametrize(
    ("start", "end", "now"),
    [
        pytest.param(NOVEMBER.start, NOVEMBER.end, AFTER_NOVEMBER, id="november-later"),
        pytest.param(NOVEMBER.start, NOVEMBER.end, _t(11, 22, 12), id="november-so-far"),
        pytest.param(_t(11, 9, 0), _t(11, 16, 0), _t(11, 30), id="one-week"),
        pytest.param(_t(10, 1, 0), _t(11, 1, 0), AFTER_NOVEMBER, id="october"),
        pytest.param(_t(10, 1, 0), _t(12, 31, 0), _t(12, 31, 0), id="quarter"),
        pytest.param(_t(12, 1, 0), _t(12, 2, 0), _t(12, 2, 0), id="first-of-december"),
    ],
)
def test_sql_narrowing_loses_no_case(
    month: Database, start: datetime, end: datetime, now: datetime
) -> None:
    """Whatever the period and the moment, SQL pre-selection gives the domain's own answer."""
    with month.read() as session:
        stored = period_counts(session, start, end, now)
    assert stored == closure_counts([_facts(s) for s in SPECS], Period(start, end), now)


def test_closure_rates_so_far_this_month(month: Database) -> None:
    """closure_rates(start, now) is the period from ``start`` up to ``now``."""
    now = _t(11, 22, 12)  # case 3 not yet overdue, case 7 overdue since the 20th
    with month.read() as session:
        rates = closure_rates(session, NOVEMBER.start, now)
    # closed 1, 2, 9 (3); open overdue 7 and 10 (8 is suspended): should-be-closed 5.
    assert rates == {"closure_rate": 60.0, "on_time_closure_rate": 40.0}


def test_no_cases_means_no_figure(database: Database) -> None:
    with database.read() as session:
        rates = closure_rates(session, NOVEMBER.start, AFTER_NOVEMBER)
    assert rates == {"closure_rate": None, "on_time_closure_rate": None}


def _all_facts(session: Session) -> list[CaseFacts]:
    """Every stored case as CaseFacts, read without any narrowing."""
    return [
        CaseFacts(
            status=CaseStatus(c.status),
            reported_at=c.reported_at,
            registered_at=c.registered_at,
            deadline=c.deadline,
            handled_at=c.handled_at,
            closed_at=c.closed_at,
            department_code=c.department_code,
            category_code=c.category_code,
            source=c.source,
            reporter_id=c.reporter or None,
            rework_count=c.rework_count,
            extension_count=c.extension_count,
            dispatch_count=c.dispatch_count,
            return_count=c.return_count,
            village_code=c.village_code,
        )
        for c in session.scalars(select(Case))
    ]


def test_on_a_generated_history_sql_narrowing_agrees_with_the_definition(
    database: Database,
) -> None:
    """Two days of the town's generated history: hundreds of cases in every status."""
    config = AppConfig()
    reference = load_reference(config)
    rule = rule_from_config(config.rules.village)
    report = seed(database, reference, rule, scale="town", seed=7, days=2, now=TOWN_NOW)
    assert report.counts["cases"] > 100
    day = timedelta(days=1)
    with database.read() as session:
        every = _all_facts(session)
        assert {f.status for f in every} >= {S.CLOSED, S.DISPATCHED, S.REPORTED}
        for start, end, now in [
            (TOWN_NOW - 2 * day, TOWN_NOW, TOWN_NOW),
            (TOWN_NOW - day, TOWN_NOW, TOWN_NOW),
            (TOWN_NOW - 2 * day, TOWN_NOW - day, TOWN_NOW),
            (TOWN_NOW - 2 * day, TOWN_NOW - day, TOWN_NOW - day),
            (TOWN_NOW - day / 2, TOWN_NOW + day, TOWN_NOW),
        ]:
            stored = period_counts(session, start, end, now)
            assert stored == closure_counts(every, Period(start, end), now), (start, end, now)
        assert period_counts(session, TOWN_NOW - 2 * day, TOWN_NOW, TOWN_NOW).closed > 0
