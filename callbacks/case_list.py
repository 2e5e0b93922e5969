"""The case list (``/cases``): read the search from the URL, run it, hand the rows to the layout.

The page is a function of its URL (``/cases?text=…&status=open&page=2``), so a search can be
bookmarked and shared and the browser's back button works. One callback turns the form into a
new URL (search button, Enter in a text field, or a new page size); Dash's page router then
renders the page again for that URL without reloading. Sort and paging are plain links.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, html
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import page_title
from callbacks.page_callbacks import PageCallbacks
from dashboard.domain.permissions import Permission
from dashboard.domain.status import CaseStatus
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.read import places
from dashboard.read.case_params import (
    DEFAULT_SORT,
    CaseQuery,
    case_params,
    parse_case_params,
)
from dashboard.read.case_queries import InvalidQuery
from dashboard.read.case_search import case_search
from dashboard.security.pages import page_guard
from layouts import case_list_ids as ids
from layouts.case_list import CaseListView, case_list_page
from layouts.shell import page_shell

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal

# Query keys the page passes on (Dash gives the whole query string as keyword arguments).
_KNOWN = (*ids.FIELDS, "sort", "page", "per_page")


class _Names:
    """Category, department and status names per language (reference data, read once)."""

    def __init__(self, services: Services) -> None:
        ref = services.reference
        self.categories: dict[Lang, dict[str, str]] = {
            lang: {
                **{
                    m.code: (m.name_zh if lang == "zh" else m.name_en)
                    for m in ref.categories.majors
                },
                **{s.code: (s.name_zh if lang == "zh" else s.name_en) for s in ref.categories.subs},
            }
            for lang in ("zh", "en")
        }
        self.departments: dict[Lang, list[tuple[str, str]]] = {
            lang: [(d.code, d.name_zh if lang == "zh" else d.name_en) for d in ref.departments]
            for lang in ("zh", "en")
        }

    @staticmethod
    def statuses(lang: Lang) -> list[tuple[str, str]]:
        groups = [
            ("open", t("case_list.status_open", lang)),
            ("closed", t("case_list.status_closed", lang)),
        ]
        return groups + [(s.value, t(f"case.{s.value}", lang)) for s in CaseStatus]


def _towns(services: Services, area: str | None) -> list[tuple[str, str]]:
    """The towns inside the principal's area (a village user: its own town)."""
    return places.towns_of(services.db, area)


def _search(
    services: Services, principal: Principal, query: CaseQuery, lang: Lang
) -> tuple[list[dict[str, Any]], int]:
    found = case_search(services).query_page(principal.scope, query, lang)
    return found.rows, found.total


def query_error(err: InvalidQuery, lang: Lang) -> str:
    """A search the list cannot take, in the page's language: the field by its label and the
    reason by its code (the service's own message is English, for the API)."""
    field, reason = f"query.field.{err.field}", f"query.err.{err.code}"
    label = t(field if field in TABLE else "query.field.other", lang)
    said = t(reason if reason in TABLE else "query.err.other", lang)
    return f"{label}：{said}" if lang == "zh" else f"{label}: {said}"


def build_view(
    services: Services, names: _Names, principal: Principal, lang: Lang, raw: Mapping[str, str]
) -> CaseListView:
    """Parse the URL's search, run it, and gather what the layout needs."""
    given = {k: str(v) for k, v in raw.items() if k in _KNOWN and str(v).strip()}
    common: dict[str, Any] = {
        "lang": lang,
        "tz": services.reference.calendar.tz,
        "categories": names.categories[lang],
        "towns": _towns(services, principal.scope.area_code),
        "departments": names.departments[lang],
        "statuses": names.statuses(lang),
        "can_export": principal.can(Permission.EXPORT_CASES),
    }
    try:
        query = parse_case_params(given, services.reference.calendar.tz)
        rows, total = _search(services, principal, query, lang)
    except InvalidQuery as err:
        return CaseListView(params=given, error=query_error(err, lang), **common)
    return CaseListView(
        params=case_params(query),
        rows=rows,
        total=total,
        page=query.page,
        per_page=query.per_page,
        sort=query.sort,
        **common,
    )


def register_case_list_page(services: Services) -> None:
    names = _Names(services)

    @page_guard(Permission.VIEW_CASES)
    def layout(principal: Principal, lang: str | None = None, **query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        view = build_view(services, names, principal, language, query)
        return page_shell(
            "cases", language, principal, case_list_page(view), query=urlencode(view.params)
        )

    dash.register_page(
        "case_list", path="/cases", layout=layout, title=page_title("title.cases", services)
    )
    on.register(names)


def form_params(values: Mapping[str, Any], per_page: Any) -> dict[str, str]:
    """The form's fields as URL parameters (empty ones left out; a new search starts on
    page 1)."""
    params: dict[str, str] = {}
    for name, value in values.items():
        if name == "overdue":
            if value:
                params[name] = "true"
        elif value not in (None, "") and str(value).strip():
            params[name] = str(value).strip()
    if per_page not in (None, "", 50):
        params["per_page"] = str(per_page)
    return params


on: PageCallbacks[_Names] = PageCallbacks(Permission.VIEW_CASES)


@on(
    Output(ids.NAV, "href"),
    Input(ids.SEARCH, "n_clicks"),
    *[Input(field, "n_submit") for field in ids.ENTER_FIELDS],
    Input(ids.PER_PAGE, "value"),
    *[State(field, "value") for field in ids.FIELDS.values()],
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def search(_names: _Names, *args: Any) -> str:
    """The search form's fields as the address of the results (the page reads them from it)."""
    if not dash.ctx.triggered_id:
        raise PreventUpdate
    n_inputs = 2 + len(ids.ENTER_FIELDS)
    per_page = args[n_inputs - 1]
    values = dict(zip(ids.FIELDS, args[n_inputs:-1], strict=True))
    store = args[-1] or {}
    lang = normalise_lang(store.get("lang"))
    params = form_params(values, per_page)
    if store.get("sort") and store["sort"] != DEFAULT_SORT:
        params["sort"] = str(store["sort"])  # a new search keeps the order the user chose
    params["lang"] = lang
    return f"/cases?{urlencode(params)}"
