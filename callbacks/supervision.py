"""The supervisors' page (``/supervision``): thin glue between the page, the read services and
dashboard.services.supervision_actions.

The layout renders every section from a fresh read. After that each section's data store is
refilled alone: when assets/supervision.js bumps its live store (a delta of its topics arrived),
when a filter or the sort changes, or after an action on the page; clientside callbacks
(assets/supervision_tables.js) draw the tables from the stores. Every server callback wears
guard_callback(SUPERVISE) and reads within the principal's scope. Refusals are shown in the
page's language, and nothing is written.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dash
from dash import ClientsideFunction, Input, Output, State, clientside_callback, html
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import page_title, unknown_refusal
from callbacks.page_callbacks import PageCallbacks
from callbacks.supervision_desk import SupervisionDesk
from dashboard.domain.permissions import Permission
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.security.pages import page_guard
from dashboard.security.principal import Principal
from dashboard.security.web import require_principal
from dashboard.services import supervision_actions as actions
from layouts import supervision_ids as ids
from layouts.supervision import DEFAULT_WINDOW, WINDOWS, supervision_page
from layouts.supervision_tables import (
    call_table,
    case_table,
    cases_summary,
    fill,
    history_table,
    order_table,
)

if TYPE_CHECKING:
    from dashboard.container import Services

_SORT_DEFAULT = {"key": "overdue", "desc": False}

on: PageCallbacks[SupervisionDesk] = PageCallbacks(Permission.SUPERVISE)


def register_supervision_page(services: Services) -> None:
    desk = SupervisionDesk(services)

    @page_guard(Permission.SUPERVISE)
    def layout(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        view = desk.view(principal, language)
        sections = desk.all_sections(principal, language, DEFAULT_WINDOW)
        return supervision_page(principal, view, sections)

    dash.register_page(
        "supervision",
        path="/supervision",
        layout=layout,
        title=page_title("title.supervision", services),
    )
    _register_clientside()
    on.register(desk)


def _refused(err: actions.SupervisionError, lang: Lang) -> str:
    key = f"sup.error.{err.code}"
    said = t(key, lang) if key in TABLE else unknown_refusal(err, lang)
    return fill(t("sup.refused", lang), m=said)


def _number(value: Any) -> int:
    """A row id the page's script sent (a positive int), or PreventUpdate."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise PreventUpdate
    return value


def _register_clientside() -> None:
    for name, data_id, drawn in (
        ("cases", ids.CASES_DATA, ids.DRAWN_CASES),
        ("orders", ids.ORDERS_DATA, ids.DRAWN_ORDERS),
        ("calls", ids.CALLS_DATA, ids.DRAWN_CALLS),
        ("history", ids.HISTORY_DATA, ids.DRAWN_HISTORY),
    ):  # assets/supervision_tables.js draws each table from its data
        clientside_callback(
            ClientsideFunction("supervision", name), Output(drawn, "data"), Input(data_id, "data")
        )


@on(
    Output(ids.CASES_DATA, "data"),
    Output(ids.CASES_SUMMARY, "children"),
    Input(ids.LIVE_CASES, "data"),
    Input(ids.FILTER_TOWN, "value"),
    Input(ids.FILTER_DEPARTMENT, "value"),
    Input(ids.FILTER_CATEGORY, "value"),
    Input(ids.FILTER_LIGHT, "value"),
    Input(ids.FILTER_WINDOW, "value"),
    Input(ids.SORT, "data"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_cases(
    desk: SupervisionDesk,
    _bump: Any,
    town: str | None,
    department: str | None,
    category: str | None,
    lights: list[str] | None,
    window: int | None,
    sort: dict[str, Any] | None,
    lang: str | None,
) -> tuple[Any, str]:
    who, language = require_principal(), normalise_lang(lang)
    given = {"town": town, "department": department, "category": category}
    filters = {k: v if isinstance(v, str) else None for k, v in given.items()}
    hours = window if window in WINDOWS else DEFAULT_WINDOW  # only the offered choices
    wanted = [x for x in lights or [] if isinstance(x, str)]
    sections = desk.cases(who, language, hours, filters, wanted)
    view = desk.view(who, language)
    return case_table(sections, view, sort or _SORT_DEFAULT), cases_summary(sections, language)


@on(
    Output(ids.ORDERS_DATA, "data"),
    Input(ids.LIVE_ORDERS, "data"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_orders(desk: SupervisionDesk, _bump: Any, lang: str | None) -> Any:
    who, language = require_principal(), normalise_lang(lang)
    return order_table(desk.orders(who), desk.view(who, language))


@on(
    Output(ids.ORDERS_DATA, "data", allow_duplicate=True),
    Output(ids.ORDER_MSG, "children"),
    Input(ids.ORDER_CLOSE, "data"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def close_order(
    desk: SupervisionDesk, asked: dict[str, Any] | None, lang: str | None
) -> tuple[Any, str]:
    order_id = _number(asked.get("order") if isinstance(asked, dict) else None)
    who, language = require_principal(), normalise_lang(lang)
    try:
        desk.close_order(who, order_id)
        message = fill(t("sup.order_closed", language), n=order_id)
    except actions.SupervisionError as err:
        message = _refused(err, language)
    return order_table(desk.orders(who), desk.view(who, language)), message


@on(
    Output(ids.CALLS_DATA, "data"),
    Output(ids.HISTORY_DATA, "data"),
    Input(ids.LIVE_CALLS, "data"),
    State(ids.CALL_SELECTED, "data"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_calls(
    desk: SupervisionDesk, _bump: Any, selected: int | None, lang: str | None
) -> tuple[Any, Any]:
    who, language = require_principal(), normalise_lang(lang)
    sections = desk.calls(who)
    view = desk.view(who, language)
    return call_table(sections, view, selected), history_table(sections, view)


@on(
    Output(ids.CALL_TARGET, "children"),
    Output(ids.CALL_SUBMIT, "disabled"),
    Output(ids.SNOOZE_SUBMIT, "disabled"),
    Output(ids.SNOOZE_UNTIL, "value"),
    Output(ids.CALL_MSG, "children"),
    Input(ids.CALL_SELECTED, "data"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def pick(desk: SupervisionDesk, selected: Any, lang: str | None) -> tuple[Any, ...]:
    entry_id = _number(selected)
    who, language = require_principal(), normalise_lang(lang)
    entry = desk.entry(who, entry_id)
    if entry is None:
        return t("sup.form_none", language), True, True, "", ""
    target = [
        html.Strong(fill(t("sup.form_title", language), v=entry.get("village_name", ""))),
        html.Span(f" {entry.get('contact_name') or ''} "),
        html.A(entry.get("contact_phone") or "", href=f"tel:{entry.get('contact_phone') or ''}"),
    ]
    until = desk.local_now() + timedelta(hours=2)
    return target, False, False, until.strftime("%Y-%m-%dT%H:%M"), ""


@on(
    Output(ids.CALL_MSG, "children", allow_duplicate=True),
    Output(ids.CALL_NOTE, "value"),
    Output(ids.LIVE_CALLS, "data", allow_duplicate=True),
    Input(ids.CALL_SUBMIT, "n_clicks"),
    State(ids.CALL_SELECTED, "data"),
    State(ids.CALL_OUTCOME, "value"),
    State(ids.CALL_NOTE, "value"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def log_call(
    desk: SupervisionDesk,
    clicks: int | None,
    entry_id: int | None,
    outcome: str,
    note: str,
    lang: str | None,
) -> tuple[Any, ...]:
    if not clicks:
        raise PreventUpdate
    language = normalise_lang(lang)
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        return t("sup.error.pick_entry", language), dash.no_update, dash.no_update
    try:
        done = desk.log_call(require_principal(), entry_id, outcome, note or "")
    except actions.SupervisionError as err:
        return _refused(err, language), dash.no_update, dash.no_update
    said = t(f"sup.outcome.{outcome}", language)
    message = fill(t("sup.logged", language), v=done.get("village_name", ""), o=said)
    return message, "", uuid.uuid4().hex


@on(
    Output(ids.CALL_MSG, "children", allow_duplicate=True),
    Output(ids.SNOOZE_REASON, "value"),
    Output(ids.LIVE_CALLS, "data", allow_duplicate=True),
    Input(ids.SNOOZE_SUBMIT, "n_clicks"),
    State(ids.CALL_SELECTED, "data"),
    State(ids.SNOOZE_UNTIL, "value"),
    State(ids.SNOOZE_REASON, "value"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def snooze(
    desk: SupervisionDesk,
    clicks: int | None,
    entry_id: int | None,
    until: str,
    reason: str,
    lang: str | None,
) -> tuple[Any, ...]:
    if not clicks:
        raise PreventUpdate
    language = normalise_lang(lang)
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        return t("sup.error.pick_entry", language), dash.no_update, dash.no_update
    try:
        moment = desk.parse_local(until)
        done = desk.snooze(require_principal(), entry_id, moment, reason or "")
    except actions.SupervisionError as err:
        return _refused(err, language), dash.no_update, dash.no_update
    when = moment.astimezone(desk.tz).strftime("%m-%d %H:%M")
    message = fill(t("sup.snoozed", language), v=done.get("village_name", ""), t=when)
    return message, "", uuid.uuid4().hex


@on(
    Output(ids.EMERGENCY_MSG, "children"),
    Output(ids.EMERGENCY_TEXT, "value"),
    Input(ids.EMERGENCY_SUBMIT, "n_clicks"),
    State(ids.EMERGENCY_KIND, "value"),
    State(ids.EMERGENCY_VILLAGE, "value"),
    State(ids.EMERGENCY_TEXT, "value"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def report_emergency(
    desk: SupervisionDesk,
    clicks: int | None,
    kind: str,
    village: str | None,
    text: str,
    lang: str | None,
) -> tuple[str, Any]:
    if not clicks:
        raise PreventUpdate
    language = normalise_lang(lang)
    try:
        record = desk.report_emergency(require_principal(), kind, village or "", text or "")
    except actions.SupervisionError as err:
        return _refused(err, language), dash.no_update
    return fill(t("sup.emergency_sent", language), n=record.id), ""
