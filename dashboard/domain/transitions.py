"""The vocabulary of the case state machine: the transition table and the values it works on.

DOMAIN.md, "Case lifecycle". ``TRANSITIONS`` holds only the shape of the machine - which action
moves a case from which status, and where to. What an action needs besides the right status (a
reason, a department, a photo, a later deadline...) is checked in ``dashboard.domain.lifecycle``,
which applies actions and re-exports everything here; import from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from dashboard.domain.errors import DomainError
from dashboard.domain.roles import Role
from dashboard.domain.status import OPEN_STATUSES, Action, CaseStatus, Source

__all__ = [
    "DEFAULT_POLICY",
    "TRANSITIONS",
    "ActionRequest",
    "CaseState",
    "IllegalTransition",
    "LifecyclePolicy",
    "Rule",
    "Transition",
]


class Rule(NamedTuple):
    sources: frozenset[CaseStatus]
    # None: the target is not fixed by the action. EXTEND keeps the current status; RESUME goes
    # back to the status the case was suspended in (CaseState.resume_status).
    target: CaseStatus | None


def _rule(target: CaseStatus | None, *sources: CaseStatus) -> Rule:
    return Rule(frozenset(sources), target)


_S = CaseStatus

TRANSITIONS: Mapping[Action, Rule] = MappingProxyType(
    {
        Action.ACCEPT: _rule(_S.ACCEPTED, _S.REPORTED),
        Action.REQUEST_VERIFY: _rule(_S.VERIFYING, _S.ACCEPTED),
        Action.VERIFY: _rule(_S.VERIFIED, _S.VERIFYING),
        Action.VOID: _rule(_S.VOIDED, _S.REPORTED, _S.ACCEPTED, _S.VERIFYING, _S.VERIFIED),
        Action.REGISTER: _rule(_S.REGISTERED, _S.ACCEPTED, _S.VERIFIED),
        Action.DISPATCH: _rule(_S.DISPATCHED, _S.REGISTERED, _S.RETURNED),
        Action.START: _rule(_S.HANDLING, _S.DISPATCHED, _S.REWORK),
        Action.RETURN: _rule(_S.RETURNED, _S.DISPATCHED, _S.HANDLING),
        Action.EXTEND: _rule(None, _S.DISPATCHED, _S.HANDLING, _S.REWORK),
        Action.SUSPEND: _rule(_S.SUSPENDED, _S.DISPATCHED, _S.HANDLING, _S.REWORK),
        Action.RESUME: _rule(None, _S.SUSPENDED),
        Action.HANDLED: _rule(_S.HANDLED, _S.HANDLING, _S.REWORK),
        Action.CHECK_PASS: _rule(_S.CHECKED, _S.HANDLED),
        Action.CHECK_FAIL: _rule(_S.REWORK, _S.HANDLED),
        Action.SELF_HANDLE: _rule(_S.SELF_HANDLED, _S.REPORTED, _S.ACCEPTED),
        Action.CLOSE: _rule(_S.CLOSED, _S.CHECKED, _S.SELF_HANDLED),
        # Evaluation is two-way and the two sides rate at different times: the second rating
        # is added to an EVALUATED case (lifecycle.allowed_actions drops it once both are in).
        Action.EVALUATE: _rule(_S.EVALUATED, _S.CLOSED, _S.EVALUATED),
    }
)


class IllegalTransition(DomainError):
    """An action refused for the case as it is now; ``code`` says which rule refused it."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: CaseStatus | None = None,
        action: Action | None = None,
    ) -> None:
        super().__init__(code, message)
        self.status = status
        self.action = action

    @classmethod
    def refused(
        cls, code: str, status: CaseStatus, action: Action, detail: str
    ) -> IllegalTransition:
        """The standard wording: "cannot <action> a case that is <status>: <detail>"."""
        message = f"cannot {action} a case that is {status}: {detail}"
        return cls(code, message, status=status, action=action)


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    require_handled_photo: bool = True  # HANDLED and SELF_HANDLE need a photo of the result
    require_check_photo: bool = False  # CHECK_PASS and CHECK_FAIL need a photo from the site
    # Public-app reports go to the grid worker first (DOMAIN.md): REGISTER needs VERIFIED.
    require_verify_for_public: bool = True


DEFAULT_POLICY = LifecyclePolicy()


@dataclass(frozen=True, slots=True)
class CaseState:
    status: CaseStatus
    source: Source
    emergency: bool = False
    category_code: str | None = None
    department_code: str | None = None
    deadline: datetime | None = None
    reported_at: datetime | None = None
    accepted_at: datetime | None = None
    verified_at: datetime | None = None
    registered_at: datetime | None = None
    dispatched_at: datetime | None = None  # the latest dispatch
    handled_at: datetime | None = None  # the latest HANDLED or SELF_HANDLE
    checked_at: datetime | None = None  # the latest check, passed or failed
    closed_at: datetime | None = None
    voided_at: datetime | None = None
    evaluated_at: datetime | None = None  # the latest rating
    suspended_at: datetime | None = None
    resume_status: CaseStatus | None = None  # where RESUME goes back to
    returned_by: str | None = None  # the department that last returned the case
    rework_count: int = 0
    extension_count: int = 0
    dispatch_count: int = 0
    return_count: int = 0
    suspend_count: int = 0
    closed_on_time: bool | None = None  # set at CLOSE: closed_at <= deadline (None: no deadline)
    evaluation: int | None = None  # the reporter's satisfaction with the handling, 1-5
    report_rating: int | None = None  # the department's rating of the report, 1-5
    updated_at: datetime | None = None  # the time of the last transition (or of the report)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """Open, past its deadline, and not suspended (a suspended case's clock is stopped).

        The deadline is the one CLOSE is judged against (``closed_on_time``), so a case that is
        handled or checked but still open past it counts as overdue too: the anti-gaming rule.
        """
        return (
            self.is_open
            and self.status is not CaseStatus.SUSPENDED
            and self.deadline is not None
            and now >= self.deadline  # from the deadline instant on, as deadlines.is_overdue
        )


@dataclass(frozen=True, slots=True)
class ActionRequest:
    action: Action
    actor: str
    role: Role
    note: str = ""
    reason: str | None = None
    category_code: str | None = None
    department_code: str | None = None
    deadline: datetime | None = None  # register / extend / resume: computed by the caller
    attachments: tuple[str, ...] = ()  # attachment ids (photos)
    satisfaction: int | None = None  # the reporter rates the handling, 1-5
    report_rating: int | None = None  # the department rates the report, 1-5


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of the audit trail (处处留痕) and the state it produced."""

    action: Action
    before: CaseStatus
    after: CaseStatus
    at: datetime
    actor: str
    role: Role
    note: str
    reason: str | None
    attachments: tuple[str, ...]
    details: Mapping[str, str]  # e.g. department, old_deadline / new_deadline (ISO 8601)
    state: CaseState  # the new state
