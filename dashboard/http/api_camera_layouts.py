"""Saved video-wall layouts over HTTP (``/api/v1/camera-layouts``); Permission.VIEW_CAMERAS.

- ``GET /camera-layouts`` → ``{"layouts": [{id, name, owner, mine, shared, columns, rows,
  camera_ids, cycle_seconds, created_at, updated_at}]}``: the caller's own and every shared one.
- ``POST /camera-layouts`` ``{name, columns, rows, camera_ids, cycle_seconds?, shared?}`` → 201.
- ``PUT /camera-layouts/<id>`` (same body, replaces it) → 200; ``DELETE`` → 204. Owner only:
  403 ``not_owner`` on someone else's shared layout, 404 on anything else not visible.

``columns`` and ``rows`` are 2..8; ``camera_ids`` known cameras inside the caller's area, each
once (422 ``unknown_camera`` / ``duplicate_camera``); ``cycle_seconds`` 0 (no cycling) or 5..3600;
a name is unique per owner (409 ``layout_exists``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dashboard.domain.permissions import Permission, can_share
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.http.schemas import parse_json
from dashboard.security.web import require
from dashboard.services import camera_layouts as layouts

bp = Blueprint("camera_layouts", __name__)

T = TypeVar("T")
MAX_CAMERAS = 512  # 8 pages of an 8×8 wall


class LayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=60)
    columns: int = Field(ge=2, le=8, strict=True)
    rows: int = Field(ge=2, le=8, strict=True)
    camera_ids: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        max_length=MAX_CAMERAS
    )
    cycle_seconds: int = Field(0, ge=0, le=3600, strict=True)
    shared: bool = Field(False, strict=True)

    @field_validator("cycle_seconds")
    @classmethod
    def _cycle(cls, value: int) -> int:
        if 0 < value < 5:
            raise ValueError("0 (no cycling) or at least 5 seconds")
        return value

    def spec(self) -> layouts.LayoutSpec:
        return layouts.LayoutSpec(
            name=self.name,
            columns=self.columns,
            rows=self.rows,
            camera_ids=tuple(self.camera_ids),
            cycle_seconds=self.cycle_seconds,
            shared=self.shared,
        )


def _owner() -> str:
    return principal().actor().name[:60]


def _spec() -> layouts.LayoutSpec:
    """The layout in the body; a read-only role (wall, leader) may not share one with everyone."""
    spec = parse_json(LayoutIn, request.get_data()).spec()
    who = principal()
    if spec.shared and not can_share(who.role):
        raise ApiError(
            403, "forbidden", f"the role {who.role} may keep its own layouts but not share one"
        )
    return spec


@bp.get("/camera-layouts")
@require(Permission.VIEW_CAMERAS)
def list_layouts() -> ResponseReturnValue:
    ctx = context()
    with ctx.services.db.read() as session:
        found = layouts.list_layouts(session, _owner(), principal().scope)
    return jsonify({"layouts": found})


@bp.post("/camera-layouts")
@require(Permission.VIEW_CAMERAS)
def create_layout() -> ResponseReturnValue:
    ctx, owner, scope = context(), _owner(), principal().scope
    spec = _spec()
    with ctx.services.db.transaction() as session:
        row = _run(lambda: layouts.create_layout(session, owner, scope, spec, _now()))
        visible = layouts.visible_camera_ids(session, scope)
        body = layouts.layout_json(row, owner, visible)
    location = {"Location": f"{request.path}/{body['id']}"}
    return jsonify(body), 201, location


@bp.put("/camera-layouts/<int:layout_id>")
@require(Permission.VIEW_CAMERAS)
def update_layout(layout_id: int) -> ResponseReturnValue:
    ctx, owner, scope = context(), _owner(), principal().scope
    spec = _spec()
    with ctx.services.db.transaction() as session:
        row = _run(lambda: layouts.update_layout(session, layout_id, owner, scope, spec, _now()))
        body = layouts.layout_json(row, owner, layouts.visible_camera_ids(session, scope))
    return jsonify(body)


@bp.delete("/camera-layouts/<int:layout_id>")
@require(Permission.VIEW_CAMERAS)
def delete_layout(layout_id: int) -> ResponseReturnValue:
    ctx, owner = context(), _owner()
    with ctx.services.db.transaction() as session:
        _run(lambda: layouts.delete_layout(session, layout_id, owner))
    return "", 204


def _now() -> datetime:
    return context().services.clock.now()


def _run(action: Callable[[], T]) -> T:
    """Run a layout use case, turning its refusals into JSON answers."""
    try:
        return action()
    except layouts.LayoutError as err:
        raise ApiError(err.status, err.code, err.message, err.field) from None
