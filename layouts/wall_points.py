"""The wall's small panel of the residents' side (issue 18): this month's top villages by points
(积分榜), in a corner of the map. The frame only; assets/residents_wall.js fills it from
``GET /api/v1/points/top-villages`` when the wall opens and every ten minutes (points change
slowly: they are not in the live stream). Hidden while there is nothing to show."""

from __future__ import annotations

from dash import html

from dashboard.i18n import Lang, t
from layouts.controls import data_attrs

BOX = "wall-points"
LIST = "wall-points-list"


def points_box(lang: Lang) -> html.Div:
    return html.Div(
        [
            html.Div(t("wall.points_title", lang), className="wp-title"),
            html.Ol(id=LIST, className="wp-list"),
        ],
        id=BOX,
        className="wall-points hidden",
        **data_attrs(unit=t("wall.points_unit", lang)),
    )
