"""The frame of every desk page (not the wall): title bar, the pages this user may open, the
language switch, who is signed in and a way to sign out. A pure function of its arguments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dash import html
from dash.development.base_component import Component

from dashboard.domain.permissions import Permission
from dashboard.domain.roles import Role
from dashboard.i18n import Lang, t
from dashboard.security.principal import Principal


@dataclass(frozen=True)
class NavItem:
    key: str  # also the `active` name pages pass
    href: str
    label_key: str
    permission: Permission
    roles: frozenset[Role] | None = None  # further limited to these roles


NAV: tuple[NavItem, ...] = (
    NavItem("wall", "/wall", "nav.wall", Permission.VIEW_WALL),
    NavItem("video", "/video", "nav.video", Permission.VIEW_CAMERAS),
    NavItem("tracks", "/tracks", "nav.tracks", Permission.VIEW_POSITIONS),
    NavItem("supervision", "/supervision", "nav.supervision", Permission.SUPERVISE),
    NavItem("trends", "/trends", "nav.trends", Permission.VIEW_TRENDS),
    NavItem("cases", "/cases", "nav.cases", Permission.VIEW_CASES),
    NavItem(
        "department",
        "/department",
        "nav.department",
        Permission.VIEW_CASES,
        frozenset({Role.DEPARTMENT, Role.COMMANDER, Role.ADMIN}),
    ),
    NavItem("residents", "/residents", "nav.residents", Permission.RESIDENTS),
    NavItem("field", "/field", "nav.field", Permission.REPORT_CASE, frozenset({Role.GRID_WORKER})),
    NavItem("status", "/", "nav.status", Permission.VIEW_WALL),
    NavItem("audit", "/admin/audit", "nav.audit", Permission.VIEW_AUDIT),
)


def nav_items(principal: Principal) -> list[NavItem]:
    """The pages ``principal`` may open, in menu order."""
    return [
        item
        for item in NAV
        if principal.can(item.permission) and (item.roles is None or principal.role in item.roles)
    ]


def page_shell(
    active: str,
    lang: Lang,
    principal: Principal,
    children: Sequence[Component] | Component,
    *,
    query: str = "",
    path: str | None = None,
    switch_id: str | None = None,
) -> html.Div:
    """``active`` names the current page (a NavItem key); the language switch leads back to
    ``path`` (default: the page's menu address, e.g. ``/cases/12`` for a case under "cases") with
    ``query`` (without ``lang``, e.g. ``"case=12"``), so a filtered view stays filtered."""
    here = next((item for item in NAV if item.key == active), None)
    other: Lang = "en" if lang == "zh" else "zh"
    base = path or (here.href if here else "/")
    switch = f"{base}?{query + '&' if query else ''}lang={other}"
    links = [
        html.A(
            t(item.label_key, lang),
            href=f"{item.href}?lang={lang}",
            className="nav-link active" if item.key == active else "nav-link",
        )
        for item in nav_items(principal)
    ]
    who = principal.display_name or principal.name
    bar = html.Header(
        [
            html.Div(t("app.title", lang), className="shell-title"),
            html.Nav(links, className="shell-nav"),
            html.Div(
                [
                    html.Span(f"{who} · {t('role.' + principal.role.value, lang)}"),
                    html.A(
                        t("lang.switch", lang),
                        href=switch,
                        className="shell-lang",
                        **_id_if(switch_id),
                    ),
                    html.A(t("nav.sign_out", lang), href="/logout", className="shell-signout"),
                ],
                className="shell-user",
            ),
        ],
        className="shell-bar",
    )
    body: list[Component] = [children] if isinstance(children, Component) else list(children)
    # The words assets/forms.js shows under a text field with a length limit.
    words: dict[str, Any] = {
        "data-count": t("form.count", lang),
        "data-count-full": t("form.count_full", lang),
    }
    return html.Div([bar, html.Main(body, className="shell-main")], className="shell", **words)


def _id_if(ident: str | None) -> dict[str, Any]:
    """``id=`` only when there is one (Dash refuses ``id=None``)."""
    return {"id": ident} if ident else {}
