"""The leaders' trends page (``/trends``): a pure function of a ``TrendView``.

The frame (``trends_page``) holds the period picker and the stores; ``trends_content`` is the
part redrawn when the period or the place changes: the KPI cards with 环比 and 同比 (each says
its formula and counts on hover and in the footnotes), the trend, the breakdowns with their
drill-down, the hour × weekday matrix, the map, the oldest open cases, the village's case list,
the export links, and the slot where the rising-problem, campaign and ranking panels plug in
(``PANEL_SLOTS``, layouts.trend_slots).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from dash import dcc, html

from dashboard.domain.trend_periods import PeriodKind
from dashboard.i18n import Lang, t
from dashboard.read.trend_views import RATES, Kpi, Row, TrendView
from dashboard.security.principal import Principal
from layouts import trend_charts
from layouts.controls import data_attrs
from layouts.shell import page_shell
from layouts.trend_slots import PANEL_SLOTS, PanelContext
from layouts.trends_nav import trends_nav

KIND = "tr-kind"
PREV, NEXT = "tr-prev", "tr-next"
FROM, TO = "tr-from", "tr-to"
STATE = "tr-state"
CONTENT = "tr-content"
LANG = "tr-lang"
LABEL = "tr-period-label"
DRILL, CRUMB = "tr-drill", "tr-crumb"
BRIEF, BRIEF_MSG = "tr-brief", "tr-brief-msg"
KINDS = tuple(k.value for k in PeriodKind)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}%"


def fmt_value(key: str, value: float | int | None, lang: Lang) -> str:
    if value is None:
        return "—"
    if key in RATES:
        return f"{value:.2f}%"
    if key == "average_handling_hours":
        return f"{value:.1f} {t('tr.hours', lang)}"
    return f"{int(value):,}"


def fmt_change(key: str, change: float | None, lang: Lang) -> str:
    if change is None:
        return "—"
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    if key in RATES:
        return f"{sign}{abs(change):.2f} {t('tr.points', lang)}"
    return f"{sign}{abs(change):.2f}%"


def formula(kpi: Kpi, lang: Lang) -> str:
    """``按期结案率 = 737 / 972`` (rates), ``上报数 = 1,204`` (counts)."""
    name = t(f"tr.kpi.{kpi.key}", lang)
    if kpi.key == "average_handling_hours":
        return t("tr.formula_hours", lang).format(
            name=name, hours=kpi.numerator or 0, n=kpi.denominator or 0
        )
    if kpi.denominator is None:
        return f"{name} = {kpi.numerator or 0:,}"
    return f"{name} = {kpi.numerator or 0:,} / {kpi.denominator:,}"


def _change_class(key: str, change: float | None) -> str:
    if change is None or change == 0:
        return "tr-change"
    good = (
        change < 0 if key in ("rework_rate", "extension_rate", "average_handling_hours") else None
    )
    if good is None and key in RATES:
        good = change > 0
    if good is None:
        return "tr-change up" if change > 0 else "tr-change down"
    return "tr-change good" if good else "tr-change bad"


def kpi_card(kpi: Kpi, lang: Lang) -> html.Div:
    said = formula(kpi, lang)
    prev, year = kpi.previous_change, kpi.last_year_change
    return html.Div(
        [
            html.Div(t(f"tr.kpi.{kpi.key}", lang), className="tr-kpi-name"),
            html.Div(fmt_value(kpi.key, kpi.value, lang), className="tr-kpi-value"),
            html.Div(
                [
                    html.Span(
                        f"{t('tr.mom', lang)} {fmt_change(kpi.key, prev, lang)}",
                        className=_change_class(kpi.key, prev),
                    ),
                    html.Span(
                        f"{t('tr.yoy', lang)} {fmt_change(kpi.key, year, lang)}",
                        className=_change_class(kpi.key, year),
                    ),
                ],
                className="tr-kpi-changes",
            ),
            html.Div(said, className="tr-kpi-formula"),
        ],
        className="tr-kpi",
        id=f"tr-kpi-{kpi.key}",
        title=(
            f"{said}\n{t('tr.mom', lang)}: {fmt_value(kpi.key, kpi.previous, lang)}"
            f"\n{t('tr.yoy', lang)}: {fmt_value(kpi.key, kpi.last_year, lang)}"
        ),
    )


def comparison_note(view: TrendView, lang: Lang) -> html.Div:
    c = view.comparison
    parts = [
        t("tr.note_periods", lang).format(
            cur=_span(c.current.first, c.current.last),
            prev=_span(c.previous.first, c.previous.last),
            year=_span(c.last_year.range.first, c.last_year.range.last),
        )
    ]
    if c.last_year.lunar:
        parts.append(t("tr.note_lunar", lang))
    if c.last_year.festival_moved:
        parts.append(t("tr.note_festival_moved", lang))
    parts.append(t("tr.note_rates", lang))
    return html.Div(" ".join(parts), className="tr-note", id="tr-note")


def _span(first: Any, last: Any) -> str:
    return str(first) if first == last else f"{first} — {last}"


def _panel(title: str, body: Any, cls: str = "", exports: list[Any] | None = None) -> html.Div:
    head: list[Any] = [html.H3(title)]
    if exports:
        head.append(html.Div(exports, className="tr-exports no-print"))
    return html.Div([html.Div(head, className="tr-panel-head"), body], className=f"tr-panel {cls}")


def _graph(name: str, view: TrendView) -> dcc.Graph:
    fig = trend_charts.figure(name, view, titled=False)
    return dcc.Graph(
        id=f"tr-graph-{name}",
        figure=fig,
        style={"height": f"{fig.layout.height or 320}px"},
        config={"displayModeBar": False, "responsive": True},
        className="tr-graph",
    )


def _export(kind: str, name: str, query: str, lang: Lang) -> html.A:
    ext = "png" if kind == "chart" else "csv"
    return html.A(
        ext.upper(),
        href=f"/api/v1/trends/{kind}s/{name}.{ext}?{query}",
        className="tr-export",
        id=f"tr-export-{kind}-{name}",
        title=t(f"tr.export_{ext}", lang),
    )


def _rate_cells(row: Row) -> list[html.Td]:
    f = row.figures
    return [
        html.Td(f"{f['reported']:,}"),
        html.Td(f"{f['closed']:,}"),
        html.Td(_pct(f["closure_rate"]), title=f"{f['closed']} / {f['should_be_closed']}"),
        html.Td(
            _pct(f["on_time_closure_rate"]),
            title=f"{f['closed_on_time']} / {f['should_be_closed']}",
        ),
        html.Td(_pct(f["rework_rate"]), title=f"{f['reworks']} / {f['should_be_closed']}"),
    ]


def _rate_head(first: str, lang: Lang) -> html.Thead:
    names = [first, *(t(f"tr.col.{c}", lang) for c in ("reported", "closed", "closure",
                                                       "on_time", "rework"))]  # fmt: skip
    return html.Thead(html.Tr([html.Th(n) for n in names]))


def places_table(view: TrendView, lang: Lang) -> html.Table:
    level = "town" if view.place.level == "city" else "village"
    body = [
        html.Tr(
            [
                html.Td(
                    html.Button(
                        row.name,
                        id={"type": DRILL, "level": level, "code": row.code},
                        className="tr-drill",
                        title=t("tr.drill", lang),
                    )
                ),
                *_rate_cells(row),
            ]
        )
        for row in view.places
    ]
    return html.Table(
        [_rate_head(t(f"tr.col.{level}", lang), lang), html.Tbody(body)],
        className="tr-table",
        id="tr-places-table",
    )


def cases_href(view: TrendView, lang: Lang, **filters: str) -> str:
    """The case list (``/cases``) of the place and period on screen, narrowed by ``filters``
    (``category``, ``department``): the cases behind a figure. The case list's ``place`` is a
    code prefix and ``from``/``to`` local days of the report, as the page counts 上报数."""
    c = view.comparison.current
    params = {"place": view.place.code or "", **filters}
    params |= {"from": c.first.isoformat(), "to": c.last.isoformat(), "lang": lang}
    return "/cases?" + urlencode({k: v for k, v in params.items() if v})


def open_cases_link(view: TrendView, lang: Lang) -> html.A:
    """「案件列表」: the cases of the place and period, in the case list (read-only roles too)."""
    return html.A(
        t("tr.open_cases", lang),
        href=cases_href(view, lang),
        className="tr-open-cases no-print",
        id="tr-open-cases",
        title=t("tr.open_cases_hint", lang),
    )


def figures_table(
    rows: list[Row],
    first: str,
    lang: Lang,
    table_id: str,
    limit: int = 15,
    link: Callable[[Row], str] | None = None,
) -> Any:
    """A breakdown's table; with ``link``, each unit's name opens its cases in the case list."""

    def name(r: Row) -> Any:
        if link is None:
            return r.name
        return html.A(
            r.name, href=link(r), className="tr-case-link", title=t("tr.open_cases", lang)
        )

    body = [html.Tr([html.Td(name(r)), *_rate_cells(r)]) for r in rows[:limit]]
    if not body:
        return html.Div(t("tr.none", lang), className="tr-empty")
    return html.Table(
        [_rate_head(first, lang), html.Tbody(body)], className="tr-table", id=table_id
    )


def oldest_table(view: TrendView, lang: Lang, can_open: bool) -> Any:
    if not view.oldest:
        return html.Div(t("tr.no_open", lang), className="tr-empty")
    head = ["id", "category", "village", "department", "reported_at", "age"]
    rows = []
    for r in view.oldest:
        number: Any = f"#{r['id']}"
        if can_open:
            number = html.A(number, href=f"/cases/{r['id']}?lang={lang}")
        rows.append(
            html.Tr(
                [
                    html.Td(number),
                    html.Td(view.names.get(f"category:{r['category']}", r["category"])),
                    html.Td(view.names.get(f"village:{r['village']}", r["village"])),
                    html.Td(view.names.get(f"department:{r['department']}", "—")),
                    html.Td(r["reported_at"]),
                    html.Td(
                        t("tr.days", lang).format(n=r["age_days"]),
                        className="bad" if r["overdue"] else "",
                    ),
                ]
            )
        )
    return html.Table(
        [html.Thead(html.Tr([html.Th(t(f"tr.col.{h}", lang)) for h in head])), html.Tbody(rows)],
        className="tr-table",
        id="tr-oldest-table",
    )


def case_list(view: TrendView, lang: Lang, can_open: bool) -> Any:
    if not view.cases:
        return html.Div(t("tr.none", lang), className="tr-empty")
    head = ["id", "category", "source", "department", "status", "reported_at", "closed_at"]
    rows = []
    for r in view.cases:
        number: Any = f"#{r['id']}"
        if can_open:
            number = html.A(number, href=f"/cases/{r['id']}?lang={lang}")
        rows.append(
            html.Tr(
                [
                    html.Td(number),
                    html.Td(view.names.get(f"category:{r['category']}", r["category"])),
                    html.Td(t(f"source.{r['source']}", lang)),
                    html.Td(view.names.get(f"department:{r['department']}", "—")),
                    html.Td(t(f"case.{r['status']}", lang)),
                    html.Td(r["reported_at"]),
                    html.Td(r["closed_at"] or "—"),
                ]
            )
        )
    return html.Table(
        [html.Thead(html.Tr([html.Th(t(f"tr.col.{h}", lang)) for h in head])), html.Tbody(rows)],
        className="tr-table",
        id="tr-case-list",
    )


def breadcrumb(view: TrendView, lang: Lang) -> html.Div:
    items: list[Any] = []
    for i, (code, level, name) in enumerate(view.place.trail):
        label = t("tr.whole_area", lang) if level == "city" else name
        if i == len(view.place.trail) - 1:
            items.append(html.Span(label, className="tr-crumb current", id="tr-crumb-current"))
        else:
            items.append(
                html.Button(
                    label,
                    id={"type": CRUMB, "level": level, "code": code or ""},
                    className="tr-crumb",
                )
            )
            items.append(html.Span("›", className="tr-crumb-sep"))
    return html.Div(items, className="tr-breadcrumb", id="tr-breadcrumb")


def export_query(view: TrendView) -> str:
    c = view.comparison.current
    params = {"from": c.first.isoformat(), "to": c.last.isoformat(), "lang": view.lang}
    params["kind"] = view.comparison.kind.value
    if view.place.code:
        params[view.place.level] = view.place.code
    return urlencode(params)


def trends_content(view: TrendView, principal: Principal, can_open: bool) -> html.Div:
    lang: Lang = "en" if view.lang == "en" else "zh"
    q = export_query(view)
    level = view.place.level
    sections: list[Any] = [
        html.Div([kpi_card(k, lang) for k in view.kpis], className="tr-kpis", id="tr-kpis"),
        comparison_note(view, lang),
        html.Div(
            [
                _panel(
                    t("tr.chart_trend", lang),
                    _graph("trend", view),
                    "wide",
                    [_export("chart", "trend", q, lang)],
                ),
                _panel(
                    t("tr.chart_categories", lang),
                    _graph("categories", view),
                    "",
                    [_export("chart", "categories", q, lang), _export("table", "majors", q, lang)],
                ),
            ],
            className="tr-row",
        ),
    ]
    if level == "village":
        sections.append(
            _panel(
                t("tr.case_list", lang).format(place=view.place.name),
                case_list(view, lang, can_open),
                "full",
                [_export("table", "cases", q, lang)],
            )
        )
    else:
        sections.append(
            html.Div(
                [
                    _panel(
                        t(f"tr.chart_places_{level}", lang),
                        _graph("places", view),
                        "wide",
                        [_export("chart", "places", q, lang)],
                    ),
                    _panel(
                        t(f"tr.table_places_{level}", lang),
                        places_table(view, lang),
                        "scroll",
                        [_export("table", "places", q, lang)],
                    ),
                ],
                className="tr-row",
            )
        )
    sections += [
        html.Div(
            [
                _panel(
                    t("tr.chart_sources", lang),
                    _graph("sources", view),
                    "",
                    [_export("chart", "sources", q, lang), _export("table", "sources", q, lang)],
                ),
                _panel(
                    t("tr.chart_matrix", lang),
                    _graph("matrix", view),
                    "",
                    [_export("chart", "matrix", q, lang)],
                ),
                _panel(
                    t("tr.chart_map", lang),
                    _graph("map", view),
                    "",
                    [_export("chart", "map", q, lang)],
                ),
            ],
            className="tr-row three",
        ),
        html.Div(
            [
                _panel(
                    t("tr.table_departments", lang),
                    figures_table(
                        view.departments,
                        t("tr.col.department", lang),
                        lang,
                        "tr-departments-table",
                        link=(lambda r: cases_href(view, lang, department=r.code))
                        if can_open
                        else None,
                    ),
                    "scroll",
                    [_export("table", "departments", q, lang)],
                ),
                _panel(
                    t("tr.table_categories", lang),
                    figures_table(
                        view.categories,
                        t("tr.col.category", lang),
                        lang,
                        "tr-categories-table",
                        link=(lambda r: cases_href(view, lang, category=r.code))
                        if can_open
                        else None,
                    ),
                    "scroll",
                    [_export("table", "categories", q, lang)],
                ),
                _panel(
                    t("tr.table_oldest", lang),
                    oldest_table(view, lang, can_open),
                    "scroll",
                    [_export("table", "oldest", q, lang)],
                ),
            ],
            className="tr-row three",
        ),
    ]
    # The rising problems, campaigns and rankings (their own branch) plug in here.
    context = PanelContext(view=view, principal=principal, lang=lang)
    slots = [panel for slot in PANEL_SLOTS if (panel := slot(context)) is not None]
    sections.append(html.Div(slots, className="tr-slots", id="tr-slots"))
    top: list[Any] = [breadcrumb(view, lang)]
    if can_open:
        top.append(open_cases_link(view, lang))
    return html.Div(
        [html.Div(top, className="tr-content-top"), *sections],
        className=f"tr-content level-{level}",
        **data_attrs(level=level, period=q),
    )


def period_label(view: TrendView, lang: Lang) -> str:
    c = view.comparison.current
    return f"{t(f'tr.kind.{view.comparison.kind.value}', lang)} · {_span(c.first, c.last)}"


def trends_page(
    principal: Principal, view: TrendView, state: dict[str, Any], can_open: bool
) -> html.Div:
    lang: Lang = "en" if view.lang == "en" else "zh"
    kind = state["kind"]
    picker = html.Div(
        [
            html.H1(t("tr.title", lang)),
            dcc.RadioItems(
                id=KIND,
                options=[{"label": t(f"tr.kind.{k}", lang), "value": k} for k in KINDS],
                value=kind,
                inline=True,
                className="tr-kinds",
            ),
            html.Button("‹", id=PREV, className="tr-step", title=t("tr.prev", lang)),
            html.Span(period_label(view, lang), id=LABEL, className="tr-period"),
            html.Button("›", id=NEXT, className="tr-step", title=t("tr.next", lang)),
            html.Div(
                [
                    html.Label(t("tr.from", lang), htmlFor=FROM),
                    dcc.Input(
                        id=FROM,
                        type="text",
                        value=state["first"],
                        debounce=True,
                        placeholder="YYYY-MM-DD",
                        maxLength=10,
                        className="tr-date",
                    ),
                    html.Label(t("tr.to", lang), htmlFor=TO),
                    dcc.Input(
                        id=TO,
                        type="text",
                        value=state["last"],
                        debounce=True,
                        placeholder="YYYY-MM-DD",
                        maxLength=10,
                        className="tr-date",
                    ),
                ],
                className="tr-custom",
                id="tr-custom",
            ),
            html.A(
                t("tr.briefings", lang),
                href=f"/trends/briefings?lang={lang}",
                className="tr-briefing-link",
                id="tr-briefings-link",
            ),
            html.Button(t("tr.print", lang), id="tr-print", className="tr-step wide", n_clicks=0),
        ],
        className="tr-toolbar no-print",
    )
    body = html.Div(
        [
            trends_nav("trends", lang),
            picker,
            html.Div(period_label(view, lang), className="tr-print-title print-only"),
            dcc.Store(id=STATE, data=state),
            dcc.Store(id=LANG, data=lang),
            dcc.Loading(
                html.Div(trends_content(view, principal, can_open), id=CONTENT),
                type="dot",
                delay_show=400,
            ),
        ],
        className="tr-page",
    )
    return html.Div(page_shell("trends", lang, principal, body), className="trends-page")
