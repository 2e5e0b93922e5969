"""The charts of the trends page as Plotly figures: pure functions of a ``TrendView``.

The page shows them in ``dcc.Graph``; the exports (PNG, the monthly briefing) render the same
figures server-side (dashboard.services.trend_export), so a chart is drawn in one place only.
Fonts name the CJK faces fonts-noto-cjk installs, so Chinese renders on a fresh machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go

from dashboard.i18n import Lang, t
from dashboard.read.trend_views import TrendView

FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"
GREY = "#9aa5b8"
ACCENT = ("#e8553d", "#f2a33a", "#d43d8f")
BLUE = "#2f6fed"
CHARTS = ("trend", "places", "categories", "sources", "matrix", "map")


def _lang(view: TrendView) -> Lang:
    return "en" if view.lang == "en" else "zh"


def _base(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    """Titled for the exports; the page removes the title (its panel heads the chart)."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        font={"family": FONT, "size": 12, "color": "#1d2433"},
        margin={"l": 48, "r": 16, "t": 40, "b": 40},
        height=height,
        paper_bgcolor="white",
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_xaxes(gridcolor="#e6e9ef")
    # Plain numbers and dates: Plotly's defaults ("15k", "Nov 23") are English.
    fig.update_yaxes(gridcolor="#e6e9ef", rangemode="tozero", tickformat=",d")
    return fig


def trend_chart(view: TrendView) -> go.Figure:
    """New cases per day (or week) by 大类; the fastest-rising ones in colour, the rest grey."""
    lang = _lang(view)
    fig = go.Figure()
    order = sorted(view.series, key=lambda m: (m not in view.rising, m))
    for major in order:
        values = view.series[major]
        rising = major in view.rising
        colour = ACCENT[view.rising.index(major) % len(ACCENT)] if rising else GREY
        name = view.names.get(f"major:{major}", major)
        fig.add_trace(
            go.Scatter(
                x=view.series_days,
                y=values,
                mode="lines",
                name=f"{name} ↑" if rising else name,
                line={"color": colour, "width": 3 if rising else 1.2},
                opacity=1 if rising else 0.6,
            )
        )
    total = [sum(v) for v in zip(*view.series.values(), strict=True)] if view.series else []
    fig.add_trace(
        go.Scatter(
            x=view.series_days,
            y=total,
            mode="lines",
            name=t("tr.total", lang),
            line={"color": BLUE, "width": 2, "dash": "dot"},
        )
    )
    fig = _base(fig, t("tr.chart_trend", lang), 360)
    days = len(view.series_days)
    step = 86_400_000 if days <= 16 else (7 * 86_400_000 if days <= 120 else None)
    fig.update_xaxes(tickformat="%m-%d", **({"dtick": step} if step else {}))
    return fig


def places_chart(view: TrendView) -> go.Figure:
    lang = _lang(view)
    rows = view.places[:40]
    fig = go.Figure(
        [
            go.Bar(
                x=[r.name for r in rows],
                y=[r.figures["reported"] for r in rows],
                name=t("tr.kpi.reported", lang),
                marker_color=BLUE,
                customdata=[r.code for r in rows],
            ),
            go.Bar(
                x=[r.name for r in rows],
                y=[r.figures["closed"] for r in rows],
                name=t("tr.kpi.closed", lang),
                marker_color="#33a36b",
                customdata=[r.code for r in rows],
            ),
        ]
    )
    fig.update_layout(barmode="group")
    return _base(fig, t(f"tr.chart_places_{view.place.level}", lang))


def categories_chart(view: TrendView) -> go.Figure:
    lang = _lang(view)
    rows = view.majors[:12]
    fig = go.Figure(
        go.Bar(
            y=[r.name for r in rows][::-1],
            x=[r.figures["reported"] for r in rows][::-1],
            orientation="h",
            marker_color=[ACCENT[0] if r.code in view.rising else BLUE for r in rows][::-1],
        )
    )
    fig = _base(fig, t("tr.chart_categories", lang))
    fig.update_xaxes(rangemode="tozero", tickformat=",d")
    fig.update_yaxes(tickformat="")
    return fig


def sources_chart(view: TrendView) -> go.Figure:
    lang = _lang(view)
    rows = view.sources
    fig = go.Figure(
        go.Pie(
            labels=[t(f"source.{r.code}", lang) for r in rows],
            values=[r.figures["reported"] for r in rows],
            hole=0.45,
            sort=False,
        )
    )
    return _base(fig, t("tr.chart_sources", lang))


def matrix_chart(view: TrendView) -> go.Figure:
    lang = _lang(view)
    days = [t(f"tr.weekday_{i}", lang) for i in range(7)]
    fig = go.Figure(
        go.Heatmap(
            z=view.matrix,
            x=[f"{h:02d}" for h in range(24)],
            y=days,
            colorscale="Blues",
            hovertemplate="%{y} %{x}:00 · %{z}<extra></extra>",
        )
    )
    fig = _base(fig, t("tr.chart_matrix", lang))
    fig.update_yaxes(autorange="reversed", rangemode="normal", tickformat="")
    return fig


def map_chart(view: TrendView) -> go.Figure:
    """Where the period's cases were reported: one tile per map cell of the roll-up (about
    500 m), coloured by its reports (no base tiles: the command room has no internet)."""
    lang = _lang(view)
    lons = [p[0] for p in view.points]
    lats = [p[1] for p in view.points]
    counts = [p[2] for p in view.points]
    fig = go.Figure()
    if view.points:
        pad_x = (max(lons) - min(lons)) * 0.05 or 0.01
        pad_y = (max(lats) - min(lats)) * 0.05 or 0.01
        fig.add_trace(
            go.Heatmap(
                x=lons,
                y=lats,
                z=counts,
                colorscale="YlOrRd",
                showscale=False,
                zmin=0,
                hoverongaps=False,
                hovertemplate="%{z}<extra></extra>",
            )
        )  # fmt: skip  (one tile per map cell of the roll-up; no tile where nothing was reported)
        fig.update_xaxes(range=[min(lons) - pad_x, max(lons) + pad_x])
        fig.update_yaxes(range=[min(lats) - pad_y, max(lats) + pad_y])
    fig.update_yaxes(scaleanchor="x", scaleratio=1.15, showgrid=False, rangemode="normal")
    fig.update_xaxes(showgrid=False, showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig = _base(fig, t("tr.chart_map", lang), 360)
    fig.update_yaxes(rangemode="normal")
    return fig


BUILDERS: dict[str, Callable[[TrendView], go.Figure]] = {
    "trend": trend_chart,
    "places": places_chart,
    "categories": categories_chart,
    "sources": sources_chart,
    "matrix": matrix_chart,
    "map": map_chart,
}


def figure(name: str, view: TrendView, titled: bool = True) -> go.Figure:
    fig = BUILDERS[name](view)
    if not titled:
        fig.update_layout(title=None, margin={"t": 12})
    return fig


def figure_dict(name: str, view: TrendView) -> dict[str, Any]:
    return dict(figure(name, view).to_plotly_json())
