"""The status page: gather the data for one request and hand it to the pure layout."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from dash import Dash, html
from flask import request

from dashboard.i18n import normalise_lang
from dashboard.read_models import status_summary
from dashboard.services.metrics import closure_rates
from layouts.status import status_page

if TYPE_CHECKING:
    from dashboard.app import Services


def register_status_page(app: Dash, services: Services) -> None:
    tz = services.reference.calendar.tz

    def layout() -> html.Div:
        now = services.clock.now()
        lang = normalise_lang(
            request.args.get("lang") if request else None, services.config.ui.language
        )
        day_start = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        with services.db.read() as session:
            summary = status_summary(session, now, day_start)
            rates = closure_rates(session, now - timedelta(days=30), now)
        return status_page(summary, services.health(), rates, lang, tz, now)

    app.layout = layout
