"""The monthly briefings page (``/trends/briefings``): lists the caller's area's briefings and
makes one on demand (dashboard.services.trend_briefing); guarded by ``view_trends``."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

import dash
from dash import Input, Output, State, callback, html
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import page_title
from dashboard.domain.permissions import Permission
from dashboard.i18n import normalise_lang, t
from dashboard.security.pages import guard_callback, page_guard
from dashboard.security.principal import Principal
from dashboard.security.web import require_principal
from dashboard.services.trend_briefing import list_briefings, make_briefing
from dashboard.services.trend_render import RenderUnavailable
from layouts import trend_briefings as ids
from layouts.trend_briefing import briefing_html
from layouts.trend_briefings import briefing_list, briefings_page

if TYPE_CHECKING:
    from dashboard.container import Services

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _today(services: Services) -> date:
    return services.clock.now().astimezone(services.reference.calendar.tz).date()


def register_trend_briefings_page(services: Services) -> None:
    @page_guard(Permission.VIEW_TRENDS)
    def layout(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        found = list_briefings(services.config.data_dir(), principal.scope)
        today = _today(services)
        last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
        return briefings_page(principal, language, found, f"{last:%Y-%m}")

    dash.register_page(
        "trend_briefings",
        path="/trends/briefings",
        layout=layout,
        title=page_title("br.page_title", services),
    )

    @callback(
        Output(ids.MESSAGE, "children"),
        Output(ids.LIST, "children"),
        Input(ids.MAKE, "n_clicks"),
        State(ids.MONTH, "value"),
        State(ids.LANG_PICK, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    @guard_callback(Permission.VIEW_TRENDS)
    def make(clicks: Any, month: Any, pick: Any, lang: Any) -> tuple[str, Any]:
        if not clicks:
            raise PreventUpdate
        who, language = require_principal(), normalise_lang(lang)
        match = _MONTH.match(month) if isinstance(month, str) else None
        today = _today(services)
        if not match or not 1 <= int(match.group(2)) <= 12:
            return t("br.bad_month", language), dash.no_update
        first = date(int(match.group(1)), int(match.group(2)), 1)
        if not date(2010, 1, 1) <= first <= today:
            return t("br.bad_month", language), dash.no_update
        try:
            path = make_briefing(
                services.db,
                services.reference,
                services.config.data_dir(),
                first,
                services.clock.now(),
                who.scope,
                briefing_html,
                normalise_lang(pick if isinstance(pick, str) else None, language),
                services.config.ui.title if pick != "en" else "",
            )
        except RenderUnavailable as err:
            return t("br.failed", language).format(m=str(err)), dash.no_update
        found = list_briefings(services.config.data_dir(), who.scope)
        return t("br.generated", language).format(name=path.name), briefing_list(found, language)
