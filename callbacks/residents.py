"""The residents' page (``/residents``): thin glue between the page and the use cases.

Confirming or rejecting a points claim goes through ``PointsService`` (who may confirm what is
its rule), a department's step on a service request through ``ServiceRequests.step``; a refused
step changes nothing and says why, a successful one re-renders the lists.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Any

import dash
from dash import ALL, Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import page_title, unknown_refusal
from callbacks.trends_residents import register_residents_trends_page
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Permission
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.security.pages import guard_callback, page_guard
from dashboard.security.web import client_ip, require_principal
from dashboard.services.residents import TOWN_DESK, Clerk, may_confirm
from dashboard.services.service_requests import department_steps
from layouts import residents_ids as ids
from layouts.residents import (
    ResidentsPage,
    balances_list,
    claims_table,
    message,
    ranking_list,
    redeem_form,
    residents_page,
    services_table,
)
from layouts.shell import page_shell

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal


def build_page(services: Services, principal: Principal, lang: Lang) -> ResidentsPage:
    clerk = Clerk(principal.actor(client_ip()), principal.scope)
    tz = services.reference.calendar.tz
    today = services.clock.now().astimezone(tz).date()
    month_start = datetime.combine(today.replace(day=1), time(0), tzinfo=tz)
    requests = services.service_requests.list(clerk, open_only=True)
    names = {
        d.code: (d.name_zh if lang == "zh" else d.name_en) for d in services.reference.departments
    }
    return ResidentsPage(
        lang=lang,
        tz=tz,
        claims=services.points.claims(principal.scope, "pending"),
        ranking=services.points.village_ranking(principal.scope, month_start),
        balances=services.points.balances(principal.scope),
        services=requests,
        may_confirm=may_confirm(principal.role.value, principal.scope),
        service_steps={r["id"]: department_steps(clerk, r) for r in requests},
        departments=names,
        rewards=services.points.rewards(principal.scope),
        may_redeem=may_redeem(principal),
    )


def may_redeem(principal: Principal) -> bool:
    """Who hands out rewards: the town's desk and the village committee (PointsService.redeem
    decides again)."""
    return principal.role.value in TOWN_DESK or may_confirm(principal.role.value, principal.scope)


def register_residents_page(services: Services) -> None:
    register_residents_trends_page(services)  # /trends/residents: the leaders' view

    @page_guard(Permission.RESIDENTS)
    def layout(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        body = residents_page(build_page(services, principal, language))
        return page_shell("residents", language, principal, body)

    dash.register_page(
        "residents",
        path="/residents",
        layout=layout,
        title=page_title("title.residents", services),
    )

    @callback(
        Output(ids.CLAIMS, "children"),
        Output(ids.RANKING, "children"),
        Output(ids.BALANCES, "children"),
        Output(ids.SERVICES, "children"),
        Output(ids.REDEEM, "children", allow_duplicate=True),
        Output(ids.MESSAGE, "children"),
        Input({"type": ids.CLAIM_STEP, "claim": ALL, "step": ALL}, "n_clicks"),
        Input({"type": ids.SERVICE_STEP, "request": ALL, "step": ALL}, "n_clicks"),
        State(ids.NOTE, "value"),
        State(ids.STORE, "data"),
        prevent_initial_call=True,
    )
    @guard_callback(Permission.RESIDENTS)
    def step(
        _claims: list[int], _requests: list[int], note: str | None, store: dict[str, Any]
    ) -> tuple[Any, ...]:
        trigger = _clicked()
        lang = normalise_lang(store.get("lang"))
        return take_step(services, trigger, (note or "").strip(), lang)

    @callback(
        Output(ids.BALANCES, "children", allow_duplicate=True),
        Output(ids.REDEEM, "children"),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.REDEEM_GO, "n_clicks"),
        State(ids.REDEEM_RESIDENT, "value"),
        State(ids.REDEEM_REWARD, "value"),
        State(ids.STORE, "data"),
        prevent_initial_call=True,
    )
    @guard_callback(Permission.RESIDENTS)
    def exchange(
        clicks: int | None, resident: int | None, reward: int | None, store: dict[str, Any]
    ) -> tuple[Any, ...]:
        if not clicks:
            raise PreventUpdate
        return redeem(services, resident, reward, normalise_lang(store.get("lang")))


def redeem(
    services: Services, resident: int | None, reward: int | None, lang: Lang
) -> tuple[Any, ...]:
    """One reward for a resident: the balances, the form (stock) and the message."""
    if not resident or not reward:
        return no_update, no_update, message(t("residents.redeem_need", lang), True)
    principal = require_principal()
    clerk = Clerk(principal.actor(client_ip()), principal.scope)
    try:
        services.points.redeem(clerk, int(resident), int(reward), 1)
    except DomainError as err:
        key = f"residents.err.{err.code}"
        reason = t(key, lang) if key in TABLE else unknown_refusal(err, lang)
        return no_update, no_update, message(t("residents.refused", lang).format(m=reason), True)
    page = build_page(services, principal, lang)
    given = next((w for w in page.rewards if w["id"] == int(reward)), None)
    name = "" if given is None else given["name_zh"] if lang == "zh" else given["name_en"]
    cost = 0 if given is None else given["cost"]
    done = t("residents.done_redeem", lang).format(r=name, p=cost)
    return balances_list(page), redeem_form(page), message(done)


def take_step(
    services: Services, trigger: dict[str, Any], note: str, lang: Lang
) -> tuple[Any, ...]:
    principal = require_principal()
    clerk = Clerk(principal.actor(client_ip()), principal.scope)
    action = str(trigger["step"])
    if action in ("reject", "return") and not note:
        return (*[no_update] * 5, message(t("residents.need_note", lang), True))
    try:
        if trigger["type"] == ids.CLAIM_STEP:
            number = int(trigger["claim"])
            if action == "confirm":
                services.points.confirm(clerk, number)
            elif action == "reject":
                services.points.reject(clerk, number, note)
            else:
                raise PreventUpdate
        else:
            number = int(trigger["request"])
            if action not in ("accept", "return", "complete"):
                raise PreventUpdate
            services.service_requests.step(clerk, number, action, note)
    except DomainError as err:
        key = f"residents.err.{err.code}"
        reason = t(key, lang) if key in TABLE else unknown_refusal(err, lang)
        return (*[no_update] * 5, message(t("residents.refused", lang).format(m=reason), True))
    page = build_page(services, principal, lang)
    done = t(f"residents.done_{action}", lang).format(n=number)
    return (
        claims_table(page),
        ranking_list(page),
        balances_list(page),
        services_table(page),
        redeem_form(page),  # a confirmed claim may bring a resident to the exchange
        message(done),
    )


def _clicked() -> dict[str, Any]:
    """The pattern id of the button really clicked (not a re-render of the list)."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not dash.ctx.triggered[0].get("value"):
        raise PreventUpdate
    return dict(trigger)
