"""The wall page (``/wall``): thin glue between the request, the config and the pure layout.

The page is a frame; assets/wall.js draws every panel from the ``snapshot`` that the live server
sends on connect, which is ``wall_snapshot_for(services)`` (create_app puts it in
``services.wall_snapshot``): the snapshot travels once per load and one renderer draws it.
The same data for a narrower area (a town the wall is drilled into) comes from
``/api/v1/wall/snapshot`` (dashboard/http/api_wall.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dash
from dash import html

from callbacks.frame_pages import page_title
from dashboard.domain.permissions import Permission, Scope
from dashboard.i18n import normalise_lang, t
from dashboard.read import places
from dashboard.read.wall import narrowed, wall_view
from dashboard.security.pages import page_guard
from dashboard.security.principal import Principal
from layouts.names import WALL_CATEGORY_CHARS, WALL_DEPARTMENT_CHARS, short_name
from layouts.wall import WallView, wall_page

if TYPE_CHECKING:
    from dashboard.container import Services

SnapshotFn = Callable[[Principal, bool], dict[str, Any]]


def wall_snapshot_for(services: Services) -> SnapshotFn:
    """The snapshot of the wall as ``principal`` may see it (scoped by ``principal.scope``).

    Built once at start-up, so the moment it is built is the server's start: emergencies reported
    before it (the seeded history, or before a restart) do not ring on the wall again."""
    tz = services.reference.calendar.tz
    started = services.clock.now()
    area = services.config.ui.wall_area

    def snapshot(principal: Principal, positions: bool = True) -> dict[str, Any]:
        # A wall configured for an area outside the screen's scope shows the screen's scope.
        with services.db.read() as session:
            scope = narrowed(principal.scope, area) or principal.scope
            now = services.clock.now()
            return wall_view(session, scope, now, tz, alarms_since=started, positions=positions)

    return snapshot


def shown_area(scope: Scope, configured: str) -> str:
    """The area a screen's wall shows: the configured one when the screen may see it."""
    return (narrowed(scope, configured) or scope).area_code or ""


def _region_name(services: Services) -> str:
    return places.region_name(services.db)


def register_wall_page(services: Services) -> None:
    """Register ``/wall`` for principals that may view the wall (its data is their scope)."""
    tz = services.reference.calendar.tz
    subs = services.reference.categories.subs
    depts = services.reference.departments
    # Shortened where they would not fit the wall's columns (layouts/names.py).
    cats, deps = WALL_CATEGORY_CHARS, WALL_DEPARTMENT_CHARS
    categories = {
        "zh": {s.code: short_name(s.name_zh, cats) for s in subs},
        "en": {s.code: s.name_en for s in subs},
    }
    departments = {
        "zh": {d.code: short_name(d.name_zh, deps) for d in depts},
        "en": {d.code: d.name_en for d in depts},
    }

    def layout(principal: Principal, lang: str | None = None, **_query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        view = WallView(
            lang=language,
            tz=tz,
            now=services.clock.now(),
            title=services.config.ui.title if language == "zh" else t("app.title", language),
            region=_region_name(services),
            categories=categories[language],
            departments=departments[language],
            tile_url=services.config.ui.tile_url,
            can_ack=principal.can(Permission.ACKNOWLEDGE_ALARM),
            can_video=principal.can(Permission.VIEW_CAMERAS),
            area=shown_area(principal.scope, services.config.ui.wall_area),
        )
        return wall_page(view)

    dash.register_page(
        "wall",
        path="/wall",
        layout=page_guard(Permission.VIEW_WALL)(layout),
        title=page_title("title.wall", services),
    )
