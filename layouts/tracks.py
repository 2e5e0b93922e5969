"""The replay page (/tracks) as a pure function of its view data: the search form, the map canvas
with its player (play / pause / speed / slider / follow, drawn by assets/tracks.js from the
page's ``data-config``), and per worker the summary, the stops and the cases reported on the way;
or, for one moment, everyone's position."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import Lang, t
from dashboard.read.track_views import Replay, WorkerReplay
from dashboard.security.principal import Principal
from layouts.controls import data_attrs
from layouts.shell import page_shell
from layouts.track_summary import summary_rows

SPEEDS = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class TracksView:
    lang: Lang
    tz: ZoneInfo
    principal: Principal
    query: dict[str, str]  # the form's values as given
    replay: Replay | None = None
    moment_at: datetime | None = None
    moment: list[dict[str, Any]] | None = None
    error: str = ""


def _local(moment: datetime | float, tz: ZoneInfo, fmt: str = "%H:%M") -> str:
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, tz)
    return moment.astimezone(tz).strftime(fmt)


def _duration(seconds: float, lang: Lang) -> str:
    minutes = round(seconds / 60)
    return t("tracks.hm", lang).format(h=minutes // 60, m=minutes % 60)


def _form(view: TracksView) -> html.Div:
    lang, q = view.lang, view.query

    hints = {"date": "2026-12-04", "time": "08:00"}

    def field(label: str, name: str, kind: str = "text", width: str = "") -> html.Label:
        return html.Label(
            [
                html.Span(t(label, lang)),
                dcc.Input(
                    name=name,
                    type="text",
                    value=q.get(name, ""),
                    placeholder=hints.get(kind, ""),
                    maxLength=200,
                    className=f"tr-in {width} {kind}",
                    id=f"tr-{name}-{label.rsplit('.', 1)[1]}",
                ),
            ],
            className="tr-field",
        )

    hidden = dcc.Input(name="lang", type="hidden", value=lang, id="tr-lang-1")
    replay = html.Form(
        [
            field("tracks.workers", "worker", width="wide"),
            field("tracks.area", "area"),
            field("tracks.date", "date", "date"),
            field("tracks.from", "from", "time"),
            field("tracks.to", "to", "time"),
            hidden,
            html.Button(t("tracks.show", lang), type="submit", className="tr-btn primary"),
        ],
        method="GET",
        action="/tracks",
        className="tr-form",
        id="tracks-form",
    )
    moment = html.Form(
        [
            html.Span(t("tracks.moment", lang), className="tr-form-title"),
            field("tracks.area", "area"),
            field("tracks.date", "date", "date"),
            field("tracks.at", "at", "time"),
            dcc.Input(name="lang", type="hidden", value=lang, id="tr-lang-2"),
            html.Button(t("tracks.show_moment", lang), type="submit", className="tr-btn"),
        ],
        method="GET",
        action="/tracks",
        className="tr-form",
        id="tracks-moment-form",
    )
    return html.Div([replay, moment], className="tr-forms")


def _player(lang: Lang) -> html.Div:
    return html.Div(
        [
            html.Button(t("tracks.play", lang), id="tr-play", className="tr-btn primary"),
            html.Label(
                [
                    html.Span(t("tracks.speed", lang)),
                    html.Select(
                        [html.Option(f"×{s}", value=str(s)) for s in SPEEDS],
                        id="tr-speed",
                        className="tr-in",
                    ),
                ],
                className="tr-field inline",
            ),
            dcc.Input(id="tr-slider", type="range", min=0, max=1000, value=0, step=1),
            html.Span("--:--:--", id="tr-clock", className="tr-clock"),
            html.Button(t("tracks.follow", lang), id="tr-follow", className="tr-btn"),
            html.A(t("tracks.print", lang), id="tr-png", className="tr-btn", href="#"),
        ],
        className="tr-player",
    )


def _worker_panel(w: WorkerReplay, view: TracksView, color: str) -> html.Div:
    lang, tz = view.lang, view.tz
    rows = summary_rows(w, lang, _duration)
    stops = [
        html.Li(
            t("tracks.stop_row", lang).format(
                start=_local(x[0], tz), end=_local(x[1], tz), minutes=round((x[1] - x[0]) / 60)
            ),
            className="tr-stop",
        )
        for x in w.stops
    ]
    cases = [
        html.Li(
            html.A(
                t("tracks.case_row", lang).format(time=_local(c[0], tz), id=c[3]),
                href=f"/cases/{c[3]}?lang={lang}",
            )
        )
        for c in w.cases
    ]
    return html.Div(
        [
            html.H3(
                [
                    html.Span(className="tr-swatch", style={"background": color}),
                    f"{w.name} · {w.worker_id}",
                ],
            ),
            html.Div(
                t("tracks.fixes", lang).format(n=w.fix_count, m=w.flagged), className="tr-muted"
            ),
            *(
                [
                    html.A(
                        t("tracks.pdf", lang),
                        href=_pdf_href(w.worker_id, view.replay.start, view.replay.end, lang),
                        target="_blank",
                        className="tr-btn tr-pdf",
                    )
                ]
                if view.replay is not None
                else []
            ),
            html.Table(
                [html.Tr([html.Th(k), html.Td(v)]) for k, v in rows], className="tr-summary"
            ),
            html.H4(f"{t('tracks.stops', lang)}（{len(stops)}）"),
            html.Ol(stops, className="tr-stops"),
            html.H4(f"{t('tracks.cases', lang)}（{len(cases)}）"),
            html.Ul(cases, className="tr-cases"),
        ],
        className="tr-worker",
        **data_attrs(worker=w.worker_id),
    )


def _pdf_href(worker_id: str, start: datetime, end: datetime, lang: Lang) -> str:
    """The printable track map of one worker over the replayed range (the API's PDF)."""
    query = urlencode({"from": start.isoformat(), "to": end.isoformat(), "lang": lang})
    return f"/api/v1/workers/{quote(worker_id, safe='')}/track.pdf?{query}"


COLORS = ("#3fd0ff", "#ffb83d", "#34e39a", "#ff6bd6", "#b18cff", "#ff7a45", "#9be15d", "#4dd4c4")


def _config(view: TracksView) -> dict[str, Any]:
    lang = view.lang
    labels = {
        k: t(f"tracks.{k}", lang)
        for k in (
            "play",
            "pause",
            "legend_track",
            "legend_filtered",
            "legend_stop",
            "legend_case",
            "legend_grid",
        )
    }
    config: dict[str, Any] = {"tz": str(view.tz), "labels": labels, "lang": lang}
    if view.replay is not None:
        r = view.replay
        config.update(
            mode="replay",
            start=r.start.timestamp(),
            end=r.end.timestamp(),
            grids=r.grids,
            workers=[
                {
                    "id": w.worker_id,
                    "name": w.name,
                    "grid": w.grid_code,
                    "fixes": w.fixes,
                    "stops": w.stops,
                    "cases": w.cases,
                    "color": COLORS[i % len(COLORS)],
                }
                for i, w in enumerate(r.workers)
            ],
        )
    elif view.moment is not None and view.moment_at is not None:
        config.update(
            mode="moment",
            at=view.moment_at.timestamp(),
            positions=[[p["lon"], p["lat"], p["name"], p["worker"]] for p in view.moment],
        )
    return config


def tracks_page(view: TracksView) -> html.Div:
    lang = view.lang
    body: list[Any] = [html.H2(t("tracks.title", lang), className="tr-title"), _form(view)]
    if view.error:
        body.append(
            html.Div(
                t("tracks.bad_input", lang).format(reason=t(f"tracks.err_{view.error}", lang)),
                className="tr-error",
                id="tr-error",
            )
        )
    side: list[Any] = []
    stage: list[Any] = []
    if view.replay is not None:
        stage = [_player(lang), html.Canvas(id="tr-canvas", width=1180, height=690)]
        if not view.replay.workers or not any(w.fixes for w in view.replay.workers):
            side.append(html.Div(t("tracks.none", lang), className="tr-muted"))
        side += [
            _worker_panel(w, view, COLORS[i % len(COLORS)])
            for i, w in enumerate(view.replay.workers)
        ]
        if view.replay.truncated:
            side.append(
                html.Div(
                    t("tracks.truncated", lang).format(n=view.replay.truncated),
                    className="tr-muted",
                )
            )
    elif view.moment is not None and view.moment_at is not None:
        stage = [html.Canvas(id="tr-canvas", width=1180, height=760)]
        title = t("tracks.moment_title", lang).format(
            time=_local(view.moment_at, view.tz, "%Y-%m-%d %H:%M"), n=len(view.moment)
        )
        rows = [
            html.Tr(
                [
                    html.Td(p["name"]),
                    html.Td(p["grid"]),
                    html.Td(_local(datetime.fromisoformat(p["at"]), view.tz, "%H:%M:%S")),
                ]
            )
            for p in view.moment[:500]
        ]
        side = [
            html.H3(title, id="tr-moment-title"),
            html.Div(t("tracks.moment_none", lang), className="tr-muted") if not rows else "",
            html.Table(
                [
                    html.Tr(
                        [
                            html.Th(t(k, lang))
                            for k in ("tracks.col_worker", "tracks.col_grid", "tracks.col_fix")
                        ]
                    ),
                    *rows,
                ],
                className="tr-moment",
            ),
        ]
    elif not view.error:
        body.append(html.Div(t("tracks.pick", lang), className="tr-muted"))
    if stage:
        body.append(
            html.Div(
                [html.Div(stage, className="tr-stage"), html.Div(side, className="tr-side")],
                className="tr-main",
            )
        )
    query = "&".join(f"{k}={v}" for k, v in view.query.items() if v and k != "lang")
    root = html.Div(
        body,
        id="tracks",
        className=f"tracks lang-{lang}",
        **data_attrs(config=json.dumps(_config(view), ensure_ascii=False)),
    )
    return page_shell("tracks", lang, view.principal, root, query=query)
