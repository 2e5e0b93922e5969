"""Rising problems over stored cases: weekly counts per 大类 × town (× village) from SQL, the
finder of dashboard.domain.rising, and the findings as view data with their sentences.

The current window is the seven local days before the day of ``now``; the history reaches back
``years_back`` years (plus the reference half-window), inside the principal's area. Falls are
tested for the series a campaign touches that ran (or ended in the last eight weeks).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from dashboard.domain.errors import UnknownCategory
from dashboard.domain.permissions import Scope
from dashboard.domain.rising import (
    Finding,
    RisingConfig,
    SeriesKey,
    find_changes,
    window_labels,
)
from dashboard.i18n import Lang, t
from dashboard.reference import ReferenceData
from dashboard.services import campaigns
from dashboard.services.weekly import MAJOR, counts_by
from dashboard.storage.db import Database
from dashboard.storage.models import Case, Town, Village
from dashboard.storage.scoping import in_area, towns_of_area

YEAR_WEEKS = 365.2425 / 7
DEFAULT_CONFIG = RisingConfig()
FALL_WEEKS_AFTER = 8


def history_weeks(config: RisingConfig) -> int:
    return math.ceil(config.years_back * YEAR_WEEKS) + config.half_window + 2


def _names(db: Database, area: str | None) -> dict[str, str]:
    with db.read() as session:
        # a village's staff see their village inside its town: the town's name too
        towns = session.execute(select(Town.code, Town.name).where(*towns_of_area(Town.code, area)))
        villages = session.execute(
            select(Village.code, Village.name).where(*in_area(Village.code, area))
        )
        return {code: name for code, name in [*towns, *villages]}


def _category_name(reference: ReferenceData, code: str, lang: Lang) -> str:
    try:
        major = reference.categories.major(code)
    except UnknownCategory:
        return code or t("rising.unknown_category", lang)
    return major.name_zh if lang == "zh" else major.name_en


def sentence(finding: Finding, names: dict[str, str], category: str, lang: Lang) -> str:
    """ "枫桥镇：近7天违法建设上报比常态高 63 %（41 件，常态约 25 件），主要来自 X 村、Y 村。" """
    key = finding.key
    place = names.get(key.town, key.town)
    if key.village:
        place += " · " + names.get(key.village, key.village)
    listed = [names.get(v[0], v[0]) for v in finding.villages[:2]]
    source = ""
    if len(listed) == 1:
        source = t("rising.from_one", lang).format(a=listed[0])
    elif len(listed) == 2:
        source = t("rising.from_two", lang).format(a=listed[0], b=listed[1])
    return t(f"rising.sentence.{finding.direction}", lang).format(
        place=place,
        category=category,
        pct=f"{abs(finding.change_pct):.0f}",
        observed=finding.observed,
        expected=f"{finding.expected:.0f}",
        source=source,
    )


def _finding_json(
    f: Finding, names: dict[str, str], reference: ReferenceData, lang: Lang
) -> dict[str, Any]:
    category = _category_name(reference, f.key.category, lang)
    return {
        "category": f.key.category,
        "category_name": category,
        "town": f.key.town,
        "town_name": names.get(f.key.town, f.key.town),
        "village": f.key.village,
        "village_name": names.get(f.key.village, f.key.village) if f.key.village else None,
        "direction": f.direction,
        "observed": f.observed,
        "expected": f.expected,
        "change_pct": f.change_pct,
        "p_value": float(f"{f.p_value:.3g}"),
        "baseline": f.method,
        "window_label": f.label,
        "reference_windows": f.reference_windows,
        "villages": [
            {"code": v[0], "name": names.get(v[0], v[0]), "observed": v[1], "excess": v[2]}
            for v in f.villages
        ],
        "sentence": sentence(f, names, category, lang),
    }


def _campaign_keys(
    db: Database, scope: Scope, today: date, towns: set[str]
) -> frozenset[SeriesKey]:
    """The (大类, town) series of campaigns that ran in the last eight weeks (or still run)."""
    keys = set()
    since = today - timedelta(days=7 * FALL_WEEKS_AFTER)
    for c in campaigns.overlapping(db, scope, since, today):
        for code in c["categories"]:
            for town in towns:
                if town.startswith(c["area"][:9]) or c["area"].startswith(town):
                    keys.add(SeriesKey(code[:2], town))
    return frozenset(keys)


def rising_problems(
    db: Database,
    reference: ReferenceData,
    scope: Scope,
    now: datetime,
    lang: Lang = "zh",
    config: RisingConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """The rises and campaign falls of the last seven days in the scope's area, as JSON."""
    tz = reference.calendar.tz
    today = now.astimezone(tz).date()
    weeks = history_weeks(config)
    first = today - timedelta(days=7 * weeks)
    origin = datetime.combine(first, time(0), tz).astimezone(UTC)
    with db.read() as session:
        rows = counts_by(
            session,
            origin,
            weeks,
            (MAJOR, Case.town_code, Case.village_code),
            *in_area(Case.village_code, scope.area_code),
        )
    towns: dict[SeriesKey, list[int]] = {}
    villages: dict[SeriesKey, list[int]] = {}
    for (major, town, village), counts in rows.items():
        villages[SeriesKey(major, town, village)] = counts
        total = towns.setdefault(SeriesKey(major, town), [0] * weeks)
        for i, n in enumerate(counts):
            total[i] += n
    labels = window_labels(today, weeks, reference.calendar.holidays)
    # The history starts at the first window holding any report: before it there was no data
    # (not zero reports), so a younger deployment gets the recent baseline, not empty years.
    begin = min(
        (next((i for i, n in enumerate(c) if n), weeks) for c in towns.values()), default=weeks
    )
    begin = min(begin, weeks - 1)
    towns = {k: c[begin:] for k, c in towns.items()}
    villages = {k: c[begin:] for k, c in villages.items()}
    labels = labels[begin:]
    keys = _campaign_keys(db, scope, today, {k.town for k in towns})
    result = find_changes(towns, villages, labels, config, keys)
    names = _names(db, scope.area_code)
    return {
        "window": {
            "from": (today - timedelta(days=7)).isoformat(),
            "to": (today - timedelta(days=1)).isoformat(),
            "label": labels[-1],
        },
        "method": {
            "test": "negative binomial upper tail on a quasi-Poisson seasonal baseline",
            "false_discovery_control": "Benjamini-Hochberg",
            "q": config.q,
            "history_weeks": len(labels),
            "config": asdict(config),
        },
        "tested": result.tested,
        "tested_falls": result.tested_falls,
        "untested": result.untested,
        "rises": [_finding_json(f, names, reference, lang) for f in result.rises],
        "falls": [_finding_json(f, names, reference, lang) for f in result.falls],
    }


def rising_for_briefing(
    db: Database,
    reference: ReferenceData,
    scope: Scope,
    now: datetime,
    lang: Lang = "zh",
    limit: int = 5,
) -> dict[str, Any]:
    """For the monthly briefing: the strongest rises and falls as sentences, and the counts."""
    found = rising_problems(db, reference, scope, now, lang)
    return {
        "window": found["window"],
        "tested": found["tested"],
        "q": found["method"]["q"],
        "rises": [f["sentence"] for f in found["rises"][:limit]],
        "falls": [f["sentence"] for f in found["falls"][:limit]],
    }
