"""The department's services on residents' behalf (代办) on ``/department``: thin glue.

The requests are ``ServiceRequests.list`` as the clerk on screen may see them — a department
user its own department's, a commander the department picked, limited to it — so the personal
data is masked or whole by the one rule of the service; the steps the buttons offer are
``department_steps``, and ``ServiceRequests.step`` checks them again. A return needs what is
missing, typed in the row. A refused step changes nothing and says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dash
from dash import ALL, Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import unknown_refusal
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Permission, Scope
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.read.department_view import department_scope
from dashboard.security.pages import guard_callback
from dashboard.security.web import client_ip, require_principal
from dashboard.services.residents import Clerk
from dashboard.services.service_requests import department_steps
from layouts import department_ids as ids
from layouts.department_services import DepartmentServices, services_panel

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal

_STEPS = frozenset({"accept", "return", "complete"})


def build_services(
    services: Services, principal: Principal, lang: Lang, scope: Scope | None
) -> DepartmentServices:
    tz = services.reference.calendar.tz
    if scope is None or not principal.can(Permission.RESIDENTS):
        return DepartmentServices(lang=lang, tz=tz, shown=False)
    clerk = Clerk(principal.actor(client_ip()), scope)
    rows = services.service_requests.list(clerk, open_only=True)
    return DepartmentServices(
        lang=lang,
        tz=tz,
        rows=rows,
        steps={r["id"]: department_steps(clerk, r) for r in rows},
        papers=services.service_requests.papers_of(clerk, [r["id"] for r in rows]),
    )


def register_department_services(services: Services, known: frozenset[str]) -> None:
    @callback(
        Output(ids.SERVICES, "children"),
        Output(ids.SERVICE_MESSAGE, "children"),
        Input({"type": ids.SERVICE_STEP, "request": ALL, "step": ALL}, "n_clicks"),
        State({"type": ids.SERVICE_NOTE, "request": ALL}, "value"),
        State({"type": ids.SERVICE_NOTE, "request": ALL}, "id"),
        State(ids.STORE, "data"),
        prevent_initial_call=True,
    )
    @guard_callback(Permission.RESIDENTS)
    def step(
        _clicks: list[int],
        notes: list[str | None],
        note_ids: list[dict[str, Any]],
        store: dict[str, Any],
    ) -> tuple[Any, ...]:
        trigger = dash.ctx.triggered_id
        if not isinstance(trigger, dict) or not dash.ctx.triggered[0].get("value"):
            raise PreventUpdate
        number, action = int(trigger["request"]), str(trigger["step"])
        if action not in _STEPS:
            raise PreventUpdate
        lang = normalise_lang(store.get("lang"))
        principal = require_principal()
        scope = department_scope(principal.role, principal.scope, store.get("dept"), known)
        if scope is None:
            raise PreventUpdate
        note = next(
            (
                (v or "").strip()
                for v, i in zip(notes, note_ids, strict=True)
                if i["request"] == number
            ),
            "",
        )
        if action == "return" and not note:
            return no_update, _message(t("department.svc_need_missing", lang), True)
        try:
            services.service_requests.step(
                Clerk(principal.actor(client_ip()), scope), number, action, note
            )
        except DomainError as err:
            key = f"residents.err.{err.code}"
            reason = t(key, lang) if key in TABLE else unknown_refusal(err, lang)
            return no_update, _message(t("department.refused", lang).format(m=reason), True)
        built = build_services(services, principal, lang, scope)
        done = t(f"department.svc_done_{action}", lang).format(n=number)
        return services_panel(built), _message(done, False)


def _message(text: str, error: bool) -> html.Div:
    return html.Div(text, className="cl-error" if error else "cl-ok")
