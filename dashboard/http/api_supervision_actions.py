"""Supervisors' actions over HTTP (``/api/v1/supervision/…``): the call list and orders.

- ``POST /supervision/calls/{entry_id}/log`` ``{"outcome", "note"?, "callee"?, "phone"?}``
- ``POST /supervision/calls/{entry_id}/snooze`` ``{"until": iso with offset, "reason"}``
- ``POST /supervision/orders/{order_id}/reply`` ``{"reply"}`` — the target department (or a
  supervisor recording a reply given by phone)
- ``POST /supervision/orders/{order_id}/close`` ``{"note"?}`` — supervisors

Each answers 200 with the live event's payload (dashboard.services.supervision_actions); bad
input is 422 naming the field, a row outside the caller's area or department 404, a finished
one 409. Cookie sessions need the CSRF header like every state-changing request.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import AwareDatetime, Field

from dashboard.domain.permissions import Permission
from dashboard.domain.roles import Role
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.http.schemas import _Body, parse_json
from dashboard.security.principal import Principal
from dashboard.security.web import client_ip, require, require_principal
from dashboard.services import supervision_actions as actions

bp = Blueprint("supervision_actions", __name__, url_prefix="/supervision")

Outcome = Literal["reached", "promised", "no_answer", "busy", "wrong_number", "other"]


class CallLogIn(_Body):
    """A call to a red village's contact person and what came of it."""

    outcome: Outcome
    note: str = Field("", max_length=actions.MAX_NOTE)
    callee: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, min_length=3, max_length=20, pattern=r"^[0-9+\-() ]+$")


class SnoozeIn(_Body):
    until: AwareDatetime
    reason: str = Field(max_length=actions.MAX_REASON)


class ReplyIn(_Body):
    reply: str = Field(max_length=actions.MAX_NOTE)


class CloseIn(_Body):
    note: str = Field("", max_length=actions.MAX_NOTE)


@bp.post("/calls/<int:entry_id>/log")
@require(Permission.SUPERVISE)
def log_call(entry_id: int) -> ResponseReturnValue:
    body = parse_json(CallLogIn, request.get_data())
    who, now = principal(), context().services.clock.now()
    return _answer(
        actions.log_call,
        context().services.db,
        entry_id,
        who.actor(client_ip()),
        body.callee,
        body.phone,
        body.outcome,
        body.note,
        now,
        scope=who.scope,
    )


@bp.post("/calls/<int:entry_id>/snooze")
@require(Permission.SUPERVISE)
def snooze_call(entry_id: int) -> ResponseReturnValue:
    body = parse_json(SnoozeIn, request.get_data())
    who, services = principal(), context().services
    return _answer(
        actions.snooze,
        services.db,
        entry_id,
        who.actor(client_ip()),
        body.until,
        body.reason,
        services.clock.now(),
        scope=who.scope,
    )


@bp.post("/orders/<int:order_id>/reply")
def reply_order(order_id: int) -> ResponseReturnValue:
    who = _replier()
    body = parse_json(ReplyIn, request.get_data())
    if not who.can(Permission.SUPERVISE) and not who.scope.department_code:
        # A department principal without a department (a device token): nothing is addressed
        # to it, so every order is another department's, which answers 404.
        raise ApiError(404, "order_not_found", f"there is no supervision order {order_id}")
    services = context().services
    return _answer(
        actions.reply_order,
        services.db,
        order_id,
        who.actor(client_ip()),
        body.reply,
        services.clock.now(),
        scope=who.scope,
    )


@bp.post("/orders/<int:order_id>/close")
@require(Permission.SUPERVISE)
def close_order(order_id: int) -> ResponseReturnValue:
    raw = request.get_data()
    body = parse_json(CloseIn, raw) if raw.strip() else CloseIn()
    who, services = principal(), context().services
    return _answer(
        actions.close_order,
        services.db,
        order_id,
        who.actor(client_ip()),
        services.clock.now(),
        note=body.note,
        scope=who.scope,
    )


def _replier() -> Principal:
    """Supervisors, and department users (their scope names their department)."""
    who = require_principal()
    if who.can(Permission.SUPERVISE):
        return who
    if who.role is Role.DEPARTMENT:
        return who
    raise ApiError(403, "forbidden", f"the role {who.role} may not reply to supervision orders")


def _answer(action: Any, *args: Any, **kwargs: Any) -> ResponseReturnValue:
    try:
        return jsonify(action(*args, **kwargs))
    except actions.SupervisionError as err:
        raise ApiError(err.status, err.code, err.message, err.field) from None
