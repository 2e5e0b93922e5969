"""The status page: gather the data for one request and hand it to the pure layout."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import dash
from dash import html

from callbacks.frame_pages import page_title
from dashboard.domain.calendar import calendar_gap
from dashboard.domain.permissions import Permission
from dashboard.i18n import normalise_lang
from dashboard.read.status import status_summary
from dashboard.security.pages import page_guard
from dashboard.services.metrics import closure_rates
from layouts import status_ids as ids
from layouts.shell import page_shell
from layouts.status import status_page

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal


def register_status_page(services: Services) -> None:
    tz = services.reference.calendar.tz
    subs = services.reference.categories.subs
    names = {
        "zh": {s.code: s.name_zh for s in subs},
        "en": {s.code: s.name_en for s in subs},
    }

    @page_guard(Permission.VIEW_WALL)
    def layout(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        """Dash pages pass the query string as keyword arguments (``/?lang=en``); the guard
        passes the signed-in principal first and shows a notice instead to anyone else."""
        now = services.clock.now()
        language = normalise_lang(lang, services.config.ui.language)
        day_start = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        with services.db.read() as session:
            area = principal.scope.area_code  # a town's staff see their town only
            summary = status_summary(session, now, day_start, area)
            rates = closure_rates(session, now - timedelta(days=30), now, area)
        gap = calendar_gap(services.reference.calendar, now)
        health = services.health()
        page = status_page(summary, health, rates, names[language], language, tz, now, gap)
        return page_shell("status", language, principal, page, switch_id=ids.LANG_LINK)

    dash.register_page(
        "status", path="/", layout=layout, title=page_title("title.status", services)
    )
