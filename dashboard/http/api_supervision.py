"""Supervision read endpoints (``/api/v1/supervision/…``) for other systems and checks.

- ``GET /supervision/orders?status=&department=&town=&limit=&offset=`` — supervision orders
  (督办单), newest first: ``{"orders": [...], "limit", "offset"}``. Supervisors (and everyone
  holding ``Permission.SUPERVISE``) see every order in their area; a **department** user sees
  the orders addressed to its own department only (it has to read and answer them), whatever
  ``department`` it asks for. Every other role: 403.
- ``GET /supervision/calls`` — the call list of red villages (``Permission.SUPERVISE``):
  ``{"calls": [...], "at": iso}``, rows as dashboard.read.supervision_queries.call_list.

A bad parameter answers 422 naming it; nothing is ever written here.
"""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import Field

from dashboard.domain.permissions import Permission, Scope
from dashboard.domain.roles import Role
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.http.schemas import _Body, parse_fields
from dashboard.read.supervision_queries import MAX_LIMIT, call_list, list_orders
from dashboard.security.web import require

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

_CODE = r"^[0-9A-Za-z_\-]{1,20}$"


class OrdersQuery(_Body):
    status: Literal["open", "replied", "closed"] | None = None
    department: str | None = Field(None, pattern=_CODE)
    town: str | None = Field(None, pattern=r"^[0-9]{1,20}$")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


@bp.get("/orders")
@require(Permission.VIEW_CASES)  # then: SUPERVISE, or a department reading its own orders
def orders() -> ResponseReturnValue:
    who = principal()
    scope = who.scope
    if not who.can(Permission.SUPERVISE):
        if who.role is not Role.DEPARTMENT:
            raise ApiError(403, "forbidden", f"the role {who.role} may not read supervision orders")
        # A department without a department code sees nothing rather than everything.
        scope = Scope(scope.area_code, scope.department_code or "-")
    query = parse_fields(OrdersQuery, dict(request.args.items()))
    services = context().services
    rows = list_orders(
        services.db,
        scope,
        query.status,
        department=query.department,
        town=query.town,
        limit=query.limit,
        offset=query.offset,
    )
    return jsonify({"orders": rows, "limit": query.limit, "offset": query.offset})


class CallsQuery(_Body):
    pass


@bp.get("/calls")
@require(Permission.SUPERVISE)
def calls() -> ResponseReturnValue:
    parse_fields(CallsQuery, dict(request.args.items()))  # no parameters: refuse unknown ones
    services = context().services
    now = services.clock.now()
    rows = call_list(services.db, principal().scope, now)
    return jsonify({"calls": rows, "at": now.isoformat()})
