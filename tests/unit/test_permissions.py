"""The permission matrix as the command room describes it, area scoping, and the live-stream
and camera rules built on them (pure: no database, no server)."""

from __future__ import annotations

import pytest

from dashboard.domain.permissions import (
    ACTING_ROLES,
    ACTION_ROLES,
    READ_ONLY_ROLES,
    ROLE_PERMISSIONS,
    UNLIMITED,
    Permission,
    Scope,
    actions_of,
    can,
    can_act,
    may_change_cases,
    roles_with,
)
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.security.principal import Principal
from dashboard.security.scoping import (
    ALL_AREAS,
    can_view_camera,
    event_visible,
    filter_fixes,
    may_act_on_case,
    may_change_case,
    room_for,
    rooms_for_place,
)
from dashboard.storage.models import Case

P, R, A = Permission, Role, Action
WRITES = {
    P.REPORT_CASE,
    P.CHANGE_CASES,
    P.SUBMIT_POSITIONS,
    P.SUPERVISE,
    P.MANAGE_USERS,
    P.ACKNOWLEDGE_ALARM,
}

# The issue, sentence by sentence: who may see what.
SEES: list[tuple[Role, set[Permission]]] = [
    (R.ADMIN, set(Permission)),
    (R.COMMANDER, set(Permission) - {P.MANAGE_USERS, P.VIEW_AUDIT}),
    (R.DISPATCHER, {P.VIEW_WALL, P.VIEW_CASES, P.REPORT_CASE, P.ACKNOWLEDGE_ALARM}),
    (R.SUPERVISOR, {P.VIEW_WALL, P.VIEW_CASES, P.SUPERVISE, P.VIEW_TRENDS}),
    (R.DEPARTMENT, {P.VIEW_CASES, P.VIEW_REFERENCE}),
    # read-only: the wall, the trends, and the cases behind their figures (issue 13)
    (R.LEADER, {P.VIEW_WALL, P.VIEW_TRENDS, P.VIEW_CAMERAS, P.VIEW_CASES}),
    (R.WALL, {P.VIEW_WALL, P.VIEW_POSITIONS, P.VIEW_CAMERAS}),
    (R.GRID_WORKER, {P.REPORT_CASE, P.SUBMIT_POSITIONS, P.VIEW_REFERENCE}),
    (R.INTEGRATION, {P.REPORT_CASE, P.VIEW_REFERENCE}),
]
NEVER: list[tuple[Role, set[Permission]]] = [
    (R.DEPARTMENT, {P.VIEW_WALL, P.VIEW_CAMERAS, P.SUPERVISE, P.MANAGE_USERS}),
    (R.LEADER, {P.EXPORT_CASES} | WRITES),  # reads cases, never changes or exports them
    (R.WALL, {P.VIEW_CASES, P.VIEW_TRENDS, P.VIEW_AUDIT} | WRITES),  # a kiosk
    (R.GRID_WORKER, {P.VIEW_WALL, P.VIEW_CAMERAS, P.VIEW_AUDIT, P.MANAGE_USERS}),
    (R.INTEGRATION, {P.VIEW_WALL, P.VIEW_CAMERAS, P.VIEW_AUDIT, P.MANAGE_USERS}),
    (R.DISPATCHER, {P.MANAGE_USERS, P.VIEW_AUDIT}),
    (R.SUPERVISOR, {P.MANAGE_USERS, P.VIEW_AUDIT}),
]
# Who takes which steps of the lifecycle.
ACTS: list[tuple[Role, set[Action]]] = [
    (R.DISPATCHER, {A.ACCEPT, A.REGISTER, A.DISPATCH}),
    (R.DEPARTMENT, {A.START, A.RETURN, A.HANDLED}),
    (R.GRID_WORKER, {A.VERIFY, A.CHECK_PASS, A.CHECK_FAIL, A.SELF_HANDLE}),
    (R.COMMANDER, set(Action)),
    (R.ADMIN, set(Action)),
]
NEVER_ACTS: list[tuple[Role, set[Action]]] = [
    (R.DISPATCHER, {A.CLOSE, A.VOID, A.HANDLED, A.CHECK_PASS}),  # closing needs the shift lead
    (R.DEPARTMENT, {A.ACCEPT, A.DISPATCH, A.CLOSE, A.CHECK_PASS}),  # nobody checks own work
    (R.GRID_WORKER, {A.ACCEPT, A.DISPATCH, A.CLOSE, A.HANDLED}),
    (R.INTEGRATION, set(Action) - {A.EVALUATE}),
]


@pytest.mark.parametrize(("role", "perms"), SEES, ids=[r.value for r, _ in SEES])
def test_each_role_holds_what_the_room_needs(role: Role, perms: set[Permission]) -> None:
    assert perms <= ROLE_PERMISSIONS[role]


@pytest.mark.parametrize(("role", "perms"), NEVER, ids=[r.value for r, _ in NEVER])
def test_each_role_lacks_what_it_must_not_have(role: Role, perms: set[Permission]) -> None:
    assert not perms & ROLE_PERMISSIONS[role]


@pytest.mark.parametrize(("role", "actions"), ACTS, ids=[r.value for r, _ in ACTS])
def test_each_role_takes_its_steps(role: Role, actions: set[Action]) -> None:
    assert all(can_act(role, a) for a in actions)
    assert actions <= actions_of(role)


@pytest.mark.parametrize(("role", "actions"), NEVER_ACTS, ids=[r.value for r, _ in NEVER_ACTS])
def test_each_role_is_kept_from_other_steps(role: Role, actions: set[Action]) -> None:
    assert not any(can_act(role, a) for a in actions)


def test_the_matrix_is_complete() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert set(ACTION_ROLES) == set(Action)


def test_only_admins_manage_users_and_read_the_audit_log() -> None:
    assert roles_with(P.MANAGE_USERS) == roles_with(P.VIEW_AUDIT) == {R.ADMIN}


def test_read_only_roles_never_act_or_write() -> None:
    assert not READ_ONLY_ROLES & ACTING_ROLES
    for role in READ_ONLY_ROLES:
        assert not WRITES & ROLE_PERMISSIONS[role]
        assert actions_of(role) == frozenset()
        assert not any(can(role, p) for p in WRITES)


def test_who_may_change_a_case_is_one_rule() -> None:
    """``may_change_cases`` is the one rule of "may this role change a case": the roles holding
    CHANGE_CASES, never a read-only one; every role that takes a lifecycle step holds it, and
    every role that may change cases may see them."""
    changers = {role for role in Role if may_change_cases(role)}
    assert changers == roles_with(P.CHANGE_CASES) - READ_ONLY_ROLES
    assert not changers & READ_ONLY_ROLES
    assert changers >= ACTING_ROLES
    assert changers <= roles_with(P.VIEW_CASES)
    assert R.LEADER in roles_with(P.VIEW_CASES) and not may_change_cases(R.LEADER)
    assert not may_change_cases(R.WALL) and not can(R.WALL, P.VIEW_CASES)
    for role in READ_ONLY_ROLES:
        assert not any(can_act(role, action) for action in Action)


def _row(village: str = "330681103001", department: str | None = None) -> Case:
    return Case(
        id=7, village_code=village, department_code=department, dispatched_at=None, open=True
    )


@pytest.mark.parametrize(
    ("role", "scope", "case", "may"),
    [
        (R.LEADER, UNLIMITED, _row(), False),  # sees it, never changes it
        (R.LEADER, Scope(area_code="330681103"), _row(), False),
        (R.WALL, UNLIMITED, _row(), False),
        (R.DISPATCHER, UNLIMITED, _row(), True),
        (R.DISPATCHER, Scope(area_code="330681104"), _row(), False),  # outside the area
        (R.SUPERVISOR, UNLIMITED, _row(), True),  # photos and camera evidence
        (R.GRID_WORKER, Scope(area_code="330681103001"), _row(), True),
        (R.DEPARTMENT, Scope(department_code="urban"), _row(department="urban"), False),
        (R.COMMANDER, UNLIMITED, _row(), True),
    ],
)
def test_may_change_case_adds_the_scope_to_the_role(
    role: Role, scope: Scope, case: Case, may: bool
) -> None:
    who = Principal(kind="user", id=1, name="x", role=role, scope=scope)
    assert may_change_case(who, case) is may
    assert may_act_on_case(who, A.ACCEPT, case) is (may and can_act(role, A.ACCEPT))


@pytest.mark.parametrize(
    ("scope", "place", "allowed"),
    [
        (UNLIMITED, "330681103001", True),
        (UNLIMITED, None, True),
        (Scope(area_code="330681103"), "330681103001", True),  # a village of the town
        (Scope(area_code="330681103"), "330681104001", False),  # the next town
        (Scope(area_code="330681"), "330681104001", True),  # the county sees both
        (Scope(area_code="330681103"), None, False),  # no place: not shown to a scoped user
        (Scope(area_code="330681103001"), "330681103001", True),
    ],
)
def test_places_nest_by_code_prefix(scope: Scope, place: str | None, allowed: bool) -> None:
    assert scope.allows_place(place) is allowed


@pytest.mark.parametrize(
    ("scope", "village", "department", "allowed"),
    [
        (Scope(department_code="justice"), "330681103001", "justice", True),
        (Scope(department_code="justice"), "330681103001", "urban", False),
        (Scope(department_code="justice"), "330681103001", None, False),
        (Scope("330681103", "justice"), "330681104001", "justice", False),
        (UNLIMITED, "330681104001", None, True),
    ],
)
def test_a_department_sees_its_own_cases_only(
    scope: Scope, village: str, department: str | None, allowed: bool
) -> None:
    assert scope.allows_case(village, department) is allowed


def _who(role: Role, area: str | None = None, department: str | None = None) -> Principal:
    return Principal(f"{role.value}-1", role, "user", 1, Scope(area, department))


def test_live_events_reach_only_screens_allowed_to_see_them() -> None:
    town = _who(R.DISPATCHER, "330681103")
    everything = _who(R.COMMANDER)
    inside = {"id": 1, "village": "330681103001", "department": "justice"}
    outside = {"id": 2, "village": "330681104001", "department": "justice"}
    assert event_visible(town, "case", inside)
    assert not event_visible(town, "case", outside)
    assert event_visible(everything, "case", outside)
    assert event_visible(town, "village", {"code": "330681103002"})
    assert not event_visible(town, "alarm_ack", {"case_id": 2})  # no place: unscoped only
    assert event_visible(everything, "alarm_ack", {"case_id": 2})
    assert not event_visible(_who(R.DEPARTMENT, department="justice"), "case", inside)


def test_rooms_let_one_emit_reach_every_allowed_screen() -> None:
    rooms = rooms_for_place("330681103001")
    assert room_for(_who(R.COMMANDER)) == ALL_AREAS
    for area in ("330681", "330681103", "330681103001"):
        assert room_for(_who(R.DISPATCHER, area)) in rooms
    assert room_for(_who(R.DISPATCHER, "330681104")) not in rooms


def test_positions_are_filtered_by_area() -> None:
    fixes = [["w1", 120.1, 29.7, "t"], ["w2", 120.2, 29.8, "t"]]
    villages = {"w1": "330681103001", "w2": "330681104001"}
    assert filter_fixes(_who(R.WALL, "330681103"), fixes, villages) == [fixes[0]]
    assert filter_fixes(_who(R.WALL), fixes, villages) == fixes
    assert filter_fixes(_who(R.DEPARTMENT, department="justice"), fixes, villages) == []


@pytest.mark.parametrize(
    ("principal", "camera_village", "allowed"),
    [
        (_who(R.WALL), "330681103001", True),
        (_who(R.SUPERVISOR, "330681103"), "330681103001", True),
        (_who(R.SUPERVISOR, "330681103"), "330681104001", False),
        (_who(R.DEPARTMENT, department="justice"), "330681103001", False),
        (_who(R.GRID_WORKER), "330681103001", False),
        (_who(R.INTEGRATION), "330681103001", False),
    ],
)
def test_who_may_view_which_camera(
    principal: Principal, camera_village: str, allowed: bool
) -> None:
    assert can_view_camera(principal, camera_village) is allowed
