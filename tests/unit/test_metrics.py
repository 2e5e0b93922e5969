"""Closure, department and grid-worker metrics: definitions, check numbers, scores, patrols."""

from __future__ import annotations

import dataclasses
import math
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
    by_department,
    by_key,
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
from dashboard.domain.scores import (
    ScoreWeights,
    department_score,
    grade,
    score_for,
    volume_points,
)
from dashboard.domain.status import OPEN_STATUSES, CaseStatus, Source
from dashboard.domain.worker_metrics import (
    EARTH_RADIUS_KM,
    Fix,
    ReportCounts,
    WorkerFacts,
    WorkerMetrics,
    coverage,
    haversine_km,
    patrol_distance_km,
    report_counts_by_worker,
    worker_metrics,
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
    ("facts", "expected"),
    [
        pytest.param(case(), {"registered": 1, "dispatched": 1, "dispatched_right_first_time": 1}),
        pytest.param(case(dispatch_count=0), {"registered": 1}, id="not dispatched"),
        pytest.param(case(dispatch_count=2), {"registered": 1, "dispatched": 1}, id="redispatched"),
        pytest.param(
            case(dispatch_count=1, return_count=1),
            {"registered": 1, "dispatched": 1},
            id="returned",
        ),
        pytest.param(
            case(extension_count=2),
            {"registered": 1, "extensions": 1, "dispatched": 1, "dispatched_right_first_time": 1},
            id="extended twice counts once",
        ),
        pytest.param(case(registered_at=JAN.end), {}, id="registered at period end: next period"),
        pytest.param(
            case(registered_at=JAN.start),
            {"registered": 1, "dispatched": 1, "dispatched_right_first_time": 1},
            id="at start",
        ),
    ],
)
def test_registration_cohort(facts: CaseFacts, expected: dict[str, int]) -> None:
    assert closure_counts([facts], JAN, NOW) == ClosureCounts(**expected)


def test_handling_on_time() -> None:
    got = closure_counts(
        [
            case(status=CaseStatus.HANDLED, handled_at=DUE, deadline=DUE),
            case(status=CaseStatus.HANDLED, handled_at=DUE + H, deadline=DUE),
            case(status=CaseStatus.HANDLED, handled_at=DUE, deadline=None),
        ],
        JAN,
        NOW,
    )
    assert (got.handled, got.handled_on_time, got.unhandled_overdue) == (3, 2, 0)


def tianmen_cases() -> list[CaseFacts]:
    """911 closed (737 on time) + 61 open overdue, plus cases that must not count."""
    cases: list[CaseFacts] = []
    for i in range(911):
        due = MID + (i % 48) * H
        closed_at = due - H if i < 737 else due + timedelta(minutes=1 + i % 90)
        cases.append(closed(closed_at, due))
    for i in range(50):  # still open today, overdue since January
        cases.append(case(deadline=MID + (i % 24) * H, status=CaseStatus.HANDLING))
    for _ in range(11):  # overdue at the end of January, closed in February
        cases.append(closed(JAN.end + 48 * H, JAN.end - H))
    # --- none of these count ---
    for i in range(40):  # open, not yet due at the cutoff
        cases.append(case(deadline=JAN.end + (i + 1) * H))
    for i in range(25):  # voided, whatever their fields
        cases.append(case(status=CaseStatus.VOIDED, deadline=MID, voided_with_reason=i % 2 == 0))
    for _ in range(12):  # closed in December
        cases.append(closed(JAN.start - H, JAN.start, registered_at=JAN.start - 5 * H))
    for _ in range(7):  # suspended past their old deadline
        cases.append(case(deadline=MID, status=CaseStatus.SUSPENDED))
    for _ in range(4):  # reported but never registered (no deadline)
        cases.append(case(status=CaseStatus.ACCEPTED, registered_at=None, deadline=None))
    return cases


def test_tianmen_check_numbers_through_closure_counts() -> None:
    counts = closure_counts(tianmen_cases(), JAN, NOW)
    assert (counts.closed, counts.closed_on_time, counts.open_overdue) == (911, 737, 61)
    assert counts.should_be_closed == 972
    assert closure_rate(counts) == 93.72
    assert on_time_closure_rate(counts) == 75.82


def test_tianmen_check_numbers_through_rate() -> None:
    assert rate(911, 972) == 93.72
    assert rate(737, 972) == 75.82


def test_closure_counts_accepts_any_iterable() -> None:
    assert closure_counts(iter(tianmen_cases()), JAN, NOW).should_be_closed == 972


# --- grouping --------------------------------------------------------------------------------


def test_by_department_single_pass_over_a_generator() -> None:
    cases = [
        closed(DUE, DUE, department_code="D01"),
        closed(DUE + H, DUE, department_code="D02"),
        case(deadline=DUE, department_code="D02"),
        case(deadline=DUE, department_code=None, dispatch_count=0),  # not dispatched yet
    ]
    result = by_department((c for c in cases), JAN, NOW)
    assert set(result) == {"D01", "D02"}
    assert closure_rate(result["D01"]) == 100.0
    assert (result["D02"].closed, result["D02"].open_overdue) == (1, 1)
    assert closure_rate(result["D02"]) == 50.0
    assert on_time_closure_rate(result["D02"]) == 0.0


def test_by_key_towns_villages_categories() -> None:
    cases = [
        closed(DUE, DUE, village_code="320508019044", category_code="01001"),
        closed(DUE, DUE, village_code="320508019045", category_code="01002"),
        closed(DUE, DUE, village_code="320508020001", category_code="01001"),
        case(deadline=DUE, village_code=None),
    ]

    def town(c: CaseFacts) -> str | None:
        return c.village_code[:9] if c.village_code else None

    towns = by_key(cases, town, JAN, NOW)
    assert {k: v.closed for k, v in towns.items()} == {"320508019": 2, "320508020": 1}
    categories = by_key(cases, lambda c: c.category_code, JAN, NOW)
    assert {k: v.should_be_closed for k, v in categories.items()} == {"01001": 3, "01002": 1}


# --- properties over random cases -------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2024, 12, 1), max_value=datetime(2025, 3, 1), timezones=st.just(UTC)
)


@st.composite
def case_facts(draw: st.DrawFn) -> CaseFacts:
    status = draw(st.sampled_from(list(CaseStatus)))
    closed_status = status in (CaseStatus.CLOSED, CaseStatus.EVALUATED)
    return case(
        status=status,
        reported_at=draw(moments),
        registered_at=draw(st.none() | moments),
        deadline=draw(st.none() | moments),
        handled_at=draw(st.none() | moments),
        closed_at=draw(moments) if closed_status else draw(st.none()),
        department_code=draw(st.sampled_from([None, "D01", "D02", "D03"])),
        rework_count=draw(st.integers(0, 3)),
        extension_count=draw(st.integers(0, 3)),
        dispatch_count=draw(st.integers(0, 3)),
        return_count=draw(st.integers(0, 2)),
    )


@given(st.lists(case_facts(), max_size=40), moments)
def test_rates_always_within_0_and_100_or_none(cases: list[CaseFacts], now: datetime) -> None:
    counts = closure_counts(cases, JAN, now)
    for metric in ALL_RATES:
        value = metric(counts)
        assert value is None or 0.0 <= value <= 100.0
    departments = by_department(cases, JAN, now)
    total = ClosureCounts()
    for part in departments.values():
        total = ClosureCounts(
            *(
                a + b
                for a, b in zip(dataclasses.astuple(total), dataclasses.astuple(part), strict=True)
            )
        )
    assigned = [c for c in cases if c.department_code is not None]
    assert total == closure_counts(assigned, JAN, now)


# --- department score and grade ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("handled", "expected"),
    [
        (0, 0.0),
        (1, 2.0),
        (19, 2.0),
        (20, 4.0),
        (49, 4.0),
        (50, 6.0),
        (99, 6.0),
        (100, 8.0),
        (199, 8.0),
        (200, 10.0),
        (10_000, 10.0),
    ],
)
def test_volume_points_default_bands(handled: int, expected: float) -> None:
    assert volume_points(handled) == expected


@pytest.mark.parametrize(
    ("closure", "on_time", "rework", "handled", "expected"),
    [
        (100.0, 100.0, 0.0, 200, 100.0),
        (0.0, 0.0, 100.0, 0, 0.0),
        (93.72, 75.82, 5.0, 60, 85.36),  # 6 + 28.116 + 22.746 + 28.5 = 85.362
        (93.72, 75.82, 5.0, 0, 79.36),
        (0.05, 0.0, 100.0, 0, 0.02),  # 0.015 rounds half up
        (50.0, 50.0, 50.0, 1, 47.0),
    ],
)
def test_department_score(
    closure: float, on_time: float, rework: float, handled: int, expected: float
) -> None:
    assert department_score(closure, on_time, rework, cases_handled=handled) == expected


def test_department_score_with_custom_weights() -> None:
    weights = ScoreWeights(
        closure=0.5, on_time_handling=0.25, rework=0.25, volume_bands=((0, 0.0), (10, 5.0))
    )
    assert department_score(80.0, 60.0, 20.0, cases_handled=10, weights=weights) == 80.0
    assert volume_points(9, weights) == 0.0


@pytest.mark.parametrize(
    ("args", "handled", "message"),
    [
        ((100.01, 50.0, 0.0), 10, "closure_rate"),
        ((50.0, -0.01, 0.0), 10, "on_time_handling_rate"),
        ((50.0, 50.0, 101.0), 10, "rework_rate"),
        ((50.0, 50.0, math.nan), 10, "rework_rate"),
        ((50.0, 50.0, 0.0), -1, "cases_handled"),
    ],
)
def test_department_score_refuses_bad_input(
    args: tuple[float, float, float], handled: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        department_score(*args, cases_handled=handled)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"closure": -0.1}, "weight closure"),
        ({"rework": math.inf}, "weight rework"),
        ({"volume_bands": ()}, "start at 0"),
        ({"volume_bands": ((1, 2.0),)}, "start at 0"),
        ({"volume_bands": ((0, 0.0), (5, 1.0), (5, 2.0))}, "increase strictly"),
        ({"volume_bands": ((0, -1.0),)}, "points"),
    ],
)
def test_score_weights_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScoreWeights(**kwargs)


def test_score_for_counts() -> None:
    assert score_for(ClosureCounts()) is None
    assert score_for(ClosureCounts(closed=1, closed_on_time=1)) is None  # nothing to handle
    # closure 90, on-time handling 76, rework 5, 95 handled → 6 + 27 + 22.8 + 28.5
    assert score_for(SAMPLE) == 84.3


@pytest.mark.parametrize(
    ("score", "letter"),
    [
        (100.0, "A"),
        (90.0, "A"),
        (89.99, "B"),
        (75.0, "B"),
        (74.99, "C"),
        (60.0, "C"),
        (59.99, "D"),
        (40.0, "D"),
        (39.99, "E"),
        (0.0, "E"),
    ],
)
def test_grade_boundaries(score: float, letter: str) -> None:
    assert grade(score) == letter


def test_grade_of_nan_is_an_error() -> None:
    with pytest.raises(ValueError):
        grade(math.nan)


def test_grade_follows_the_rounded_score() -> None:
    score = department_score(99.99, 99.99, 0.0, cases_handled=0)  # 89.994 → 89.99
    assert (score, grade(score)) == (89.99, "B")
    score = department_score(
        99.99, 99.99, 0.0, cases_handled=0, weights=ScoreWeights(closure=0.30005)
    )
    assert grade(score) == "A"  # 89.999... rounds to 90.00


# --- grid workers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (WorkerFacts(), WorkerMetrics(None, None, None, None, 0.0, None)),
        (
            WorkerFacts(
                reported=50,
                registered=40,
                voided_with_reason=5,
                verifications=20,
                verified_on_time=19,
                checks=8,
                checked_on_time=6,
                public_reports_in_grid=3,
                visited_cells=frozenset({"a", "b", "c"}),
                grid_cells=4,
            ),
            WorkerMetrics(90.0, 95.0, 75.0, 7.5, 0.0, 75.0),
        ),
        (
            WorkerFacts(reported=2, registered=2, public_reports_in_grid=5),
            WorkerMetrics(100.0, None, None, 250.0, 0.0, None),
        ),
        (
            WorkerFacts(reported=3, public_reports_in_grid=5),  # nothing registered
            WorkerMetrics(0.0, None, None, None, 0.0, None),
        ),
    ],
)
def test_worker_metrics(facts: WorkerFacts, expected: WorkerMetrics) -> None:
    assert worker_metrics(facts) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reported": -1},
        {"reported": 3, "registered": 3, "voided_with_reason": 1},
        {"verifications": 1, "verified_on_time": 2},
        {"checks": 1, "checked_on_time": 2},
    ],
)
def test_worker_facts_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WorkerFacts(**kwargs)


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


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_km(30.0, 120.0, 31.0, 120.0) == pytest.approx(111.195, abs=0.001)
    assert haversine_km(30.0, 120.0, 30.0, 120.0) == 0.0


def fixes(*points: tuple[int, float, float]) -> list[Fix]:
    """(seconds after 08:00, lat, lon) → fixes."""
    start = datetime(2025, 1, 15, 8, tzinfo=UTC)
    return [Fix(start + timedelta(seconds=s), lat, lon) for s, lat, lon in points]


KM_LAT = 180 / (math.pi * EARTH_RADIUS_KM)  # degrees of latitude per km


@pytest.mark.parametrize(
    ("track", "max_speed", "expected_km"),
    [
        pytest.param([], 30.0, 0.0, id="no fixes"),
        pytest.param(fixes((0, 30.0, 120.0)), 30.0, 0.0, id="one fix"),
        pytest.param(
            fixes((0, 30.0, 120.0), (600, 30.0 + KM_LAT, 120.0), (1200, 30.0 + 2 * KM_LAT, 120.0)),
            30.0,
            2.0,
            id="walk 2 km in 20 min",
        ),
        pytest.param(
            fixes(
                (0, 30.0, 120.0),
                (600, 30.0 + KM_LAT, 120.0),
                (630, 30.5, 120.0),  # 55 km away in 30 s: noise
                (1200, 30.0 + 2 * KM_LAT, 120.0),
            ),
            30.0,
            2.0,
            id="a GPS jump is ignored",
        ),
        pytest.param(
            fixes((0, 30.0, 120.0), (0, 30.0 + KM_LAT, 120.0), (600, 30.0 + KM_LAT, 120.0)),
            30.0,
            1.0,
            id="two places at the same instant: the second is noise",
        ),
        pytest.param(
            fixes((0, 30.0, 120.0), (60, 30.0 + KM_LAT, 120.0)),  # 60 km/h
            30.0,
            0.0,
            id="a car ride is not a patrol",
        ),
        pytest.param(
            fixes((0, 30.0, 120.0), (60, 30.0 + KM_LAT, 120.0)),
            80.0,
            1.0,
            id="max speed is configurable",
        ),
    ],
)
def test_patrol_distance(track: list[Fix], max_speed: float, expected_km: float) -> None:
    assert patrol_distance_km(track, max_speed_kmh=max_speed) == pytest.approx(
        expected_km, abs=1e-6
    )


def test_patrol_distance_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="time-ordered"):
        patrol_distance_km(fixes((60, 30.0, 120.0), (0, 30.0, 120.0)))
    with pytest.raises(ValueError, match="max_speed_kmh"):
        patrol_distance_km([], max_speed_kmh=0.0)
    with pytest.raises(ValueError, match="WGS-84"):
        Fix(datetime(2025, 1, 1, tzinfo=UTC), 91.0, 120.0)


@given(
    st.lists(
        st.tuples(st.integers(0, 600), st.floats(29.99, 30.01), st.floats(119.99, 120.01)),
        max_size=30,
    ),
    st.floats(1.0, 100.0),
)
def test_patrol_never_faster_than_max_speed(
    steps: list[tuple[int, float, float]], max_speed: float
) -> None:
    elapsed, points = 0, []
    for gap, lat, lon in steps:
        elapsed += gap
        points.append((elapsed, lat, lon))
    km = patrol_distance_km(fixes(*points), max_speed_kmh=max_speed)
    assert 0.0 <= km <= max_speed * elapsed / 3600 + 1e-9


@pytest.mark.parametrize(
    ("visited", "total", "expected"),
    [
        ([], 0, None),
        ([], 10, 0.0),
        (["c1", "c2", "c3"], 10, 30.0),
        (["c1", "c1", "c2"], 4, 50.0),  # distinct cells
        (["c1", "c2"], 2, 100.0),
    ],
)
def test_coverage(visited: list[str], total: int, expected: float | None) -> None:
    assert coverage(visited, total) == expected


def test_coverage_refuses_more_cells_than_the_grid_has() -> None:
    with pytest.raises(ValueError, match="only 1"):
        coverage(["c1", "c2"], 1)


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
