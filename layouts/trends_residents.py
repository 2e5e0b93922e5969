"""The leaders' view of the residents' side (``/trends/residents``, issue 18): points and services
per town over a month, a quarter or a year — claims entered and confirmed, points awarded,
service requests opened, done, the share done on time (a bar), and those open now. A pure
function of its arguments."""

from __future__ import annotations

from datetime import date

from dash import html

from dashboard.i18n import Lang, t
from dashboard.read.resident_rows import ResidentsByTown, TownResidents
from layouts.controls import data_attrs

PERIODS = ("month", "quarter", "year")
ROOT = "trs-page"
TABLE = "trs-table"  # per town
VILLAGES = "trs-villages"  # per village of the area
_COLUMNS = ("town", "claims", "confirmed", "points", "requests", "done", "on_time", "open_now")


def _share(row: TownResidents, lang: Lang) -> html.Div:
    share = row.on_time_share
    if share is None:
        return html.Div("—", className="trs-none")
    level = "good" if share >= 0.9 else "fair" if share >= 0.7 else "poor"
    return html.Div(
        [
            html.Div(className=f"trs-bar {level}", style={"width": f"{share * 100:.0f}%"}),
            html.Span(
                t("trs.share", lang).format(p=share * 100, n=row.on_time, d=row.done),
                className="trs-share",
            ),
        ],
        className="trs-barbox",
    )


def _row(row: TownResidents, lang: Lang, total: bool = False) -> html.Tr:
    return html.Tr(
        [
            html.Td(row.name, className="trs-town"),
            html.Td(str(row.claims)),
            html.Td(str(row.confirmed)),
            html.Td(f"{row.points:,}"),
            html.Td(str(row.requests)),
            html.Td(str(row.done)),
            html.Td(_share(row, lang)),
            html.Td(str(row.open_now)),
        ],
        className="trs-total" if total else "",
        **data_attrs(town=row.town or "total"),
    )


def residents_table(
    found: ResidentsByTown, lang: Lang, level: str = "town", ident: str = TABLE
) -> html.Table:
    heads = (f"c_{level}", *(f"c_{c}" for c in _COLUMNS[1:]))
    head = html.Thead(html.Tr([html.Th(t(f"trs.{c}", lang)) for c in heads]))
    body = [_row(r, lang) for r in found.towns] or [
        html.Tr(html.Td(t("trs.none", lang), colSpan=len(_COLUMNS), className="tr-empty"))
    ]
    if len(found.towns) > 1:
        body.append(_row(found.total, lang, total=True))
    return html.Table([head, html.Tbody(body)], className="cl-table trs-table", id=ident)


def residents_trends_page(
    found: ResidentsByTown,
    villages: ResidentsByTown,
    period: str,
    first: date,
    last: date,
    lang: Lang,
) -> html.Div:
    switch = html.Div(
        [
            html.A(
                t(f"trs.period_{p}", lang),
                href=f"/trends/residents?period={p}&lang={lang}",
                className="trs-period active" if p == period else "trs-period",
                id=f"trs-period-{p}",
            )
            for p in PERIODS
        ],
        className="trs-periods",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H1(t("trs.title", lang), className="cl-title"),
                    switch,
                ],
                className="trs-head",
            ),
            html.P(
                t("trs.range", lang).format(a=first.isoformat(), b=last.isoformat()),
                className="dv-muted",
                id="trs-range",
            ),
            html.H2(t("trs.by_town", lang), className="trs-h2"),
            residents_table(found, lang),
            html.H2(t("trs.by_village", lang), className="trs-h2"),
            residents_table(villages, lang, "village", VILLAGES),
            html.Ul(
                [html.Li(t(f"trs.note_{n}", lang)) for n in ("claims", "points", "on_time")],
                className="trs-notes dv-muted",
            ),
        ],
        id=ROOT,
        className="trs-page",
    )
