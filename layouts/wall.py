"""The wall (大屏): a fixed 1920×1080 design for the command room, a pure function of its view.

Python draws the frame (header, panel heads, the alarm banner's form); assets/wall.js draws every
figure from the snapshot the live server sends on connect (dashboard.read.wall) and keeps
it live: one renderer per panel, and the snapshot travels once per load. What the script needs
besides the snapshot (labels in the page's language, names, the time zone, the area, the KPI
tiles) travels in the ``data-config`` attribute of the root element, as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import html

from dashboard.domain.status import CaseStatus, Source
from dashboard.i18n import TABLE, Lang, t
from layouts import wall_ids as ids
from layouts.controls import data_attrs
from layouts.wall_feed import RED_LIST_ROWS, alarm_banner
from layouts.wall_panels import KPI_TILES, RATE_KPIS
from layouts.wall_points import points_box

STALE_AFTER_S = 45  # the server pings every 25 s; two silent intervals mean a dead stream
_JS_PREFIXES = (
    "wall.",
    "kpi.",
    "empty.",
    "video.check",
    "red.",
    "level.",
)  # video.check*: videocheck.js


@dataclass(frozen=True)
class WallView:
    """What the page needs besides the snapshot: language, zone, names, permissions."""

    lang: Lang
    tz: ZoneInfo
    now: datetime
    title: str
    region: str = ""
    categories: Mapping[str, str] = field(default_factory=dict)  # 小类 code → name
    departments: Mapping[str, str] = field(default_factory=dict)  # code → name
    tile_url: str = ""
    can_ack: bool = False
    can_video: bool = False  # offer video checks (/video?case=…) from the feed, list and map
    area: str = ""  # the area code the wall shows ("": everything the screen may see)


def js_config(view: WallView) -> dict[str, Any]:
    """The labels and names wall.js draws with (all in the page's language)."""
    labels = {k: t(k, view.lang) for k in TABLE if k.startswith(_JS_PREFIXES)}
    labels.update({f"source.{s.value}": t(f"source.{s.value}", view.lang) for s in Source})
    labels.update({f"case.{s.value}": t(f"case.{s.value}", view.lang) for s in CaseStatus})
    return {
        "lang": view.lang,
        "tz": view.tz.key,
        "labels": labels,
        "categories": dict(view.categories),
        "departments": dict(view.departments),
        "tileUrl": view.tile_url,
        "canAck": view.can_ack,
        "canVideo": view.can_video,
        "staleAfterS": STALE_AFTER_S,
        "sources": [s.value for s in Source],
        "area": view.area,
        "kpis": [[key, label, sub] for key, label, sub in KPI_TILES],
        "rateKpis": sorted(RATE_KPIS),
        "redRows": RED_LIST_ROWS,
    }


def _header(view: WallView) -> html.Header:
    other = "en" if view.lang == "zh" else "zh"
    local = view.now.astimezone(view.tz)
    weekday = "星期" + "一二三四五六日"[local.weekday()] if view.lang == "zh" else f"{local:%a}"
    date = f"{local:%Y-%m-%d} {weekday}"
    return html.Header(
        [
            html.Div(
                [
                    html.Div(className="emblem"),
                    html.Div(
                        [
                            html.H1(view.title),
                            html.Div(view.region, className="wall-region"),
                        ],
                        className="wall-titles",
                    ),
                ],
                className="wall-brand",
            ),
            html.Div(
                [
                    html.Span(className="conn-dot"),
                    html.Span(t("wall.connecting", view.lang), id=ids.CONNECTION),
                    html.Span("", id=ids.UPDATED, className="updated"),
                ],
                className="wall-live connecting",
            ),
            html.Div(
                [
                    html.Div(date, id=ids.DATE, className="wall-date"),
                    html.Div(f"{local:%H:%M:%S}", id=ids.CLOCK, className="wall-clock"),
                ],
                className="wall-time",
            ),
            html.A(
                t("lang.switch", view.lang),
                href=f"/wall?lang={other}",
                id=ids.LANG,
                className="wall-lang",
            ),
        ],
        className="wall-header",
    )


def _panel(title: str, body: Any, panel_id: str, note: str = "", extra: str = "") -> html.Section:
    head: list[Any] = [html.H2(title)]
    if note:
        head.append(html.Span(note, className="panel-note"))
    return html.Section(
        [html.Div(head, className="panel-head"), html.Div(body, className="panel-body")],
        id=panel_id,
        className=f"panel {extra}".strip(),
    )


def _legend(lang: Lang) -> html.Div:
    keys = ("ok", "red", "worker", "case", "emergency")
    return html.Div(
        [html.Span([html.I(className=f"sw {k}"), t(f"wall.legend_{k}", lang)]) for k in keys],
        className="map-legend",
    )


def _trend_legend(lang: Lang) -> html.Span:
    return html.Span(
        [
            html.Span([html.I(className="sw reported"), t("wall.trend_reported", lang)]),
            html.Span([html.I(className="sw closed"), t("wall.trend_closed", lang)]),
            html.Span(t("wall.last_24h", lang)),
        ],
        className="panel-note trend-legend",
    )


def wall_page(view: WallView) -> html.Div:
    """The frame: header, panel heads and empty bodies. assets/wall.js draws every figure from
    the live snapshot (one renderer per panel); the frame says "connecting" until it arrives."""
    lang = view.lang
    left = html.Aside(
        [
            html.Section(id=ids.KPIS, className="kpis"),
            _panel(
                t("wall.sources", lang), [], ids.SOURCES, t("wall.last_24h", lang), "bars sources"
            ),
            _panel(
                t("wall.categories", lang),
                [],
                ids.CATEGORIES,
                t("wall.last_24h", lang),
                "bars categories",
            ),
        ],
        className="wall-left",
    )
    centre = html.Div(
        [
            html.Section(
                [
                    html.Div(
                        [
                            html.Button(
                                t("wall.back", lang), id=ids.BACK, className="map-back hidden"
                            ),
                            html.H2(t("wall.map", lang), id=ids.MAP_TITLE),
                            _legend(lang),
                        ],
                        className="map-head",
                    ),
                    html.Div(id=ids.MAP, className="map"),
                    html.Div(id=ids.RED_LIST, className="red-list hidden"),
                    points_box(lang),  # the month's top villages by points (issue 18)
                    html.Div("", id=ids.MAP_NOTE, className="map-note hidden"),
                ],
                className="panel map-panel",
            ),
            html.Section(
                [
                    html.Div(
                        [html.H2(t("wall.trend", lang)), _trend_legend(lang)],
                        className="panel-head",
                    ),
                    html.Div(className="panel-body", id=ids.TREND),
                ],
                className="panel trend",
            ),
        ],
        className="wall-centre",
    )
    right = html.Aside(
        [
            _panel(t("wall.feed", lang), [], ids.FEED, extra="feed-panel"),
            _panel(t("wall.departments", lang), [], ids.DEPARTMENTS, extra="departments"),
        ],
        className="wall-right",
    )
    return html.Div(
        [
            _header(view),
            html.Main([left, centre, right], className="wall-body"),
            alarm_banner([], {}, view.categories, lang, view.tz, view.now, view.can_ack),
            html.Div(t("wall.sound_hint", lang), id=ids.SOUND_HINT, className="sound-hint hidden"),
            html.Audio(id=ids.AUDIO, src="/assets/alarm.wav", loop=True, preload="auto"),
        ],
        id=ids.WALL,
        className=f"wall lang-{lang}",
        lang="zh-CN" if lang == "zh" else "en",
        **data_attrs(config=json.dumps(js_config(view), ensure_ascii=False)),
    )
