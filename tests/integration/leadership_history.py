"""Case histories planted straight into the seeded town for the leadership tests (rising
problems, campaigns, rankings): one row per report, bulk-inserted, at chosen local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select

from dashboard.storage.db import Database
from dashboard.storage.models import Case, Grid, Village
from tests.integration.support import SHANGHAI


def villages(db: Database, n: int) -> list[tuple[str, str, str, float, float]]:
    """The first ``n`` villages: (village code, its name, a grid code, lon, lat)."""
    with db.read() as session:
        rows = session.execute(
            select(Village.code, Village.name, Grid.code, Grid.lon, Grid.lat)
            .join(Grid, Grid.village_code == Village.code)
            .order_by(Village.code, Grid.code)
        ).all()
    seen: dict[str, Any] = {}
    for row in rows:
        seen.setdefault(row[0], tuple(row))
    return list(seen.values())[:n]


def plant(
    db: Database,
    village: tuple[str, str, str, float, float],
    category: str,
    day: date,
    count: int,
    **extra: Any,
) -> None:
    """``count`` reports of ``category`` in ``village`` on the local ``day`` (09:00 onwards)."""
    if count <= 0:
        return
    code, _name, grid, lon, lat = village
    start = datetime.combine(day, time(9), SHANGHAI).astimezone(UTC)
    rows = []
    for i in range(count):
        at = start + timedelta(minutes=i)
        row = {
            "status": "reported",
            "source": "grid_worker",
            "emergency": False,
            "category_code": category,
            "reported_category": category,
            "description": "planted",
            "lon": lon,
            "lat": lat,
            "address": "",
            "grid_code": grid,
            "village_code": code,
            "town_code": code[:9],
            "county_code": code[:6],
            "reporter": "",
            "reported_at": at,
            "updated_at": at,
            "version": 1,
            "open": True,
        }
        row.update(extra)
        rows.append(row)
    with db.transaction() as session:
        session.execute(insert(Case), rows)
