"""Synthetic CCTV cameras for the video wall and the map (a real town has 150+ of them).

Two kinds, as in a town's "雪亮工程" (bright-eyes) network:

* ``village_centre``: one at the centre of every village (村口, or 社区入口 for a community);
* ``main_road``: cameras spaced about every ``ROAD_SPACING_M`` along the main roads, which we
  model as straight lines joining the centres of neighbouring villages in a town and the
  centres of neighbouring towns, each point moved sideways by up to ``ROAD_WOBBLE_M`` because
  roads are not straight. A road point outside the region is dropped.

A camera is identified by its id alone (no URL): ``CAM-<village code>-<nn>``, ``nn`` = 01 for
the village-centre camera, then the road cameras inside that village. Deterministic in ``seed``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely  # type: ignore[import-untyped]

from dashboard.domain.geo import haversine_m
from dashboard.domain.regions import Region, Town, Village

__all__ = ["CameraKind", "CameraSeed", "generate_cameras"]

CameraKind = Literal["village_centre", "main_road"]

ROAD_SPACING_M = 900.0
ROAD_WOBBLE_M = 60.0
ROAD_END_CLEARANCE_M = 250.0  # no road camera right on top of a village-centre camera
_VILLAGE_TOUCH_DEG = 1e-9  # villages of one town share exact borders
_TOWN_TOUCH_DEG = 2e-3  # ~200 m: county outlines were simplified separately, gaps exist
_M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True)
class CameraSeed:
    id: str
    name: str
    lon: float
    lat: float
    village_code: str
    kind: CameraKind


@dataclass(frozen=True)
class _Road:
    name: str  # "主干道 先进村—洄村路段"
    start: tuple[float, float]
    end: tuple[float, float]


def generate_cameras(region: Region, seed: int = 7) -> list[CameraSeed]:
    """Every camera of ``region``, sorted by id."""
    index = region.index()
    rng = random.Random(f"cameras:{seed}:{region.name}")
    town_name = {t.code: t.name for t in region.towns}
    cameras: list[CameraSeed] = []
    per_village: dict[str, int] = {}

    def add(name: str, lon: float, lat: float, village_code: str, kind: CameraKind) -> None:
        per_village[village_code] = per_village.get(village_code, 0) + 1
        cameras.append(
            CameraSeed(
                id=f"CAM-{village_code}-{per_village[village_code]:02d}",
                name=name,
                lon=lon,
                lat=lat,
                village_code=village_code,
                kind=kind,
            )
        )

    villages = sorted(region.villages, key=lambda v: v.code)
    for village in villages:
        lon, lat = village.centroid
        gate = "村口" if village.kind == "village" else "社区入口"
        name = f"{town_name[village.town_code]} {village.short_name} {gate}"
        add(name, lon, lat, village.code, "village_centre")
    roads = _village_roads(region, villages, town_name) + _town_roads(region.towns)
    for road in roads:
        for k, (lon, lat) in enumerate(_points_along(road, rng), start=1):
            location = index.locate(lon, lat)
            if location is not None:
                add(f"{road.name} {k}号", lon, lat, location.village_code, "main_road")
    return sorted(cameras, key=lambda c: c.id)


def _neighbour_pairs(polygons: Sequence[object], tolerance: float) -> list[tuple[int, int]]:
    geoms = np.array(polygons, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance)
    return sorted({(a, b) for a, b in zip(left.tolist(), right.tolist(), strict=True) if a < b})


def _village_roads(
    region: Region, villages: Sequence[Village], town_name: dict[str, str]
) -> list[_Road]:
    roads: list[_Road] = []
    for town in sorted(region.towns, key=lambda t: t.code):
        members = [v for v in villages if v.town_code == town.code]
        for a, b in _neighbour_pairs([v.polygon for v in members], _VILLAGE_TOUCH_DEG):
            va, vb = members[a], members[b]
            name = f"{town_name[town.code]} 主干道 {va.short_name}—{vb.short_name}路段"
            roads.append(_Road(name, va.centroid, vb.centroid))
    return roads


def _town_roads(towns: Sequence[Town]) -> list[_Road]:
    ordered = sorted(towns, key=lambda t: t.code)
    roads = []
    for a, b in _neighbour_pairs([t.polygon for t in ordered], _TOWN_TOUCH_DEG):
        name = f"主干道 {ordered[a].name}—{ordered[b].name}路段"
        roads.append(_Road(name, ordered[a].centroid, ordered[b].centroid))
    return roads


def _points_along(road: _Road, rng: random.Random) -> list[tuple[float, float]]:
    """Camera points every ~ROAD_SPACING_M, clear of both ends, wobbling off the straight line."""
    (lon1, lat1), (lon2, lat2) = road.start, road.end
    length = haversine_m(lon1, lat1, lon2, lat2)
    usable = length - 2 * ROAD_END_CLEARANCE_M
    if usable <= 0:
        return []
    count = max(1, round(usable / ROAD_SPACING_M))
    m_per_deg_lon = _M_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) / 2))
    # unit normal of the road, in degrees per metre
    dx, dy = (lon2 - lon1) * m_per_deg_lon, (lat2 - lat1) * _M_PER_DEG_LAT
    nx, ny = -dy / length / m_per_deg_lon, dx / length / _M_PER_DEG_LAT
    points = []
    for k in range(count):
        along = (ROAD_END_CLEARANCE_M + usable * (k + 0.5) / count) / length
        side = rng.uniform(-ROAD_WOBBLE_M, ROAD_WOBBLE_M)
        lon = lon1 + (lon2 - lon1) * along + nx * side
        lat = lat1 + (lat2 - lat1) * along + ny * side
        points.append((lon, lat))
    return points
