"""The frame's own pages: the grid workers' page (``/field``) and "not found" (any address
without a page), both in the desk frame and in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import dash
import flask
from dash import html
from dash.exceptions import MissingCallbackContextException

from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Permission
from dashboard.i18n import Lang, normalise_lang, t
from dashboard.security.landing import FIELD_PAGE
from dashboard.security.pages import not_found_page, page_guard
from layouts.field import field_page

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal


def page_title(key: str, services: Services) -> Callable[..., str]:
    """A page's browser title in the reader's language (``?lang=``): the page first (it is what
    a tab shows), then the product — the configured name in the configured language, the
    translated one otherwise. Dash calls it for the first page and again on each navigation."""
    default = services.config.ui.language

    def title(**_path: str) -> str:
        lang = normalise_lang(_asked_lang(), default)
        product = services.config.ui.title if lang == default else t("app.title", lang)
        return f"{t(key, lang)} · {product}"

    return title


def _asked_lang() -> str | None:
    """``lang`` of the address being shown: the query of the page request, or, when Dash's
    router callback asks on navigation, the search of its location input."""
    if not flask.has_request_context():
        return None
    if flask.request.method == "GET":
        return flask.request.args.get("lang")
    try:
        search = dash.callback_context.inputs.get("_pages_location.search")
    except MissingCallbackContextException:
        return None
    if not isinstance(search, str):
        return None
    return parse_qs(search.lstrip("?")).get("lang", [None])[0]


def unknown_refusal(err: DomainError, lang: Lang) -> str:
    """A refusal whose code has no words yet: the service's own message is English (for the
    API), so the Chinese page says it in general terms instead of showing it."""
    return err.message if lang == "en" else t("action.err.other", lang)


def register_frame_pages(services: Services) -> None:
    def field(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        return field_page(principal, normalise_lang(lang, services.config.ui.language))

    dash.register_page(
        "field",
        path=FIELD_PAGE,
        layout=page_guard(Permission.REPORT_CASE)(field),
        title=page_title("title.field", services),
    )

    def not_found(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        return not_found_page(principal, normalise_lang(lang, services.config.ui.language))

    # Dash shows the page whose module is named "not_found_404" for any unknown address.
    dash.register_page(
        "not_found_404",
        path="/not-found",
        # Every role may read reference data: the guard only asks that someone signed in.
        layout=page_guard(Permission.VIEW_REFERENCE)(not_found),
        title=page_title("title.not_found", services),
    )
