"""Query-string parameters of a case search, shared by ``GET /api/v1/cases``, its CSV and the
``/cases`` page (whose URL carries the same parameters, so a search can be bookmarked).

``parse_case_params(params, tz)`` → ``CaseQuery`` or ``InvalidQuery`` naming the parameter;
``case_params(query)`` writes a query back (only what differs from the defaults), so a page's
links (paging, sorting, CSV export) carry the current filters. Dates without a time are local
calendar days in ``tz``: ``reported_to=2026-11-23`` includes the whole of the 23rd.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain.text import control_character
from dashboard.read.case_queries import (
    MAX_PER_PAGE,
    CaseFilters,
    InvalidQuery,
    check_filter_times,
    check_filters,
    check_sort,
)

DEFAULT_SORT = "-reported_at"
DEFAULT_PER_PAGE = 50
MAX_TEXT = 200
_CODE = re.compile(r"[0-9A-Za-z_]{1,20}")
_CATEGORY = re.compile(r"\d{2}(\d{3})?")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
# Parameter name → CaseFilters field (the URL uses the short, readable names).
_NAMES = {
    "id": "case_id",
    "text": "text",
    "place": "place",
    "category": "category",
    "status": "status",
    "town": "town",
    "department": "department",
    "light": "light",
    "overdue": "overdue",
    "due_within_hours": "due_within_hours",
    "emergency": "emergency",
    "from": "reported_from",
    "to": "reported_to",
}
OTHER_PARAMS = ("sort", "page", "per_page", "lang")


@dataclass(frozen=True)
class CaseQuery:
    filters: CaseFilters = field(default_factory=CaseFilters)
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    # The date parameters as given (a day "2026-11-23" stays a day in links).
    raw_dates: tuple[str, str] = ("", "")


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise InvalidQuery("bad_number", f"{name} must be a whole number", name) from None
    if not low <= value <= high:
        raise InvalidQuery("out_of_range", f"{name} must be {low}-{high}", name)
    return value


def _bool(name: str, raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise InvalidQuery("bad_flag", f"{name} is true or false", name)


def _moment(name: str, raw: str, tz: ZoneInfo, end: bool) -> datetime:
    """A date (a local day; ``end``: the next day's start) or an ISO time with its offset."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time.min, tzinfo=tz)
        moment = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):  # 9999-12-31 as a "to" day ends in year 10000
        raise InvalidQuery("bad_time", f"{name}: a date YYYY-MM-DD or an ISO time", name) from None
    if moment.tzinfo is None:
        raise InvalidQuery("naive_time", f"{name} needs a time zone offset", name)
    return moment


def _text(name: str, raw: str) -> str:
    if len(raw) > MAX_TEXT:
        raise InvalidQuery("too_long", f"{name}: at most {MAX_TEXT} characters", name)
    return raw.strip()


def _value(name: str, raw: str, tz: ZoneInfo) -> Any:
    if name == "id":
        return _int(name, raw, 1, 2**31 - 1)
    if name in ("overdue", "emergency"):
        return _bool(name, raw)
    if name == "due_within_hours":
        try:
            hours = float(raw)
        except ValueError:
            raise InvalidQuery("bad_number", "due_within_hours is a number", name) from None
        if not math.isfinite(hours):
            raise InvalidQuery("bad_number", "due_within_hours is a number", name)
        return hours
    if name in ("from", "to"):
        return _moment(name, raw, tz, end=name == "to")
    if name == "category" and not _CATEGORY.fullmatch(raw):
        raise InvalidQuery("bad_category", "category: a 2-digit or 5-digit code", name)
    if name in ("town", "department", "light", "status") and not _CODE.fullmatch(raw):
        raise InvalidQuery("bad_code", f"{name}: a code", name)
    return _text(name, raw)


def parse_case_params(
    params: Mapping[str, str], tz: ZoneInfo, now: datetime | None = None
) -> CaseQuery:
    """Parse and check every parameter (unknown names are refused: a typo must not widen a
    search silently). Empty values count as absent, as a form sends them. With ``now`` the
    dates are also checked against the domain's window (the search checks it again; the CSV
    export needs the answer before its stream starts)."""
    unknown = sorted(set(params) - set(_NAMES) - set(OTHER_PARAMS))
    if unknown:
        raise InvalidQuery("unknown_parameter", f"unknown parameter {unknown[0]!r}", unknown[0])
    given = {k: v.strip() for k, v in params.items() if v is not None and v.strip() != ""}
    for name, raw in given.items():
        if control_character(raw):  # a NUL reached the database and cut the CSV short
            raise InvalidQuery("control_character", f"{name}: control characters", name)
    values = {_NAMES[k]: _value(k, v, tz) for k, v in given.items() if k in _NAMES}
    filters = check_filters(CaseFilters(**values))
    if now is not None:
        check_filter_times(filters, now)
    sort = given.get("sort", DEFAULT_SORT)
    check_sort(sort)
    page = _int("page", given["page"], 1, 1_000_000) if "page" in given else 1
    per_page = (
        _int("per_page", given["per_page"], 1, MAX_PER_PAGE)
        if "per_page" in given
        else DEFAULT_PER_PAGE
    )
    raw_dates = (given.get("from", ""), given.get("to", ""))
    return CaseQuery(filters, sort, page, per_page, raw_dates)


def case_params(query: CaseQuery, **changes: Any) -> dict[str, str]:
    """The parameters of ``query`` that differ from the defaults (``changes`` override:
    ``page=2``, ``sort="id"``); the inverse of ``parse_case_params``."""
    out: dict[str, str] = {}
    defaults = CaseFilters()
    by_field = {v: k for k, v in _NAMES.items()}
    for f in fields(CaseFilters):
        value = getattr(query.filters, f.name)
        if value == getattr(defaults, f.name) or value is None:
            continue
        name = by_field[f.name]
        if name in ("from", "to"):
            out[name] = query.raw_dates[0 if name == "from" else 1] or value.isoformat()
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, float):
            out[name] = f"{value:g}"
        else:
            out[name] = str(value)
    extra = {"sort": query.sort, "page": query.page, "per_page": query.per_page} | changes
    if extra["sort"] != DEFAULT_SORT:
        out["sort"] = str(extra["sort"])
    if extra["page"] != 1:
        out["page"] = str(extra["page"])
    if extra["per_page"] != DEFAULT_PER_PAGE:
        out["per_page"] = str(extra["per_page"])
    return out
