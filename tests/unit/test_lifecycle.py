"""The case state machine (dashboard.domain.lifecycle), DOMAIN.md "Case lifecycle".

The expected transition table below is written out independently of the module's own table, so a
wrong edit there shows up here as a failing (status, action) pair.
"""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from dashboard.domain.errors import DomainError
from dashboard.domain.lifecycle import (
    DEFAULT_POLICY,
    ActionRequest,
    CaseState,
    IllegalTransition,
    LifecyclePolicy,
    Transition,
    allowed_actions,
    apply_action,
    new_case,
)
from dashboard.domain.roles import Role
from dashboard.domain.status import TERMINAL_STATUSES, Action, CaseStatus, Source

S, A = CaseStatus, Action
CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=CST)  # a Monday morning in Shaoxing
DEADLINE = T0 + timedelta(days=2)
LATER_DEADLINE = T0 + timedelta(days=5)

# status -> {legal action: status after it}; every action not listed is illegal in that status.
EXPECTED: dict[CaseStatus, dict[Action, CaseStatus]] = {
    S.REPORTED: {A.ACCEPT: S.ACCEPTED, A.VOID: S.VOIDED, A.SELF_HANDLE: S.SELF_HANDLED},
    S.ACCEPTED: {
        A.REQUEST_VERIFY: S.VERIFYING,
        A.VOID: S.VOIDED,
        A.REGISTER: S.REGISTERED,
        A.SELF_HANDLE: S.SELF_HANDLED,
    },
    S.VERIFYING: {A.VERIFY: S.VERIFIED, A.VOID: S.VOIDED},
    S.VERIFIED: {A.REGISTER: S.REGISTERED, A.VOID: S.VOIDED},
    S.REGISTERED: {A.DISPATCH: S.DISPATCHED},
    S.DISPATCHED: {
        A.START: S.HANDLING,
        A.RETURN: S.RETURNED,
        A.EXTEND: S.DISPATCHED,
        A.SUSPEND: S.SUSPENDED,
    },
    S.HANDLING: {
        A.RETURN: S.RETURNED,
        A.EXTEND: S.HANDLING,
        A.SUSPEND: S.SUSPENDED,
        A.HANDLED: S.HANDLED,
    },
    S.RETURNED: {A.DISPATCH: S.DISPATCHED},
    S.SUSPENDED: {A.RESUME: S.HANDLING},  # the sample was suspended while HANDLING
    S.HANDLED: {A.CHECK_PASS: S.CHECKED, A.CHECK_FAIL: S.REWORK},
    S.REWORK: {
        A.START: S.HANDLING,
        A.EXTEND: S.REWORK,
        A.SUSPEND: S.SUSPENDED,
        A.HANDLED: S.HANDLED,
    },
    S.CHECKED: {A.CLOSE: S.CLOSED},
    S.SELF_HANDLED: {A.CLOSE: S.CLOSED},
    S.CLOSED: {A.EVALUATE: S.EVALUATED},
    S.EVALUATED: {},  # the sample has both ratings already
    S.VOIDED: {},
}
WITH_DEPARTMENT = {S.DISPATCHED, S.HANDLING, S.SUSPENDED, S.HANDLED, S.REWORK, S.CHECKED}
PAIRS = [(status, action) for status in CaseStatus for action in Action]


def sample_state(status: CaseStatus, source: Source = Source.GRID_WORKER) -> CaseState:
    """A plausible case in ``status`` that meets every precondition of the legal actions."""
    registered = status not in {S.REPORTED, S.ACCEPTED, S.VERIFYING, S.VERIFIED, S.SELF_HANDLED}
    return CaseState(
        status=status,
        source=source,
        category_code="01001" if registered else None,
        department_code="urban" if status in WITH_DEPARTMENT else None,
        deadline=DEADLINE if registered else None,
        reported_at=T0 - timedelta(hours=1),
        updated_at=T0,
        suspended_at=T0 if status is S.SUSPENDED else None,
        resume_status=S.HANDLING if status is S.SUSPENDED else None,
        returned_by="police" if status is S.RETURNED else None,
        evaluation=4 if status is S.EVALUATED else None,
        report_rating=5 if status is S.EVALUATED else None,
    )


def request(action: Action, **changes: object) -> ActionRequest:
    """A request carrying everything any action may need; ``changes`` removes or alters parts."""
    full = ActionRequest(
        action=action,
        actor="w-0417",
        role=Role.DISPATCHER,
        note="on site",
        reason="needs it",
        category_code="01001",
        department_code="market",
        deadline=LATER_DEADLINE,
        attachments=("photo-1",),
        satisfaction=5,
        report_rating=4,
    )
    return dataclasses.replace(full, **changes)  # type: ignore[arg-type]


def refusal(state: CaseState, req: ActionRequest, **kwargs: object) -> IllegalTransition:
    with pytest.raises(IllegalTransition) as info:
        apply_action(state, req, T0 + timedelta(hours=1), **kwargs)  # type: ignore[arg-type]
    return info.value


# --- the table, exhaustively ---


def test_expected_table_covers_every_status() -> None:
    assert set(EXPECTED) == set(CaseStatus)


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_status_action_pair(status: CaseStatus, action: Action) -> None:
    state = sample_state(status)
    if action in EXPECTED[status]:
        transition = apply_action(state, request(action), T0 + timedelta(hours=1))
        assert transition.before is status
        assert transition.after is EXPECTED[status][action]
        assert transition.state.status is EXPECTED[status][action]
    else:
        error = refusal(state, request(action))
        assert error.code == "illegal_transition"
        assert str(action) in error.message and str(status) in error.message
        assert error.status is status and error.action is action


@pytest.mark.parametrize("status", list(CaseStatus))
def test_allowed_actions_match_the_table(status: CaseStatus) -> None:
    assert allowed_actions(sample_state(status)) == frozenset(EXPECTED[status])


def test_refusal_message_names_action_status_and_what_is_allowed() -> None:
    error = refusal(sample_state(S.CLOSED), request(A.DISPATCH))
    assert error.message == "cannot dispatch a case that is closed; allowed now: evaluate"
    assert isinstance(error, DomainError)
    finished = refusal(sample_state(S.VOIDED), request(A.ACCEPT))
    assert "allowed now: nothing" in finished.message


# --- what each action needs ---


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.ACCEPTED, A.VOID),
        (S.HANDLING, A.RETURN),
        (S.DISPATCHED, A.SUSPEND),
        (S.HANDLED, A.CHECK_FAIL),
    ],
)
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_required(status: CaseStatus, action: Action, reason: str | None) -> None:
    error = refusal(sample_state(status), request(action, reason=reason))
    assert error.code == "reason_required"
    assert error.message.startswith(f"cannot {action} a case that is {status}:")


def test_dispatch_needs_a_department() -> None:
    error = refusal(sample_state(S.REGISTERED), request(A.DISPATCH, department_code=None))
    assert error.code == "department_required"


def test_dispatch_uses_the_default_department_given_at_register() -> None:
    state = dataclasses.replace(sample_state(S.REGISTERED), department_code="env")
    t = apply_action(state, request(A.DISPATCH, department_code=None), T0)
    assert t.state.department_code == "env"
    assert t.details["department"] == "env"


def test_register_needs_a_category() -> None:
    error = refusal(sample_state(S.ACCEPTED), request(A.REGISTER, category_code=None))
    assert error.code == "category_required"


@pytest.mark.parametrize(
    ("status", "action"),
    [(S.ACCEPTED, A.REGISTER), (S.HANDLING, A.EXTEND), (S.SUSPENDED, A.RESUME)],
)
def test_deadline_required(status: CaseStatus, action: Action) -> None:
    error = refusal(sample_state(status), request(action, deadline=None))
    assert error.code == "deadline_required"


@pytest.mark.parametrize("new_deadline", [DEADLINE, DEADLINE - timedelta(minutes=1)])
def test_extend_needs_a_later_deadline(new_deadline: datetime) -> None:
    error = refusal(sample_state(S.HANDLING), request(A.EXTEND, deadline=new_deadline))
    assert error.code == "deadline_not_later"


def test_extend_keeps_status_counts_and_keeps_both_deadlines() -> None:
    t = apply_action(sample_state(S.REWORK), request(A.EXTEND), T0)
    assert t.before is t.after is S.REWORK
    assert t.state.deadline == LATER_DEADLINE
    assert t.state.extension_count == 1
    assert t.details == {
        "old_deadline": DEADLINE.isoformat(),
        "new_deadline": LATER_DEADLINE.isoformat(),
    }


@pytest.mark.parametrize(
    ("status", "action"), [(S.HANDLING, A.HANDLED), (S.REPORTED, A.SELF_HANDLE)]
)
def test_photo_required_for_the_result(status: CaseStatus, action: Action) -> None:
    error = refusal(sample_state(status), request(action, attachments=()))
    assert error.code == "photo_required"
    relaxed = LifecyclePolicy(require_handled_photo=False)
    t = apply_action(sample_state(status), request(action, attachments=()), T0, relaxed)
    assert t.attachments == ()


@pytest.mark.parametrize("action", [A.CHECK_PASS, A.CHECK_FAIL])
def test_check_photo_only_when_the_policy_says_so(action: Action) -> None:
    apply_action(sample_state(S.HANDLED), request(action, attachments=()), T0)
    strict = LifecyclePolicy(require_check_photo=True)
    error = refusal(sample_state(S.HANDLED), request(action, attachments=()), policy=strict)
    assert error.code == "photo_required"


@pytest.mark.parametrize(
    "ratings",
    [
        {"satisfaction": 0},
        {"satisfaction": 6},
        {"satisfaction": -1},
        {"report_rating": 0, "satisfaction": None},
        {"report_rating": 9},
        {"satisfaction": True},  # a bool is not a rating
    ],
)
def test_rating_out_of_range(ratings: dict[str, object]) -> None:
    error = refusal(sample_state(S.CLOSED), request(A.EVALUATE, **ratings))
    assert error.code == "rating_out_of_range"


def test_evaluate_needs_at_least_one_rating() -> None:
    req = request(A.EVALUATE, satisfaction=None, report_rating=None)
    assert refusal(sample_state(S.CLOSED), req).code == "rating_required"


def test_two_way_evaluation_can_come_in_two_steps() -> None:
    closed = sample_state(S.CLOSED)
    by_department = apply_action(closed, request(A.EVALUATE, satisfaction=None), T0)
    assert by_department.state.report_rating == 4 and by_department.state.evaluation is None
    assert allowed_actions(by_department.state) == {A.EVALUATE}
    again = request(A.EVALUATE, satisfaction=None, report_rating=2)
    assert refusal(by_department.state, again).code == "already_evaluated"
    by_reporter = apply_action(
        by_department.state, request(A.EVALUATE, report_rating=None, satisfaction=3), T0
    )
    assert (by_reporter.state.evaluation, by_reporter.state.report_rating) == (3, 4)
    assert by_reporter.details == {"satisfaction": "3"}
    assert allowed_actions(by_reporter.state) == frozenset()


def test_redispatch_to_the_department_that_returned_it_is_refused() -> None:
    dispatched = apply_action(
        sample_state(S.REGISTERED), request(A.DISPATCH, department_code="police"), T0
    )
    returned = apply_action(dispatched.state, request(A.RETURN, reason="not ours"), T0)
    assert returned.state.department_code is None
    assert returned.state.returned_by == "police"
    assert returned.details == {"department": "police"}
    error = refusal(returned.state, request(A.DISPATCH, department_code="police"))
    assert error.code == "same_department"
    assert refusal(returned.state, request(A.DISPATCH, department_code=None)).code == (
        "department_required"
    )
    again = apply_action(returned.state, request(A.DISPATCH, department_code="urban"), T0)
    assert again.state.dispatch_count == 2 and again.state.return_count == 1


def test_public_reports_must_be_verified_before_register() -> None:
    accepted = sample_state(S.ACCEPTED, source=Source.PUBLIC)
    assert A.REGISTER not in allowed_actions(accepted)
    error = refusal(accepted, request(A.REGISTER))
    assert error.code == "verification_required"
    assert "request_verify" in error.message
    apply_action(
        accepted, request(A.REGISTER), T0, LifecyclePolicy(require_verify_for_public=False)
    )
    verified = sample_state(S.VERIFIED, source=Source.PUBLIC)
    assert apply_action(verified, request(A.REGISTER), T0).after is S.REGISTERED
    hotline = sample_state(S.ACCEPTED, source=Source.HOTLINE)
    assert apply_action(hotline, request(A.REGISTER), T0).after is S.REGISTERED
    reported = sample_state(S.REPORTED, source=Source.PUBLIC)
    assert refusal(reported, request(A.REGISTER)).code == "illegal_transition"


# --- time and actor ---


def test_naive_times_are_refused() -> None:
    naive = datetime(2025, 3, 3, 10, 0)
    with pytest.raises(IllegalTransition) as now_error:
        apply_action(sample_state(S.REPORTED), request(A.ACCEPT), naive)
    assert now_error.value.code == "naive_time"
    late = request(A.EXTEND, deadline=naive + timedelta(days=9))
    assert refusal(sample_state(S.HANDLING), late).code == "naive_time"
    with pytest.raises(IllegalTransition) as report_error:
        new_case(Source.CAMERA, naive)
    assert report_error.value.code == "naive_time"


def test_time_cannot_run_backwards() -> None:
    with pytest.raises(IllegalTransition) as info:
        apply_action(sample_state(S.REPORTED), request(A.ACCEPT), T0 - timedelta(seconds=1))
    assert info.value.code == "time_out_of_order"
    # The same instant in another zone is not earlier.
    apply_action(sample_state(S.REPORTED), request(A.ACCEPT), T0.astimezone(UTC))


def test_actor_is_required_and_recorded() -> None:
    assert refusal(sample_state(S.REPORTED), request(A.ACCEPT, actor=" ")).code == (
        "actor_required"
    )
    t = apply_action(sample_state(S.REPORTED), request(A.ACCEPT, role=Role.COMMANDER), T0)
    assert (t.actor, t.role, t.note, t.at) == ("w-0417", Role.COMMANDER, "on site", T0)


# --- counters, timestamps, deadlines ---


@pytest.mark.parametrize("status", [S.DISPATCHED, S.HANDLING, S.REWORK])
def test_suspend_and_resume_return_to_the_same_status(status: CaseStatus) -> None:
    suspended = apply_action(sample_state(status), request(A.SUSPEND), T0 + timedelta(hours=1))
    s = suspended.state
    assert (s.status, s.resume_status, s.suspended_at, s.suspend_count) == (
        S.SUSPENDED,
        status,
        T0 + timedelta(hours=1),
        1,
    )
    assert not s.is_overdue(DEADLINE + timedelta(days=30))  # the clock is stopped
    resumed = apply_action(s, request(A.RESUME), T0 + timedelta(hours=3))
    r = resumed.state
    assert (r.status, r.resume_status, r.suspended_at, r.deadline) == (
        status,
        None,
        None,
        LATER_DEADLINE,
    )
    assert resumed.details["old_deadline"] == DEADLINE.isoformat()
    assert resumed.details["new_deadline"] == LATER_DEADLINE.isoformat()


@pytest.mark.parametrize(
    ("closed_at", "on_time"),
    [(DEADLINE - timedelta(minutes=1), True), (DEADLINE, True), (DEADLINE + timedelta(1), False)],
)
def test_closed_on_time(closed_at: datetime, on_time: bool) -> None:
    t = apply_action(sample_state(S.CHECKED), request(A.CLOSE), closed_at)
    assert t.state.closed_on_time is on_time
    assert t.state.closed_at == closed_at


def test_closed_on_time_is_none_without_a_deadline() -> None:
    t = apply_action(sample_state(S.SELF_HANDLED), request(A.CLOSE), T0)
    assert t.state.closed_on_time is None


def test_is_overdue() -> None:
    handling = sample_state(S.HANDLING)
    assert not handling.is_overdue(DEADLINE - timedelta(seconds=1))
    assert handling.is_overdue(DEADLINE)  # from the deadline instant on, like the red light
    assert sample_state(S.HANDLED).is_overdue(DEADLINE + timedelta(seconds=1))
    assert not sample_state(S.CLOSED).is_overdue(DEADLINE + timedelta(days=1))
    assert not sample_state(S.ACCEPTED).is_overdue(DEADLINE + timedelta(days=1))  # no deadline


def test_new_case() -> None:
    case = new_case(Source.EMERGENCY, T0, emergency=True)
    assert (case.status, case.source, case.emergency) == (S.REPORTED, Source.EMERGENCY, True)
    assert case.reported_at == case.updated_at == T0
    assert case.is_open


def step(state: CaseState, action: Action, minutes: int, **changes: object) -> Transition:
    return apply_action(state, request(action, **changes), T0 + timedelta(minutes=minutes))


def test_happy_path_report_to_evaluate() -> None:
    case = new_case(Source.GRID_WORKER, T0)
    trail: list[Transition] = []
    plan: list[tuple[int, Action, dict[str, object]]] = [
        (5, A.ACCEPT, {}),
        (10, A.REGISTER, {"deadline": DEADLINE, "department_code": None}),
        (15, A.DISPATCH, {"department_code": "urban"}),
        (60, A.START, {}),
        (240, A.HANDLED, {}),
        (300, A.CHECK_PASS, {}),
        (310, A.CLOSE, {}),
        (2000, A.EVALUATE, {}),
    ]
    for minutes, action, changes in plan:
        trail.append(step(trail[-1].state if trail else case, action, minutes, **changes))
    final = trail[-1].state
    assert [t.after for t in trail] == [
        S.ACCEPTED,
        S.REGISTERED,
        S.DISPATCHED,
        S.HANDLING,
        S.HANDLED,
        S.CHECKED,
        S.CLOSED,
        S.EVALUATED,
    ]
    assert [t.before for t in trail[1:]] == [t.after for t in trail[:-1]]
    at = {name: T0 + timedelta(minutes=m) for name, m in [
        ("accepted_at", 5), ("registered_at", 10), ("dispatched_at", 15), ("handled_at", 240),
        ("checked_at", 300), ("closed_at", 310), ("evaluated_at", 2000), ("updated_at", 2000),
    ]}  # fmt: skip
    assert {name: getattr(final, name) for name in at} == at
    assert trail[1].details == {"category": "01001", "deadline": DEADLINE.isoformat()}
    assert final.category_code == "01001" and final.department_code == "urban"
    assert final.closed_on_time is True and (final.evaluation, final.report_rating) == (5, 4)
    assert final.dispatch_count == 1
    assert final.rework_count == final.return_count == final.extension_count == 0
    assert not final.is_open


def test_rework_path() -> None:
    state = sample_state(S.HANDLING)
    for minutes, action in enumerate([A.HANDLED, A.CHECK_FAIL, A.HANDLED, A.CHECK_FAIL]):
        state = step(state, action, minutes).state
    assert state.status is S.REWORK and state.rework_count == 2
    assert state.department_code == "urban"  # the same department again
    for minutes, action in enumerate([A.START, A.HANDLED, A.CHECK_PASS, A.CLOSE], start=10):
        state = step(state, action, minutes).state
    assert state.status is S.CLOSED and state.closed_on_time is True
    assert state.rework_count == 2 and state.checked_at == T0 + timedelta(minutes=12)


def test_rework_can_be_handled_directly() -> None:
    handled = step(sample_state(S.REWORK), A.HANDLED, 1).state
    assert handled.status is S.HANDLED and handled.handled_at == T0 + timedelta(minutes=1)


def test_self_handled_path() -> None:
    case = new_case(Source.GRID_WORKER, T0)
    done = step(case, A.SELF_HANDLE, 2, category_code="05002")
    assert done.after is S.SELF_HANDLED
    assert done.state.handled_at == T0 + timedelta(minutes=2)
    assert done.state.category_code == "05002" and done.details == {"category": "05002"}
    closed = step(done.state, A.CLOSE, 30).state
    assert closed.status is S.CLOSED and closed.registered_at is None
    assert step(closed, A.EVALUATE, 40).after is S.EVALUATED


def test_public_report_path_through_verification() -> None:
    state = new_case(Source.PUBLIC, T0)
    for minutes, action in enumerate([A.ACCEPT, A.REQUEST_VERIFY, A.VERIFY, A.REGISTER], 1):
        state = step(state, action, minutes).state
    assert state.status is S.REGISTERED and state.verified_at == T0 + timedelta(minutes=3)


def test_void_with_reason() -> None:
    t = step(sample_state(S.VERIFYING), A.VOID, 1, reason="duplicate of 3301")
    assert t.after is S.VOIDED and t.reason == "duplicate of 3301"
    assert t.state.voided_at == T0 + timedelta(minutes=1) and not t.state.is_open


# --- immutability and the error type ---


def test_states_and_transitions_are_immutable() -> None:
    state = sample_state(S.HANDLING)
    snapshot = dataclasses.asdict(state)
    t = apply_action(state, request(A.RETURN), T0 + timedelta(hours=1))
    assert dataclasses.asdict(state) == snapshot
    assert t.state is not state
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.status = S.CLOSED  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.details["department"] = "other"  # type: ignore[index]


def test_refused_action_leaves_the_state_alone() -> None:
    state = sample_state(S.HANDLING)
    snapshot = dataclasses.asdict(state)
    refusal(state, request(A.RETURN, reason=None))
    assert dataclasses.asdict(state) == snapshot


def test_illegal_transition_pickles() -> None:
    error = refusal(sample_state(S.CLOSED), request(A.DISPATCH))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.message, copy.status, copy.action) == (
        error.code,
        error.message,
        S.CLOSED,
        A.DISPATCH,
    )


def test_default_policy() -> None:
    assert LifecyclePolicy(True, False, True) == DEFAULT_POLICY


# --- properties over random action sequences ---

COUNTERS = ("rework_count", "extension_count", "dispatch_count", "return_count", "suspend_count")

steps = st.lists(
    st.tuples(
        # An action: any action at all; an int: one of the actions allowed now (mostly these).
        st.one_of(st.sampled_from(list(Action)), *[st.integers(min_value=0, max_value=16)] * 3),
        st.integers(min_value=0, max_value=600),  # minutes after the previous step
        st.sampled_from(["urban", "police", None]),  # department
        st.integers(min_value=-3, max_value=10),  # deadline, days after the report
        st.integers(min_value=0, max_value=3).map(bool),  # with reason, photo and category
        st.integers(min_value=0, max_value=6),  # rating
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    source=st.sampled_from(list(Source)),
    start=st.one_of(st.none(), st.sampled_from(list(CaseStatus))),
    actions=steps,
)
def test_random_sequences_keep_the_invariants(
    source: Source,
    start: CaseStatus | None,
    actions: list[tuple[Action | int, int, str | None, int, bool, int]],
) -> None:
    state = new_case(source, T0) if start is None else sample_state(start, source)
    now = T0
    for choice, minutes, department, days, complete, rating in actions:
        allowed = sorted(allowed_actions(state))
        if isinstance(choice, Action):
            action = choice
        elif allowed:
            action = allowed[choice % len(allowed)]
        else:
            action = Action.ACCEPT
        now += timedelta(minutes=minutes)
        req = ActionRequest(
            action=action,
            actor="w-1",
            role=Role.GRID_WORKER,
            reason="because" if complete else None,
            category_code="01001" if complete else None,
            department_code=department,
            deadline=T0 + timedelta(days=days),
            attachments=("p",) if complete else (),
            satisfaction=rating,
            report_rating=rating if complete else None,
        )
        before = state
        try:
            t = apply_action(state, req, now)
        except IllegalTransition as error:
            assert error.code and str(before.status) in error.message
            if action not in allowed:
                assert error.code in {"illegal_transition", "verification_required"}
            continue
        state = t.state
        event(f"reached {state.status}")
        assert action in allowed
        assert t.before is before.status and t.after is state.status
        if before.status in TERMINAL_STATUSES:
            assert state.status in TERMINAL_STATUSES
        for counter in COUNTERS:
            assert getattr(state, counter) >= getattr(before, counter)
        assert state.updated_at == now
        assert (state.status is S.SUSPENDED) == (state.resume_status is not None)
        if state.status is S.RETURNED:
            assert state.department_code is None
        if state.status in {S.DISPATCHED, S.HANDLING, S.HANDLED, S.REWORK}:
            assert state.department_code is not None
