"""The leaders' view of the residents' side (``/trends/residents``): the period from the
address (``?period=month|quarter|year``, the one holding today on the working calendar's
timezone), the figures from the read side, the page from the layout."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

import dash
from dash import html

from callbacks.frame_pages import page_title
from dashboard.domain.permissions import Permission
from dashboard.domain.trend_periods import PeriodKind, period_containing
from dashboard.i18n import normalise_lang, t
from dashboard.read.resident_views import residents_by_town, residents_by_village
from dashboard.security.pages import page_guard
from layouts.shell import page_shell
from layouts.trends_nav import trends_nav
from layouts.trends_residents import PERIODS, residents_trends_page

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal


def register_residents_trends_page(services: Services) -> None:
    @page_guard(Permission.VIEW_TRENDS)
    def layout(
        principal: Principal, lang: str | None = None, period: str | None = None, **_query: str
    ) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        kind = period if period in PERIODS else "month"
        tz = services.reference.calendar.tz
        today = services.clock.now().astimezone(tz).date()
        dates = period_containing(PeriodKind(kind), today)
        since = datetime.combine(dates.first, time(0), tzinfo=tz)
        until = datetime.combine(dates.last + timedelta(days=1), time(0), tzinfo=tz)
        with services.db.read() as session:
            area, total = principal.scope.area_code, t("trs.total", language)
            towns = residents_by_town(session, area, since, until, total)
            villages = residents_by_village(session, area, since, until, total)
        body = [
            trends_nav("residents", language),
            residents_trends_page(towns, villages, kind, dates.first, dates.last, language),
        ]
        return page_shell(
            "trends", language, principal, body, path="/trends/residents", query=f"period={kind}"
        )

    dash.register_page(
        "trends-residents",
        path="/trends/residents",
        layout=layout,
        title=page_title("title.trends_residents", services),
    )
