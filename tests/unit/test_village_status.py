"""The village status rule: thresholds, hysteresis, red_since, the call list, recompute_all."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.village_status import (
    INITIAL,
    ZERO_COUNTS,
    RedReason,
    VillageCounts,
    VillageLight,
    VillageRule,
    VillageState,
    call_due,
    call_due_at,
    changed,
    open_ratio,
    recompute_all,
    village_status,
)

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)
RULE = VillageRule()
OK, RED = VillageLight.OK, VillageLight.RED


def counts(total: int, open_: int, emergencies: int = 0, overdue: int = 0) -> VillageCounts:
    return VillageCounts(
        window_total=total, window_open=open_, open_emergencies=emergencies, open_overdue=overdue
    )


def red(since: datetime, *reasons: RedReason, ratio: float | None = None) -> VillageState:
    return VillageState(RED, since, frozenset(reasons), ratio)


# --- configuration -------------------------------------------------------------------------


def test_defaults_are_the_domain_numbers() -> None:
    assert RULE.window == timedelta(hours=24)
    assert RULE.min_cases == 5
    assert (RULE.enter_ratio, RULE.leave_ratio) == (0.8, 0.7)
    assert RULE.call_after == timedelta(hours=2)
    assert RULE.red_on_open_emergency is True
    assert RULE.red_on_overdue is None
    assert RULE.window_start(T0) == T0 - timedelta(hours=24)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": timedelta(0)}, "window must be positive"),
        ({"window": timedelta(hours=-1)}, "window must be positive"),
        ({"min_cases": 0}, "min_cases must be at least 1"),
        ({"leave_ratio": 0.9}, "leave_ratio <= enter_ratio"),
        ({"enter_ratio": 1.1}, "enter_ratio <= 1"),
        ({"leave_ratio": 0.0}, "0 < leave_ratio"),
        ({"leave_ratio": -0.1}, "0 < leave_ratio"),
        ({"enter_ratio": float("nan")}, "ratios must satisfy"),
        ({"call_after": timedelta(seconds=-1)}, "call_after must not be negative"),
        ({"red_on_overdue": 0}, "red_on_overdue must be at least 1"),
    ],
)
def test_rule_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VillageRule(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"leave_ratio": 0.8, "enter_ratio": 0.8},  # no hysteresis is allowed
        {"enter_ratio": 1.0},
        {"min_cases": 1},
        {"call_after": timedelta(0)},
        {"red_on_overdue": 1},
    ],
)
def test_rule_accepts_edge_values(kwargs: dict[str, object]) -> None:
    VillageRule(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("total", "open_", "emergencies", "overdue", "message"),
    [
        (-1, 0, 0, 0, "negative"),
        (5, -1, 0, 0, "negative"),
        (5, 1, -1, 0, "negative"),
        (5, 1, 0, -1, "negative"),
        (4, 5, 0, 0, "exceeds window_total"),
    ],
)
def test_counts_validation(
    total: int, open_: int, emergencies: int, overdue: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        counts(total, open_, emergencies, overdue)


@pytest.mark.parametrize(
    ("status", "since", "reasons", "ratio"),
    [
        (RED, None, {RedReason.EMERGENCY}, None),  # red without red_since
        (RED, T0, set(), None),  # red without a reason
        (OK, T0, set(), None),  # ok with red_since
        (OK, None, {RedReason.OVERDUE}, None),  # ok with a reason
        (OK, None, set(), 1.5),  # ratio out of range
    ],
)
def test_state_invariants_are_enforced(
    status: VillageLight, since: datetime | None, reasons: set[RedReason], ratio: float | None
) -> None:
    with pytest.raises(ValueError):
        VillageState(status, since, frozenset(reasons), ratio)


# --- open ratio --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "open_", "min_cases", "expected"),
    [
        (0, 0, 5, None),
        (1, 1, 5, None),  # 1 of 1 does not flap
        (4, 4, 5, None),
        (5, 4, 5, 0.8),
        (10, 7, 5, 0.7),
        (10, 0, 5, 0.0),
        (0, 0, 1, None),  # never divides by zero
        (1, 1, 1, 1.0),
    ],
)
def test_open_ratio(total: int, open_: int, min_cases: int, expected: float | None) -> None:
    assert open_ratio(counts(total, open_), VillageRule(min_cases=min_cases)) == expected


# --- hysteresis sequences ----------------------------------------------------------------------

# Each step: (window_total, window_open) → (light, index of the step red_since points at).
Sequence = list[tuple[tuple[int, int], tuple[VillageLight, int | None]]]


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(
            [((100, 85), (RED, 0)), ((100, 75), (RED, 0)), ((100, 69), (OK, None))],
            id="0.85 enters, 0.75 stays with the same red_since, 0.69 leaves",
        ),
        pytest.param([((4, 4), (OK, None))], id="4 of 4 below min_cases stays ok"),
        pytest.param([((1, 1), (OK, None)), ((2, 2), (OK, None))], id="1 of 1 does not flap"),
        pytest.param(
            [((5, 4), (RED, 0)), ((10, 7), (RED, 0)), ((10, 6), (OK, None))],
            id="exactly 0.8 enters, exactly 0.7 stays",
        ),
        pytest.param(
            [((10, 7), (OK, None)), ((10, 7), (OK, None)), ((10, 8), (RED, 2))],
            id="0.7 from ok does not enter",
        ),
        pytest.param(
            [((10, 9), (RED, 0)), ((4, 4), (OK, None)), ((5, 5), (RED, 2))],
            id="dropping below min_cases leaves red; re-entering sets a new red_since",
        ),
        pytest.param(
            [((10, 9), (RED, 0)), ((10, 9), (RED, 0)), ((20, 20), (RED, 0)), ((20, 15), (RED, 0))],
            id="red_since kept while red",
        ),
        pytest.param(
            [
                ((10, 8), (RED, 0)),
                ((10, 6), (OK, None)),
                ((10, 7), (OK, None)),
                ((10, 8), (RED, 3)),
            ],
            id="after leaving, 0.7 is not enough again",
        ),
    ],
)
def test_hysteresis(steps: Sequence) -> None:
    state = INITIAL
    for i, ((total, open_), (light, since_step)) in enumerate(steps):
        now = T0 + i * STEP
        state = village_status(state, counts(total, open_), now, RULE)
        assert state.status is light, f"step {i}"
        expected_since = None if since_step is None else T0 + since_step * STEP
        assert state.red_since == expected_since, f"step {i}"
        assert (RedReason.OPEN_RATIO in state.reasons) == (light is RED)


def test_ratio_is_reported_even_when_ok() -> None:
    state = village_status(INITIAL, counts(10, 3), T0, RULE)
    assert state == VillageState(OK, None, frozenset(), 0.3)
    assert village_status(INITIAL, counts(3, 3), T0, RULE).open_ratio is None


# --- emergency and overdue ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "village_counts", "expected_reasons"),
    [
        (RULE, counts(0, 0, emergencies=1), {RedReason.EMERGENCY}),
        (RULE, counts(1, 1, emergencies=2), {RedReason.EMERGENCY}),
        (VillageRule(red_on_open_emergency=False), counts(0, 0, emergencies=1), set()),
        (RULE, counts(0, 0, overdue=50), set()),  # overdue reason off by default
        (VillageRule(red_on_overdue=3), counts(0, 0, overdue=2), set()),
        (VillageRule(red_on_overdue=3), counts(0, 0, overdue=3), {RedReason.OVERDUE}),
        (
            VillageRule(red_on_overdue=3),
            counts(10, 9, emergencies=1, overdue=4),
            {RedReason.OPEN_RATIO, RedReason.EMERGENCY, RedReason.OVERDUE},
        ),
    ],
)
def test_emergency_and_overdue_reasons(
    rule: VillageRule, village_counts: VillageCounts, expected_reasons: set[RedReason]
) -> None:
    state = village_status(INITIAL, village_counts, T0, rule)
    assert state.reasons == expected_reasons
    assert state.status is (RED if expected_reasons else OK)
    assert state.red_since == (T0 if expected_reasons else None)


def test_hysteresis_belongs_to_the_ratio_reason_not_to_the_colour() -> None:
    # Red for an emergency at 0.75 (between the thresholds): the ratio reason is not gained,
    # so the village turns ok as soon as the emergency closes.
    state = village_status(INITIAL, counts(20, 15, emergencies=1), T0, RULE)
    assert state.reasons == {RedReason.EMERGENCY}
    state = village_status(state, counts(20, 15), T0 + STEP, RULE)
    assert state.status is OK


def test_red_since_is_kept_when_the_reasons_change() -> None:
    state = village_status(INITIAL, counts(10, 9), T0, RULE)
    state = village_status(state, counts(10, 5, emergencies=1), T0 + STEP, RULE)
    assert state == red(T0, RedReason.EMERGENCY, ratio=0.5)
    state = village_status(state, counts(10, 5), T0 + 2 * STEP, RULE)
    assert state.status is OK


def test_unchanged_state_is_returned_as_is() -> None:
    state = village_status(INITIAL, counts(10, 9), T0, RULE)
    assert village_status(state, counts(10, 9), T0 + STEP, RULE) is state
    ok = village_status(INITIAL, counts(10, 1), T0, RULE)
    assert village_status(ok, counts(10, 1), T0 + STEP, RULE) is ok
    assert village_status(INITIAL, ZERO_COUNTS, T0, RULE) is INITIAL


def test_red_since_never_moves_into_the_future_when_the_clock_goes_back() -> None:
    state = red(T0, RedReason.EMERGENCY)
    earlier = T0 - timedelta(minutes=5)
    after = village_status(state, counts(0, 0, emergencies=1), earlier, RULE)
    assert after.red_since == earlier


# --- call list ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "due"),
    [
        (timedelta(0), False),
        (timedelta(hours=1, minutes=59, seconds=59), False),
        (timedelta(hours=2) - timedelta(microseconds=1), False),
        (timedelta(hours=2), True),
        (timedelta(hours=5), True),
    ],
)
def test_call_due_exactly_at_call_after(elapsed: timedelta, due: bool) -> None:
    state = red(T0, RedReason.OPEN_RATIO, ratio=0.9)
    assert call_due(state, T0 + elapsed, RULE) is due


def test_call_due_at() -> None:
    state = red(T0, RedReason.OPEN_RATIO, ratio=0.9)
    assert call_due_at(state, RULE) == T0 + timedelta(hours=2)
    assert call_due_at(state, VillageRule(call_after=timedelta(minutes=30))) == T0 + timedelta(
        minutes=30
    )
    assert call_due_at(INITIAL, RULE) is None
    assert call_due(INITIAL, T0 + timedelta(days=3), RULE) is False


def test_call_due_follows_red_since_through_the_sequence() -> None:
    state = village_status(INITIAL, counts(10, 9), T0, RULE)
    state = village_status(state, counts(10, 7), T0 + timedelta(hours=1), RULE)
    assert not call_due(state, T0 + timedelta(hours=1), RULE)
    state = village_status(state, counts(10, 7), T0 + timedelta(hours=2), RULE)
    assert call_due(state, T0 + timedelta(hours=2), RULE)
    state = village_status(state, counts(10, 6), T0 + timedelta(hours=3), RULE)
    assert not call_due(state, T0 + timedelta(hours=3), RULE)


# --- change events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (INITIAL, INITIAL, False),
        (INITIAL, VillageState(OK, None, frozenset(), 0.4), False),  # ratio alone is no event
        (INITIAL, red(T0, RedReason.OPEN_RATIO, ratio=0.9), True),
        (red(T0, RedReason.OPEN_RATIO, ratio=0.9), INITIAL, True),
        (
            red(T0, RedReason.OPEN_RATIO, ratio=0.9),
            red(T0, RedReason.OPEN_RATIO, ratio=0.75),
            False,
        ),
        (
            red(T0, RedReason.OPEN_RATIO, ratio=0.9),
            red(T0, RedReason.OPEN_RATIO, RedReason.EMERGENCY, ratio=0.9),
            True,
        ),
    ],
)
def test_changed(before: VillageState, after: VillageState, expected: bool) -> None:
    assert changed(before, after) is expected


# --- recompute_all -----------------------------------------------------------------------------


def test_recompute_all_covers_both_mappings() -> None:
    previous = {
        "320508019044": red(T0, RedReason.OPEN_RATIO, ratio=0.9),  # no counts any more
        "320508019045": INITIAL,
        "320508019046": red(T0, RedReason.EMERGENCY),
    }
    village_counts = {
        "320508019045": counts(10, 9),
        "320508019046": counts(0, 0, emergencies=1),
        "320508019047": counts(0, 0, emergencies=1),  # first seen
    }
    now = T0 + STEP
    result = recompute_all(previous, village_counts, now, RULE)
    assert result == {
        "320508019044": INITIAL,
        "320508019045": red(now, RedReason.OPEN_RATIO, ratio=0.9),
        "320508019046": red(T0, RedReason.EMERGENCY),
        "320508019047": red(now, RedReason.EMERGENCY),
    }
    assert result["320508019046"] is previous["320508019046"]


def test_recompute_all_city_scale_is_fast() -> None:
    n = 8_000
    codes = [f"32050801{i:04d}" for i in range(n)]
    village_counts = {
        code: counts(10, i % 11, emergencies=i % 97 == 0) for i, code in enumerate(codes)
    }
    start = time.perf_counter()
    first = recompute_all({}, village_counts, T0, RULE)
    second = recompute_all(first, village_counts, T0 + STEP, RULE)
    elapsed = time.perf_counter() - start
    assert len(second) == n
    assert all(second[code] is first[code] for code in codes)  # nothing changed: no new states
    assert elapsed < 1.0, f"{n} villages twice took {elapsed:.3f} s"


# --- properties --------------------------------------------------------------------------------

rules = st.builds(
    VillageRule,
    min_cases=st.integers(1, 10),
    enter_ratio=st.floats(0.5, 1.0),
    leave_ratio=st.floats(0.05, 0.5),
    red_on_open_emergency=st.booleans(),
    red_on_overdue=st.none() | st.integers(1, 5),
)


@st.composite
def village_counts_st(draw: st.DrawFn) -> VillageCounts:
    total = draw(st.integers(0, 30))
    return counts(
        total, draw(st.integers(0, total)), draw(st.integers(0, 2)), draw(st.integers(0, 8))
    )


@given(
    rule=rules,
    steps=st.lists(
        st.tuples(village_counts_st(), st.timedeltas(timedelta(minutes=-30), timedelta(hours=3))),
        min_size=1,
        max_size=30,
    ),
)
def test_state_properties(rule: VillageRule, steps: list[tuple[VillageCounts, timedelta]]) -> None:
    state, now = INITIAL, T0
    for village_counts, delta in steps:
        now += delta  # the clock may even go backwards a little
        before = state
        state = village_status(state, village_counts, now, rule)
        # never red without a reason, never a red_since after now
        assert (state.status is RED) == bool(state.reasons)
        assert state.red_since is None or state.red_since <= now
        # red_since is kept while the village stays red (unless the clock went behind it)
        if before.red_since is not None and state.red_since is not None:
            assert state.red_since == min(before.red_since, now)
        ratio = open_ratio(village_counts, rule)
        if RedReason.OPEN_RATIO in state.reasons:
            assert ratio is not None and ratio >= rule.leave_ratio
            if RedReason.OPEN_RATIO not in before.reasons:
                assert ratio >= rule.enter_ratio
        elif ratio is not None:
            assert ratio < (
                rule.leave_ratio if RedReason.OPEN_RATIO in before.reasons else rule.enter_ratio
            )
        assert call_due(state, now, rule) == (
            state.red_since is not None and now >= (call_due_at(state, rule) or now)
        )
