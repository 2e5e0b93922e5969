"""Where each role lands after signing in: its own page, never a "not allowed" notice.

One home per role; the root address (``/``, the status page) is the home of the desk's shift
leads and admins only. Leaders land on their trends page.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dashboard.domain.roles import Role

FIELD_PAGE = "/field"  # the grid workers' page in the desk frame: it points to the field app
FIELD_APP = "/m"  # the field app on the phone (dashboard.http.field)

HOME: Mapping[Role, str] = MappingProxyType(
    {
        Role.ADMIN: "/",
        Role.COMMANDER: "/",
        Role.DISPATCHER: "/cases",
        Role.SUPERVISOR: "/supervision",
        Role.DEPARTMENT: "/department",
        Role.LEADER: "/trends",
        Role.WALL: "/wall",
        Role.GRID_WORKER: FIELD_APP,
        Role.INTEGRATION: "/cases",  # a machine role; a person signed in with it sees cases
    }
)


def home_for(role: Role) -> str:
    return HOME[role]


def landing(target: str, role: Role) -> str:
    """The address to go to after sign-in: the page asked for, or (when none was, ``/``) the
    role's own page."""
    return home_for(role) if target in ("", "/") else target
