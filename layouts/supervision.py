"""The supervisors' page (督查督办, ``/supervision``): a pure function of data.

Three sections: (1) overdue and soon-due cases, (2) open supervision orders with their replies,
(3) the call list of red villages with the call forms and the call history; above them the
one-click emergency form and the wall's own alarm banner (layouts.wall_feed.alarm_banner), which
assets/alarm.js fills from the live stream. The tables are built by layouts.supervision_tables
so each section can be re-rendered alone when its data changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import Lang, t
from dashboard.security.principal import Principal
from layouts import supervision_ids as ids
from layouts import wall_ids
from layouts.controls import InputKind, data_attrs, dropdown_labels, input_kind
from layouts.shell import page_shell
from layouts.supervision_tables import (
    EMERGENCY_KINDS,
    OUTCOMES,
    SectionData,
    call_table,
    case_table,
    cases_summary,
    history_table,
    order_table,
)
from layouts.wall_feed import alarm_banner

WINDOWS = (4, 8, 24, 72)  # "due within" choices, hours
DEFAULT_WINDOW = 24
_JS_KEYS = (
    "wall.case_no",
    "wall.alarm_more",
    "wall.alarm_name_required",
    "wall.alarm_refused",
    "sup.live",
    "sup.connecting",
    "sup.reconnecting",
)


@dataclass(frozen=True)
class SupervisionView:
    """What the page needs besides the rows: language, zone, names for filters and forms."""

    lang: Lang
    tz: ZoneInfo
    now: datetime
    towns: Sequence[tuple[str, str]] = ()  # (code, name)
    departments: Mapping[str, str] = field(default_factory=dict)  # code → name
    categories: Mapping[str, str] = field(default_factory=dict)  # 大类 and 小类 code → name
    majors: Sequence[str] = ()  # 大类 codes, for the category filter
    villages: Sequence[tuple[str, str]] = ()  # (code, name), the emergency form's choices
    can_ack: bool = False


def js_config(view: SupervisionView) -> dict[str, Any]:
    """What assets/supervision.js and assets/alarm.js draw with (in the page's language)."""
    return {
        "lang": view.lang,
        "tz": view.tz.key,
        "labels": {key: t(key, view.lang) for key in _JS_KEYS},
        "categories": dict(view.categories),
    }


def supervision_page(principal: Principal, view: SupervisionView, data: SectionData) -> html.Div:
    lang = view.lang
    body = [
        _alarm(view),
        _toolbar(view),
        _emergency_form(view),
        html.Div(
            [
                html.Div(
                    [_cases_section(view, data), _orders_section(view, data)], className="sup-col"
                ),
                html.Div(_calls_section(view, data), className="sup-col"),
            ],
            className="sup-grid",
        ),
        dcc.Store(id=ids.LANG, data=lang),
        dcc.Store(id=ids.LIVE_CASES, data=0),
        dcc.Store(id=ids.LIVE_ORDERS, data=0),
        dcc.Store(id=ids.LIVE_CALLS, data=0),
        dcc.Store(id=ids.SORT, data={"key": "overdue", "desc": False}),
        dcc.Store(id=ids.CALL_SELECTED, data=None),
        dcc.Store(id=ids.ORDER_CLOSE, data=None),
        *(
            dcc.Store(id=drawn, data=None)
            for drawn in (ids.DRAWN_CASES, ids.DRAWN_ORDERS, ids.DRAWN_CALLS, ids.DRAWN_HISTORY)
        ),
    ]
    return html.Div(
        page_shell("supervision", lang, principal, body),
        id=ids.PAGE,
        className=f"sup-page lang-{lang}",
        lang="zh-CN" if lang == "zh" else "en",
        **data_attrs(config=json.dumps(js_config(view), ensure_ascii=False)),
    )


def _alarm(view: SupervisionView) -> html.Div:
    """The wall's banner, sound and hint; hidden until the stream brings an alarm."""
    banner = alarm_banner([], {}, view.categories, view.lang, view.tz, view.now, view.can_ack)
    return html.Div(
        [
            banner,
            html.Div(
                t("wall.sound_hint", view.lang),
                id=wall_ids.SOUND_HINT,
                className="sound-hint hidden",
            ),
            html.Audio(id=wall_ids.AUDIO, src="/assets/alarm.wav", loop=True, preload="auto"),
        ],
        className=f"alarm-host lang-{view.lang}",
    )


def _toolbar(view: SupervisionView) -> html.Div:
    lang = view.lang
    return html.Div(
        [
            html.H1(t("sup.title", lang)),
            html.Span(
                t("sup.connecting", lang), id=ids.CONNECTION, className="sup-conn connecting"
            ),
            html.Button(
                t("sup.emergency", lang), id=ids.EMERGENCY_OPEN, className="sup-emergency-open"
            ),
        ],
        className="sup-toolbar",
    )


def _emergency_form(view: SupervisionView) -> html.Div:
    lang = view.lang
    kinds = [{"label": t(f"sup.emergency.{k}", lang), "value": k} for k in EMERGENCY_KINDS]
    villages = [{"label": name, "value": code} for code, name in view.villages]
    return html.Div(
        [
            html.H2(t("sup.emergency_title", lang)),
            html.Label(t("sup.emergency_kind", lang)),
            dcc.RadioItems(
                kinds, "fire", id=ids.EMERGENCY_KIND, inline=True, className="sup-radio"
            ),
            html.Label(t("sup.emergency_village", lang)),
            dcc.Dropdown(
                villages,
                None,
                id=ids.EMERGENCY_VILLAGE,
                placeholder=t("sup.pick_village", lang),
                className="sup-dropdown",
                labels=dropdown_labels(lang),
            ),
            html.Label(t("sup.emergency_text", lang)),
            dcc.Textarea(id=ids.EMERGENCY_TEXT, value="", maxLength=2000, className="sup-textarea"),
            html.Div(
                [
                    html.Button(
                        t("sup.emergency_send", lang),
                        id=ids.EMERGENCY_SUBMIT,
                        className="sup-danger",
                    ),
                    html.Button(
                        t("sup.emergency_cancel", lang),
                        id=ids.EMERGENCY_CANCEL,
                        className="sup-plain",
                    ),
                    html.Span("", id=ids.EMERGENCY_MSG, className="sup-msg"),
                ],
                className="sup-actions",
            ),
        ],
        id=ids.EMERGENCY_FORM,
        className="sup-emergency hidden",
    )


def _section(title: str, note: Any, body: list[Any], extra: str) -> html.Section:
    return html.Section(
        [html.Div([html.H2(title), note], className="sup-head"), *body],
        className=f"sup-panel {extra}",
    )


def _filters(view: SupervisionView) -> html.Div:
    lang = view.lang
    every = t("sup.filter_all", lang)

    def drop(ident: str, label: str, options: list[dict[str, str]]) -> html.Label:
        return html.Label(
            [
                html.Span(label),
                dcc.Dropdown(
                    options,
                    None,
                    id=ident,
                    placeholder=every,
                    className="sup-dropdown",
                    labels=dropdown_labels(lang),
                ),
            ],
            className="sup-filter",
        )

    categories = [{"label": f"{c} {view.categories.get(c, '')}", "value": c} for c in view.majors]
    lights = [{"label": t(f"sup.light.{k}", lang), "value": k} for k in ("red", "yellow", "green")]
    windows = [
        {"label": t("sup.window_hours", lang).replace("{n}", str(h)), "value": h} for h in WINDOWS
    ]
    return html.Div(
        [
            drop(
                ids.FILTER_TOWN,
                t("sup.filter_town", lang),
                [{"label": n, "value": c} for c, n in view.towns],
            ),
            drop(
                ids.FILTER_DEPARTMENT,
                t("sup.filter_department", lang),
                [{"label": n, "value": c} for c, n in view.departments.items()],
            ),
            drop(ids.FILTER_CATEGORY, t("sup.filter_category", lang), categories),
            html.Label(
                [
                    html.Span(t("sup.filter_light", lang)),
                    dcc.Checklist(
                        lights, [], id=ids.FILTER_LIGHT, inline=True, className="sup-chips"
                    ),
                ],
                className="sup-filter",
            ),
            html.Label(
                [
                    html.Span(t("sup.filter_window", lang)),
                    dcc.Dropdown(
                        windows,
                        DEFAULT_WINDOW,
                        id=ids.FILTER_WINDOW,
                        clearable=False,
                        className="sup-dropdown small",
                        labels=dropdown_labels(lang),
                    ),
                ],
                className="sup-filter",
            ),
        ],
        className="sup-filters",
    )


def _cases_section(view: SupervisionView, data: SectionData) -> html.Section:
    sort = {"key": "overdue", "desc": False}
    return _section(
        t("sup.cases", view.lang),
        html.Span(cases_summary(data, view.lang), id=ids.CASES_SUMMARY, className="sup-note"),
        [
            _filters(view),
            html.Div(id=ids.CASES, className="sup-scroll cases"),
            dcc.Store(id=ids.CASES_DATA, data=case_table(data, view, sort)),
        ],
        "cases",
    )


def _orders_section(view: SupervisionView, data: SectionData) -> html.Section:
    return _section(
        t("sup.orders", view.lang),
        html.Span("", id=ids.ORDER_MSG, className="sup-msg"),
        [
            html.Div(id=ids.ORDERS, className="sup-scroll orders"),
            dcc.Store(id=ids.ORDERS_DATA, data=order_table(data, view)),
        ],
        "orders",
    )


def _field(label: str, control: Any, kind: str = "") -> html.Label:
    return html.Label([html.Span(label), control], className=f"sup-field {kind}".strip())


def _text_input(ident: str, limit: int, kind: InputKind = "text") -> dcc.Input:
    return dcc.Input(
        id=ident, type=input_kind(kind), value="", maxLength=limit, className="sup-input"
    )


def _call_form(view: SupervisionView) -> html.Div:
    """Log a call to (or snooze) the entry picked on the list; disabled until one is picked."""
    lang = view.lang
    outcomes = [{"label": t(f"sup.outcome.{o}", lang), "value": o} for o in OUTCOMES]
    outcome = dcc.Dropdown(
        outcomes,
        "reached",
        id=ids.CALL_OUTCOME,
        clearable=False,
        className="sup-dropdown",
        labels=dropdown_labels(lang),
    )
    call_row = [
        _field(t("sup.outcome", lang), outcome),
        _field(t("sup.note", lang), _text_input(ids.CALL_NOTE, 2000), "wide"),
        html.Button(
            t("sup.log_call", lang), id=ids.CALL_SUBMIT, className="sup-primary", disabled=True
        ),
    ]
    snooze_row = [
        _field(
            t("sup.snooze_until", lang), _text_input(ids.SNOOZE_UNTIL, 20, "datetime-local"), "when"
        ),
        _field(t("sup.snooze_reason", lang), _text_input(ids.SNOOZE_REASON, 500), "wide"),
        html.Button(
            t("sup.snooze", lang), id=ids.SNOOZE_SUBMIT, className="sup-plain", disabled=True
        ),
    ]
    return html.Div(
        [
            html.Div(t("sup.form_none", lang), id=ids.CALL_TARGET, className="sup-target"),
            html.Div(call_row, className="sup-form-row"),
            html.Div(snooze_row, className="sup-form-row"),
            html.Div("", id=ids.CALL_MSG, className="sup-msg"),
        ],
        id=ids.CALL_FORM,
        className="sup-call-form",
    )


def _calls_section(view: SupervisionView, data: SectionData) -> list[Any]:
    calls = [
        html.Div(id=ids.CALLS, className="sup-scroll calls"),
        dcc.Store(id=ids.CALLS_DATA, data=call_table(data, view, None)),
        _call_form(view),
    ]
    history = [
        html.Div(id=ids.HISTORY, className="sup-scroll history"),
        dcc.Store(id=ids.HISTORY_DATA, data=history_table(data, view)),
    ]
    return [
        _section(t("sup.calls", view.lang), html.Span(""), calls, "calls"),
        _section(t("sup.history", view.lang), html.Span(""), history, "history"),
    ]
