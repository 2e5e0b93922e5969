"""The monthly briefings page (``/trends/briefings``): the stored briefings with their download
links, and a form to make one now. A pure function of its arguments."""

from __future__ import annotations

from dash import dcc, html

from dashboard.i18n import Lang, t
from dashboard.read.trend_views import StoredBriefing
from dashboard.security.principal import Principal
from layouts.controls import input_kind
from layouts.shell import page_shell
from layouts.trends_nav import trends_nav

MONTH, LANG_PICK, MAKE, MESSAGE, LIST, LANG = (
    "br-month", "br-lang", "br-make", "br-message", "br-list", "br-page-lang",
)  # fmt: skip


def briefing_list(found: list[StoredBriefing], lang: Lang) -> html.Div | html.Table:
    if not found:
        return html.Div(t("br.none", lang), className="tr-empty", id="br-empty")
    head = [t(f"br.col_{c}", lang) for c in ("month", "lang", "size")] + [""]
    rows = [
        html.Tr(
            [
                html.Td(b.month),
                html.Td(t(f"br.lang_{b.lang}", lang)),
                html.Td(f"{b.size / 1024:.0f} KB"),
                html.Td(
                    html.A(
                        t("br.download", lang),
                        href=f"/api/v1/trends/briefings/{b.name}",
                        className="br-download",
                    )
                ),
            ]
        )
        for b in found
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        className="tr-table",
        id="br-table",
    )


def briefings_page(
    principal: Principal, lang: Lang, found: list[StoredBriefing], month: str
) -> html.Div:
    form = html.Div(
        [
            html.Label(t("br.month", lang), htmlFor=MONTH),
            dcc.Input(id=MONTH, type=input_kind("month"), value=month, className="br-month"),
            dcc.RadioItems(
                id=LANG_PICK,
                options=[{"label": t(f"br.lang_{x}", lang), "value": x} for x in ("zh", "en")],
                value=lang,
                inline=True,
                className="tr-kinds",
            ),
            html.Button(t("br.generate", lang), id=MAKE, className="tr-step wide", n_clicks=0),
            dcc.Loading(html.Span(id=MESSAGE, className="br-message"), type="dot"),
        ],
        className="tr-toolbar",
    )
    body = html.Div(
        [
            trends_nav("trends", lang),
            html.H1(t("br.page_title", lang), className="br-title"),
            form,
            dcc.Store(id=LANG, data=lang),
            html.Div(html.Div(briefing_list(found, lang), id=LIST), className="tr-panel br-panel"),
        ],
        className="tr-page",
    )
    return html.Div(page_shell("trends", lang, principal, body), className="trends-page")
