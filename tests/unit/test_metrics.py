"""Closure, department and grid-worker metrics: definitions, check numbers, scores, patrols."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    rate,
    rework_rate,
)
from dashboard.domain.status import OPEN_STATUSES, CaseStatus, Source
from dashboard.domain.worker_metrics import (
    ReportCounts,
    missed_report_rate,
    report_counts_by_worker,
    valid_report_rate,
)

JAN = Period(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
NOW = datetime(2025, 2, 10, tzinfo=UTC)  # the January report, produced in February
MID = datetime(2025, 1, 15, tzinfo=UTC)
H = timedelta(hours=1)


def case(**overrides: Any) -> CaseFacts:
    """A registered, dispatched case of January, still handling, not yet due."""
    fields: dict[str, Any] = {
        "status": CaseStatus.HANDLING,
        "reported_at": MID - 2 * H,
        "registered_at": MID - H,
        "deadline": MID + 1000 * H,
        "handled_at": None,
        "closed_at": None,
        "department_code": "D01",
        "category_code": "01001",
        "source": Source.GRID_WORKER,
        "reporter_id": "w1",
        "dispatch_count": 1,
        "village_code": "320508019044",
    }
    fields.update(overrides)
    return CaseFacts(**fields)


def closed(at: datetime, deadline: datetime | None, **overrides: Any) -> CaseFacts:
    fields: dict[str, Any] = {"status": CaseStatus.CLOSED, "handled_at": at - H}
    return case(closed_at=at, deadline=deadline, **(fields | overrides))


# --- rate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (911, 972, 93.72),  # Tianmen check numbers
        (737, 972, 75.82),
        (0, 0, None),
        (5, 0, None),
        (0, 5, 0.0),
        (5, 5, 100.0),
        (1, 3, 33.33),
        (2, 3, 66.67),
        (1, 8, 12.5),
        (1, 800, 0.13),  # 0.125 exactly: half-up, not half-even
        (1, 1600, 0.06),  # 0.0625
        (3, 1600, 0.19),  # 0.1875
        (7, 2, 350.0),  # ratios above 100 are allowed (漏报率)
        (99_995, 100_000, 100.0),
        (99_994, 100_000, 99.99),
    ],
)
def test_rate(numerator: int, denominator: int, expected: float | None) -> None:
    assert rate(numerator, denominator) == expected


@pytest.mark.parametrize(("numerator", "denominator"), [(-1, 5), (1, -5)])
def test_rate_refuses_negative_counts(numerator: int, denominator: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        rate(numerator, denominator)


_REFERENCE = Context(prec=80)


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_rate_matches_decimal_half_up(numerator: int, denominator: int) -> None:
    result = rate(numerator, denominator)
    if denominator == 0:
        assert result is None
        return
    exact = _REFERENCE.divide(Decimal(numerator * 100), Decimal(denominator))
    assert result == float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@given(st.integers(0, 10**7).flatmap(lambda d: st.tuples(st.integers(0, d), st.just(d))))
def test_shares_are_within_0_and_100_or_none(pair: tuple[int, int]) -> None:
    result = rate(*pair)
    if pair[1] == 0:
        assert result is None
    else:
        assert result is not None and 0.0 <= result <= 100.0


# --- Period and ClosureCounts ---------------------------------------------------------------


def test_period_is_half_open() -> None:
    assert JAN.start in JAN
    assert JAN.end not in JAN
    assert JAN.end - timedelta(microseconds=1) in JAN
    with pytest.raises(ValueError, match="must end after it starts"):
        Period(JAN.end, JAN.start)
    with pytest.raises(ValueError):
        Period(JAN.start, JAN.start)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"closed": -1},
        {"closed": 1, "closed_on_time": 2},
        {"closed": 1, "reworks": 2},
        {"registered": 1, "extensions": 2},
        {"registered": 1, "dispatched": 2},
        {"registered": 2, "dispatched": 1, "dispatched_right_first_time": 2},
        {"handled": 1, "handled_on_time": 2},
    ],
)
def test_inconsistent_counts_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ClosureCounts(**kwargs)


ALL_RATES = [
    closure_rate,
    on_time_closure_rate,
    handling_rate,
    on_time_handling_rate,
    rework_rate,
    extension_rate,
    dispatch_accuracy,
]


@pytest.mark.parametrize("metric", ALL_RATES, ids=lambda f: f.__name__)
def test_every_metric_is_none_without_cases(metric: Any) -> None:
    assert metric(ClosureCounts()) is None


SAMPLE = ClosureCounts(
    closed=90,
    closed_on_time=80,
    open_overdue=10,
    registered=120,
    reworks=5,
    extensions=6,
    dispatched=110,
    dispatched_right_first_time=99,
    handled=95,
    handled_on_time=76,
    unhandled_overdue=5,
)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (closure_rate, 90.0),
        (on_time_closure_rate, 80.0),
        (handling_rate, 95.0),
        (on_time_handling_rate, 76.0),
        (rework_rate, 5.0),
        (extension_rate, 5.0),
        (dispatch_accuracy, 90.0),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_metrics_from_counts(metric: Any, expected: float) -> None:
    assert metric(SAMPLE) == expected
    assert SAMPLE.should_be_closed == 100
    assert SAMPLE.should_be_handled == 100


# --- which cases count ---------------------------------------------------------------------

DUE = MID + 24 * H  # a deadline inside January


@pytest.mark.parametrize(
    ("facts", "now", "expected"),
    [
        pytest.param(closed(DUE - H, DUE), NOW, {"closed": 1, "closed_on_time": 1}, id="on time"),
        pytest.param(closed(DUE, DUE), NOW, {"closed": 1, "closed_on_time": 1}, id="at deadline"),
        pytest.param(closed(DUE + H, DUE), NOW, {"closed": 1}, id="late"),
        pytest.param(
            closed(DUE, None, registered_at=None, status=CaseStatus.EVALUATED),
            NOW,
            {"closed": 1, "closed_on_time": 1},
            id="no deadline (self-handled) is on time",
        ),
        pytest.param(
            closed(JAN.start - H, JAN.start - 2 * H, registered_at=JAN.start - 3 * H),
            NOW,
            {},
            id="closed before the period",
        ),
        pytest.param(
            closed(JAN.end, DUE),
            NOW,
            {"open_overdue": 1},
            id="closed at period end, overdue then: open overdue",
        ),
        pytest.param(
            closed(JAN.end + H, JAN.end + 2 * H),
            NOW,
            {},
            id="closed after the period, not yet due at its end",
        ),
        pytest.param(
            case(deadline=DUE), NOW, {"open_overdue": 1, "unhandled_overdue": 1}, id="open overdue"
        ),
        pytest.param(
            case(deadline=JAN.end), NOW, {}, id="deadline exactly at the cutoff is not overdue"
        ),
        pytest.param(
            case(deadline=DUE),
            DUE,
            {},
            id="report run mid-period: not overdue before now",
        ),
        pytest.param(
            case(deadline=DUE),
            DUE + H,
            {"open_overdue": 1, "unhandled_overdue": 1},
            id="report run mid-period: overdue at now",
        ),
        pytest.param(
            case(deadline=DUE, status=CaseStatus.SUSPENDED), NOW, {}, id="suspended: clock stopped"
        ),
        pytest.param(
            case(deadline=DUE, status=CaseStatus.VOIDED, closed_at=None, voided_with_reason=True),
            NOW,
            {},
            id="voided never counts",
        ),
        pytest.param(
            case(deadline=DUE, registered_at=None, dispatch_count=0),
            NOW,
            {},
            id="never registered: no overdue",
        ),
        pytest.param(
            case(deadline=DUE, dispatch_count=0),
            NOW,
            {"open_overdue": 1},
            id="overdue, not dispatched: not the department's",
        ),
        pytest.param(
            case(deadline=DUE, status=CaseStatus.HANDLED, handled_at=DUE - H),
            NOW,
            {"open_overdue": 1, "handled": 1, "handled_on_time": 1},
            id="handled on time, not closed: closure overdue",
        ),
        pytest.param(
            case(deadline=DUE, status=CaseStatus.HANDLED, handled_at=JAN.end + H),
            NOW,
            {"open_overdue": 1, "unhandled_overdue": 1},
            id="handled after the period: unhandled at its end",
        ),
        pytest.param(
            closed(DUE + H, DUE, rework_count=3),
            NOW,
            {"closed": 1, "reworks": 1},
            id="a case reworked three times counts once",
        ),
        pytest.param(
            case(deadline=DUE, rework_count=1),
            NOW,
            {"open_overdue": 1, "unhandled_overdue": 1, "reworks": 1},
            id="rework of an open overdue case",
        ),
        pytest.param(
            closed(JAN.end + H, DUE, registered_at=JAN.end - H, rework_count=1),
            MID,
            {},
            id="report run mid-period: a later closing and a later deadline do not count",
        ),
    ],
)
def test_closure_definitions(facts: CaseFacts, now: datetime, expected: dict[str, int]) -> None:
    got = closure_counts([facts], JAN, now)
    registered = facts.registered_at is not None and facts.registered_at in JAN
    registered = registered and facts.status is not CaseStatus.VOIDED
    baseline = {
        "registered": int(registered),
        "dispatched": int(registered and facts.dispatch_count > 0),
        "dispatched_right_first_time": int(registered and facts.dispatch_count > 0),
    }
    if facts.handled_at is not None and facts.handled_at in JAN and "handled" not in expected:
        baseline["handled"] = 1
        baseline["handled_on_time"] = int(
            facts.deadline is None or facts.handled_at <= facts.deadline
        )
    assert got == ClosureCounts(**(baseline | expected))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (ReportCounts(), None),
        (ReportCounts(reported=50, registered=40, voided_with_reason=5), 90.0),
        (ReportCounts(reported=3), 0.0),  # nothing registered
    ],
)
def test_valid_report_rate(counts: ReportCounts, expected: float | None) -> None:
    assert valid_report_rate(counts) == expected


@pytest.mark.parametrize(
    ("public", "registered", "expected"),
    [(3, 40, 7.5), (5, 2, 250.0), (5, 0, None), (0, 0, None)],
)
def test_missed_report_rate(public: int, registered: int, expected: float | None) -> None:
    assert missed_report_rate(public, registered) == expected


def test_missed_report_rate_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        missed_report_rate(-1, 3)


def test_report_counts_by_worker() -> None:
    cases = [
        case(reporter_id="w1"),
        case(reporter_id="w1", status=CaseStatus.ACCEPTED, registered_at=None),
        case(reporter_id="w1", status=CaseStatus.VOIDED, voided_with_reason=True),
        case(reporter_id="w1", status=CaseStatus.VOIDED, voided_with_reason=False),
        case(reporter_id="w2", status=CaseStatus.CLOSED, closed_at=MID),
        case(reporter_id="w2", reported_at=JAN.end),  # next period
        case(reporter_id="c9", source=Source.PUBLIC),  # a citizen, not a grid worker
        case(reporter_id=None),
    ]
    assert report_counts_by_worker(cases, JAN) == {
        "w1": ReportCounts(reported=4, registered=1, voided_with_reason=1),
        "w2": ReportCounts(reported=1, registered=1, voided_with_reason=0),
    }


def test_open_statuses_used_by_the_metrics_exclude_closed_and_voided() -> None:
    # The definitions above rely on this split of the lifecycle (dashboard.domain.status).
    assert CaseStatus.CLOSED not in OPEN_STATUSES
    assert CaseStatus.VOIDED not in OPEN_STATUSES
    assert CaseStatus.HANDLED in OPEN_STATUSES


def test_patrol_totals_add_the_days_up() -> None:
    """Distance and time add up; the share inside is Σ inside / Σ patrol; coverage is Σ passed /
    (households × patrol days); a day of filtered fixes only is no patrol day."""
    from dashboard.domain.worker_metrics import PatrolTotals

    day = {"distance_m": 0.0, "patrol_s": 0.0, "inside_s": 0.0, "households": 80}
    total = (
        PatrolTotals()
        .plus_day(
            **{**day, "distance_m": 5200.4, "patrol_s": 7200.4, "inside_s": 5400.2},
            fixes=240,
            flagged=3,
            coverage=0.25,
        )
        .plus_day(
            **{**day, "distance_m": 3100.0, "patrol_s": 3600.0, "inside_s": 3600.0},
            fixes=120,
            flagged=0,
            coverage=0.5,
        )
        .plus_day(**day, fixes=4, flagged=4, coverage=0.0)  # only filtered fixes
    )
    assert (total.days, total.fixes, total.flagged) == (2, 364, 7)
    assert total.distance_m == pytest.approx(8300.4)
    assert (total.households_passed, total.households_due) == (20 + 40, 160)
    assert total.household_coverage == 37.5
    assert total.inside_share == rate(9000, 10800) == 83.33
    assert PatrolTotals().inside_share is None and PatrolTotals().household_coverage is None
    with pytest.raises(ValueError):
        PatrolTotals().plus_day(**day, fixes=1, flagged=2, coverage=None)


def test_a_stored_days_counts_add_up_as_its_summary() -> None:
    """``plus_counts`` (a stored day: households passed already counted) is ``plus_day``."""
    from dashboard.domain.worker_metrics import PatrolTotals, day_households_passed

    day = {"distance_m": 812.5, "patrol_s": 3605.2, "inside_s": 1200.7, "households": 83}
    for fixes, flagged, share in ((120, 2, 0.337), (5, 5, 0.0), (60, 0, None)):
        passed = day_households_passed(share, 83)
        assert passed == (None if share is None else round(share * 83))
        assert PatrolTotals().plus_counts(
            **day, fixes=fixes, flagged=flagged, passed=passed
        ) == PatrolTotals().plus_day(**day, fixes=fixes, flagged=flagged, coverage=share)
    with pytest.raises(ValueError):
        PatrolTotals().plus_counts(**day, fixes=3, flagged=1, passed=-1)
