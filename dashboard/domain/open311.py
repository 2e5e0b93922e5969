"""Open311 GeoReport v2 as the command center speaks it (PROTOCOLS.md): the mapping, pure.

小类 → ``service_code``, 大类 → ``group``, deadline → ``expected_datetime``, department →
``agency_responsible``, every status before closure → ``open``, closed / evaluated / voided →
``closed`` (the reason in ``status_notes``), grid code → ``address_id``, county code →
``jurisdiction_id``. The service definition of a 小类 offers two optional attributes the intake
understands (``occurred_at``, ``emergency``) and one informational attribute (the closure
condition, ``variable`` false).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dashboard.domain.categories import CategoryTree, MajorCategory, SubCategory
from dashboard.domain.status import TERMINAL_STATUSES, CaseStatus

MAX_RANGE = timedelta(days=90)  # start_date … end_date, and the default window
MAX_IDS = 100  # service_request_id=1,2,3…
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_DESCRIPTION = 4_000  # the spec's limit; the case's own (2,000) applies after it
MAX_MEDIA_URL = 500
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-05T00:00:00Z"  # when this door's contract last changed


class Open311Problem(Exception):
    """A request the door refuses: ``status`` 400 / 403 / 404 and the spec's description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def open311_status(case_status: str) -> str:
    """``open`` until the case is closed, evaluated or voided; then ``closed``."""
    return "closed" if CaseStatus(case_status) in TERMINAL_STATUSES else "open"


def statuses_for(open311: str) -> frozenset[CaseStatus]:
    """The case statuses an Open311 ``status`` filter value stands for."""
    if open311 == "closed":
        return frozenset(TERMINAL_STATUSES)
    if open311 == "open":
        return frozenset(s for s in CaseStatus if s not in TERMINAL_STATUSES)
    raise Open311Problem(400, f"status must be open or closed, not {open311[:20]!r}")


def service(major: MajorCategory, sub: SubCategory) -> dict[str, Any]:
    return {
        "service_code": sub.code,
        "service_name": sub.name_zh,
        "description": f"{sub.name_zh}（{sub.name_en}）",
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join([sub.name_en, major.name_en]),
        "group": major.name_zh,
    }


def services(tree: CategoryTree) -> list[dict[str, Any]]:
    return [service(major, sub) for major in tree.majors for sub in major.subs]


def service_definition(sub: SubCategory) -> dict[str, Any]:
    return {
        "service_code": sub.code,
        "attributes": [
            {
                "variable": False,
                "code": "closure",
                "datatype": "text",
                "required": False,
                "datatype_description": "",
                "order": 1,
                "description": f"结案条件：{sub.closure_zh}",
                "values": [],
            },
            {
                "variable": True,
                "code": "occurred_at",
                "datatype": "datetime",
                "required": False,
                "datatype_description": "ISO 8601 with a time zone, e.g. 2026-11-23T08:40:00+08:00",
                "order": 2,
                "description": "发生时间 (when it happened, if not just now)",
                "values": [],
            },
            {
                "variable": True,
                "code": "emergency",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "",
                "order": 3,
                "description": "紧急 (alarms the command room's wall at once)",
                "values": [{"key": "false", "name": "否"}, {"key": "true", "name": "是"}],
            },
        ],
    }


def check_range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The requested window: at most 90 days; the most recent 90 days when none is given."""
    if start is None and end is None:
        return now - MAX_RANGE, now
    if start is None:
        assert end is not None
        start = end - MAX_RANGE
    if end is None:
        end = min(now, start + MAX_RANGE)
    if end < start:
        raise Open311Problem(400, "end_date is before start_date")
    if end - start > MAX_RANGE:
        raise Open311Problem(400, "start_date … end_date may span at most 90 days")
    return start, end


def parse_datetime(value: str, name: str) -> datetime:
    """A w3c / ISO 8601 time with its zone (``2026-11-23T09:00:00+08:00`` or ``…Z``)."""
    text = value.strip()
    if len(text) > 40:
        raise Open311Problem(400, f"{name} is not a date-time")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Open311Problem(
            400, f"{name} must be ISO 8601, e.g. 2026-11-23T09:00:00+08:00"
        ) from None
    if when.tzinfo is None:
        raise Open311Problem(400, f"{name} needs a time zone (Z or +08:00)")
    return when


def parse_bounded_int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if (
        not value.isascii()
        or not value.isdigit()
        or len(value) > 6
        or not low <= int(value) <= high
    ):
        raise Open311Problem(400, f"{name} must be a whole number {low}–{high}")
    return int(value)
