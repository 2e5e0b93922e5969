"""The department view (``/department``): thin glue between the page and the services.

A department user sees its own department; a commander or administrator picks one (the pick is
in the address, ``/department?dept=urban``). Accept and "report handled" go through
``CaseWorkspace.act`` - the same role, scope, version and photo checks as the case workspace -
and a reply to a supervision order through ``supervision_actions.reply_order``. A refused step
changes nothing and says why; a successful one re-renders the table and the orders.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import dash
from dash import ALL, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.department_services import build_services, register_department_services
from callbacks.frame_pages import page_title, unknown_refusal
from callbacks.page_callbacks import PageCallbacks
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Permission, Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.read.case_search import case_search
from dashboard.read.department_view import (
    department_scope,
    may_reply,
    open_orders,
)
from dashboard.security.pages import page_guard, refuse_callback
from dashboard.security.web import client_ip, require_principal
from dashboard.services.case_workspace import ActionForm, CaseWorkspace
from dashboard.services.cases import ConcurrentChange
from dashboard.services.photos import InvalidPhoto
from dashboard.services.supervision_actions import reply_order
from layouts import department_ids as ids
from layouts.department import (
    DepartmentPage,
    cases_panel,
    department_page,
    handled_form,
    message,
    orders_panel,
)
from layouts.shell import page_shell

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal


class _Page:
    """The page's context: the container and the names it shows, built once per app."""

    def __init__(self, services: Services) -> None:
        self.services = services
        ref = services.reference
        self.names = {
            lang: {d.code: (d.name_zh if lang == "zh" else d.name_en) for d in ref.departments}
            for lang in ("zh", "en")
        }
        self.categories = {
            lang: {s.code: (s.name_zh if lang == "zh" else s.name_en) for s in ref.categories.subs}
            for lang in ("zh", "en")
        }
        self.known = frozenset(d.code for d in ref.departments)

    def scope(self, principal: Principal, picked: str | None) -> Scope | None:
        return department_scope(principal.role, principal.scope, picked, self.known)

    def build(self, principal: Principal, lang: Lang, scope: Scope | None) -> DepartmentPage:
        services, dept = self.services, scope.department_code if scope else None
        picker = [] if principal.role is Role.DEPARTMENT else sorted(self.names[lang].items())
        base = DepartmentPage(
            lang=lang,
            tz=services.reference.calendar.tz,
            department=dept,
            department_name=self.names[lang].get(dept or "", ""),
            departments=picker,
            categories=self.categories[lang],
            can_start=principal.can_act(Action.START),
            can_report=principal.can_act(Action.HANDLED),
            can_reply=may_reply(principal),
        )
        if scope is None:
            return base
        found = case_search(services).department(scope, lang)
        with services.db.read() as session:
            orders = open_orders(session, scope)
        return replace(
            base,
            rows=found.rows,
            total=found.total,
            overdue=found.overdue,
            orders=orders,
            services=build_services(services, principal, lang, scope),
        )

    def workspace(self) -> CaseWorkspace:
        return CaseWorkspace(self.services, self.services.photos)


def register_department_page(services: Services) -> None:
    page = _Page(services)

    @page_guard(Permission.VIEW_CASES)
    def layout(
        principal: Principal, lang: str | None = None, dept: str | None = None, **_query: str
    ) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        picked = dept if dept in page.known else _first(page)  # a department: its own anyway
        body = department_page(page.build(principal, language, page.scope(principal, picked)))
        query = f"dept={dept}" if dept in page.known else ""
        return page_shell("department", language, principal, body, query=query)

    dash.register_page(
        "department",
        path="/department",
        layout=layout,
        title=page_title("title.department", services),
    )
    on.register(page)
    register_department_services(services, page.known)


def _first(page: _Page) -> str | None:
    return min(page.known) if page.known else None


def _reason(err: DomainError, lang: Lang) -> str:
    key = f"case_ws.err.{err.code}"
    return t(key, lang) if key in TABLE else unknown_refusal(err, lang)


def _refresh(page: _Page, store: dict[str, Any], text: str, error: bool = False) -> tuple[Any, ...]:
    principal = require_principal()
    lang = normalise_lang(store.get("lang"))
    built = page.build(principal, lang, page.scope(principal, store.get("dept")))
    return cases_panel(built), orders_panel(built), message(text, error)


on: PageCallbacks[_Page] = PageCallbacks(Permission.VIEW_CASES)


@on(
    Output(ids.NAV, "href"),
    Input(ids.PICK, "value"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def pick(page: _Page, value: str | None, store: dict[str, Any]) -> str:
    if not value or value == store.get("dept"):
        raise PreventUpdate
    return f"/department?dept={value}&lang={normalise_lang(store.get('lang'))}"


@on(
    Output(ids.CASES, "children"),
    Output(ids.ORDERS, "children"),
    Output(ids.MESSAGE, "children"),
    Output(ids.FORM, "children"),
    Input({"type": ids.ACCEPT, "case": ALL, "version": ALL}, "n_clicks"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def accept(page: _Page, _clicks: list[int], store: dict[str, Any]) -> tuple[Any, ...]:
    trigger = _clicked()
    lang = normalise_lang(store.get("lang"))
    form = ActionForm(action=Action.START)
    return _act(page, store, int(trigger["case"]), int(trigger["version"]), form, lang)


@on(
    Output(ids.FORM, "children", allow_duplicate=True),
    Output(ids.PENDING, "data"),
    Input({"type": ids.REPORT, "case": ALL, "version": ALL}, "n_clicks"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def open_form(page: _Page, _clicks: list[int], store: dict[str, Any]) -> tuple[Any, ...]:
    trigger = _clicked()
    lang = normalise_lang(store.get("lang"))
    pending = {"case": int(trigger["case"]), "version": int(trigger["version"])}
    return handled_form(pending["case"], lang), pending


@on(
    Output(ids.FORM, "children", allow_duplicate=True),
    Input(ids.CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def cancel(page: _Page, clicks: int | None) -> list[Any]:
    if not clicks:
        raise PreventUpdate
    return []


@on(
    Output(ids.UPLOAD_NAME, "children"),
    Input(ids.UPLOAD, "filename"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def chosen(page: _Page, filename: str | None, store: dict[str, Any]) -> str:
    lang = normalise_lang(store.get("lang"))
    return t("department.photo_chosen", lang).format(f=filename) if filename else ""


@on(
    Output(ids.CASES, "children", allow_duplicate=True),
    Output(ids.ORDERS, "children", allow_duplicate=True),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Output(ids.FORM, "children", allow_duplicate=True),
    Input(ids.SUBMIT, "n_clicks"),
    State(ids.PENDING, "data"),
    State(ids.UPLOAD, "contents"),
    State(ids.UPLOAD, "filename"),
    State(ids.NOTE, "value"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def report(
    page: _Page,
    clicks: int | None,
    pending: dict[str, Any] | None,
    contents: str | None,
    filename: str | None,
    note: str | None,
    store: dict[str, Any],
) -> tuple[Any, ...]:
    if not clicks or not pending:
        raise PreventUpdate
    lang = normalise_lang(store.get("lang"))
    if not contents:
        return (
            no_update,
            no_update,
            message(t("department.photo_missing", lang), True),
            no_update,
        )
    try:
        photo = _decode(contents, filename or "")
    except InvalidPhoto as err:
        text = t("department.refused", lang).format(m=_reason(err, lang))
        return no_update, no_update, message(text, True), no_update
    form = ActionForm(
        action=Action.HANDLED, note=note or "", photo=photo, photo_name=filename or ""
    )
    return _act(page, store, int(pending["case"]), int(pending["version"]), form, lang)


@on(
    Output(ids.CASES, "children", allow_duplicate=True),
    Output(ids.ORDERS, "children", allow_duplicate=True),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input({"type": ids.REPLY_SEND, "order": ALL}, "n_clicks"),
    State({"type": ids.REPLY_TEXT, "order": ALL}, "value"),
    State({"type": ids.REPLY_TEXT, "order": ALL}, "id"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def reply(
    page: _Page,
    _clicks: list[int],
    texts: list[str | None],
    idents: list[dict[str, Any]],
    store: dict[str, Any],
) -> tuple[Any, ...]:
    order_id = int(_clicked()["order"])
    lang = normalise_lang(store.get("lang"))
    text = next((v or "" for v, i in zip(texts, idents, strict=True) if i["order"] == order_id), "")
    principal = require_principal()
    scope = page.scope(principal, store.get("dept"))
    if scope is None:
        raise PreventUpdate
    if not may_reply(principal):
        refuse_callback(principal, "reply")
    try:
        reply_order(
            page.services.db,
            order_id,
            principal.actor(client_ip()),
            text,
            page.services.clock.now(),
            scope=scope,
        )
    except DomainError as err:
        refused = t("department.refused", lang).format(m=_reason(err, lang))
        return no_update, no_update, message(refused, True)
    return _refresh(page, store, t("department.replied", lang).format(n=order_id))


def _clicked() -> dict[str, Any]:
    """The pattern id of the button that was really clicked (not a re-render)."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not dash.ctx.triggered[0].get("value"):
        raise PreventUpdate
    return dict(trigger)


def _act(
    page: _Page, store: dict[str, Any], case_id: int, version: int, form: ActionForm, lang: Lang
) -> tuple[Any, ...]:
    principal = require_principal()
    scope = page.scope(principal, store.get("dept"))
    if scope is None:
        raise PreventUpdate
    try:
        page.workspace().act(_in_department(principal, scope), case_id, version, form)
    except ConcurrentChange:
        return (*_refresh(page, store, t("case_ws.changed", lang), error=True), [])
    except DomainError as err:
        refused = t("department.refused", lang).format(m=_reason(err, lang))
        return no_update, no_update, message(refused, True), no_update
    key = "department.done_start" if form.action is Action.START else "department.done_handled"
    return (*_refresh(page, store, t(key, lang).format(n=case_id)), [])


def _in_department(principal: Principal, scope: Scope) -> Principal:
    """The principal limited to the department on screen: a commander acting from this page
    acts on that department's cases only."""
    return replace(principal, scope=scope)


def _decode(contents: str, name: str) -> bytes:
    """dcc.Upload's ``data:<type>;base64,<data>`` (the photo check reads the bytes)."""
    _, _, data = contents.partition(",")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidPhoto("not_an_image", f"photo {name!r} could not be read") from err
