"""The wall's data panels (KPI tiles, bar lists, 24-hour trend, department table): pure functions
of the snapshot dict (dashboard.read.wall) and the page's labels.

wall.js redraws the same structures (same classes and ``data-*`` keys) when events arrive, so a
change here needs its twin in wall.js.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dash import html

from dashboard.domain.status import Source
from dashboard.i18n import Lang, t

# (key in snapshot["kpis"], label key, key of the period it covers)
KPI_TILES: tuple[tuple[str, str, str], ...] = (
    ("reported_today", "kpi.reported_today", "wall.today"),
    ("closed_today", "kpi.closed_today", "wall.today"),
    ("closure_rate", "kpi.closure_rate", "wall.d30"),
    ("on_time_rate", "wall.on_time_rate", "wall.d30"),
    ("open", "kpi.open", "wall.now"),
    ("overdue_now", "kpi.overdue", "wall.now"),
    ("red_villages", "kpi.red_villages", "wall.now"),
    ("on_patrol", "wall.on_patrol", "wall.now"),
)
RATE_KPIS = frozenset({"closure_rate", "on_time_rate"})
LONG_VALUE = 6  # characters from which a KPI figure is set smaller
TREND_LABEL_EVERY = 3  # hours between x-axis labels


def format_kpi(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key in RATE_KPIS:
        return "100%" if value >= 100 else f"{value:.1f}%"
    return f"{int(value):,}"


def value_class(text: str) -> str:
    """Long figures (a city's 12,345) get a smaller size so they stay inside their tile."""
    return "kpi-value long" if len(text) >= LONG_VALUE else "kpi-value"


def kpi_tone(key: str, value: float | None) -> str:
    """The colour class of a tile: red villages and overdue cases must stand out."""
    if key == "red_villages" and value:
        return "alarm"
    if key == "overdue_now" and value:
        return "warn"
    return {"closed_today": "good", "reported_today": "accent"}.get(key, "")


def kpi_tiles(kpis: Mapping[str, Any], lang: Lang) -> html.Div:
    tiles = []
    for key, label, sub in KPI_TILES:
        value = kpis.get(key)
        text = format_kpi(key, value)
        tiles.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(t(label, lang), className="kpi-name"),
                            html.Span(t(sub, lang), className="kpi-sub"),
                        ],
                        className="kpi-label",
                    ),
                    html.Div(text, className=value_class(text)),
                ],
                className=f"kpi {kpi_tone(key, value)}".strip(),
                **{"data-kpi": key},
            )
        )
    return html.Div(tiles, className="kpi-grid")


def bar_rows(items: Sequence[tuple[str, str, int]], empty: str) -> list[html.Div]:
    """Horizontal bars (key, label, count), widths relative to the largest count."""
    if not items:
        return [html.Div(empty, className="empty")]
    top = max((n for _, _, n in items), default=0) or 1
    return [
        html.Div(
            [
                html.Span(label, className="bar-label", title=label),
                html.Div(
                    html.Div(className="bar-fill", style={"width": f"{100 * n / top:.1f}%"}),
                    className="bar-track",
                ),
                html.Span(f"{n:,}", className="bar-value"),
            ],
            className="bar-row",
            **{"data-key": key},
        )
        for key, label, n in items
    ]


def source_items(sources: Mapping[str, int], lang: Lang) -> list[tuple[str, str, int]]:
    """Every source in a fixed order (the panel keeps its shape when one is zero)."""
    return [(s.value, t(f"source.{s.value}", lang), int(sources.get(s.value, 0))) for s in Source]


def category_items(
    categories: Sequence[Mapping[str, Any]], names: Mapping[str, str]
) -> list[tuple[str, str, int]]:
    return [(c["code"], names.get(c["code"], c["code"]), int(c["count"])) for c in categories]


def axis(value: int) -> tuple[int, int]:
    """A round axis for counts up to ``value``: (step, intervals), step 1/2/5 × 10^k and at most
    five intervals, so the gridlines read 0, 10, 20 … rather than 0, 12.5, 25 …"""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            intervals = max(1, math.ceil(value / step))
            if intervals <= 5:
                return step, intervals
        power *= 10


def hour_label(start: datetime, index: int, tz: ZoneInfo, lang: Lang) -> str:
    local = (start + timedelta(hours=index)).astimezone(tz)
    return f"{local.hour}时" if lang == "zh" else f"{local.hour:02d}:00"


def trend_chart(trend: Mapping[str, Any], tz: ZoneInfo, lang: Lang) -> html.Div:
    """24 hourly column pairs (reported, closed) on a shared, round-numbered axis."""
    reported: list[int] = list(trend.get("reported", []))
    closed: list[int] = list(trend.get("closed", []))
    start = datetime.fromisoformat(trend["start"])
    step, intervals = axis(max([*reported, *closed, 0]))
    top = step * intervals
    grid = [
        html.Div(html.Span(f"{step * k:,}"), className="trend-gridline")
        for k in range(intervals, -1, -1)
    ]
    cols = []
    for i, (r, c) in enumerate(zip(reported, closed, strict=True)):
        label = hour_label(start, i, tz, lang) if i % TREND_LABEL_EVERY == 0 else ""
        cols.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(
                                className="trend-bar reported",
                                style={"height": f"{100 * r / top:.1f}%"},
                                title=str(r),
                            ),
                            html.Div(
                                className="trend-bar closed",
                                style={"height": f"{100 * c / top:.1f}%"},
                                title=str(c),
                            ),
                        ],
                        className="trend-bars",
                    ),
                    html.Div(label, className="trend-label"),
                ],
                className="trend-col" + (" current" if i == len(reported) - 1 else ""),
            )
        )
    return html.Div(
        [html.Div(grid, className="trend-grid"), html.Div(cols, className="trend-cols")],
        className="trend-chart",
        **{"data-max": str(top), "data-start": str(trend["start"])},
    )


def rate_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def department_table(
    rows: Sequence[Mapping[str, Any]], names: Mapping[str, str], lang: Lang, limit: int = 9
) -> html.Table:
    head = html.Tr(
        [
            html.Th(t("wall.col_department", lang)),
            html.Th(t("wall.col_open", lang), className="num"),
            html.Th(t("wall.col_overdue", lang), className="num"),
            html.Th(t("wall.col_handled", lang), className="num"),
            html.Th(t("wall.col_on_time", lang), className="num"),
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(names.get(r["code"], r["code"]), className="dept-name"),
                html.Td(f"{r['open']:,}", className="num"),
                html.Td(f"{r['overdue']:,}", className="num warn" if r["overdue"] else "num"),
                html.Td(f"{r['handled']:,}", className="num"),
                html.Td(rate_text(r.get("on_time_rate")), className="num"),
            ],
            **{"data-key": r["code"]},
        )
        for r in rows[:limit]
    ] or [html.Tr(html.Td(t("empty.none", lang), colSpan=5, className="empty"))]
    return html.Table([html.Thead(head), html.Tbody(body)], className="dept-table")
