"""The case list (/cases): search form, result table with sortable columns, paging, CSV link.

Pure functions of a ``CaseListView``. Every link (sort, page, export, language) carries the
current search as query parameters, so any view of the list can be bookmarked or shared. User
text (descriptions, addresses) is passed as plain strings: Dash renders text, never HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import Lang, t
from layouts import case_list_ids as ids
from layouts.case_format import duration, local, status_word
from layouts.controls import InputKind, data_attrs, dropdown_labels, input_kind

PER_PAGE_CHOICES = (20, 50, 100, 200, 500)
EXPORT_PATH = "/api/v1/cases.csv"
_DESCRIPTION_CHARS = 48
Options = Sequence[tuple[str, str]]  # (value, label)


@dataclass(frozen=True)
class CaseListView:
    """Everything the page shows. ``params`` is the current search as URL parameters (without
    ``lang``); ``error`` replaces the results when the search itself is not valid."""

    lang: Lang
    tz: ZoneInfo
    params: Mapping[str, str]
    rows: Sequence[Mapping[str, Any]] = ()
    total: int = 0
    page: int = 1
    per_page: int = 50
    sort: str = "-reported_at"
    error: str = ""
    categories: Mapping[str, str] = field(default_factory=dict)  # code → name (subs and majors)
    towns: Options = ()
    departments: Options = ()
    statuses: Options = ()
    can_export: bool = True  # the CSV export link (EXPORT_CASES: never a leader or a wall)


def href(params: Mapping[str, str], lang: Lang, path: str = "/cases", **changes: Any) -> str:
    """``path`` with the search ``params`` (``changes`` replace or, when None, drop a key)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    merged["lang"] = lang
    return f"{path}?{urlencode(merged)}"


def export_href(view: CaseListView) -> str:
    return href(view.params, view.lang, EXPORT_PATH, page=None, per_page=None)


# --- the light, shared with the department view ---------------------------------------------


def light_badge(row: Mapping[str, Any], lang: Lang) -> html.Span:
    """The stage light in words ("overdue by 2 h 30 min" when late); "—" without a light."""
    light = row.get("light")
    if not light:
        return html.Span("—", className="cl-light none")
    text = t(f"case_list.light_{light}", lang)
    if row.get("overdue_minutes") is not None:
        late = duration(timedelta(minutes=row["overdue_minutes"]), lang)
        text = t("case_list.overdue_by", lang).format(t=late)
    return html.Span([html.Span(className="dot"), text], className=f"cl-light {light}")


def place_text(row: Mapping[str, Any]) -> str:
    return " · ".join(p for p in (row.get("town_name"), row.get("village_name")) if p) or "—"


def short(text: str, limit: int = _DESCRIPTION_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    return local(moment, tz, "%Y-%m-%d %H:%M")


# --- the search form ------------------------------------------------------------------------


def _label(text: str, control: Any, wide: bool = False) -> html.Label:
    return html.Label(
        [html.Span(text, className="cl-label"), control],
        className="cl-field wide" if wide else "cl-field",
    )


def _input(ident: str, value: str, kind: InputKind = "text", placeholder: str = "") -> dcc.Input:
    return dcc.Input(
        id=ident,
        type=input_kind(kind),
        value=value,
        debounce=False,
        placeholder=placeholder,
        className="cl-input",
        n_submit=0,
    )


def _select(ident: str, value: str, options: Options, lang: Lang) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=ident,
        options=[{"value": v, "label": label} for v, label in options],
        value=value or None,
        placeholder=t("case_list.any", lang),
        clearable=True,
        className="cl-select",
        labels=dropdown_labels(lang),
    )


def _category_options(categories: Mapping[str, str]) -> Options:
    return [(code, f"{code} {name}") for code, name in sorted(categories.items())]


def search_form(view: CaseListView) -> html.Div:
    p, lang = view.params, view.lang
    lights = [(x, t(f"case_list.light_{x}", lang)) for x in ("red", "yellow", "green")]
    fields = [
        _label(t("case_list.f_id", lang), _input(ids.CASE_ID, p.get("id", ""))),
        _label(t("case_list.f_text", lang), _input(ids.TEXT, p.get("text", "")), wide=True),
        _label(t("case_list.f_place", lang), _input(ids.PLACE, p.get("place", ""))),
        _label(
            t("case_list.f_category", lang),
            _select(ids.CATEGORY, p.get("category", ""), _category_options(view.categories), lang),
            wide=True,
        ),
        _label(
            t("case_list.f_status", lang),
            _select(ids.STATUS, p.get("status", ""), view.statuses, lang),
        ),
        _label(t("case_list.f_town", lang), _select(ids.TOWN, p.get("town", ""), view.towns, lang)),
        _label(
            t("case_list.f_department", lang),
            _select(ids.DEPARTMENT, p.get("department", ""), view.departments, lang),
        ),
        _label(t("case_list.f_light", lang), _select(ids.LIGHT, p.get("light", ""), lights, lang)),
        _label(t("case_list.f_from", lang), _input(ids.DATE_FROM, p.get("from", ""), "date")),
        _label(t("case_list.f_to", lang), _input(ids.DATE_TO, p.get("to", ""), "date")),
        dcc.Checklist(
            id=ids.OVERDUE,
            options=[{"value": "true", "label": t("case_list.f_overdue", lang)}],
            value=["true"] if p.get("overdue") == "true" else [],
            className="cl-check",
        ),
    ]
    buttons = html.Div(
        [
            html.Button(
                t("case_list.search", lang), id=ids.SEARCH, n_clicks=0, className="cl-btn primary"
            ),
            dcc.Link(
                t("case_list.reset", lang),
                id=ids.RESET,
                href=f"/cases?lang={lang}",
                className="cl-btn",
            ),
        ],
        className="cl-buttons",
    )
    return html.Div([*fields, buttons], className="cl-form")


# --- the results ----------------------------------------------------------------------------

_COLUMNS = (  # (column, sort key or None)
    ("id", "id"),
    ("status", "status"),
    ("category_name", "category"),
    ("description", None),
    ("place", "village"),
    ("department_name", None),
    ("reported_at", "reported_at"),
    ("deadline", "deadline"),
    ("light", "light"),
)


def _header(column: str, key: str | None, view: CaseListView) -> html.Th:
    text = t(f"case_list.c_{column}", view.lang)
    if key is None:
        return html.Th(text)
    current = view.sort.removeprefix("-")
    descending = view.sort.startswith("-")
    arrow = (" ▼" if descending else " ▲") if current == key else ""
    target = f"-{key}" if current == key and not descending else key
    link = dcc.Link(
        text + arrow,
        href=href(view.params, view.lang, sort=target, page=None),
        id=f"{ids.SORT_PREFIX}{key}",
        className="cl-sort",
    )
    return html.Th(link, className="sorted" if current == key else "")


def _row(row: Mapping[str, Any], view: CaseListView) -> html.Tr:
    lang, tz = view.lang, view.tz
    category = view.categories.get(row["category"], row["category"])
    emergency = (
        [html.Span(t("case_ws.emergency", lang), className="cl-urgent")] if row["emergency"] else []
    )
    cells = [
        html.Td(
            dcc.Link(str(row["id"]), href=f"/cases/{row['id']}?lang={lang}", className="cl-id")
        ),
        html.Td(status_word(row["status"], lang), className=f"cl-status st-{row['status']}"),
        html.Td(category),
        html.Td(
            [*emergency, short(row["description"])],
            title=row["description"],
            className="cl-description",
        ),
        html.Td(place_text(row)),
        html.Td(row["department_name"] or "—"),
        html.Td(when(row["reported_at"], tz), className="cl-time"),
        html.Td(when(row["deadline"], tz), className="cl-time"),
        html.Td(light_badge(row, lang)),
    ]
    return html.Tr(cells, className="cl-row", **data_attrs(case=str(row["id"])))


def results_table(view: CaseListView) -> html.Table:
    head = html.Thead(html.Tr([_header(c, k, view) for c, k in _COLUMNS]))
    body = [_row(r, view) for r in view.rows] or [
        html.Tr(html.Td(t("case_list.none", view.lang), colSpan=len(_COLUMNS), className="empty"))
    ]
    return html.Table([head, html.Tbody(body)], id=ids.TABLE, className="cl-table")


def pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def pager(view: CaseListView) -> html.Div:
    lang, last = view.lang, pages(view.total, view.per_page)

    def step(ident: str, key: str, target: int, enabled: bool) -> Any:
        if not enabled:
            return html.Span(t(key, lang), id=ident, className="cl-btn off")
        return dcc.Link(
            t(key, lang),
            id=ident,
            className="cl-btn",
            href=href(view.params, lang, page=str(target) if target > 1 else None),
        )

    return html.Div(
        [
            step(ids.PREV, "case_list.prev", view.page - 1, view.page > 1),
            html.Span(
                t("case_list.page_of", lang).format(p=view.page, n=last), className="cl-pages"
            ),
            step(ids.NEXT, "case_list.next", view.page + 1, view.page < last),
        ],
        id=ids.PAGER,
        className="cl-pager",
    )


def summary_bar(view: CaseListView) -> html.Div:
    lang = view.lang
    per_page = dcc.Dropdown(
        id=ids.PER_PAGE,
        options=[{"value": n, "label": str(n)} for n in PER_PAGE_CHOICES],
        value=view.per_page,
        clearable=False,
        searchable=False,
        className="cl-select small",
        labels=dropdown_labels(lang),
    )
    return html.Div(
        [
            html.Span(
                t("case_list.total", lang).format(n=f"{view.total:,}"),
                id=ids.TOTAL,
                className="cl-total",
            ),
            html.Span(t("case_list.sort_hint", lang), className="cl-hint"),
            html.Div(
                [html.Span(t("case_list.per_page", lang), className="cl-label"), per_page],
                className="cl-per-page",
            ),
            *(
                [
                    html.A(
                        t("case_list.export", lang),
                        id=ids.EXPORT,
                        href=export_href(view),
                        className="cl-btn export",
                    )
                ]
                if view.can_export
                else []
            ),
        ],
        className="cl-summary",
    )


def case_list_page(view: CaseListView) -> html.Div:
    """The page body (inside the desk shell)."""
    message = html.Div(
        t("case_list.bad_query", view.lang).format(m=view.error) if view.error else "",
        id=ids.MESSAGE,
        className="cl-error" if view.error else "",
    )
    results = [summary_bar(view), results_table(view), pager(view)]
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            dcc.Store(id=ids.LANG, data={"lang": view.lang, "sort": view.sort}),
            html.H1(t("case_list.title", view.lang), className="cl-title"),
            search_form(view),
            message,
            *results,
        ],
        id=ids.ROOT,
        className="cl-page",
    )
