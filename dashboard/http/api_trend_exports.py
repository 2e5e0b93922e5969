"""Exports of the trends page (``view_trends``, scoped to the caller's area, rate-limited as
exports):

- ``GET /api/v1/trends/charts/<name>.png`` — a chart of the page as a PNG, drawn on the server
  (dashboard.services.trend_render); ``name``: trend, places, categories, sources, matrix, map;
- ``GET /api/v1/trends/tables/<name>.csv`` — a table as CSV (UTF-8 with a byte-order mark,
  header in ``lang``, cells guarded against formula injection like the case list's CSV);
  ``name``: places, majors, categories, sources, departments, oldest, cases;
- ``GET /api/v1/trends/briefings`` — the stored monthly briefings of the caller's area;
  ``POST /api/v1/trends/briefings`` ``{"month": "YYYY-MM", "lang": "zh"}`` makes one now;
  ``GET /api/v1/trends/briefings/<name>`` — one of them (PDF).

The period and place take the page's parameters: ``from``, ``to`` (required), ``kind``,
``town``, ``village``, ``lang``. A bad one is a 422 naming it; no Chromium is a 503.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file
from flask.typing import ResponseReturnValue

from dashboard.domain.permissions import Permission
from dashboard.domain.trend_periods import PeriodKind
from dashboard.http.api_case_list import BOM, safe_cell
from dashboard.http.api_trends import requested_dates
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.i18n import Lang, normalise_lang, t
from dashboard.read.trend_views import TrendView
from dashboard.security.heavy import heavy
from dashboard.security.web import require
from dashboard.services.trend_briefing import briefing_path, list_briefings, make_briefing
from dashboard.services.trend_render import RenderUnavailable, chart_png
from dashboard.services.trend_view import TrendViews
from layouts.trend_briefing import briefing_html
from layouts.trend_charts import BUILDERS, figure

bp = Blueprint("trend_exports", __name__)

FIGURE_COLUMNS = (
    "code", "name", "reported", "registered", "closed", "closed_on_time", "should_be_closed",
    "closure_rate", "on_time_closure_rate", "rework_rate", "extension_rate",
    "average_handling_hours",
)  # fmt: skip
OLDEST_COLUMNS = ("id", "category", "village", "department", "status", "reported_at", "age_days")
CASE_COLUMNS = ("id", "category", "source", "department", "status", "reported_at", "closed_at")
TABLES = ("places", "majors", "categories", "sources", "departments", "oldest", "cases")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DIGITS = re.compile(r"^[0-9]+$")


def _code(name: str, length: int) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) != length or not _DIGITS.match(value):
        raise ApiError(422, f"bad_{name}", f"{name} must be a {length}-digit code", name)
    return value


def _view() -> tuple[TrendView, Lang]:
    services, who = context().services, principal()
    lang = normalise_lang(request.args.get("lang"), services.config.ui.language)
    now = services.clock.now()
    dates = requested_dates(now)
    kind_text = request.args.get("kind") or None
    if kind_text is not None and kind_text not in {k.value for k in PeriodKind}:
        raise ApiError(422, "bad_kind", "kind is day, week, month, quarter, year or custom", "kind")
    kind = None if kind_text in (None, "custom") else PeriodKind(kind_text)
    views = TrendViews(services.db, services.reference)
    view = views.build(who.scope, lang, now, dates, kind, _code("town", 9), _code("village", 12))
    return view, lang


@bp.get("/trends/charts/<name>.png")
@require(Permission.VIEW_TRENDS)
@heavy("export")
def chart(name: str) -> ResponseReturnValue:
    if name not in BUILDERS:
        raise ApiError(404, "not_found", f"there is no chart {name!r}")
    width = _size("width", 1200)
    height = _size("height", 600)
    view, _lang = _view()
    try:
        png = chart_png(figure(name, view).to_plotly_json(), width, height)
    except RenderUnavailable as err:
        raise ApiError(503, "render_unavailable", str(err), headers={"Retry-After": "30"}) from None
    return Response(
        png,
        mimetype="image/png",
        headers={
            "Content-Disposition": f'attachment; filename="{_file(view, name)}.png"',
            "Cache-Control": "no-store",
        },
    )


def _size(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _DIGITS.match(raw) or not 200 <= int(raw) <= 3000:
        raise ApiError(422, f"bad_{name}", f"{name} must be 200 … 3000 pixels", name)
    return int(raw)


def _file(view: TrendView, name: str) -> str:
    c = view.comparison.current
    return f"trends-{name}-{c.first:%Y%m%d}-{c.last:%Y%m%d}"


def table_rows(name: str, view: TrendView, lang: Lang) -> tuple[list[str], list[list[Any]]]:
    """A table of the page: its header (in ``lang``) and rows (codes as stored, names in
    ``lang``, rates as numbers)."""
    if name == "oldest":
        header = [t(f"tr.csv.{c}", lang) for c in OLDEST_COLUMNS]
        rows = [
            [
                r["id"],
                view.names.get(f"category:{r['category']}", r["category"]),
                view.names.get(f"village:{r['village']}", r["village"]),
                view.names.get(f"department:{r['department']}", r["department"]),
                t(f"case.{r['status']}", lang),
                r["reported_at"],
                r["age_days"],
            ]
            for r in view.oldest
        ]
        return header, rows
    if name == "cases":
        header = [t(f"tr.csv.{c}", lang) for c in CASE_COLUMNS]
        rows = [
            [
                r["id"],
                view.names.get(f"category:{r['category']}", r["category"]),
                t(f"source.{r['source']}", lang),
                view.names.get(f"department:{r['department']}", r["department"]),
                t(f"case.{r['status']}", lang),
                r["reported_at"],
                r["closed_at"],
            ]
            for r in view.cases
        ]
        return header, rows
    units = {
        "places": view.places,
        "majors": view.majors,
        "categories": view.categories,
        "sources": view.sources,
        "departments": view.departments,
    }[name]
    header = [t(f"tr.csv.{c}", lang) for c in FIGURE_COLUMNS]
    rows = []
    for unit in units:
        label = t(f"source.{unit.code}", lang) if name == "sources" else unit.name
        rows.append([unit.code, label, *(unit.figures[c] for c in FIGURE_COLUMNS[2:])])
    return header, rows


@bp.get("/trends/tables/<name>.csv")
@require(Permission.VIEW_TRENDS)
@heavy("export")
def table(name: str) -> ResponseReturnValue:
    if name not in TABLES:
        raise ApiError(404, "not_found", f"there is no table {name!r}")
    view, lang = _view()
    header, rows = table_rows(name, view, lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return Response(
        BOM + buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{_file(view, name)}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.get("/trends/briefings")
@require(Permission.VIEW_TRENDS)
def briefings() -> ResponseReturnValue:
    services, who = context().services, principal()
    found = list_briefings(services.config.data_dir(), who.scope)
    return jsonify(
        {
            "briefings": [
                {"name": b.name, "month": b.month, "lang": b.lang, "size": b.size} for b in found
            ]
        }
    )


def parse_month(raw: Any, today: date) -> date:
    match = _MONTH.match(raw) if isinstance(raw, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ApiError(422, "bad_month", "month must be YYYY-MM", "month")
    month = date(int(match.group(1)), int(match.group(2)), 1)
    if not date(2010, 1, 1) <= month <= today:
        raise ApiError(422, "bad_month", "month must be a past or the current month", "month")
    return month


@bp.post("/trends/briefings")
@require(Permission.VIEW_TRENDS)
@heavy("export")
def make() -> ResponseReturnValue:
    services, who = context().services, principal()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, "bad_body", 'send {"month": "YYYY-MM"}', "month")
    now = services.clock.now()
    month = parse_month(body.get("month"), now.astimezone(services.reference.calendar.tz).date())
    lang = normalise_lang(body.get("lang") if isinstance(body.get("lang"), str) else None)
    try:
        path = make_briefing(
            services.db,
            services.reference,
            services.config.data_dir(),
            month,
            now,
            who.scope,
            briefing_html,
            lang,
            services.config.ui.title if lang == "zh" else "",
        )
    except RenderUnavailable as err:
        raise ApiError(503, "render_unavailable", str(err), headers={"Retry-After": "30"}) from None
    return jsonify({"name": path.name, "month": f"{month:%Y-%m}"}), 201


@bp.get("/trends/briefings/<name>")
@require(Permission.VIEW_TRENDS)
def briefing(name: str) -> ResponseReturnValue:
    services, who = context().services, principal()
    path = briefing_path(services.config.data_dir(), who.scope, name)
    if path is None:
        raise ApiError(404, "not_found", "no such briefing")
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)
