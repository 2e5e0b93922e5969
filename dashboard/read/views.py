"""View data: the shapes the pages are drawn from (pure dataclasses, no queries).

The read side (``dashboard/read/``) and the services fill them; ``layouts/`` draws them and may
import nothing else of the layers below (the contract "layouts-pure" in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dashboard.domain.status import Action, CaseStatus


@dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline: a trail entry (``kind="event"``), a reminder or an order."""

    kind: str  # "event" | "reminder" | "order"
    at: datetime
    action: str = ""  # event: the action code ("report", "accept", ...)
    from_status: str | None = None
    to_status: str | None = None
    actor: str = ""
    role: str = ""
    note: str = ""
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[str, ...] = ()
    stage: str = ""  # reminder / order: the status whose limit was watched
    deadline: datetime | None = None
    department: str | None = None
    opinion: str = ""  # order
    status: str = ""  # order: open / replied / closed
    reply: str | None = None
    replied_at: datetime | None = None
    replied_by: str | None = None


@dataclass(frozen=True)
class CaseView:
    """Everything the workspace shows about one case (codes, not names: the page names them)."""

    id: int
    version: int
    status: CaseStatus
    source: str
    emergency: bool
    category_code: str
    description: str
    address: str
    lon: float
    lat: float
    grid_code: str
    village_code: str
    village_name: str
    town_code: str
    town_name: str
    reporter: str
    reported_at: datetime
    occurred_at: datetime | None
    department_code: str | None
    deadline: datetime | None
    light: str | None  # green / yellow / red, for an open case with a deadline
    remaining: timedelta | None  # deadline - now (negative: overdue by)
    allowed: frozenset[Action]
    satisfaction: int | None
    report_rating: int | None
    attachments: tuple[str, ...]
    timeline: tuple[TimelineItem, ...]
    cameras: tuple[dict[str, Any], ...] = ()
    village_geometry: str | None = None  # GeoJSON text as stored
    grid_geometry: str | None = None
    # Who the reporter and the trail's actors are: worker ids and user names → people's names.
    people: dict[str, str] = field(default_factory=dict)
    reporter_is_worker: bool = False  # a grid worker reported it: their track can be replayed


@dataclass(frozen=True)
class RedVillage:
    code: str
    name: str
    town: str
    red_since: datetime | None
    open_ratio: float | None
    contact_name: str
    contact_phone: str
    reasons: tuple[str, ...] = ()  # why it is red (dashboard.domain.village_status.RedReason)


@dataclass(frozen=True)
class LatestCase:
    id: int
    reported_at: datetime
    category_code: str
    village: str
    status: str
    source: str


@dataclass(frozen=True)
class StatusSummary:
    counts: dict[str, int]
    cases_by_status: dict[str, int]
    reported_today: int
    closed_today: int
    open_cases: int
    overdue_now: int
    red_villages: list[RedVillage] = field(default_factory=list)
    latest: list[LatestCase] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
