"""What the residents' use cases share: who acts (``Clerk``), the refusal they raise before the
rules (``ResidentsRefused``, with its HTTP status), and bounded input."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Scope
from dashboard.domain.points import Confirmer
from dashboard.domain.roles import Role
from dashboard.domain.text import InvalidText, check_text
from dashboard.security.audit import Actor
from dashboard.storage.scoping import VILLAGE_COMMITTEE

TOWN_DESK = frozenset({Role.DISPATCHER.value, Role.COMMANDER.value, Role.ADMIN.value})
_E = TypeVar("_E", bound=StrEnum)


def may_confirm(role: str, scope: Scope) -> bool:
    """Whether a principal confirms points claims at all (the town's desk, or a village
    committee); which items and villages is ``Clerk.confirmer_level``'s rule."""
    return role in TOWN_DESK or (
        role == Role.DEPARTMENT.value and scope.department_code == VILLAGE_COMMITTEE
    )


class ResidentsRefused(DomainError):
    """Refused before the rules: not found, outside the scope, not this role's, bad input."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Entered:
    """What a write that may be retried answers: the row's id, and whether this call made it
    (False: an Idempotency-Key already made it, the first answer is given again)."""

    id: int
    created: bool = True


def check_key_reuse(same: bool, key: str) -> None:
    """The same Idempotency-Key with another body is refused (422), as the cases' door does."""
    if not same:
        raise ResidentsRefused(
            422,
            "idempotency_key_reused",
            f"the Idempotency-Key {key.split(':')[-1]!r} was used for a different request",
        )


@dataclass(frozen=True)
class Clerk:
    """Who acts, as the points rules need them: the audit name, the role and the scope."""

    actor: Actor
    scope: Scope

    @property
    def role(self) -> str:
        return self.actor.role

    def confirmer_level(self, village_code: str) -> Confirmer | None:
        if self.role in TOWN_DESK:
            return Confirmer.TOWN
        if (
            self.role == Role.DEPARTMENT.value
            and self.scope.department_code == VILLAGE_COMMITTEE
            and self.scope.area_code is not None
            and village_code.startswith(self.scope.area_code)
        ):
            return Confirmer.VILLAGE
        return None


def enum_value(kind: type[_E], value: object, field: str) -> _E:
    try:
        return kind(str(value))
    except ValueError:
        raise ResidentsRefused(
            422, "bad_value", f"{field}: unknown value {value!r}", field
        ) from None


def bounded_text(value: object, limit: int, field: str, *, required: bool) -> str:
    """Bounded, without control characters, stripped; ResidentsRefused (422) otherwise."""
    if not isinstance(value, str):
        raise ResidentsRefused(422, "bad_value", f"{field} must be text", field)
    try:
        check_text(value, field)
    except InvalidText as err:
        raise ResidentsRefused(422, err.code, err.message, field) from err
    text = value.strip()
    if len(text) > limit:
        raise ResidentsRefused(422, "too_long", f"{field}: at most {limit} characters", field)
    if required and not text:
        raise ResidentsRefused(422, "required", f"{field} is required", field)
    return text


def write_lock(session: Session, key: str | None = None) -> None:
    """On SQLite, take the database's write lock now, before the reads a write depends on (the
    driver would begin the transaction only at the first write, so two desks could both read
    the same balance, cap or status first); PostgreSQL locks the rows themselves (FOR UPDATE),
    or, for a row not written yet (``key``: one person's ID number), a transaction-scoped
    advisory lock on the key."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and key is not None:
        session.execute(sql_text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    elif dialect == "sqlite" and not session.in_nested_transaction():
        connection = session.connection()
        if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")
