"""Who may see and do what: the permission matrix of the command room, and area scoping.

Pure data and rules; the web layer (dashboard.security) asks ``can(role, permission)`` and
``can_act(role, action)`` on every page, callback, websocket event and API endpoint, and
``Scope.allows(...)`` before it shows or changes anything tied to a place or a department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from dashboard.domain.roles import Role
from dashboard.domain.status import INTEGRATION_SOURCES, Action


class Permission(StrEnum):
    VIEW_WALL = "view_wall"  # the big screen and its live stream
    VIEW_CASES = "view_cases"  # case list and case workspace (scoped)
    # Change a case in scope: take a step, add photos, save camera evidence (never read-only)
    CHANGE_CASES = "change_cases"
    REPORT_CASE = "report_case"  # POST a new case
    SUBMIT_POSITIONS = "submit_positions"  # POST worker position fixes
    VIEW_POSITIONS = "view_positions"  # worker positions on the map
    VIEW_CAMERAS = "view_cameras"  # tiles, snapshots, full-size view (scoped)
    SUPERVISE = "supervise"  # supervision orders and the call list
    VIEW_TRENDS = "view_trends"  # leadership trends and evaluation
    VIEW_REFERENCE = "view_reference"  # categories, villages, departments
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    ACKNOWLEDGE_ALARM = "acknowledge_alarm"  # acknowledge an emergency by name
    EXPORT_CASES = "export_cases"  # the whole matching case base as CSV: desk roles only
    RESIDENTS = "residents"  # residents' points and services on their behalf (scoped; issue 18)


_P = Permission
_ALL = frozenset(Permission)
_READ_WALL = frozenset({_P.VIEW_WALL, _P.VIEW_POSITIONS, _P.VIEW_CAMERAS, _P.VIEW_REFERENCE})

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: _ALL,
        Role.COMMANDER: _ALL - {_P.MANAGE_USERS, _P.VIEW_AUDIT},
        Role.DISPATCHER: _READ_WALL
        | {
            _P.VIEW_CASES,
            _P.CHANGE_CASES,
            _P.REPORT_CASE,
            _P.ACKNOWLEDGE_ALARM,
            _P.EXPORT_CASES,
            _P.RESIDENTS,
        },
        Role.SUPERVISOR: _READ_WALL
        | {
            _P.VIEW_CASES,
            _P.CHANGE_CASES,  # photos and camera evidence of a video check (no lifecycle step)
            _P.SUPERVISE,
            _P.VIEW_TRENDS,
            _P.ACKNOWLEDGE_ALARM,
            _P.EXPORT_CASES,
            _P.RESIDENTS,  # reads (personal data masked): services on time
        },
        # A department's desk exports its own dispatched cases (its scope); phones do not.
        Role.DEPARTMENT: frozenset(
            {_P.VIEW_CASES, _P.CHANGE_CASES, _P.VIEW_REFERENCE, _P.EXPORT_CASES, _P.RESIDENTS}
        ),
        # Leadership is read-only: the wall, the trends and the cases of its area (to drill down
        # from a figure to the cases behind it), never a change; residents' data masked.
        Role.LEADER: _READ_WALL | {_P.VIEW_TRENDS, _P.VIEW_CASES, _P.RESIDENTS},
        Role.WALL: _READ_WALL,
        Role.GRID_WORKER: frozenset(
            {
                _P.REPORT_CASE,
                _P.SUBMIT_POSITIONS,
                _P.VIEW_REFERENCE,
                _P.VIEW_CASES,
                _P.CHANGE_CASES,
                _P.RESIDENTS,
            }
        ),
        Role.INTEGRATION: frozenset(
            {_P.REPORT_CASE, _P.SUBMIT_POSITIONS, _P.VIEW_REFERENCE, _P.VIEW_CASES, _P.CHANGE_CASES}
        ),
    }
)

_DESK = frozenset({Role.DISPATCHER, Role.COMMANDER, Role.ADMIN})  # 受理员/派遣员 and above
_SHIFT_LEAD = frozenset({Role.COMMANDER, Role.ADMIN})  # 值班长: approvals, closing
_FIELD = frozenset({Role.GRID_WORKER, Role.COMMANDER, Role.ADMIN})  # on-site steps
_DEPT = frozenset({Role.DEPARTMENT, Role.COMMANDER, Role.ADMIN})

ACTION_ROLES: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.ACCEPT: _DESK,
        Action.REQUEST_VERIFY: _DESK,
        Action.VERIFY: _FIELD,
        Action.VOID: _SHIFT_LEAD,  # invalid or duplicate: needs approval
        Action.REGISTER: _DESK,
        Action.DISPATCH: _DESK,
        Action.START: _DEPT,
        Action.RETURN: _DEPT,
        Action.EXTEND: _SHIFT_LEAD,  # an approved new deadline
        Action.SUSPEND: _SHIFT_LEAD,
        Action.RESUME: _SHIFT_LEAD,
        Action.HANDLED: _DEPT,
        Action.CHECK_PASS: _FIELD,
        Action.CHECK_FAIL: _FIELD,
        Action.SELF_HANDLE: _FIELD,
        Action.CLOSE: _SHIFT_LEAD,
        # Two-way evaluation: the department rates the report, the reporter (through the
        # hotline integration or the shift lead) rates the handling.
        Action.EVALUATE: frozenset({Role.DEPARTMENT, Role.INTEGRATION, Role.COMMANDER, Role.ADMIN}),
    }
)


# Roles that only read: they never change a case, a user or a setting.
READ_ONLY_ROLES = frozenset({Role.LEADER, Role.WALL})
# Roles whose staff act on cases somewhere in the lifecycle (a union of ACTION_ROLES).
ACTING_ROLES = frozenset().union(*ACTION_ROLES.values())


def may_change_cases(role: Role) -> bool:
    """Whether ``role`` may change a case at all (a step, a photo, camera evidence): it holds
    CHANGE_CASES and is not a read-only role. The one rule every write path of a case asks,
    through ``dashboard.security.scoping.may_change_case`` (which adds the case's scope)."""
    return role not in READ_ONLY_ROLES and can(role, Permission.CHANGE_CASES)


def can_share(role: Role) -> bool:
    """Whether ``role`` may save something every user sees (a shared camera layout): the
    read-only roles may keep their own, never change what others see (issue 11)."""
    return role not in READ_ONLY_ROLES


def can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def can_act(role: Role, action: Action) -> bool:
    return role in ACTION_ROLES[action] and may_change_cases(role)


def roles_with(permission: Permission) -> frozenset[Role]:
    """Every role holding ``permission`` (tests and the docs table read this)."""
    return frozenset(role for role, perms in ROLE_PERMISSIONS.items() if permission in perms)


def actions_of(role: Role) -> frozenset[Action]:
    """Every lifecycle action ``role`` may take."""
    return frozenset(action for action, roles in ACTION_ROLES.items() if role in roles)


@dataclass(frozen=True)
class Scope:
    """What part of the region and which department a principal is limited to.

    ``area_code`` is a county (6), town (9) or village (12 digits) code, or None for the whole
    deployment; a place is inside when its code starts with it (codes nest by prefix).
    ``department_code`` limits a department user to the cases dispatched to that department.
    """

    area_code: str | None = None
    department_code: str | None = None

    def allows_place(self, code: str | None) -> bool:
        if self.area_code is None:
            return True
        return code is not None and code.startswith(self.area_code)

    def allows_case(self, village_code: str, department_code: str | None) -> bool:
        if not self.allows_place(village_code):
            return False
        return self.department_code is None or self.department_code == department_code


UNLIMITED = Scope()


def token_scope_problem(
    role: Role,
    *,
    area_code: str | None = None,
    department_code: str | None = None,
    worker_id: str | None = None,
    all_areas: bool = False,
    source: str | None = None,
) -> str | None:
    """Why a token of ``role`` with this scope may not be issued (None: it may).

    A token is scoped like a user of its role (issue 11): a department's token sees only the
    cases dispatched to its department; a grid worker's phone belongs to one worker (and is
    limited to that worker's village); an integration must name its area or say explicitly
    that it serves the whole deployment. A scope that does not fit the role is refused too.
    """
    if role is Role.DEPARTMENT and not department_code:
        return "a department token needs --department (it sees only that department's cases)"
    if role is Role.GRID_WORKER and not worker_id:
        return "a grid worker's device token needs --worker (it belongs to that worker and grid)"
    if role is Role.INTEGRATION and not area_code and not all_areas:
        return "an integration token needs --area, or --all-areas for the whole deployment"
    if department_code and role is not Role.DEPARTMENT:
        return "--department is only for department tokens"
    if worker_id and role is not Role.GRID_WORKER:
        return "--worker is only for grid worker tokens"
    if source and role is not Role.INTEGRATION:
        return "--source is only for integration tokens"
    if source and source not in {s.value for s in INTEGRATION_SOURCES}:
        known = ", ".join(sorted(s.value for s in INTEGRATION_SOURCES))
        return f"--source must be one of {known}"
    if all_areas and area_code:
        return "--area and --all-areas exclude each other"
    return None
