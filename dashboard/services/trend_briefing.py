"""The one-page monthly briefing (月度简报): an A4 PDF in Chinese (or English) with the month's
KPIs and their 环比 / 同比, three charts, the departments' figures and a short summary written
from the figures; generated on demand and by the scheduler on the first working day of each
month, kept under ``<data_dir>/briefings/`` and listed for download.

Other parts add sections (rising problems, campaign effects: their own branch) through
``BRIEFING_SECTIONS``: a function taking the ``BriefingContext`` and answering a
``BriefingSection`` (a title and plain-text paragraphs, escaped here) or None.

The page itself is drawn by layouts.trend_briefing (every text escaped; the charts are the
page's own figures, drawn by plotly.js from the disk) and printed by dashboard.services.
trend_render.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.permissions import Scope
from dashboard.domain.trend_periods import DateRange, PeriodKind, period_containing
from dashboard.i18n import Lang, t
from dashboard.read.trend_views import BriefingSection, StoredBriefing, TrendView
from dashboard.reference import ReferenceData
from dashboard.services.trend_render import html_pdf
from dashboard.services.trend_view import TrendViews
from dashboard.storage.db import Database

FOLDER = "briefings"
_NAME = re.compile(r"^briefing-(\d{4})-(\d{2})-(all|\d{6,12})-(zh|en)\.pdf$")


@dataclass(frozen=True)
class BriefingContext:
    month: DateRange
    view: TrendView
    scope: Scope
    lang: Lang


BriefingHook = Callable[[BriefingContext], BriefingSection | None]
# The page's HTML from the view, the language, the title and the extra sections
# (layouts.trend_briefing.briefing_html).
Render = Callable[[TrendView, Lang, str, list[BriefingSection]], str]

# === MERGE POINT (issue 13, branch `rising`): append a hook giving the rising problems and the
# campaign effects of the month; the briefing prints each section it answers, in this order. ===
BRIEFING_SECTIONS: list[BriefingHook] = []


def first_working_day(calendar: WorkingCalendar, year: int, month: int) -> date:
    day = date(year, month, 1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def file_name(month: date, scope: Scope, lang: Lang) -> str:
    return f"briefing-{month:%Y-%m}-{scope.area_code or 'all'}-{lang}.pdf"


def folder(data_dir: Path) -> Path:
    return data_dir / FOLDER


def list_briefings(data_dir: Path, scope: Scope) -> list[StoredBriefing]:
    """The briefings of ``scope``'s area (newest month first)."""
    found = []
    area = scope.area_code or "all"
    where = folder(data_dir)
    if not where.is_dir():
        return []
    for path in where.iterdir():
        match = _NAME.match(path.name)
        if match and match.group(3) == area:
            month = f"{match.group(1)}-{match.group(2)}"
            found.append(
                StoredBriefing(path.name, month, area, match.group(4), path.stat().st_size)
            )
    return sorted(found, key=lambda b: (b.month, b.lang), reverse=True)


def briefing_path(data_dir: Path, scope: Scope, name: str) -> Path | None:
    """The stored file ``name`` if it is a briefing of ``scope``'s area."""
    match = _NAME.match(name)
    if not match or match.group(3) != (scope.area_code or "all"):
        return None
    path = folder(data_dir) / name
    return path if path.is_file() else None


# --- making one ---------------------------------------------------------------------------------


def make_briefing(
    db: Database,
    reference: ReferenceData,
    data_dir: Path,
    month: date,
    now: datetime,
    scope: Scope,
    render: Render,
    lang: Lang = "zh",
    title: str = "",
) -> Path:
    """Render the briefing of the month holding ``month`` for ``scope``'s area; store it (an
    existing one of that month is replaced) and return its path."""
    span = period_containing(PeriodKind.MONTH, month)
    view = TrendViews(db, reference).build(scope, lang, now, span, PeriodKind.MONTH)
    context = BriefingContext(span, view, scope, lang)
    sections = [s for hook in BRIEFING_SECTIONS if (s := hook(context)) is not None]
    heading = t("br.title", lang).format(
        name=title or t("app.title", lang), year=span.first.year, month=span.first.month
    )
    pdf = html_pdf(render(view, lang, heading, sections))
    target = folder(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    path = target / file_name(span.first, scope, lang)
    partial = path.with_suffix(".part")
    partial.write_bytes(pdf)
    os.replace(partial, path)
    return path


def due_briefing(calendar: WorkingCalendar, now: datetime) -> date | None:
    """The month whose briefing is due today (the previous one), when today is the first
    working day of the month; else None."""
    today = now.astimezone(calendar.tz).date()
    if today != first_working_day(calendar, today.year, today.month):
        return None
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
