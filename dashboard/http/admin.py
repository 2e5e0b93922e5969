"""Admin views: the audit log (``GET /api/v1/audit``, ``GET /admin/audit``) and ``GET /api/v1/me``.

The audit log is newest first and paged by id: pass the ``next_before`` of one page as ``before``
to get the next. Filters: ``actor``, ``action`` (exact, or a prefix ending in ``*``: ``case.*``),
``target``, ``since`` and ``until`` (ISO 8601 with a time zone), ``limit`` (1–500, default 100).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template_string, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dashboard.domain.permissions import Permission
from dashboard.domain.time_bounds import TimeOutOfBounds, check_query_time
from dashboard.http.errors import ApiError
from dashboard.i18n import normalise_lang, t
from dashboard.security import audit
from dashboard.security.web import browser_page, require, require_principal

bp = Blueprint("admin", __name__)


@bp.before_request
def _text_in() -> None:
    """The audit API's parameters follow the API's rule on control characters (a NUL in
    ``action`` reached PostgreSQL: a 500)."""
    from dashboard.http.api import refuse_control_characters

    refuse_control_characters()


@bp.errorhandler(Exception)
def _error(err: Exception) -> ResponseReturnValue:
    """The audit API answers errors in the house JSON format, as every /api/v1 route does."""
    if request.path.startswith("/api/"):
        from dashboard.http.api import json_error

        return json_error(err)
    if isinstance(err, ApiError):  # the page: as the app's own handler answers it
        return err.response()
    if isinstance(err, HTTPException):
        return err
    raise err


def _when(name: str) -> datetime | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as err:
        raise ApiError(422, "invalid_time", f"{name} must be an ISO 8601 time", name) from err
    if when.tzinfo is None:
        raise ApiError(422, "invalid_time", f"{name} needs a time zone (e.g. +08:00)", name)
    try:
        check_query_time(when, current_app.extensions["gcc"].clock.now(), name)
    except TimeOutOfBounds as err:
        raise ApiError(422, "invalid_time", err.message, name) from None
    return when


def _int(name: str, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ApiError(422, "invalid_number", f"{name} must be a whole number {low}–{high}", name)
    return int(value)


def _query() -> audit.AuditQuery:
    return audit.AuditQuery(
        actor=request.args.get("actor") or None,
        action=request.args.get("action") or None,
        target=request.args.get("target") or None,
        since=_when("since"),
        until=_when("until"),
        before_id=_int("before", None, 1, 2**62),
        limit=_int("limit", 100, 1, audit.MAX_PAGE) or 100,
    )


def _page(query: audit.AuditQuery) -> tuple[list[dict[str, Any]], int | None]:
    rows = audit.read(current_app.extensions["gcc"].db, query)
    items = [audit.as_json(row) for row in rows]
    next_before = items[-1]["id"] if len(items) == query.limit else None
    return items, next_before


@bp.get("/api/v1/audit")
@require(Permission.VIEW_AUDIT)
def audit_log() -> ResponseReturnValue:
    items, next_before = _page(_query())
    return jsonify({"items": items, "next_before": next_before})


@bp.get("/api/v1/me")
def me() -> ResponseReturnValue:
    """Who the server takes the caller to be (any principal): name, role, scope, permissions."""
    who = require_principal()
    return jsonify(
        {
            "name": who.name,
            "kind": who.kind,
            "role": who.role.value,
            "area_code": who.scope.area_code,
            "department_code": who.scope.department_code,
            "permissions": sorted(p.value for p in Permission if who.can(p)),
        }
    )


_AUDIT_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{{ t('audit.title', lang) }}</title><link rel="stylesheet" href="/assets/base.css">
</head><body class="audit-page"><h1>{{ t('audit.title', lang) }}</h1>
<table id="audit-table"><thead><tr>
{% for key in columns %}<th>{{ t('audit.col.' + key, lang) }}</th>{% endfor %}
</tr></thead><tbody>
{% for row in items %}<tr>
<td>{{ row.at }}</td><td>{{ row.actor }}</td><td>{{ row.role }}</td><td>{{ row.action }}</td>
<td>{{ row.target }}</td><td>{{ row.ip }}</td><td>{{ row.details_text }}</td></tr>
{% endfor %}</tbody></table>
{% if next_before %}<p><a href="?before={{ next_before }}&amp;lang={{ lang }}">
{{ t('audit.older', lang) }}</a></p>{% endif %}
</body></html>"""


@bp.get("/admin/audit")
@browser_page
@require(Permission.VIEW_AUDIT)
def audit_page() -> ResponseReturnValue:
    """The same log as a page (server-rendered; Jinja2 escapes every value)."""
    lang = normalise_lang(
        request.args.get("lang"), current_app.extensions["gcc"].config.ui.language
    )
    items, next_before = _page(_query())
    for item in items:
        item["details_text"] = json.dumps(item["details"], ensure_ascii=False, sort_keys=True)
    columns = ["at", "actor", "role", "action", "target", "ip", "details"]
    return render_template_string(
        _AUDIT_PAGE, t=t, lang=lang, items=items, next_before=next_before, columns=columns
    )
