"""The case workspace (the page a case opens to, ``/cases/<id>``): a pure function of data.

The head (number, status, urgency, the stage light with the time left) across the top; then the
details with the action bar and the form of the chosen step; the timeline; and the small map
(drawn by assets/case.js from the ``data-map`` JSON: the village outline, the grid, the case
point and the cameras), the nearest cameras with the video-check link and the photos.
``dynamic_parts`` is what an action re-renders; the page and the callback both build it here so
they cannot differ.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from dash import dcc, html

from dashboard.domain.permissions import may_change_cases
from dashboard.i18n import Lang, t
from dashboard.read.views import CaseView
from layouts import case_ids as ids
from layouts.case_actions import action_bar
from layouts.case_format import (
    CasePageContext,
    duration,
    grid_name,
    local,
    source_word,
    status_word,
)
from layouts.case_timeline import photo_link, timeline
from layouts.controls import data_attrs

READ_ONLY = "case-ws-readonly"


def not_found(case_ref: str, lang: Lang) -> html.Div:
    """The same notice for a missing case and one outside the principal's scope."""
    return html.Div(
        [
            html.H2(t("case_ws.not_found", lang)),
            html.P(t("case_ws.not_found_detail", lang).format(n=case_ref)),
            html.A(t("case_ws.back", lang), href=f"/cases?lang={lang}"),
        ],
        id=ids.NOT_FOUND,
        className="case-ws-missing",
    )


def workspace(view: CaseView, ctx: CasePageContext) -> html.Div:
    """Head and message across the top; then three columns: details and actions, the timeline,
    and the map, cameras and photos (two columns on a narrow screen, see case.css)."""
    parts = dynamic_parts(view, ctx)
    details = _panel("case_ws.details", html.Div(parts[ids.DETAILS], id=ids.DETAILS), ctx)
    if may_change_cases(ctx.role):
        actions = html.Div(
            [
                html.Div(parts[ids.ACTIONS], id=ids.ACTIONS, className="case-ws-bar"),
                html.Div(id=ids.FORM),
            ]
        )
        work_parts: list[Any] = [details, _panel("case_ws.actions", actions, ctx)]
    else:  # a read-only role (a leader): no action bar, no form, no upload - it is said why
        note = html.P(t("case_ws.read_only", ctx.lang), className="case-ws-readonly", id=READ_ONLY)
        work_parts = [details, note]
    work = html.Div(work_parts, className="case-ws-col case-ws-work")
    trail = html.Div(
        _panel("case_ws.timeline", html.Div(parts[ids.TIMELINE], id=ids.TIMELINE), ctx),
        className="case-ws-col case-ws-trail",
    )
    place = html.Div(
        [
            _panel("case_ws.map", _map(view, ctx), ctx),
            _panel("case_ws.cameras", html.Div(_cameras(view, ctx), id=ids.CAMERAS), ctx),
            _panel("case_ws.photos", html.Div(parts[ids.PHOTOS], id=ids.PHOTOS), ctx),
        ],
        className="case-ws-col case-ws-place",
    )
    top = html.Div(
        [
            html.Div(parts[ids.HEAD], id=ids.HEAD, className="case-ws-head"),
            html.Div(id=ids.MESSAGE, className="case-ws-message", role="status"),
        ],
        className="case-ws-top",
    )
    store = dcc.Store(id=ids.STORE, data=store_data(view, ctx.lang))
    return html.Div([store, top, work, trail, place], id=ids.ROOT, className="case-ws")


def store_data(view: CaseView, lang: Lang) -> dict[str, Any]:
    return {"id": view.id, "version": view.version, "lang": lang}


def dynamic_parts(view: CaseView, ctx: CasePageContext) -> dict[str, Any]:
    return {
        ids.HEAD: _head(view, ctx),
        ids.DETAILS: _details(view, ctx),
        ids.ACTIONS: action_bar(view, ctx),
        ids.PHOTOS: _photos(view, ctx),
        ids.TIMELINE: timeline(view.timeline, replace(ctx, people=view.people)),
    }


def _panel(title_key: str, body: Any, ctx: CasePageContext) -> html.Section:
    return html.Section([html.H2(t(title_key, ctx.lang)), body], className="case-ws-panel")


def _head(view: CaseView, ctx: CasePageContext) -> list[Any]:
    lang = ctx.lang
    head: list[Any] = [
        html.H1(t("case_ws.title", lang).format(n=view.id)),
        html.Span(
            status_word(view.status, lang),
            className=f"case-ws-status st-{view.status.value}",
            id="case-ws-status",
            **data_attrs(status=view.status.value),
        ),
    ]
    if view.emergency:
        head.append(html.Span(t("case_ws.emergency", lang), className="case-ws-emergency"))
    head.append(_light(view, ctx))
    return head


_LIGHT_WORDS = {
    "green": "case_ws.light_green",
    "yellow": "case_ws.light_yellow",
    "red": "case_ws.light_red",
}


def _light(view: CaseView, ctx: CasePageContext) -> html.Span:
    """The stage light with the time left or the time overdue (computed by the service with
    dashboard.domain.deadlines.stage_light)."""
    lang = ctx.lang
    if view.light is None or view.remaining is None:
        key = "case_ws.no_deadline" if view.deadline is None else "case_ws.finished"
        return html.Span(t(key, lang), className="case-ws-light none", id="case-ws-light")
    if view.remaining.total_seconds() > 0:
        left = t("case_ws.time_left", lang).format(t=duration(view.remaining, lang))
    else:
        left = t("case_ws.overdue_by", lang).format(t=duration(-view.remaining, lang))
    text = f"{t(_LIGHT_WORDS.get(view.light, 'case_ws.light_green'), lang)} · {left}"
    if view.status.value == "suspended":
        text += f" · {t('case_ws.clock_stopped', lang)}"
    return html.Span(
        [html.I(className="dot"), text],
        className=f"case-ws-light {view.light}",
        id="case-ws-light",
        **data_attrs(light=view.light),
    )


def _row(label_key: str, value: Any, ctx: CasePageContext, cls: str = "") -> html.Tr:
    return html.Tr([html.Th(t(label_key, ctx.lang)), html.Td(value, className=cls)])


TRACK_AROUND = timedelta(hours=1)  # the reporter's track: an hour either side of the report


def _reporter(view: CaseView, ctx: CasePageContext) -> Any:
    """The reporter's name; for a grid worker, with a link to their track around the report."""
    name = view.people.get(view.reporter, view.reporter) or "—"
    if not (view.reporter_is_worker and ctx.can_view_tracks):
        return name
    start = (view.reported_at - TRACK_AROUND).astimezone(ctx.tz)
    end = (view.reported_at + TRACK_AROUND).astimezone(ctx.tz)
    query = urlencode(
        {
            "worker": view.reporter,
            "date": start.date().isoformat(),
            "from": f"{start:%H:%M}",
            "to": f"{end:%H:%M}",
            "lang": ctx.lang,
        }
    )
    link = html.A(t("tracks.case_link", ctx.lang), href=f"/tracks?{query}", id="case-ws-track")
    return [name, " · ", link]


def _details(view: CaseView, ctx: CasePageContext) -> html.Table:
    lang, tz = ctx.lang, ctx.tz
    category = ctx.categories.get(view.category_code) or view.category_code  # a name, not a code
    place = " / ".join(p for p in (view.town_name, view.village_name) if p)
    grid = grid_name(view.grid_code, view.village_code, view.village_name, lang)
    department = ctx.departments.get(view.department_code or "", view.department_code or "—")
    rows = [
        _row("case_ws.f_id", str(view.id), ctx),
        _row("case_ws.f_status", status_word(view.status, lang), ctx),
        _row("case_ws.f_source", source_word(view.source, lang), ctx),
        _row("case_ws.f_category", category, ctx),
        _row("case_ws.f_description", view.description, ctx, "case-ws-description"),
        _row("case_ws.f_address", view.address or "—", ctx),
        _row("case_ws.f_place", place or view.village_code, ctx),
        _row("case_ws.f_grid", grid, ctx),
        _row("case_ws.f_reporter", _reporter(view, ctx), ctx),
        _row("case_ws.f_reported_at", local(view.reported_at, tz), ctx),
        _row("case_ws.f_department", department, ctx),
        _row("case_ws.f_deadline", local(view.deadline, tz), ctx),
    ]
    if view.occurred_at is not None:
        rows.insert(10, _row("case_ws.f_occurred_at", local(view.occurred_at, tz), ctx))
    ratings = _ratings(view, lang)
    if ratings:
        rows.append(_row("case_ws.f_ratings", ratings, ctx))
    return html.Table(html.Tbody(rows), className="case-ws-details")


def _ratings(view: CaseView, lang: Lang) -> str:
    parts = []
    if view.satisfaction is not None:
        parts.append(f"{t('case_ws.t_satisfaction', lang)} {view.satisfaction}")
    if view.report_rating is not None:
        parts.append(f"{t('case_ws.t_report_rating', lang)} {view.report_rating}")
    return " · ".join(parts)


def _photos(view: CaseView, ctx: CasePageContext) -> Any:
    if not view.attachments:
        return html.P(t("case_ws.no_photos", ctx.lang), className="case-ws-empty")
    return html.Div(
        [photo_link(a, ctx.lang) for a in view.attachments], className="case-ws-gallery"
    )


def _cameras(view: CaseView, ctx: CasePageContext) -> Any:
    lang = ctx.lang
    if not view.cameras:
        return html.P(t("case_ws.no_cameras", lang), className="case-ws-empty")
    rows = [
        html.Li(
            [
                html.Span(str(cam.get("name", cam["id"])), className="cam-name"),
                html.Span(
                    t("case_ws.distance_m", lang).format(n=round(float(cam["distance_m"]))),
                    className="cam-distance",
                ),
            ]
        )
        for cam in view.cameras
    ]
    link = html.A(
        t("case_ws.video_check", lang),
        href=f"/video?case={view.id}&lang={lang}",
        className="case-ws-btn primary",
        id="case-ws-video-check",
    )
    return [html.Ul(rows, className="case-ws-camlist"), link]


def _map(view: CaseView, ctx: CasePageContext) -> html.Div:
    """The map's data travels as JSON text in ``data-map`` (an attribute, never markup)."""
    data = {
        "point": [view.lon, view.lat],
        "village": json.loads(view.village_geometry) if view.village_geometry else None,
        "grid": json.loads(view.grid_geometry) if view.grid_geometry else None,
        "cameras": [
            {"lon": c["lon"], "lat": c["lat"], "name": str(c.get("name", c["id"]))}
            for c in view.cameras
        ],
        "tileUrl": ctx.tile_url,
        "light": view.light or "none",
        "village_name": view.village_name,
    }
    return html.Div(
        id=ids.MAP, className="case-ws-map", **data_attrs(map=json.dumps(data, ensure_ascii=False))
    )
