"""The leadership pages' own menu: trends, rising problems, campaigns, rankings (issue 13).

/trends is built here; /trends/rising, /trends/campaigns and /trends/rankings come with their
own branch and register their pages under these addresses. A pure function of its arguments.
"""

from __future__ import annotations

from dash import html

from dashboard.i18n import Lang, t

TRENDS_PAGES: tuple[tuple[str, str, str], ...] = (
    ("trends", "/trends", "tr.nav.trends"),
    ("rising", "/trends/rising", "tr.nav.rising"),
    ("campaigns", "/trends/campaigns", "tr.nav.campaigns"),
    ("rankings", "/trends/rankings", "tr.nav.rankings"),
    ("residents", "/trends/residents", "tr.nav.residents"),  # issue 18: points and services
)


def trends_nav(active: str, lang: Lang) -> html.Nav:
    return html.Nav(
        [
            html.A(
                t(label, lang),
                href=f"{href}?lang={lang}",
                className="trends-tab active" if key == active else "trends-tab",
                id=f"trends-tab-{key}",
            )
            for key, href, label in TRENDS_PAGES
        ],
        className="trends-nav no-print",
    )
