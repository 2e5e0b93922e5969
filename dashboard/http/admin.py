"""Admin views: the audit log (``GET /api/v1/audit``; its page ``/admin/audit`` is
dashboard.security.audit_page) and ``GET /api/v1/me``.

The audit log is newest first and paged by id: pass the ``next_before`` of one page as ``before``
to get the next. Filters: ``actor``, ``action`` (exact, or a prefix ending in ``*``: ``case.*``),
``target``, ``since`` and ``until`` (ISO 8601 with a time zone), ``limit`` (1–500, default 100).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dashboard.domain.permissions import Permission
from dashboard.domain.time_bounds import TimeOutOfBounds, check_query_time
from dashboard.http.api import json_error
from dashboard.http.context import refuse_control_characters
from dashboard.http.errors import ApiError
from dashboard.security import audit
from dashboard.security.web import require, require_principal

bp = Blueprint("admin", __name__)


@bp.before_request
def _text_in() -> None:
    """The audit API's parameters follow the API's rule on control characters (a NUL in
    ``action`` reached PostgreSQL: a 500)."""
    refuse_control_characters()


@bp.errorhandler(Exception)
def _error(err: Exception) -> ResponseReturnValue:
    """The audit API answers errors in the house JSON format, as every /api/v1 route does."""
    if request.path.startswith("/api/"):
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
