"""The leaders' trends page (``/trends``): thin glue between the page and
dashboard.services.trend_view.

The page's state (period kind, first and last day, drilled town and village) lives in one store.
The picker, the step buttons, the custom dates, the drill buttons and the breadcrumb change the
state (``move``); the state redraws the content (``redraw``). Both wear
guard_callback(VIEW_TRENDS); the view reads within the principal's scope, and a drilled place
outside it is ignored (the view falls back to the principal's own area).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import page_title
from dashboard.domain.permissions import Permission
from dashboard.domain.trend_periods import (
    DateRange,
    InvalidPeriod,
    PeriodKind,
    parse_range,
    period_containing,
)
from dashboard.i18n import normalise_lang
from dashboard.read.trend_views import TrendView
from dashboard.security.pages import guard_callback, page_guard
from dashboard.security.principal import Principal
from dashboard.security.web import require_principal
from dashboard.services.trend_view import TrendViews
from layouts import trends as ids
from layouts.trends import period_label, trends_content, trends_page

if TYPE_CHECKING:
    from dashboard.container import Services


def today(services: Services) -> date:
    return services.clock.now().astimezone(services.reference.calendar.tz).date()


def initial_state(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """The state from the address (``kind``, ``from``, ``to``, ``town``, ``village``), checked;
    anything wrong gives this month."""
    asked = query.get("kind", "")
    kind = asked if asked in ids.KINDS else PeriodKind.MONTH.value
    span = period_containing(PeriodKind(kind), today(services))
    if query.get("from") and query.get("to"):
        with contextlib.suppress(InvalidPeriod):
            span = parse_range(query["from"], query["to"], today(services))
    return _state(kind, span, query.get("town"), query.get("village"))


def _state(kind: str, span: DateRange, town: Any, village: Any) -> dict[str, Any]:
    def code(value: Any, length: int) -> str | None:
        ok = isinstance(value, str) and len(value) == length and value.isdigit()
        return value if ok else None

    return {
        "kind": kind,
        "first": span.first.isoformat(),
        "last": span.last.isoformat(),
        "town": code(town, 9),
        "village": code(village, 12),
    }


def build_view(
    services: Services, principal: Principal, state: dict[str, Any], lang: str
) -> TrendView:
    span = DateRange(date.fromisoformat(state["first"]), date.fromisoformat(state["last"]))
    kind = PeriodKind(state["kind"])
    views = TrendViews(services.db, services.reference)
    return views.build(
        principal.scope,
        lang,
        services.clock.now(),
        span,
        None if kind is PeriodKind.CUSTOM else kind,
        state.get("town"),
        state.get("village"),
    )


def register_trends_page(services: Services) -> None:
    @page_guard(Permission.VIEW_TRENDS)
    def layout(principal: Principal, lang: str | None = None, **query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        state = initial_state(services, query)
        view = build_view(services, principal, state, language)
        return trends_page(principal, view, state, principal.can(Permission.VIEW_CASES))

    dash.register_page(
        "trends", path="/trends", layout=layout, title=page_title("tr.title", services)
    )
    _register_callbacks(services)


def _step(state: dict[str, Any], direction: int) -> DateRange:
    first, last = date.fromisoformat(state["first"]), date.fromisoformat(state["last"])
    kind = PeriodKind(state["kind"])
    if kind is PeriodKind.CUSTOM:
        days = (last - first).days + 1
        return DateRange(
            first + timedelta(days=direction * days), last + timedelta(days=direction * days)
        )
    anchor = first - timedelta(days=1) if direction < 0 else last + timedelta(days=1)
    return period_containing(kind, anchor)


def _register_callbacks(services: Services) -> None:
    clientside_callback(
        "function(n) { if (n) { window.print(); } return window.dash_clientside.no_update; }",
        Output("tr-print", "title"),
        Input("tr-print", "n_clicks"),
        prevent_initial_call=True,
    )

    @callback(
        Output(ids.STATE, "data"),
        Output(ids.KIND, "value"),
        Output(ids.FROM, "value"),
        Output(ids.TO, "value"),
        Input(ids.KIND, "value"),
        Input(ids.PREV, "n_clicks"),
        Input(ids.NEXT, "n_clicks"),
        Input(ids.FROM, "value"),
        Input(ids.TO, "value"),
        Input({"type": ids.DRILL, "level": ALL, "code": ALL}, "n_clicks"),
        Input({"type": ids.CRUMB, "level": ALL, "code": ALL}, "n_clicks"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )
    @guard_callback(Permission.VIEW_TRENDS)
    def move(
        kind: Any,
        _prev: Any,
        _next: Any,
        first: Any,
        last: Any,
        _drills: Any,
        _crumbs: Any,
        state: dict[str, Any] | None,
    ) -> tuple[dict[str, Any], str, str, str]:
        if not isinstance(state, dict) or state.get("kind") not in ids.KINDS:
            raise PreventUpdate
        trigger = ctx.triggered_id
        fired = ctx.triggered[0]["value"] if ctx.triggered else None
        town, village = state.get("town"), state.get("village")
        current = DateRange(date.fromisoformat(state["first"]), date.fromisoformat(state["last"]))
        new_kind = state["kind"]
        span = current
        if trigger == ids.KIND:
            if kind not in ids.KINDS or kind == state["kind"]:
                raise PreventUpdate
            new_kind = kind
            if kind != PeriodKind.CUSTOM.value:
                anchor = min(current.last, today(services))
                span = period_containing(PeriodKind(kind), anchor)
        elif trigger in (ids.PREV, ids.NEXT):
            span = _step(state, -1 if trigger == ids.PREV else 1)
        elif trigger in (ids.FROM, ids.TO):
            try:
                span = parse_range(first, last, today(services))
            except InvalidPeriod:
                raise PreventUpdate from None
            if span == current:
                raise PreventUpdate
            new_kind = PeriodKind.CUSTOM.value
        elif isinstance(trigger, dict) and fired:
            level, code = trigger.get("level"), trigger.get("code") or None
            if level == "town":
                town, village = code, None
            elif level == "village":
                village = code
            elif level == "city":
                town, village = None, None
            if trigger.get("type") == ids.CRUMB and level == "town":
                village = None
        else:
            raise PreventUpdate
        new = _state(new_kind, span, town, village)
        return new, new_kind, new["first"], new["last"]

    @callback(
        Output(ids.CONTENT, "children"),
        Output(ids.LABEL, "children"),
        Input(ids.STATE, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    @guard_callback(Permission.VIEW_TRENDS)
    def redraw(state: dict[str, Any] | None, lang: Any) -> tuple[Any, str]:
        if not isinstance(state, dict) or state.get("kind") not in ids.KINDS:
            raise PreventUpdate
        who, language = require_principal(), normalise_lang(lang)
        try:
            view = build_view(services, who, state, language)
        except (InvalidPeriod, ValueError):
            raise PreventUpdate from None
        can_open = who.can(Permission.VIEW_CASES)
        return trends_content(view, who, can_open), period_label(view, language)
