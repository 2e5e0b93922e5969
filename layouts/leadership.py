"""The leader's pages (issue 13): rising problems, campaigns with their effect, rankings.
Pure functions of view data (dashboard.services.rising / campaigns / rankings answers);
sized for the 1920×1080 meeting-room screen."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from dashboard.domain.deadlines import TimeLimit
from dashboard.i18n import TABLE, Lang, t
from layouts.controls import input_kind

FORM_NAME, FORM_CATS, FORM_AREA = "cmp-name", "cmp-categories", "cmp-area"
FORM_START, FORM_END, FORM_NOTE = "cmp-start", "cmp-end", "cmp-note"
FORM_SUBMIT, FORM_MESSAGE, LIST, STORE = "cmp-submit", "cmp-message", "cmp-list", "cmp-store"
EFFECT = "cmp-effect"
_BOX = {"background": "#111a2e", "padding": "16px 20px", "borderRadius": "8px", "margin": "12px 0"}
_PAGE = {"fontSize": "18px", "maxWidth": "1860px", "margin": "0 auto"}


def rising_page(found: dict[str, Any], lang: Lang) -> html.Div:
    window = found["window"]
    rises = found["rises"]
    items = [html.Li(r["sentence"], className="rising-rise") for r in rises]
    falls = [html.Li(f["sentence"], className="rising-fall") for f in found["falls"]]
    rows = [
        html.Tr(
            [
                html.Td(f"{r['town_name']}{' · ' + r['village_name'] if r['village'] else ''}"),
                html.Td(r["category_name"]),
                html.Td(str(r["observed"])),
                html.Td(f"{r['expected']:.1f}"),
                html.Td(f"{r['change_pct']:+.0f} %"),
                html.Td("< 0.001" if r["p_value"] < 0.001 else f"{r['p_value']:.3f}"),
            ]
        )
        for r in rises
    ]
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in (
                "campaigns.col.area",
                "rising.col.what",
                "rising.col.observed",
                "rising.col.expected",
            )
        ]
        + [html.Th("%"), html.Th(t("rising.col.p", lang))]
    )
    return html.Div(
        [
            html.H1(t("rising.heading", lang)),
            html.P(t("rising.window", lang).format(a=window["from"], b=window["to"])),
            html.Div(
                html.Ul(items, id="rising-list") if items else html.P(t("rising.none", lang)),
                style={**_BOX, "fontSize": "24px"},
            ),
            html.Table([html.Thead(head), html.Tbody(rows)], className="rising-table")
            if rows
            else None,
            html.H2(t("rising.falls", lang), style={"marginTop": "24px"}),
            html.Div(html.Ul(falls) if falls else html.P(t("rising.no_falls", lang)), style=_BOX),
            html.P(
                t("rising.method", lang).format(q=found["method"]["q"], n=found["tested"]),
                className="footnote",
                style={"color": "#9fb0c8", "fontSize": "15px"},
            ),
        ],
        style=_PAGE,
        id="rising-page",
    )


def effect_statement(effect: dict[str, Any], period: str, lang: Lang) -> str:
    name = t(f"campaigns.period.{period}", lang)
    if effect["change_pct"] is None:
        return t("campaigns.no_estimate", lang).format(period=name)
    low, high = effect["interval_95"]
    counts = effect["counts"]
    return t("campaigns.statement", lang).format(
        period=name,
        dir=t("campaigns.dir.less" if effect["change_pct"] < 0 else "campaigns.dir.more", lang),
        pct=f"{abs(effect['change_pct']):.0f}",
        low=f"{low:+.0f}",
        high=f"{high:+.0f}",
        tb=counts["treated_before"],
        tp=counts["treated_period"],
        cb=counts["control_before"],
        cp=counts["control_period"],
        wb=counts["weeks_before"],
        wp=counts["weeks_period"],
        sig=t("campaigns.sig.yes" if effect["significant"] else "campaigns.sig.no", lang),
    )


def effect_figure(found: dict[str, Any], lang: Lang) -> go.Figure:
    weeks = found["weeks"]
    x = [w["start"] for w in weeks]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[w["treated"] for w in weeks],
            name=t("campaigns.series.treated", lang),
            mode="lines+markers",
            line={"color": "#ffb454", "width": 4},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[w["expected"] for w in weeks],
            name=t("campaigns.series.expected", lang),
            mode="lines",
            line={"color": "#7fb3ff", "width": 3, "dash": "dash"},
        )
    )
    periods = found["periods"]
    if periods["during"] and weeks:
        first = periods["before"]
        last = min(len(weeks) - 1, first + periods["during"])
        end = weeks[last]["start"] if last > first else found["campaign"]["end"]
        fig.add_vrect(
            x0=weeks[first]["start"],
            x1=end,
            fillcolor="#2f6fed",
            opacity=0.18,
            line_width=0,
            annotation_text=t("campaigns.band", lang),
            annotation_position="top left",
        )
    fig.update_layout(
        template="plotly_dark",
        height=460,
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        paper_bgcolor="#111a2e",
        plot_bgcolor="#111a2e",
        font={"size": 16},
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
    )
    # Numeric dates: Plotly's month names are English, and the Chinese page shows no English.
    fig.update_xaxes(tickformat="%m-%d", hoverformat="%Y-%m-%d")
    return fig


def effect_panel(found: dict[str, Any] | None, lang: Lang) -> Any:
    if found is None:
        return html.Div()
    return html.Div(
        [
            html.H2(t("campaigns.effect", lang).format(name=found["campaign"]["name"])),
            dcc.Graph(
                figure=effect_figure(found, lang),
                id="cmp-effect-graph",
                config={"displayModeBar": False},  # its tooltips are English
            ),
            html.P(t(f"campaigns.control.{found['control']}", lang)),
            html.P(
                effect_statement(found["during"], "during", lang),
                id="cmp-during",
                style={"fontSize": "22px"},
            ),
            html.P(effect_statement(found["after"], "after", lang), id="cmp-after"),
        ],
        style=_BOX,
    )


def campaign_list(rows: list[dict[str, Any]], names: dict[str, str], lang: Lang) -> Any:
    if not rows:
        return html.P(t("campaigns.none", lang))
    head = html.Tr(
        [html.Th(t(f"campaigns.col.{k}", lang)) for k in ("name", "period", "area", "categories")]
        + [html.Th("")]
    )
    body = [
        html.Tr(
            [
                html.Td(c["name"]),
                html.Td(f"{c['start']} — {c['end']}"),
                html.Td(names.get(c["area"], c["area"])),
                html.Td("、".join(names.get(code, code) for code in c["categories"])),
                html.Td(
                    html.A(
                        t("campaigns.pick", lang),
                        href=f"/trends/campaigns?id={c['id']}&lang={lang}",
                    )
                ),
            ]
        )
        for c in rows
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="cmp-table")


def campaign_form(
    categories: list[tuple[str, str]], areas: list[tuple[str, str]], lang: Lang, allowed: bool
) -> Any:
    if not allowed:
        return html.P(t("campaigns.not_allowed", lang))

    def field(label: str, control: Any) -> html.Label:
        return html.Label(
            [html.Span(t(label, lang), style={"display": "block"}), control],
            style={"display": "inline-block", "marginRight": "16px"},
        )

    return html.Div(
        [
            html.H2(t("campaigns.form", lang)),
            field(
                "campaigns.name", dcc.Input(id=FORM_NAME, maxLength=60, style={"width": "260px"})
            ),
            field(
                "campaigns.categories",
                dcc.Checklist(
                    id=FORM_CATS,
                    options=[{"label": n, "value": c} for c, n in categories],
                    inline=True,
                    inputStyle={"marginRight": "4px"},
                    labelStyle={"marginRight": "12px"},
                ),
            ),
            field(
                "campaigns.area",
                dcc.Dropdown(
                    id=FORM_AREA,
                    options=[{"label": n, "value": c} for c, n in areas],
                    value=areas[0][0] if areas else None,
                    style={"width": "260px", "color": "#111"},
                ),
            ),
            field("campaigns.start", dcc.Input(id=FORM_START, type=input_kind("date"))),
            field("campaigns.end", dcc.Input(id=FORM_END, type=input_kind("date"))),
            field(
                "campaigns.note", dcc.Input(id=FORM_NOTE, maxLength=500, style={"width": "300px"})
            ),
            html.Button(t("campaigns.submit", lang), id=FORM_SUBMIT, n_clicks=0),
            html.Div(id=FORM_MESSAGE, role="status"),
        ],
        style=_BOX,
    )


def campaigns_page(
    rows: list[dict[str, Any]],
    names: dict[str, str],
    form: Any,
    effect: dict[str, Any] | None,
    lang: Lang,
) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=STORE, data={"lang": lang}),
            html.H1(t("campaigns.heading", lang)),
            effect_panel(effect, lang),
            html.H2(t("campaigns.list", lang)),
            html.Div(campaign_list(rows, names, lang), id=LIST),
            form,
        ],
        style=_PAGE,
        id="campaigns-page",
    )


def _rate(
    figure: dict[str, Any], name: str = "", counts: str | None = None, said: str | None = None
) -> Any:
    """A rate with its counts beside it, and on hover its formula: ``按期核查率 = 37 / 40``
    (``counts``, ``said``: the counts beside it and on hover in other units, e.g. hours)."""
    value = figure["value"]
    text = "—" if value is None else f"{value:.2f} %"
    counts = counts or f"{figure['numerator']} / {figure['denominator']}"
    said = said or counts
    return html.Td(
        [
            text,
            html.Span(
                f" ({counts})", className="counts", style={"color": "#9fb0c8", "fontSize": "14px"}
            ),
        ],
        title=f"{name} = {said}" if name else said,
        style={"whiteSpace": "nowrap"},
    )


def _head(cols: tuple[str, ...], lang: Lang) -> html.Tr:
    """The column names; a rate's name says its formula on hover (``rankings.hint.*``)."""
    cells = []
    for c in cols:
        hint = f"rankings.hint.{c}"
        cells.append(
            html.Th(t(f"rankings.col.{c}", lang), title=t(hint, lang) if hint in TABLE else None)
        )
    return html.Tr(cells)


def _units(rows: list[dict[str, Any]], lang: Lang) -> Any:
    if not rows:
        return html.P(t("rankings.none", lang))
    cols = ("rank", "name", "score", "grade", "closure", "on_time", "rework", "dispatch")
    head = _head(cols, lang)

    def name(c: str) -> str:
        return t(f"rankings.col.{c}", lang)

    body = [
        html.Tr(
            [
                html.Td(str(r["rank"] or "—")),
                html.Td(r["name"]),
                html.Td("—" if r["score"] is None else f"{r['score']:.2f}"),
                html.Td(r["grade"] or "—", className=f"grade grade-{r['grade']}"),
                _rate(r["closure_rate"], name("closure")),
                _rate(r["on_time_handling_rate"], name("on_time")),
                _rate(r["rework_rate"], name("rework")),
                _rate(r["dispatch_accuracy"], name("dispatch")),
            ]
        )
        for r in rows
    ]
    return html.Table(
        [html.Thead(head), html.Tbody(body)], className="rank-table", style={"width": "100%"}
    )


def _workers(rows: list[dict[str, Any]], lang: Lang) -> Any:
    if not rows:
        return html.P(t("rankings.none", lang))
    cols: tuple[str, ...] = ("rank", "name", "reported", "valid", "verify", "check", "checks")
    cols += ("missed", "distance", "patrol", "inside", "coverage")
    head = _head(cols, lang)

    def name(c: str) -> str:
        return t(f"rankings.col.{c}", lang)

    body = [
        html.Tr(
            [
                html.Td(str(r["rank"])),
                html.Td(r["name"]),
                html.Td(str(r["reported"])),
                _rate(r["valid_report_rate"], name("valid")),
                _rate(r["on_time_verify_rate"], name("verify")),
                _rate(r["on_time_check_rate"], name("check")),
                html.Td(str(r["verifications_and_checks"])),
                _rate(r["missed_report_rate"], name("missed")),
                *_patrol_cells(r["patrol"], name, lang),
            ],
            id=f"rank-worker-{r['id']}",
        )
        for r in rows[:30]
    ]
    return html.Table(
        [html.Thead(head), html.Tbody(body)], className="rank-table", style={"width": "100%"}
    )


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:.1f}"


def _patrol_cells(p: dict[str, Any], name: Any, lang: Lang) -> list[Any]:
    """Distance, time on patrol, the share inside the own grid and household coverage, each
    with its counts on hover (``网格内时长占比 = 24.1 小时 / 28.5 小时``)."""
    days = t("rankings.patrol_counts", lang).format(d=p["days"], f=p["fixes"], x=p["flagged"])
    if not p["days"]:
        return [html.Td("—", title=days) for _ in range(4)]
    inside, coverage = p["inside_share"], p["household_coverage"]
    km = t("rankings.km", lang).format(v=f"{p['distance_km']:.2f}")
    hours = t("rankings.hours", lang).format(v=_hours(p["patrol_s"]))
    said = t("rankings.figure_of", lang)
    a, b = _hours(inside["numerator"]), _hours(inside["denominator"])
    n, d = coverage["numerator"], coverage["denominator"]
    return [
        html.Td(km, title=said.format(n=name("distance"), v=km, c=days)),
        html.Td(hours, title=said.format(n=name("patrol"), v=hours, c=days)),
        _rate(
            inside,
            name("inside"),
            t("rankings.hours", lang).format(v=f"{a} / {b}"),
            t("rankings.hours_of", lang).format(a=a, b=b),
        ),
        _rate(
            coverage,
            name("coverage"),
            t("rankings.households", lang).format(v=f"{n} / {d}"),
            t("rankings.households_of", lang).format(a=n, b=d),
        ),
    ]


def _limit(text: str, lang: Lang) -> str:
    limit = TimeLimit.parse(text)
    return limit.describe_zh() if lang == "zh" else limit.describe()


def rankings_page(found: dict[str, Any], weights: dict[str, float], lang: Lang) -> html.Div:
    return html.Div(
        [
            html.H1(t("rankings.heading", lang).format(a=found["from"], b=found["to"])),
            html.Div(
                [html.H2(t("rankings.departments", lang)), _units(found["departments"], lang)],
                style=_BOX,
            ),
            html.Div(
                [html.H2(t("rankings.towns", lang)), _units(found["towns"], lang)], style=_BOX
            ),
            html.Div(
                [html.H2(t("rankings.workers", lang)), _workers(found["workers"], lang)], style=_BOX
            ),
            html.P(
                t("rankings.formula", lang).format(
                    c=weights["closure"], o=weights["on_time_handling"], r=weights["rework"]
                ),
                style={"color": "#9fb0c8", "fontSize": "15px"},
            ),
            html.P(
                t("rankings.formula_workers", lang).format(
                    v=_limit(found["limits"]["verify"], lang),
                    c=_limit(found["limits"]["check"], lang),
                ),
                style={"color": "#9fb0c8", "fontSize": "15px"},
                id="rankings-formula-workers",
            ),
            html.P(
                t("rankings.formula_patrol", lang).format(
                    s=found["patrol_rules"]["silent_minutes"],
                    r=found["patrol_rules"]["household_radius_m"],
                ),
                style={"color": "#9fb0c8", "fontSize": "15px"},
                id="rankings-formula-patrol",
            ),
        ],
        style=_PAGE,
        id="rankings-page",
    )
