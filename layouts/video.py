"""The video wall (/video): a fixed 1920×1080 page of camera tiles, a pure function of its view.

The page is the frame — header, toolbar, an empty grid of ``n × n`` tile slots, the focus list of
a video check, the full-size overlay. assets/video.js fills it: it loads the cameras the
principal may see (``GET /api/v1/cameras``, with ``case``/``village``/``near`` for a video check),
pages them over the grid and draws each tile from the ``/video`` Socket.IO namespace. What the
script needs (labels in the page's language, the grid, the cycle, the focus) travels in the
root's ``data-config`` attribute as JSON text; camera names only ever reach the page as text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import TABLE, Lang, t
from layouts import video_ids as ids
from layouts.controls import data_attrs

GRID_SIZES = (2, 3, 4, 5, 6, 7, 8)
DEFAULT_GRID = 3
CYCLE_CHOICES = (0, 10, 20, 30, 60, 120)  # seconds per page; 0 = off
FocusKind = Literal["case", "village", "near"]


@dataclass(frozen=True)
class Focus:
    """A video check: the cameras nearest a case, in a village, or near a point."""

    kind: FocusKind
    value: str  # the case id, the village code, or "lon,lat" — exactly what the API takes
    label: str = ""  # the village's name (kind "village"; "near": the village it lies in)

    def api_query(self) -> str:
        query: dict[str, str] = {self.kind: self.value}
        return urlencode(query)


@dataclass(frozen=True)
class VideoView:
    lang: Lang
    tz: ZoneInfo
    now: datetime
    title: str
    grid: int = DEFAULT_GRID
    grid_given: bool = False  # ?grid=… was given (a video check otherwise fits its cameras)
    cycle_seconds: int = 0
    focus: Focus | None = None
    focus_error: bool = False  # ?case=… etc. given but unreadable
    radius_m: int = 800
    user: str = ""
    can_evidence: bool = False
    layout_id: int | None = None  # ?layout=<id>: recall a saved layout on load (kiosk screens)


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def parse_grid(value: str | None) -> int:
    n = _int(value)
    return n if n in GRID_SIZES else DEFAULT_GRID


def parse_cycle(value: str | None) -> int:
    n = _int(value)
    return n if n is not None and 5 <= n <= 3600 else 0


def parse_focus(query: Mapping[str, str | None]) -> tuple[Focus | None, bool]:
    """``(focus, error)`` from ``case=<id>``, ``village=<code>`` or ``near=<lon>,<lat>``."""
    if query.get("case") is not None:
        case = _int(query["case"])
        return (Focus("case", str(case)), False) if case and case > 0 else (None, True)
    if query.get("village") is not None:
        code = str(query["village"]).strip()
        ok = code.isdigit() and 6 <= len(code) <= 15
        return (Focus("village", code), False) if ok else (None, True)
    if query.get("near") is not None:
        return _near(str(query["near"]))
    return None, False


def _near(raw: str) -> tuple[Focus | None, bool]:
    try:
        lon, lat = (float(part) for part in raw.split(","))
    except ValueError:
        return None, True
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None, True
    return Focus("near", f"{lon:.6f},{lat:.6f}"), False


def fill(text: str, **values: Any) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def focus_title(focus: Focus, lang: Lang) -> str:
    if focus.kind == "case":
        return fill(t("video.check_case", lang), id=focus.value)
    if focus.kind == "village":
        return fill(t("video.check_village", lang), name=focus.label or focus.value)
    # A point picked on the map is named by the village it lies in, not by its coordinates.
    if focus.label:
        return fill(t("video.check_point_in", lang), name=focus.label)
    return t("video.check_map_point", lang)


def js_config(view: VideoView) -> dict[str, Any]:
    """What video.js draws with: labels in the page's language, the grid, the cycle, the focus."""
    labels = {k: t(k, view.lang) for k in TABLE if k.startswith("video.")}
    focus = None
    if view.focus is not None:
        focus = {
            "kind": view.focus.kind,
            "value": view.focus.value,
            "query": view.focus.api_query(),
        }
    return {
        "lang": view.lang,
        "tz": view.tz.key,
        "labels": labels,
        "grid": view.grid,
        "gridFromQuery": view.grid_given,
        "gridSizes": list(GRID_SIZES),
        "cycleSeconds": view.cycle_seconds,
        "focus": focus,
        "focusError": view.focus_error,
        "radiusM": view.radius_m,
        "user": view.user,
        "canEvidence": view.can_evidence and view.focus is not None and view.focus.kind == "case",
        "layoutId": view.layout_id,
    }


def _query(view: VideoView, lang: Lang) -> str:
    params: dict[str, str | int] = {"lang": lang}
    if view.focus is not None:
        params[view.focus.kind] = view.focus.value
    else:
        params["grid"] = view.grid
        if view.cycle_seconds:
            params["cycle"] = view.cycle_seconds
    return "/video?" + urlencode(params)


def _header(view: VideoView) -> html.Header:
    lang = view.lang
    local = view.now.astimezone(view.tz)
    subtitle = focus_title(view.focus, lang) if view.focus else t("video.all_cameras", lang)
    return html.Header(
        [
            html.Div(
                [
                    html.Span(className="conn-dot"),
                    html.Span(t("video.connecting", lang), id=ids.CONNECTION),
                ],
                className="video-live connecting",
            ),
            html.Div(
                [
                    html.Div(className="emblem"),
                    html.Div(
                        [html.H1(view.title), html.Div(subtitle, className="video-subtitle")],
                        className="video-titles",
                    ),
                ],
                className="video-brand",
            ),
            html.Div(
                [
                    html.Div(f"{local:%H:%M:%S}", id=ids.CLOCK, className="video-clock"),
                    html.A(
                        t("video.back_to_wall", lang),
                        href=f"/wall?lang={lang}",
                        className="video-link",
                    ),
                    html.A(
                        t("lang.switch", lang),
                        href=_query(view, "en" if lang == "zh" else "zh"),
                        id=ids.LANG,
                        className="video-link",
                    ),
                ],
                className="video-right",
            ),
        ],
        className="video-header",
    )


def _grid_chooser(view: VideoView) -> html.Div:
    buttons = [
        html.Button(
            f"{n}×{n}",
            className="vbtn grid-btn active" if n == view.grid else "vbtn grid-btn",
            **data_attrs(n=str(n)),
        )
        for n in GRID_SIZES
    ]
    return html.Div(
        [html.Span(t("video.grid", view.lang), className="tool-label"), *buttons],
        id=ids.GRID_CHOOSER,
        className="tool-group",
    )


def _paging(view: VideoView) -> html.Div:
    lang = view.lang
    return html.Div(
        [
            html.Button("◀ " + t("video.prev", lang), id=ids.PREV, className="vbtn"),
            html.Span(
                fill(t("video.page", lang), n=1, m=1), id=ids.PAGE_LABEL, className="page-label"
            ),
            html.Button(t("video.next", lang) + " ▶", id=ids.NEXT, className="vbtn"),
            html.Span("", id=ids.COUNT, className="tool-note"),
        ],
        className="tool-group",
    )


def _cycle(view: VideoView) -> html.Div:
    lang = view.lang
    choices = [n for n in CYCLE_CHOICES if n] + (
        [view.cycle_seconds] if view.cycle_seconds not in CYCLE_CHOICES else []
    )
    buttons = [
        html.Button(
            fill(t("video.cycle_seconds", lang), n=n),
            className="vbtn cycle-btn active" if n == view.cycle_seconds else "vbtn cycle-btn",
            **data_attrs(s=str(n)),
        )
        for n in sorted(choices)
    ]
    return html.Div(
        [html.Span(t("video.cycle", lang), className="tool-label"), *buttons],
        id=ids.CYCLE,
        className="tool-group",
        **data_attrs(on="1" if view.cycle_seconds else ""),
    )


def _layouts(view: VideoView) -> html.Div:
    """Saved layouts: a button with the current one; it opens a panel with every saved layout
    (recall, delete your own) and the form that saves the current view under a name."""
    lang = view.lang
    form = html.Div(
        [
            dcc.Input(
                id=ids.LAYOUT_NAME,
                type="text",
                placeholder=t("video.layout_name", lang),
                maxLength=60,
                autoComplete="off",
                className="layout-name",
            ),
            html.Button(
                t("video.layout_shared", lang), id=ids.LAYOUT_SHARED, className="vbtn toggle"
            ),
            html.Button(t("video.layout_save", lang), id=ids.LAYOUT_SAVE, className="vbtn primary"),
        ],
        className="layout-form",
    )
    return html.Div(
        [
            html.Span(t("video.layouts", lang), className="tool-label"),
            html.Button(
                t("video.layout_none", lang) + " ▾", id=ids.LAYOUT_TOGGLE, className="vbtn"
            ),
            html.Span("", id=ids.LAYOUT_MSG, className="tool-note"),
            html.Div(
                [html.Div(id=ids.LAYOUT_SELECT, className="layout-list"), form],
                id=ids.LAYOUT_PANEL,
                className="layout-panel hidden",
            ),
        ],
        className="tool-group layouts",
    )


def _toolbar(view: VideoView) -> html.Div:
    groups = [_grid_chooser(view), _paging(view)]
    if view.focus is None:
        groups += [_cycle(view), _layouts(view)]
    return html.Div(groups, className="video-toolbar")


def tile_slots(n: int) -> list[html.Div]:
    """``n × n`` empty tiles; video.js puts a camera in each (the twin of its ``buildTile``)."""
    return [html.Div(html.Div(className="tile-wait"), className="tile empty") for _ in range(n * n)]


def _focus_panel(view: VideoView) -> html.Aside:
    assert view.focus is not None
    lang = view.lang
    return html.Aside(
        [
            html.H2(t("video.check", lang)),
            html.Div(focus_title(view.focus, lang), className="focus-title"),
            html.Div(
                fill(t("video.radius", lang), n=view.radius_m),
                className="focus-note",
            ),
            html.Ol(id=ids.FOCUS_LIST, className="focus-list"),
        ],
        id=ids.FOCUS,
        className="video-focus",
    )


def _full_view(lang: Lang) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Span("", id=ids.FULL_TITLE, className="full-title"),
                    html.Button(t("video.full_close", lang), id=ids.FULL_CLOSE, className="vbtn"),
                ],
                className="full-head",
            ),
            html.Div(id=ids.FULL_IMAGE_BOX, className="full-box"),
        ],
        id=ids.FULL,
        className="video-full hidden",
    )


def video_page(view: VideoView) -> html.Div:
    lang = view.lang
    grid = html.Div(
        tile_slots(view.grid),
        id=ids.GRID,
        className=f"video-grid g{view.grid}",
        **data_attrs(n=str(view.grid)),
    )
    note = html.Div(
        t("video.bad_focus", lang) if view.focus_error else "",
        id=ids.NOTE,
        className="video-note" if view.focus_error else "video-note hidden",
    )
    body: list[Any] = [html.Div([grid, note], className="video-stage")]
    if view.focus is not None:
        body.insert(0, _focus_panel(view))
    mode = "focus" if view.focus is not None else "wall"
    return html.Div(
        [
            _header(view),
            _toolbar(view),
            html.Main(body, className=f"video-body {mode}"),
            _full_view(lang),
        ],
        id=ids.VIDEO,
        className=f"video lang-{lang} mode-{mode}",
        lang="zh-CN" if lang == "zh" else "en",
        **data_attrs(config=json.dumps(js_config(view), ensure_ascii=False)),
    )
