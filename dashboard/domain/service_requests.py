"""Services handled on a resident's behalf (代办): the catalogue and a request's closed loop.

Zhongxiang: "accepted in the village, handled online, fully done on the resident's behalf
(村级受理、网上办理、全程代理)". A grid worker or the village desk opens a request for a
resident, with their consent recorded, and submits it to the item's department. The
department accepts it — from then the item's legal time limit runs, in working days on the
working calendar — returns it when a paper is missing (the clock stands still until the
worker resubmits), and completes or refuses it; the resident evaluates the closed request.

Pure: every transition takes the request's state and ``now`` and returns the new state or
raises ``IllegalServiceStep``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from dashboard.domain.calendar import WorkingCalendar, ensure_aware
from dashboard.domain.deadlines import Light, TimeLimit, TimeUnit, deadline_for, resume_deadline
from dashboard.domain.deadlines import stage_light as _stage_light
from dashboard.domain.errors import DomainError, InvalidData

_ITEM_RE = re.compile(r"^[PAS]\d{3}$")
MAX_LIMIT_DAYS = 60  # the longest legal time limit in the catalogue's sources


class IllegalServiceStep(DomainError):
    """A step the request's state does not allow (or a missing consent, reason, rating)."""


class ServiceGroup(StrEnum):
    PUBLIC = "public"  # 公共服务
    APPROVAL = "approval"  # 行政审批
    SOCIAL_SECURITY = "social_security"  # 社会保障


@dataclass(frozen=True)
class ServiceItem:
    code: str  # group letter (P, A, S) + 3 digits
    group: ServiceGroup
    name_zh: str
    name_en: str
    department: str  # a code of departments.toml
    documents_zh: tuple[str, ...]  # the papers the department needs
    documents_en: tuple[str, ...]
    limit_days: int  # the legal time limit, in working days from acceptance

    @property
    def limit(self) -> TimeLimit:
        return TimeLimit(self.limit_days, TimeUnit.WORKING_DAYS)


class ServiceStatus(StrEnum):
    SUBMITTED = "submitted"  # 已提交 (waiting for the department)
    ACCEPTED = "accepted"  # 已受理 (the time limit runs)
    RETURNED = "returned"  # 退回补正 (a paper missing; the clock stands still)
    DONE = "done"  # 已办结
    REFUSED = "refused"  # 不予办理
    WITHDRAWN = "withdrawn"  # 已撤回 (the resident changed their mind)


OPEN_STATUSES = frozenset({ServiceStatus.SUBMITTED, ServiceStatus.ACCEPTED, ServiceStatus.RETURNED})


@dataclass(frozen=True)
class ServiceRequestState:
    status: ServiceStatus
    submitted_at: datetime
    accepted_at: datetime | None = None
    deadline: datetime | None = None
    returned_at: datetime | None = None
    closed_at: datetime | None = None
    returns: int = 0  # how many times it went back for papers
    rating: int | None = None  # the resident's evaluation, 1..5

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def open_request(consent_recorded: bool, now: datetime) -> ServiceRequestState:
    """A new request, submitted at once; refused without the resident's recorded consent."""
    if not consent_recorded:
        raise IllegalServiceStep("consent_required", "the resident's consent must be recorded")
    return ServiceRequestState(ServiceStatus.SUBMITTED, ensure_aware(now, "now"))


def _require(state: ServiceRequestState, *allowed: ServiceStatus, step: str) -> None:
    if state.status not in allowed:
        raise IllegalServiceStep("illegal_step", f"cannot {step} a request that is {state.status}")


def accept(
    state: ServiceRequestState, item: ServiceItem, now: datetime, calendar: WorkingCalendar
) -> ServiceRequestState:
    _require(state, ServiceStatus.SUBMITTED, step="accept")
    now = ensure_aware(now, "now")
    return replace(
        state,
        status=ServiceStatus.ACCEPTED,
        accepted_at=now,
        deadline=deadline_for(now, item.limit, calendar),
    )


def return_for_papers(
    state: ServiceRequestState, reason: str, now: datetime
) -> ServiceRequestState:
    """退回补正: the department names what is missing; the clock stops."""
    _require(state, ServiceStatus.SUBMITTED, ServiceStatus.ACCEPTED, step="return")
    if not reason.strip():
        raise IllegalServiceStep("reason_required", "say which paper is missing")
    return replace(
        state,
        status=ServiceStatus.RETURNED,
        returned_at=ensure_aware(now, "now"),
        returns=state.returns + 1,
    )


def resubmit(
    state: ServiceRequestState, now: datetime, calendar: WorkingCalendar
) -> ServiceRequestState:
    """The worker adds the paper: back to the department, the clock runs on where it stopped
    (a request returned before acceptance goes back to waiting for acceptance)."""
    _require(state, ServiceStatus.RETURNED, step="resubmit")
    now = ensure_aware(now, "now")
    assert state.returned_at is not None
    if state.accepted_at is None or state.deadline is None:
        return replace(state, status=ServiceStatus.SUBMITTED, returned_at=None)
    deadline = resume_deadline(state.deadline, state.returned_at, now, calendar)
    return replace(state, status=ServiceStatus.ACCEPTED, returned_at=None, deadline=deadline)


def complete(state: ServiceRequestState, now: datetime) -> ServiceRequestState:
    _require(state, ServiceStatus.ACCEPTED, step="complete")
    return replace(state, status=ServiceStatus.DONE, closed_at=ensure_aware(now, "now"))


def refuse(state: ServiceRequestState, reason: str, now: datetime) -> ServiceRequestState:
    _require(state, ServiceStatus.SUBMITTED, ServiceStatus.ACCEPTED, step="refuse")
    if not reason.strip():
        raise IllegalServiceStep("reason_required", "a refusal needs its legal reason")
    return replace(state, status=ServiceStatus.REFUSED, closed_at=ensure_aware(now, "now"))


def withdraw(state: ServiceRequestState, now: datetime) -> ServiceRequestState:
    if not state.is_open:
        raise IllegalServiceStep(
            "illegal_step", f"cannot withdraw a request that is {state.status}"
        )
    return replace(state, status=ServiceStatus.WITHDRAWN, closed_at=ensure_aware(now, "now"))


def evaluate(state: ServiceRequestState, rating: int) -> ServiceRequestState:
    _require(state, ServiceStatus.DONE, ServiceStatus.REFUSED, step="evaluate")
    if state.rating is not None:
        raise IllegalServiceStep("already_rated", "the resident has already evaluated it")
    if not 1 <= rating <= 5:
        raise IllegalServiceStep("bad_rating", "a rating is 1 to 5")
    return replace(state, rating=rating)


def request_light(
    state: ServiceRequestState, now: datetime, calendar: WorkingCalendar, yellow_at: float
) -> Light | None:
    """The deadline light of an accepted request; None before acceptance, while returned
    (the clock stands still) and once closed."""
    if state.status is not ServiceStatus.ACCEPTED or state.deadline is None:
        return None
    assert state.accepted_at is not None
    return _stage_light(state.accepted_at, state.deadline, now, calendar, yellow_at=yellow_at)


def closed_on_time(state: ServiceRequestState) -> bool | None:
    """Done by its deadline (None: not done, or never accepted)."""
    if state.status is not ServiceStatus.DONE or state.deadline is None or state.closed_at is None:
        return None
    return state.closed_at <= state.deadline


@dataclass(frozen=True)
class ServiceCatalogue:
    items: dict[str, ServiceItem]

    def item(self, code: str) -> ServiceItem:
        try:
            return self.items[code]
        except KeyError:
            raise IllegalServiceStep("unknown_item", f"no service item {code!r}") from None


def load_service_items(text: str, departments: frozenset[str]) -> ServiceCatalogue:
    """The catalogue from ``service_items.toml``; each department must be a known one."""
    raw = tomllib.loads(text)
    items: dict[str, ServiceItem] = {}
    for entry in raw.get("item", []):
        item = _service_item(entry, departments)
        if item.code in items:
            raise InvalidData("service_items", f"item {item.code} defined twice")
        items[item.code] = item
    if not items:
        raise InvalidData("service_items", "the service catalogue is empty")
    return ServiceCatalogue(items)


def _service_item(entry: dict[str, Any], departments: frozenset[str]) -> ServiceItem:
    code = str(entry.get("code", ""))
    try:
        if not _ITEM_RE.match(code):
            raise ValueError("code must be P, A or S and three digits")
        department = str(entry["department"])
        if department not in departments:
            raise ValueError(f"unknown department {department!r}")
        limit = int(entry["limit_days"])
        if not 1 <= limit <= MAX_LIMIT_DAYS:
            raise ValueError(f"limit_days must be 1..{MAX_LIMIT_DAYS}")
        docs_zh, docs_en = tuple(entry["documents_zh"]), tuple(entry["documents_en"])
        if len(docs_zh) != len(docs_en):
            raise ValueError("documents_zh and documents_en differ in length")
        return ServiceItem(
            code=code,
            group=ServiceGroup(entry["group"]),
            name_zh=str(entry["name_zh"]),
            name_en=str(entry["name_en"]),
            department=department,
            documents_zh=tuple(map(str, docs_zh)),
            documents_en=tuple(map(str, docs_en)),
            limit_days=limit,
        )
    except (KeyError, ValueError, TypeError) as err:
        raise InvalidData("service_items", f"service item {code or '?'}: {err}") from err
