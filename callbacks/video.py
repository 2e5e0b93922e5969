"""The video wall page (``/video``): thin glue between the request and the pure layout.

Query: ``lang``, ``grid`` (2..8), ``cycle`` (seconds per page), ``layout`` (a saved layout's id,
recalled on load) and, for a video check, one of ``case=<id>``, ``village=<code>`` or
``near=<lon>,<lat>``. The cameras themselves are loaded by the page's script from
``GET /api/v1/cameras`` (the same scoping as every other camera request).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dash
from dash import html

from callbacks.frame_pages import page_title
from dashboard.domain.permissions import Permission, may_change_cases
from dashboard.i18n import normalise_lang, t
from dashboard.read import places
from dashboard.security.pages import page_guard
from dashboard.security.principal import Principal
from layouts.video import Focus, VideoView, parse_cycle, parse_focus, parse_grid, video_page

if TYPE_CHECKING:
    from dashboard.container import Services

DEFAULT_RADIUS_M = 800


def check_radius_m(services: Services) -> int:
    """``[video] check_radius_m`` when the configuration has it, else 800 m."""
    video = getattr(services.config, "video", None)
    return int(getattr(video, "check_radius_m", DEFAULT_RADIUS_M))


def _village_name(services: Services, principal: Principal, code: str) -> str:
    if not principal.scope.allows_place(code):
        return ""  # the API refuses it too; do not tell the name
    return places.village_name(services.db, code)


def register_video_page(services: Services) -> None:
    """Register ``/video`` for principals that may view cameras (their scope's cameras)."""

    def layout(principal: Principal, lang: str | None = None, **query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        focus, error = parse_focus(query)
        if focus is not None and focus.kind == "village":
            focus = Focus("village", focus.value, _village_name(services, principal, focus.value))
        elif focus is not None and focus.kind == "near":
            lon, lat = (float(part) for part in focus.value.split(","))
            place = services.locator(lon, lat)
            if place is not None:
                name = _village_name(services, principal, place.village_code)
                focus = Focus("near", focus.value, name)
        layout_id = query.get("layout")
        view = VideoView(
            lang=language,
            tz=services.reference.calendar.tz,
            now=services.clock.now(),
            title=t("video.title", language),
            grid=parse_grid(query.get("grid")),
            grid_given=query.get("grid") is not None,
            cycle_seconds=parse_cycle(query.get("cycle")),
            focus=focus,
            focus_error=error,
            radius_m=check_radius_m(services),
            user=principal.name,
            can_evidence=may_change_cases(principal.role),  # saving a frame changes the case
            layout_id=int(layout_id) if layout_id and layout_id.isdigit() else None,
        )
        return video_page(view)

    dash.register_page(
        "video",
        path="/video",
        layout=page_guard(Permission.VIEW_CAMERAS)(layout),
        title=page_title("title.video", services),
    )
