"""Saved video-wall layouts (table ``camera_layouts``): a grid size, cameras in order, cycling.

A layout belongs to its owner (the audit name of the principal that saved it); a shared one is
seen by everyone who may view cameras, but only its owner changes or deletes it. Camera ids are
checked against the directory and the owner's area when saved, and filtered to the reader's area
when read, so a shared layout never shows someone a camera id outside their area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Scope
from dashboard.storage.models import Camera, CameraLayout
from dashboard.storage.scoping import in_area

MAX_LAYOUTS_PER_OWNER = 100


class LayoutError(DomainError):
    """A layout that cannot be saved as given: ``status`` is the HTTP answer, ``field`` the
    offending input."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class LayoutSpec:
    name: str
    columns: int
    rows: int
    camera_ids: tuple[str, ...]
    cycle_seconds: int = 0
    shared: bool = False


def layout_json(row: CameraLayout, owner: str, visible: set[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "owner": row.owner,
        "mine": row.owner == owner,
        "shared": row.shared,
        "columns": row.columns,
        "rows": row.rows,
        "camera_ids": [c for c in row.camera_ids if c in visible],
        "cycle_seconds": row.cycle_seconds,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def visible_camera_ids(session: Session, scope: Scope) -> set[str]:
    query = select(Camera.id)
    query = query.where(*in_area(Camera.village_code, scope.area_code))
    return set(session.scalars(query))


def list_layouts(session: Session, owner: str, scope: Scope) -> list[dict[str, Any]]:
    """The owner's layouts and every shared one, the owner's first, then by name."""
    query = select(CameraLayout).where(
        or_(CameraLayout.owner == owner, CameraLayout.shared.is_(True))
    )
    rows = sorted(session.scalars(query), key=lambda r: (r.owner != owner, r.name, r.id))
    visible = visible_camera_ids(session, scope)
    return [layout_json(r, owner, visible) for r in rows]


def create_layout(
    session: Session, owner: str, scope: Scope, spec: LayoutSpec, now: datetime
) -> CameraLayout:
    _check_cameras(session, scope, spec.camera_ids)
    _check_name_free(session, owner, spec.name, None)
    count = session.scalar(select(func.count()).where(CameraLayout.owner == owner)) or 0
    if count >= MAX_LAYOUTS_PER_OWNER:
        raise LayoutError(
            409, "too_many_layouts", f"at most {MAX_LAYOUTS_PER_OWNER} layouts each; delete one"
        )
    row = CameraLayout(owner=owner, created_at=now)
    _fill(row, spec, now)
    session.add(row)
    session.flush()
    return row


def update_layout(
    session: Session, layout_id: int, owner: str, scope: Scope, spec: LayoutSpec, now: datetime
) -> CameraLayout:
    row = _own(session, layout_id, owner)
    _check_cameras(session, scope, spec.camera_ids)
    _check_name_free(session, owner, spec.name, layout_id)
    _fill(row, spec, now)
    session.flush()
    return row


def delete_layout(session: Session, layout_id: int, owner: str) -> None:
    session.delete(_own(session, layout_id, owner))


def _fill(row: CameraLayout, spec: LayoutSpec, now: datetime) -> None:
    row.name = spec.name
    row.columns = spec.columns
    row.rows = spec.rows
    row.camera_ids = list(spec.camera_ids)
    row.cycle_seconds = spec.cycle_seconds
    row.shared = spec.shared
    row.updated_at = now


def _own(session: Session, layout_id: int, owner: str) -> CameraLayout:
    row = session.get(CameraLayout, layout_id)
    if row is None or (row.owner != owner and not row.shared):
        raise LayoutError(404, "layout_not_found", f"there is no layout {layout_id}")
    if row.owner != owner:
        raise LayoutError(403, "not_owner", f"layout {layout_id} is shared by {row.owner}; copy it")
    return row


def _check_name_free(session: Session, owner: str, name: str, layout_id: int | None) -> None:
    query = select(CameraLayout.id).where(CameraLayout.owner == owner, CameraLayout.name == name)
    found = session.scalar(query)
    if found is not None and found != layout_id:
        raise LayoutError(409, "layout_exists", f"you already have a layout named {name!r}", "name")


def _check_cameras(session: Session, scope: Scope, camera_ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for camera_id in camera_ids:
        if camera_id in seen:
            raise LayoutError(
                422, "duplicate_camera", f"camera {camera_id!r} is listed twice", "camera_ids"
            )
        seen.add(camera_id)
    # Outside the caller's area counts as unknown: the answer must not tell them apart.
    visible = visible_camera_ids(session, scope) if seen else set()
    unknown = [c for c in camera_ids if c not in visible]
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise LayoutError(422, "unknown_camera", f"no such camera: {shown}", "camera_ids")
