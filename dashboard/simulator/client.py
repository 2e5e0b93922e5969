"""The one interface through which the simulator talks to the command center.

Two implementations: ``InProcessClient`` calls the services of the running app directly (the
embedded demo), ``HttpClient`` speaks the public API of a server elsewhere (``run.py simulate``).
Both translate what goes wrong into three exceptions the simulator understands:

``Refused``      the system said no to this one request (an illegal transition, a bad report):
                 the simulator gives up on that case and carries on;
``Unavailable``  the system cannot be reached or is failing right now (server restarting,
                 database down, rate limited): the simulator keeps the work and backs off;
``Forbidden``    the credentials are wrong: retrying cannot help, the simulator stops.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboard.domain.lifecycle import ActionRequest
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus, Source


class ClientError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Refused(ClientError):
    """The request was understood and refused; nothing changed."""


class Unavailable(ClientError):
    """The system could not answer now; the same request may succeed later."""


class Forbidden(ClientError):
    """The token is missing, unknown, revoked, or lacks a permission the simulator needs."""


@dataclass(frozen=True)
class Report:
    """A new case, as a grid worker's app or an integration would send it."""

    category: str  # 小类 code
    description: str
    lon: float
    lat: float
    source: Source
    actor: str  # who sends it: a grid worker id, or the integration (hotline, camera…)
    role: Role
    reporter: str = ""
    emergency: bool = False
    occurred_at: datetime | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Act:
    """One step of a case's life (the fields of ``POST /api/v1/cases/{id}/actions``)."""

    action: Action
    actor: str
    role: Role
    note: str = ""
    reason: str | None = None
    category: str | None = None
    department: str | None = None
    deadline: datetime | None = None
    photos: int = 0  # result photos to take and attach (the client makes and sends them)
    satisfaction: int | None = None

    def request(self, attachments: tuple[str, ...]) -> ActionRequest:
        """The domain's request for this step, with the ids of the photos already attached."""
        return ActionRequest(
            action=self.action,
            actor=self.actor,
            role=self.role,
            note=self.note,
            reason=self.reason,
            category_code=self.category,
            department_code=self.department,
            deadline=self.deadline,
            attachments=attachments,
            satisfaction=self.satisfaction,
        )


@dataclass(frozen=True)
class CaseRef:
    """What the system answers about a case after a change."""

    id: int
    status: CaseStatus
    village: str
    grid: str
    deadline: datetime | None


@dataclass(frozen=True)
class OpenCase:
    """A case open in the system when the simulator starts (it adopts and continues it)."""

    id: int
    status: CaseStatus
    source: Source
    emergency: bool
    category: str  # 小类 code (the registered one, else the reported one)
    village: str
    grid: str | None  # None when the client cannot tell (the list API has no grid)
    department: str | None
    deadline: datetime | None


@dataclass(frozen=True)
class VillageInfo:
    code: str
    status: str  # "ok" or "red"
    open_ratio: float | None = None


@dataclass(frozen=True)
class Fix:
    """A position fix of a grid worker's phone (Traccar-like: time, place, accuracy)."""

    worker: str
    lon: float
    lat: float
    at: datetime
    accuracy: float  # metres


class SimClient(ABC):
    @abstractmethod
    def report(self, report: Report) -> CaseRef:
        """Create a case; raise Refused, Unavailable or Forbidden."""

    @abstractmethod
    def act(self, case_id: int, act: Act) -> CaseRef:
        """Apply one action to a case through the state machine."""

    @abstractmethod
    def send_fixes(self, fixes: Sequence[Fix]) -> int:
        """Store a batch of position fixes; returns how many the system accepted."""

    @abstractmethod
    def open_cases(self) -> list[OpenCase]:
        """Every case open now (the simulator adopts them at its start)."""

    @abstractmethod
    def villages(self) -> list[VillageInfo]:
        """Every village with its light (the simulator watches its bursts turn them red)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
