"""The grid workers' page in the desk frame: the field app is coming, and what they can do now.
A pure function of its arguments."""

from __future__ import annotations

from dash import html

from dashboard.i18n import Lang, t
from dashboard.security.principal import Principal
from layouts.shell import page_shell


def field_page(principal: Principal, lang: Lang) -> html.Div:
    body = html.Section(
        [
            html.H2(t("field.heading", lang)),
            html.P(t("field.intro", lang)),
            html.P(html.A(t("field.open_app", lang), href=f"/m?lang={lang}", id="field-open-app")),
            html.P(t("field.now", lang), className="field-now"),
            html.Ul(
                [
                    html.Li(html.A(t("field.cases", lang), href=f"/cases?lang={lang}")),
                    html.Li(t("field.phone", lang)),
                ]
            ),
        ],
        className="frame-notice field-page",
        id="field-page",
    )
    return page_shell("field", lang, principal, body)
