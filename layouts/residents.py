"""The residents' page (/residents): the points claims waiting for confirmation, the month's
village ranking and the top balances, and the open services handled on residents' behalf with
their deadline lights and the department's steps. Pure functions of view data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import Lang, t
from layouts import residents_ids as ids
from layouts.case_list import light_badge, short, when
from layouts.controls import data_attrs, dropdown_labels

Row = Mapping[str, Any]


@dataclass(frozen=True)
class ResidentsPage:
    lang: Lang
    tz: ZoneInfo
    claims: Sequence[Row] = ()
    ranking: Sequence[Row] = ()
    balances: Sequence[Row] = ()
    services: Sequence[Row] = ()
    may_confirm: bool = False  # the town's desk or a village committee
    service_steps: Mapping[int, Sequence[str]] = field(default_factory=dict)  # request → steps
    departments: Mapping[str, str] = field(default_factory=dict)  # code → name
    rewards: Sequence[Row] = ()  # the shelf of the area (积分兑换)
    may_redeem: bool = False  # the town's desk or a village committee hands out rewards


def _table(heads: Sequence[str], rows: list[html.Tr], empty: str, lang: Lang) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t(f"residents.c_{h}", lang) if h else "") for h in heads]))
    body = rows or [html.Tr(html.Td(empty, colSpan=len(heads), className="empty"))]
    return html.Table([head, html.Tbody(body)], className="cl-table rs-table")


def _button(label: str, ident: dict[str, Any], primary: bool = False) -> html.Button:
    return html.Button(
        label, id=ident, n_clicks=0, className="cl-btn primary" if primary else "cl-btn"
    )


def claims_table(page: ResidentsPage) -> html.Table:
    lang = page.lang
    rows = []
    for c in page.claims:
        steps = []
        if page.may_confirm:
            key = {"type": ids.CLAIM_STEP, "claim": c["id"]}
            steps = [
                _button(t("residents.confirm", lang), {**key, "step": "confirm"}, primary=True),
                _button(t("residents.reject", lang), {**key, "step": "reject"}),
            ]
        item = c["item_zh"] if lang == "zh" else c["item_en"]
        rows.append(
            html.Tr(
                [
                    html.Td(str(c["id"])),
                    html.Td(c["village_name"]),
                    html.Td(c["resident_name"]),
                    html.Td(short(item, 22), title=item),
                    html.Td(_points(c["points"]), className="rs-num"),
                    html.Td(c["deed_date"]),
                    html.Td(t(f"residents.reporter_{c['reporter']}", lang)),
                    html.Td(c["entered_by"]),
                    html.Td(html.Div(steps, className="dv-actions")),
                ],
                **data_attrs(claim=str(c["id"])),
            )
        )
    heads = ("id", "village", "resident", "item", "points", "deed", "reporter", "entered", "")
    return _table(heads, rows, t("residents.no_claims", lang), lang)


def _points(value: int | None) -> str:
    return "—" if value is None else f"{value:+d}"


def ranking_list(page: ResidentsPage) -> html.Table:
    rows = [
        html.Tr(
            [html.Td(str(i)), html.Td(r["name"]), html.Td(str(r["points"]), className="rs-num")],
            **data_attrs(village=r["village"]),
        )
        for i, r in enumerate(page.ranking[:10], start=1)
    ]
    return _table(
        ("rank", "village", "points"), rows, t("residents.no_ranking", page.lang), page.lang
    )


def balances_list(page: ResidentsPage) -> html.Table:
    rows = [
        html.Tr(
            [
                html.Td(r["name"]),
                html.Td(r["village_name"]),
                html.Td(str(r["balance"]), className="rs-num"),
            ]
        )
        for r in page.balances[:10]
    ]
    heads = ("resident", "village", "balance")
    return _table(heads, rows, t("residents.no_balances", page.lang), page.lang)


def redeem_form(page: ResidentsPage) -> list[Any]:
    """积分兑换: a resident (their balance shown) and a reward in stock, then 兑换."""
    if not page.may_redeem:
        return []
    lang = page.lang
    people = [
        {
            "value": r["resident"],
            "label": t("residents.redeem_person", lang).format(
                n=r["name"], v=r["village_name"], b=r["balance"]
            ),
        }
        for r in page.balances
        if r["balance"] > 0
    ]
    shelf = [
        {
            "value": w["id"],
            "label": t("residents.redeem_reward", lang).format(
                n=w["name_zh"] if lang == "zh" else w["name_en"], c=w["cost"], s=w["stock"]
            ),
            "disabled": w["stock"] <= 0,
        }
        for w in page.rewards
    ]
    return [
        html.H3(t("residents.redeem", lang)),
        html.Div(
            [
                dcc.Dropdown(
                    id=ids.REDEEM_RESIDENT,
                    options=people,
                    placeholder=t("residents.redeem_pick_person", lang),
                    className="cl-select rs-pick",
                    labels=dropdown_labels(lang),
                ),
                dcc.Dropdown(
                    id=ids.REDEEM_REWARD,
                    options=shelf,
                    placeholder=t("residents.redeem_pick_reward", lang),
                    className="cl-select rs-pick",
                    labels=dropdown_labels(lang),
                ),
                html.Button(
                    t("residents.redeem_go", lang),
                    id=ids.REDEEM_GO,
                    n_clicks=0,
                    className="cl-btn primary",
                ),
            ],
            className="rs-redeem",
        ),
    ]


def services_table(page: ResidentsPage) -> html.Table:
    lang = page.lang
    rows = []
    for r in page.services:
        key = {"type": ids.SERVICE_STEP, "request": r["id"]}
        steps = [
            _button(t(f"residents.{step}", lang), {**key, "step": step}, primary=step != "return")
            for step in page.service_steps.get(r["id"], ())
        ]
        item = r["item_zh"] if lang == "zh" else r["item_en"]
        rows.append(
            html.Tr(
                [
                    html.Td(str(r["id"])),
                    html.Td(short(item, 20), title=item),
                    html.Td(r["village_name"]),
                    html.Td(r["resident"]["name"]),
                    html.Td(page.departments.get(r["department"], r["department"])),
                    html.Td(t(f"residents.status_{r['status']}", lang)),
                    html.Td(when(_at(r["submitted_at"]), page.tz), className="cl-time"),
                    html.Td(when(_at(r["deadline"]), page.tz), className="cl-time"),
                    html.Td(light_badge(r, lang)),
                    html.Td(html.Div(steps, className="dv-actions")),
                ],
                **data_attrs(request=str(r["id"]), status=r["status"]),
            )
        )
    heads = (
        "id",
        "item",
        "village",
        "resident",
        "department",
        "status",
        "submitted",
        "deadline",
        "light",
        "",
    )
    return _table(heads, rows, t("residents.no_services", lang), lang)


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def message(text: str, error: bool = False) -> html.Div:
    return html.Div(text, className="cl-message error" if error else "cl-message")


def residents_page(page: ResidentsPage) -> html.Div:
    lang = page.lang
    return html.Div(
        [
            dcc.Store(id=ids.STORE, data={"lang": lang}),
            html.H1(t("residents.title", lang), className="cl-title"),
            html.P(t("residents.intro", lang), className="dv-muted"),
            html.Div(id=ids.MESSAGE),
            dcc.Input(
                id=ids.NOTE,
                type="text",
                maxLength=200,
                placeholder=t("residents.note", lang),
                className="cl-input rs-note",
            ),
            html.Section(
                [
                    html.H2(t("residents.claims", lang)),
                    html.Div(claims_table(page), id=ids.CLAIMS),
                ],
                className="rs-section",
            ),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2(t("residents.ranking", lang)),
                            html.Div(ranking_list(page), id=ids.RANKING),
                        ],
                        className="rs-section",
                    ),
                    html.Section(
                        [
                            html.H2(t("residents.balances", lang)),
                            html.Div(balances_list(page), id=ids.BALANCES),
                            html.Div(redeem_form(page), id=ids.REDEEM),
                        ],
                        className="rs-section",
                    ),
                ],
                className="rs-pair",
            ),
            html.Section(
                [
                    html.H2(t("residents.services", lang)),
                    html.Div(services_table(page), id=ids.SERVICES),
                ],
                className="rs-section",
            ),
        ],
        id=ids.ROOT,
        className="cl-page rs-page",
    )
