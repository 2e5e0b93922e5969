"""Load the region hierarchy from the database into the domain's spatial index."""

from __future__ import annotations

import json
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.regions import (
    Grid,
    Location,
    RegionIndex,
    Village,
    parse_polygon_geojson,
    village_kind,
)
from dashboard.storage.db import Database
from dashboard.storage.models import Grid as GridRow
from dashboard.storage.models import Village as VillageRow


def load_units(session: Session) -> tuple[list[Grid], list[Village]]:
    """The stored grids and villages as domain objects (polygons parsed from their GeoJSON)."""
    villages = [
        Village(
            code=v.code,
            name=v.name,
            town_code=v.town_code,
            polygon=parse_polygon_geojson(json.loads(v.geometry)),
            centroid=(v.lon, v.lat),
            kind=village_kind(v.name),
            contact_name=v.contact_name,
            contact_phone=v.contact_phone,
        )
        for v in session.scalars(select(VillageRow))
    ]
    grids = [
        Grid(
            code=g.code,
            village_code=g.village_code,
            households=g.households,
            polygon=parse_polygon_geojson(json.loads(g.geometry)),
            centroid=(g.lon, g.lat),
        )
        for g in session.scalars(select(GridRow))
    ]
    return grids, villages


def load_region_index(db: Database) -> RegionIndex:
    with db.read() as session:
        grids, villages = load_units(session)
    return RegionIndex(grids, villages)


class RegionLocator:
    """Point → location, with the index (re)loaded from the database when the region changes."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._index: RegionIndex | None = None
        self._lock = threading.Lock()

    def reload(self) -> None:
        index = load_region_index(self._db)
        with self._lock:
            self._index = index

    def __call__(self, lon: float, lat: float) -> Location | None:
        index = self._index
        if index is None:
            self.reload()
            index = self._index
        assert index is not None
        return index.locate(lon, lat)

    @property
    def size(self) -> int:
        return 0 if self._index is None else len(self._index)
