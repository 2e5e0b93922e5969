"""The printable track map (issue 16): one worker's track over a time range as an A4 page, the
evidence a supervisor files — the map (grid boundary, the track, the filtered fixes, the stops
numbered with their times, the cases reported on the way, start and end, a scale bar), the
summary, the stops with their times and durations, the cases, and how it was made.

An HTML page with an inline SVG drawn here from the replay's data (no map tiles, no script), that
dashboard.services.trend_render.html_pdf prints to PDF with the CJK fonts, as the trends'
briefing is printed. Pure: every text a user or the database gave is escaped.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from dashboard.i18n import Lang, t
from dashboard.read.track_views import Replay, WorkerReplay
from layouts.track_summary import summary_rows

W, H, PAD = 1000.0, 720.0, 36.0  # the map's SVG units (drawn 180 mm wide)
LABEL_ROOM = 150.0  # right of the fitted track: room for the last labels
EARTH_M_PER_DEG = 111_195.0


def _local(epoch: float, tz: ZoneInfo, fmt: str = "%H:%M") -> str:
    return datetime.fromtimestamp(epoch, tz).strftime(fmt)


def _duration(seconds: float, lang: Lang) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return t("trackpdf.minutes", lang).format(m=minutes)
    return t("tracks.hm", lang).format(h=minutes // 60, m=minutes % 60)


class _Labels:
    """Places text labels beside their points without overprinting each other: right, left,
    above or below, the first free place (else to the right anyway)."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def place(self, x: float, y: float, text: str, size: float) -> tuple[float, float, str]:
        width = sum(size if ord(c) > 0x2E80 else size * 0.55 for c in text)
        options = (
            (x + 12, y + size * 0.35, "start"),
            (x - 12, y + size * 0.35, "end"),
            (x - width / 2, y - 12, "start"),
            (x - width / 2, y + 12 + size, "start"),
        )
        for tx, ty, anchor in options:
            left = tx - width if anchor == "end" else tx
            box = (left, ty - size, left + width, ty + 2)
            inside = box[0] >= 0 and box[2] <= W and box[1] >= 0 and box[3] <= H
            if inside and not any(_overlap(box, b) for b in self.boxes):
                self.boxes.append(box)
                return tx, ty, anchor
        tx, ty, anchor = options[0]
        self.boxes.append((tx, ty - size, tx + width, ty + 2))
        return tx, ty, anchor


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Frame:
    """Longitude/latitude to SVG units: equirectangular at the middle latitude, fitted."""

    def __init__(self, points: list[tuple[float, float]]) -> None:
        lons = [p[0] for p in points] or [0.0]
        lats = [p[1] for p in points] or [0.0]
        self.k = math.cos(math.radians((min(lats) + max(lats)) / 2))
        west, east, south, north = min(lons), max(lons), min(lats), max(lats)
        span_x = max((east - west) * self.k, 1e-6)
        span_y = max(north - south, 1e-6)
        self.scale = min((W - 2 * PAD - LABEL_ROOM) / span_x, (H - 2 * PAD) / span_y)
        self.x0 = (W - LABEL_ROOM - span_x * self.scale) / 2 - west * self.k * self.scale
        self.y0 = (H - span_y * self.scale) / 2 + north * self.scale

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return self.x0 + lon * self.k * self.scale, self.y0 - lat * self.scale

    def metres_per_unit(self) -> float:
        return EARTH_M_PER_DEG / self.scale


def _scale_bar(frame: _Frame, lang: Lang) -> str:
    target = frame.metres_per_unit() * 160  # about 160 units long
    step = 10 ** math.floor(math.log10(target))
    metres = max(step * m for m in (1, 2, 5) if step * m <= target)
    length = metres / frame.metres_per_unit()
    label = (
        t("trackpdf.km", lang).format(n=f"{metres / 1000:g}")
        if metres >= 1000
        else t("trackpdf.m", lang).format(n=f"{metres:g}")
    )
    x, y = PAD, H - 14
    return (
        f'<g class="bar"><line x1="{x}" y1="{y}" x2="{x + length:.1f}" y2="{y}"/>'
        f'<line x1="{x}" y1="{y - 5}" x2="{x}" y2="{y + 1}"/>'
        f'<line x1="{x + length:.1f}" y1="{y - 5}" x2="{x + length:.1f}" y2="{y + 1}"/>'
        f'<text x="{x + length + 6:.1f}" y="{y + 4}">{escape(label)}</text>'
        f'<text x="{W - PAD}" y="{PAD}" class="north">{escape(t("trackpdf.north", lang))} ↑</text>'
        "</g>"
    )


def track_svg(w: WorkerReplay, grid: list[list[list[float]]], lang: Lang, tz: ZoneInfo) -> str:
    """The map of one worker's track as SVG (what the PDF shows; a test reads it too)."""
    points = [(f[1], f[2]) for f in w.fixes if f[3]]
    everything = points + [(p[0], p[1]) for ring in grid for p in ring]
    everything += [(s[2], s[3]) for s in w.stops] + [(c[1], c[2]) for c in w.cases]
    frame = _Frame(everything)
    parts: list[str] = []
    for ring in grid:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (frame.xy(p[0], p[1]) for p in ring))
        parts.append(f'<polygon class="grid" points="{path}"/>')
    # the track: broken where it went silent (more than 30 min between drawn fixes)
    runs: list[list[tuple[float, float]]] = []
    last_t: float | None = None
    for f in w.fixes:
        if not f[3]:
            continue
        if last_t is None or f[0] - last_t > 1800:
            runs.append([])
        runs[-1].append(frame.xy(f[1], f[2]))
        last_t = f[0]
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline class="track" points="{path}"/>')
    for f in w.fixes:
        if not f[3]:
            x, y = frame.xy(f[1], f[2])
            parts.append(
                f'<path class="filtered" d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}'
                f'M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}"/>'
            )
    labels = _Labels()
    for _a, _b, lon, lat in w.stops:
        x, y = frame.xy(lon, lat)
        labels.boxes.append((x - 9, y - 9, x + 9, y + 9))  # the dots first: labels avoid them
    if points:
        for key, (lon, lat), css in (
            ("trackpdf.start", points[0], "start"),
            ("trackpdf.end", points[-1], "end"),
        ):
            x, y = frame.xy(lon, lat)
            lx, ly, anchor = labels.place(x, y, t(key, lang), 15)
            parts.append(
                f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="7"/>'
                f'<text class="{css}-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
                f"{escape(t(key, lang))}</text>"
            )
    for i, (start, end, lon, lat) in enumerate(w.stops, start=1):
        x, y = frame.xy(lon, lat)
        label = t("trackpdf.stop_label", lang).format(
            n=i,
            start=_local(start, tz),
            end=_local(end, tz),
            minutes=round((end - start) / 60),
        )
        lx, ly, anchor = labels.place(x, y, f"{i} {label}", 14)
        parts.append(
            f'<g class="stop" data-stop="{i}"><circle cx="{x:.1f}" cy="{y:.1f}" r="9"/>'
            f'<text class="num" x="{x:.1f}" y="{y + 4:.1f}">{i}</text>'
            f'<text class="label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
            f"<tspan class='n'>{i}</tspan> {escape(label)}</text></g>"
        )
    for at, lon, lat, case_id in w.cases:
        x, y = frame.xy(lon, lat)
        parts.append(
            f'<g class="case"><path d="M{x:.1f},{y - 9:.1f}L{x + 8:.1f},{y + 6:.1f}'
            f'L{x - 8:.1f},{y + 6:.1f}Z"/><text x="{x + 10:.1f}" y="{y + 14:.1f}">'
            f"#{escape(str(case_id))} {escape(_local(at, tz))}</text></g>"
        )
    parts.append(_scale_bar(frame, lang))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W:.0f} {H:.0f}" '
        f'class="map">{"".join(parts)}</svg>'
    )


_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", sans-serif;
  color: #111; font-size: 10.5pt; margin: 0; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
.sub { color: #444; margin-bottom: 3mm; }
.map { width: 100%; border: 1px solid #999; background: #fbfbf8; }
.map .grid { fill: #e8f0fb; stroke: #2a5db0; stroke-width: 2; stroke-dasharray: 8 5; }
.map .track { fill: none; stroke: #1565c0; stroke-width: 2.4; stroke-linejoin: round; }
.map .filtered { stroke: #d32f2f; stroke-width: 2; }
.map .start { fill: #2e7d32; } .map .end { fill: #c62828; }
.map .start-label, .map .end-label { font-size: 15px; font-weight: 700; }
.map .stop circle { fill: #ffb300; stroke: #6d4c00; stroke-width: 1.5; }
.map .stop .num { font-size: 12px; font-weight: 700; text-anchor: middle; }
.map .stop .label { font-size: 14px; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
.map .stop .label .n { font-weight: 700; fill: #8a5a00; }
.map .case path { fill: #e91e63; } .map .case text { font-size: 13px; fill: #880e4f; }
.map .bar line { stroke: #111; stroke-width: 2; } .map .bar text { font-size: 14px; }
.map .north { text-anchor: end; font-size: 15px; font-weight: 700; }
.cols { display: flex; gap: 6mm; margin-top: 4mm; }
.cols > div:first-child { flex: 1; } .cols > div:last-child { flex: 1.4; }
h2 { font-size: 12pt; margin: 3mm 0 1.5mm; border-bottom: 1px solid #bbb; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
tr { page-break-inside: avoid; }
td, th { border: 1px solid #ccc; padding: 1mm 1.5mm; text-align: left; font-weight: normal;
  font-size: 9.5pt; white-space: nowrap; }
th { background: #f1f1f1; }
.legend span { margin-right: 5mm; white-space: nowrap; }
.legend i { display: inline-block; width: 5mm; height: 2.5mm; margin-right: 1mm;
  vertical-align: middle; }
.note { color: #444; font-size: 9pt; margin-top: 3mm; }
.sign { margin-top: 6mm; display: flex; gap: 20mm; }
"""


def track_print_html(
    replay: Replay,
    lang: Lang,
    tz: ZoneInfo,
    printed_at: datetime,
    center: str,
    stop_rule: tuple[float, float] = (40.0, 5.0),
) -> str:
    """The printable page of the replay's first worker (the API asks for one); ``stop_rule``:
    the stops' radius (m) and least duration (min) the note states."""
    w = replay.workers[0]
    s = w.summary  # the patrol time; the other figures: summary_rows
    grid = replay.grids.get(w.grid_code, [])
    day = replay.start.astimezone(tz).strftime("%Y-%m-%d")
    span = f"{_local(replay.start.timestamp(), tz)}–{_local(replay.end.timestamp(), tz)}"
    figures = summary_rows(w, lang, _duration)
    figures.insert(1, (t("trackpdf.patrol", lang), _duration(s["patrol_s"], lang)))
    figures.append(
        (t("trackpdf.fixes", lang), t("tracks.fixes", lang).format(n=w.fix_count, m=w.flagged))
    )
    stop_rows = (
        "".join(
            f"<tr><td>{i}</td><td>{_local(a, tz, '%H:%M:%S')}</td><td>{_local(b, tz, '%H:%M:%S')}"
            f"</td><td>{escape(_duration(b - a, lang))}</td><td>{lat:.5f}, {lon:.5f}</td></tr>"
            for i, (a, b, lon, lat) in enumerate(w.stops, start=1)
        )
        or f'<tr><td colspan="5">{escape(t("trackpdf.no_stops", lang))}</td></tr>'
    )
    case_rows = (
        "".join(
            f"<tr><td>#{escape(str(c[3]))}</td><td>{_local(c[0], tz, '%H:%M:%S')}</td>"
            f"<td>{c[2]:.5f}, {c[1]:.5f}</td></tr>"
            for c in w.cases
        )
        or f'<tr><td colspan="3">{escape(t("trackpdf.no_cases", lang))}</td></tr>'
    )
    legend = "".join(
        f'<span><i style="background:{color}"></i>{escape(t(key, lang))}</span>'
        for key, color in (
            ("tracks.legend_track", "#1565c0"),
            ("tracks.legend_stop", "#ffb300"),
            ("tracks.legend_case", "#e91e63"),
            ("tracks.legend_filtered", "#d32f2f"),
            ("tracks.legend_grid", "#2a5db0"),
        )
    )
    title = t("trackpdf.title", lang).format(name=w.name, worker=w.worker_id)
    subtitle = t("trackpdf.subtitle", lang).format(
        center=center, grid=w.grid_code, day=day, span=span
    )
    note = t("trackpdf.note", lang).format(
        printed=printed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        n=w.fix_count,
        m=w.flagged,
        radius=f"{stop_rule[0]:g}",
        minutes=f"{stop_rule[1]:g}",
    )
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in figures)
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><title>{escape(title)}</title><style>{_CSS}</style></head><body>'
        f"<h1>{escape(title)}</h1><div class='sub'>{escape(subtitle)}</div>"
        f"{track_svg(w, grid, lang, tz)}<div class='legend'>{legend}</div>"
        "<div class='cols'><div>"
        f"<h2>{escape(t('tracks.summary', lang))}</h2><table>{rows}</table></div><div>"
        f"<h2>{escape(t('tracks.stops', lang))}（{len(w.stops)}）</h2><table><tr>"
        f"<th>#</th><th>{escape(t('trackpdf.from', lang))}</th>"
        f"<th>{escape(t('trackpdf.to', lang))}</th><th>{escape(t('trackpdf.duration', lang))}"
        f"</th><th>{escape(t('trackpdf.where', lang))}</th></tr>{stop_rows}</table>"
        f"<h2>{escape(t('tracks.cases', lang))}（{len(w.cases)}）</h2><table><tr>"
        f"<th>{escape(t('trackpdf.case', lang))}</th><th>{escape(t('trackpdf.time', lang))}</th>"
        f"<th>{escape(t('trackpdf.where', lang))}</th></tr>{case_rows}</table>"
        "</div></div>"
        f"<div class='note'>{escape(note)}</div>"
        f"<div class='sign'><span>{escape(t('trackpdf.checked_by', lang))}</span>"
        f"<span>{escape(t('trackpdf.date', lang))}</span></div>"
        "</body></html>"
    )
