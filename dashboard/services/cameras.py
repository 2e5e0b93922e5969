"""The camera directory: which cameras a principal may see, and the nearest ones to a place.

Used by the camera API, the video socket and the case workspace's video check. The caller opens
the session. Stream URLs never leave this module: the queries select the public columns only
(id, name, kind, position, village), so no answer built from them can carry a credential.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dashboard.domain.permissions import Scope
from dashboard.domain.video import bounding_box, rank_by_distance
from dashboard.storage.models import Camera, Village
from dashboard.storage.scoping import in_area

NEAREST_LIMIT = 12
MAX_RADIUS_M = 50_000.0

_COLUMNS = (
    Camera.id,
    Camera.name,
    Camera.kind,
    Camera.lon,
    Camera.lat,
    Camera.village_code,
    Village.name.label("village_name"),
)


def _query(scope: Scope) -> Select[str, str, str, float, float, str, str]:
    query = select(*_COLUMNS).join(Village, Village.code == Camera.village_code)
    query = query.where(*in_area(Camera.village_code, scope.area_code))
    return query


def _row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "lon": float(row.lon),
        "lat": float(row.lat),
        "village": row.village_code,
        "village_name": row.village_name,
    }


def list_cameras(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Every camera ``scope`` may view, by id."""
    return [_row(r) for r in session.execute(_query(scope).order_by(Camera.id))]


def nearest_cameras(
    session: Session,
    lon: float,
    lat: float,
    radius_m: float,
    scope: Scope,
    limit: int = NEAREST_LIMIT,
) -> list[dict[str, Any]]:
    """The cameras ``scope`` may view within ``radius_m`` of (lon, lat), nearest first, each with
    its ``distance_m`` (rounded to the metre)."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(lon, lat, radius_m)
    query = _query(scope).where(
        Camera.lon.between(min_lon, max_lon), Camera.lat.between(min_lat, max_lat)
    )
    rows = [_row(r) for r in session.execute(query.order_by(Camera.id))]
    ranked = rank_by_distance(rows, lon, lat, radius_m, lambda c: (c["lon"], c["lat"]), limit)
    return [camera | {"distance_m": round(distance, 1)} for camera, distance in ranked]


def camera_villages(session: Session) -> dict[str, str]:
    """Camera id -> village code, for scope checks of camera ids (the video socket)."""
    rows = session.execute(select(Camera.id, Camera.village_code))
    return {str(camera_id): str(code) for camera_id, code in rows}


def camera_info(session: Session, camera_id: str, scope: Scope) -> dict[str, Any] | None:
    """One camera's public fields, or None when it is unknown or outside ``scope``."""
    row = session.execute(_query(scope).where(Camera.id == camera_id)).first()
    return None if row is None else _row(row)


def village_centre(session: Session, code: str) -> tuple[float, float] | None:
    row = session.execute(select(Village.lon, Village.lat).where(Village.code == code)).first()
    return None if row is None else (float(row.lon), float(row.lat))
