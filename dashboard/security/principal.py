"""The principal behind a request: a signed-in user, a device/integration token, or nobody."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboard.domain.permissions import UNLIMITED, Permission, Scope, can, can_act
from dashboard.domain.roles import Role
from dashboard.domain.status import Action


@dataclass(frozen=True)
class Actor:
    """Who did it, as the audit log names them (a user name, a token name, ``cli:root``)."""

    name: str
    role: str
    ip: str = ""


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    kind: Literal["user", "token"]
    id: int
    scope: Scope = UNLIMITED
    display_name: str = ""
    worker_id: str | None = None  # a grid worker's device token: the worker it belongs to

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)

    def can_act(self, action: Action) -> bool:
        return can_act(self.role, action)

    def actor(self, ip: str = "") -> Actor:
        """How the audit log names this principal (tokens are prefixed so they never collide)."""
        name = self.name if self.kind == "user" else f"token:{self.name}"
        return Actor(name, self.role.value, ip)
