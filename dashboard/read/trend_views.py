"""View data of the leaders' trends page (/trends) and its briefing: what
``services.trend_view`` builds and the layouts draw (issue 13). Pure data and formatting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from dashboard.domain.metrics import ClosureCounts
from dashboard.domain.trend_figures import Figures, change
from dashboard.domain.trend_periods import (
    Comparison,
)
from dashboard.reference import ReferenceData

KPI_KEYS = (
    "reported",
    "registered",
    "closed",
    "closure_rate",
    "on_time_closure_rate",
    "rework_rate",
    "extension_rate",
    "average_handling_hours",
)
RATES = {"closure_rate", "on_time_closure_rate", "rework_rate", "extension_rate"}


@dataclass(frozen=True)
class Place:
    level: str  # city / town / village
    code: str | None  # None: the principal's whole area
    name: str
    trail: tuple[tuple[str | None, str, str], ...]  # (code, level, name) from the top


@dataclass(frozen=True)
class Kpi:
    key: str
    value: float | int | None
    previous: float | int | None
    last_year: float | int | None
    numerator: int | None  # the formula's counts ("按期结案率 = 737 / 972")
    denominator: int | None

    @property
    def previous_change(self) -> float | None:
        return _delta(self.key, self.value, self.previous)

    @property
    def last_year_change(self) -> float | None:
        return _delta(self.key, self.value, self.last_year)


def _delta(key: str, now: float | int | None, before: float | int | None) -> float | None:
    """Rates: the difference in percentage points; counts and hours: the relative change, %."""
    if key in RATES:
        if now is None or before is None:
            return None
        return round(float(now) - float(before), 2)
    return change(now, before)


def _formula(key: str, figures: Figures) -> tuple[int | None, int | None]:
    c: ClosureCounts = figures.counts
    parts = figures.parts
    return {
        "reported": (parts.reported, None),
        "registered": (c.registered, None),
        "closed": (c.closed, None),
        "closure_rate": (c.closed, c.should_be_closed),
        "on_time_closure_rate": (c.closed_on_time, c.should_be_closed),
        "rework_rate": (c.reworks, c.should_be_closed),
        "extension_rate": (c.extensions, c.registered),
        "average_handling_hours": (round(parts.handling_seconds / 3600), parts.handling_cases),
    }[key]


def kpis(current: Figures, previous: Figures, last_year: Figures) -> list[Kpi]:
    now, before, year = current.page(), previous.page(), last_year.page()
    result = []
    for key in KPI_KEYS:
        numerator, denominator = _formula(key, current)
        result.append(Kpi(key, now[key], before[key], year[key], numerator, denominator))
    return result


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: a unit and its figures."""

    code: str
    name: str
    figures: dict[str, Any]
    drill: bool = False  # a place that can be drilled into


@dataclass(frozen=True)
class TrendView:
    lang: str
    now: datetime
    comparison: Comparison
    place: Place
    kpis: list[Kpi]
    places: list[Row]
    majors: list[Row]
    categories: list[Row]
    sources: list[Row]
    departments: list[Row]
    series_days: list[str]  # the x of the trend (a day, or a week's Monday)
    series: dict[str, list[int]]  # major code → reported per x
    rising: list[str]  # major codes rising fastest against the previous period
    matrix: list[list[int]]  # [weekday 0..6][hour 0..23] reported
    points: list[tuple[float, float, int]]  # map cells: lon, lat of the centre, reports
    oldest: list[dict[str, Any]]
    cases: list[dict[str, Any]]  # the case list (village level)
    names: dict[str, str] = field(default_factory=dict)  # code → name (majors, subs, depts…)

    @property
    def where(self) -> dict[str, str]:
        return _where(self.place)


def _where(place: Place) -> dict[str, str]:
    if place.code is None:
        return {}
    return {place.level: place.code}


def _names(reference: ReferenceData, lang: str) -> dict[str, str]:
    zh = lang == "zh"
    names: dict[str, str] = {}
    for major in reference.categories.majors:
        names[f"major:{major.code}"] = major.name_zh if zh else major.name_en
        for sub in major.subs:
            names[f"category:{sub.code}"] = sub.name_zh if zh else sub.name_en
    for department in reference.departments:
        names[f"department:{department.code}"] = department.name_zh if zh else department.name_en
    return names


@dataclass(frozen=True)
class BriefingSection:
    title: str
    paragraphs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredBriefing:
    name: str
    month: str  # YYYY-MM
    area: str
    lang: str
    size: int


# The plotly.js shipped inside the plotly package (the PNG and PDF renderer loads it offline).
_PLOTLY = find_spec("plotly")
PLOTLY_JS = Path(_PLOTLY.origin if _PLOTLY and _PLOTLY.origin else "plotly").parent / (
    "package_data/plotly.min.js"
)
