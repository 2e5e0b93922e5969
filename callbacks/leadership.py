"""The leader's pages (``/trends/rising``, ``/trends/campaigns``, ``/trends/rankings``): gather
view data from the services for one request and hand it to the pure layouts; the campaign form's
one callback records through dashboard.services.campaigns (validated, scoped, audited)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import dash
from dash import Input, Output, State, callback, html
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import page_title
from dashboard.domain.campaigns import CampaignSpec, InvalidCampaign
from dashboard.domain.permissions import Permission
from dashboard.domain.text import InvalidText
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.read import places
from dashboard.security.pages import guard_callback, page_guard
from dashboard.security.web import client_ip, require_principal
from dashboard.services import campaigns
from dashboard.services.campaigns import effect_json
from dashboard.services.rankings import rankings, weights
from dashboard.services.rising import rising_problems
from layouts import leadership as lay
from layouts.shell import page_shell
from layouts.trends_nav import trends_nav

if TYPE_CHECKING:
    from dashboard.container import Services
    from dashboard.security.principal import Principal


def _places(services: Services, area: str | None) -> dict[str, str]:
    return dict([*places.towns_of(services.db, area), *places.villages_of(services.db, area)])


def _categories(services: Services, lang: Lang) -> dict[str, str]:
    names: dict[str, str] = {}
    for major in services.reference.categories.majors:
        names[major.code] = major.name_zh if lang == "zh" else major.name_en
        for sub in major.subs:
            names[sub.code] = sub.name_zh if lang == "zh" else sub.name_en
    return names


def register_leadership_pages(services: Services) -> None:
    @page_guard(Permission.VIEW_TRENDS)
    def rising(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        found = rising_problems(
            services.db, services.reference, principal.scope, services.clock.now(), language
        )
        body = [trends_nav("rising", language), lay.rising_page(found, language)]
        return page_shell("trends", language, principal, body, path="/trends/rising")

    @page_guard(Permission.VIEW_TRENDS)
    def campaign_page(
        principal: Principal, lang: str | None = None, id: str | None = None, **_query: str
    ) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        body, query = _campaigns_body(services, principal, language, id)
        page = [trends_nav("campaigns", language), body]
        return page_shell(
            "trends", language, principal, page, path="/trends/campaigns", query=query
        )

    @page_guard(Permission.VIEW_TRENDS)
    def ranking_page(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        now = services.clock.now()
        today = now.astimezone(services.reference.calendar.tz).date()
        last = today - timedelta(days=1)
        first = last - timedelta(days=services.config.evaluation.period_days - 1)
        found = rankings(
            services.db,
            services.reference,
            services.config.evaluation,
            principal.scope,
            first,
            last,
            now,
            language,
            tracks=services.config.tracks,
        )
        w = weights(services.config.evaluation)
        body = lay.rankings_page(
            found,
            {"closure": w.closure, "on_time_handling": w.on_time_handling, "rework": w.rework},
            language,
        )
        page = [trends_nav("rankings", language), body]
        return page_shell("trends", language, principal, page, path="/trends/rankings")

    for name, path, layout in (
        ("rising", "/trends/rising", rising),
        ("campaigns", "/trends/campaigns", campaign_page),
        ("rankings", "/trends/rankings", ranking_page),
    ):
        dash.register_page(
            f"trends-{name}", path=path, layout=layout, title=page_title(f"title.{name}", services)
        )
    _register_form(services)


def _campaigns_body(
    services: Services, principal: Principal, lang: Lang, picked: str | None
) -> tuple[html.Div, str]:
    scope = principal.scope
    rows = campaigns.listing(services.db, scope)
    places = _places(services, scope.area_code)
    names = {**places, **_categories(services, lang)}
    chosen = int(picked) if picked and picked.isdigit() and len(picked) < 10 else None
    if chosen is None and rows:
        chosen = rows[0]["id"]
    effect = None
    if chosen is not None:
        try:
            found = campaigns.campaign_effect(
                services.db, services.reference, chosen, scope, services.clock.now()
            )
            effect = effect_json(found)
        except campaigns.CampaignNotFound:
            effect = None
    majors = [
        (m.code, m.name_zh if lang == "zh" else m.name_en)
        for m in services.reference.categories.majors
    ]
    areas = sorted(places.items())
    form = lay.campaign_form(majors, areas, lang, campaigns.may_record(principal.role))
    query = f"id={chosen}" if chosen is not None else ""
    return lay.campaigns_page(rows, names, form, effect, lang), query


def _refusal(err: Exception, lang: Lang) -> str:
    key = f"campaigns.err.{getattr(err, 'code', '')}"
    return (
        t(key, lang)
        if key in TABLE
        else (str(err) if lang == "en" else t("campaigns.err.bad_dates", lang))
    )


def _register_form(services: Services) -> None:
    @callback(
        Output(lay.FORM_MESSAGE, "children"),
        Output(lay.LIST, "children"),
        Input(lay.FORM_SUBMIT, "n_clicks"),
        State(lay.FORM_NAME, "value"),
        State(lay.FORM_CATS, "value"),
        State(lay.FORM_AREA, "value"),
        State(lay.FORM_START, "value"),
        State(lay.FORM_END, "value"),
        State(lay.FORM_NOTE, "value"),
        State(lay.STORE, "data"),
        prevent_initial_call=True,
    )
    @guard_callback(Permission.VIEW_TRENDS)
    def record(
        clicks: int | None,
        name: str | None,
        cats: list[str] | None,
        area: str | None,
        start: str | None,
        end: str | None,
        note: str | None,
        store: dict[str, Any] | None,
    ) -> tuple[Any, Any]:
        if not clicks:
            raise PreventUpdate
        lang = normalise_lang((store or {}).get("lang"))
        who = require_principal()
        if not campaigns.may_record(who.role):
            return html.Span(t("campaigns.not_allowed", lang), className="error"), dash.no_update
        try:
            if not start or not end:
                raise InvalidCampaign("bad_date", "dates: required", "start")
            spec = CampaignSpec(
                name or "",
                tuple(cats or ()),
                area or "",
                date.fromisoformat(start),
                date.fromisoformat(end),
                note or "",
            )
            made = campaigns.create(
                services.db,
                services.reference,
                spec,
                who.actor(client_ip()),
                who.scope,
                services.clock.now(),
            )
        except (InvalidCampaign, InvalidText, ValueError) as err:
            text = t("campaigns.refused", lang).format(m=_refusal(err, lang))
            return html.Span(text, className="error", style={"color": "#ff6b6b"}), dash.no_update
        rows = campaigns.listing(services.db, who.scope)
        names = {**_places(services, who.scope.area_code), **_categories(services, lang)}
        saved = html.Span(
            [
                t("campaigns.saved", lang).format(name=made["name"]),
                " ",
                html.A(
                    t("campaigns.pick", lang),
                    href=f"/trends/campaigns?id={made['id']}&lang={lang}",
                    id="cmp-saved-link",
                ),
            ]
        )
        return saved, lay.campaign_list(rows, names, lang)
