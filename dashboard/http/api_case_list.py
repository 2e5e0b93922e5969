"""Searching cases over HTTP: ``GET /api/v1/cases`` (JSON, one page) and ``GET /api/v1/cases.csv``
(every matching case, streamed). Both take the parameters of dashboard.read.case_params
(``id, text, place, category, status, town, department, light, overdue, due_within_hours,
emergency, from, to, sort, page, per_page``; ``lang`` for names) and see only the caller's scope.
The export needs a desk role (``export_cases``); both have their own rate limit per caller
(dashboard.security.heavy).

A bad parameter answers 422 ``{"error", "message", "field"}`` before anything is read. The CSV
starts with a UTF-8 byte-order mark so Excel reads Chinese correctly, its header is in ``lang``
(Chinese by default), and a cell starting with ``= + - @`` (or tab / carriage return) is
prefixed with ``'`` so a spreadsheet never runs user text as a formula (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue

from dashboard.clock import iso
from dashboard.domain.permissions import Permission
from dashboard.http.context import ApiContext, context, principal
from dashboard.i18n import Lang, normalise_lang, t
from dashboard.read.case_params import CaseQuery, parse_case_params
from dashboard.read.case_search import case_search
from dashboard.security.heavy import heavy
from dashboard.security.principal import Principal
from dashboard.security.web import require

bp = Blueprint("case_list", __name__)

CSV_COLUMNS = (
    "id",
    "status",
    "source",
    "emergency",
    "category",
    "category_name",
    "description",
    "address",
    "village",
    "village_name",
    "town",
    "town_name",
    "department",
    "department_name",
    "reporter",
    "reported_at",
    "deadline",
    "light",
    "overdue_minutes",
    "open",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def _query(ctx: ApiContext) -> tuple[CaseQuery, Lang]:
    params = {k: v for k, v in request.args.items()}
    lang = normalise_lang(params.get("lang"), ctx.services.config.ui.language)
    tz, now = ctx.services.reference.calendar.tz, ctx.services.clock.now()
    return parse_case_params(params, tz, now), lang


@bp.get("/cases")
@require(Permission.VIEW_CASES)
@heavy("search")
def list_cases() -> ResponseReturnValue:
    ctx, who = context(), principal()
    query, lang = _query(ctx)
    page = case_search(ctx.services).query_page(who.scope, query, lang)
    rows = [
        r | {"reported_at": iso(r["reported_at"]), "deadline": iso(r["deadline"])}
        for r in page.rows
    ]
    return jsonify(
        {"cases": rows, "total": page.total, "page": page.page, "per_page": page.per_page}
    )


@bp.get("/cases.csv")
@require(Permission.EXPORT_CASES)  # the whole case base: desk roles only (issue 11)
@heavy("export")
def export_cases() -> ResponseReturnValue:
    ctx, who = context(), principal()
    query, lang = _query(ctx)  # a bad parameter is a 422 before the stream starts
    stamp = ctx.services.clock.now().astimezone(ctx.services.reference.calendar.tz)
    name = f"cases-{stamp:%Y%m%d-%H%M}.csv"
    body = stream_with_context(_csv_lines(ctx, who, query, lang))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a string starting like a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_header(lang: Lang) -> list[str]:
    return [t(f"case_list.c_{c}", lang) for c in CSV_COLUMNS]


def csv_cells(row: dict[str, Any], lang: Lang, tz: ZoneInfo, names: dict[str, str]) -> list[Any]:
    """One CSV line: codes as stored, times local (with offset), status and light in words."""
    yes, no = t("case_list.yes", lang), t("case_list.no", lang)
    values = row | {
        "status": t(f"case.{row['status']}", lang),
        "source": t(f"source.{row['source']}", lang),
        "emergency": yes if row["emergency"] else no,
        "category_name": names.get(row["category"], ""),
        "reported_at": _local(row["reported_at"], tz),
        "deadline": _local(row["deadline"], tz),
        "light": t(f"case_list.light_{row['light']}", lang) if row["light"] else "",
        "overdue_minutes": "" if row["overdue_minutes"] is None else row["overdue_minutes"],
        "open": yes if row["open"] else no,
    }
    return [safe_cell(values[c]) for c in CSV_COLUMNS]


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).isoformat(sep=" ", timespec="seconds")


def _csv_lines(ctx: ApiContext, who: Principal, query: CaseQuery, lang: Lang) -> Iterator[str]:
    services = ctx.services
    tz = services.reference.calendar.tz
    names = {
        s.code: (s.name_zh if lang == "zh" else s.name_en)
        for s in services.reference.categories.subs
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_header(lang))
    yield BOM + _drain(buffer)
    with closing(case_search(services).rows(who.scope, query, lang)) as rows:
        for n, row in enumerate(rows, 1):
            writer.writerow(csv_cells(row, lang, tz, names))
            if n % 200 == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
