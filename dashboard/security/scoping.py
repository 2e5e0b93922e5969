"""Area and department scoping: a town's staff see their town; a department sees its cases.

For queries: ``scope_filter(select(Case), principal)`` (the SQL itself lives in
``dashboard.storage.scoping``, the one home of the rule). For one row: ``case_visible``. For the
live stream: ``event_visible`` per event, or Socket.IO rooms (``room_for`` a screen, and
``rooms_for_place`` to emit a place's event to every screen allowed to see it). For cameras:
``can_view_camera``. Codes nest by prefix (province 2, city 4, county 6, town 9, village 12
digits), so "inside the area" is "the code starts with the area code".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select

from dashboard.domain.errors import ReadOnlyRole
from dashboard.domain.permissions import Permission, may_change_cases
from dashboard.domain.status import Action
from dashboard.security.principal import Principal
from dashboard.storage.models import Case
from dashboard.storage.scoping import case_scope

S = TypeVar("S", bound=Select[*tuple[Any, ...]])  # a select of any columns

AREA_LENGTHS = (2, 4, 6, 9, 12)
ALL_AREAS = "area:*"


def scope_filter(query: S, principal: Principal) -> S:
    """Restrict a query over ``Case`` to what ``principal`` may see."""
    return query.where(*case_scope(principal.scope))


def case_in_scope(principal: Principal, case: Case) -> bool:
    """One row by the rule ``storage.scoping.case_scope`` applies in SQL: inside the area, and
    for a department only a case dispatched to it."""
    scope = principal.scope
    if scope.department_code and case.dispatched_at is None:
        return False
    return scope.allows_case(case.village_code, case.department_code)


def case_visible(principal: Principal, case: Case) -> bool:
    return principal.can(Permission.VIEW_CASES) and case_in_scope(principal, case)


def may_change_case(principal: Principal, case: Case) -> bool:
    """May ``principal`` change this case at all (a step, a photo, camera evidence, a call's
    still)? Its role may change cases (``permissions.may_change_cases``: never a read-only role
    such as a leader or a wall) and it sees the case. Every write path of a case asks this."""
    return may_change_cases(principal.role) and case_visible(principal, case)


def ensure_may_change(principal: Principal, case: Case) -> None:
    """Raise ReadOnlyRole unless ``may_change_case`` (callers check visibility first, so a case
    outside the scope stays a "not found")."""
    if not may_change_case(principal, case):
        raise ReadOnlyRole("read_only", f"the role {principal.role} may not change case {case.id}")


def may_act_on_case(principal: Principal, action: Action, case: Case) -> bool:
    """The role may take ``action`` and may change this case (scope included)."""
    return principal.can_act(action) and may_change_case(principal, case)


def can_view_camera(principal: Principal, camera_village_code: str | None) -> bool:
    """Cameras by role (VIEW_CAMERAS) and area (the camera's village inside the scope; a camera
    with no village is visible only to a principal without an area)."""
    return principal.can(Permission.VIEW_CAMERAS) and principal.scope.allows_place(
        camera_village_code
    )


# --- the live stream ----------------------------------------------------------------------

_PLACE_KEYS = ("village", "village_code", "code")


def event_visible(principal: Principal, topic: str, payload: Mapping[str, Any]) -> bool:
    """May this screen receive this delta? Case and village events — and the supervision topics
    (reminder, supervision_order, call_list, patrol_flag), whose payloads carry ``village`` too —
    are checked by place (and a department screen only gets its department's cases, reminders
    and orders); an event without a place goes only to screens that see the whole deployment."""
    if not principal.can(Permission.VIEW_WALL):
        return False
    scope = principal.scope
    if scope.department_code is not None and payload.get("department") != scope.department_code:
        return False
    if scope.area_code is None:
        return True
    place = next((payload[k] for k in _PLACE_KEYS if isinstance(payload.get(k), str)), None)
    return place is not None and scope.allows_place(place)


def filter_fixes(
    principal: Principal, fixes: Iterable[Sequence[Any]], worker_village: Mapping[str, str]
) -> list[Sequence[Any]]:
    """Position fixes ``[worker_id, lon, lat, at]`` of workers inside the principal's area."""
    if not principal.can(Permission.VIEW_POSITIONS):
        return []
    scope = principal.scope
    if scope.area_code is None:
        return list(fixes)
    return [f for f in fixes if scope.allows_place(worker_village.get(str(f[0])))]


def room_for(principal: Principal) -> str:
    """The one Socket.IO room a screen joins: its area, or every area."""
    area = principal.scope.area_code
    return ALL_AREAS if area is None else f"area:{area}"


def rooms_for_place(code: str) -> list[str]:
    """Every room that may see an event at ``code``: each enclosing area, and the unscoped room."""
    return [ALL_AREAS, *(f"area:{code[:n]}" for n in AREA_LENGTHS if n <= len(code))]
