"""A deterministic, realistic-looking Shaoxing for the demo and the city-scale benchmarks.

Real: the six county outlines and the town and village names and codes (data/regions/shaoxing,
see its README for sources and licences). Synthetic: every boundary below the county.

* **Towns.** A Voronoi cell clipped to a county cannot be given an area, yet a town should get
  area roughly proportional to its number of villages. So the county is first cut into small
  Voronoi "atoms" (seeds sampled inside the outline, Lloyd-relaxed), and the atoms are grouped
  into towns by a discrete power diagram: each town has a seed and a weight, an atom goes to the
  town minimising ``distance² - weight``, and the weights are tuned until every town holds its
  share of the area (then small detached groups of atoms join a neighbour, so towns are
  connected). A town is the union of its atoms' Voronoi cells, clipped once to the outline.
  Streets (街道) take the towns nearest the county's centre; the other towns follow clockwise by
  code, so neighbouring codes are neighbours on the map.
* **Villages.** Voronoi cells of Lloyd-relaxed seeds inside their town; communities (社区) take
  the cells nearest the town centre, villages the rest clockwise by code.
* **Grids.** Voronoi cells inside each village, 80–120 households each, numbered west→east,
  north→south by :func:`dashboard.domain.regions.grid_numbering`. The number of grids is a
  budget per scale spread over the villages by weight (a community counts double: denser
  housing): the city gets the published 8,436; a county its share of it; the town scale the
  figure of a real single-town command room (Yangxunqiao: 87 grids, so ~90).

Geometry is built in a local plane (longitude scaled by cos 29.9°, so cells are not stretched
north-south) and converted back to WGS-84 lon/lat once. Every random draw comes from a
generator keyed by ``seed`` and the unit's code, so the same seed gives the same region, and a
town's boundary and its villages' boundaries are the same at every scale; only the grid budget
(hence the grids) differs between the town scale and the others.
"""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np
import shapely  # type: ignore[import-untyped]
from numpy.typing import NDArray

from dashboard.domain.regions import (
    County,
    Grid,
    Region,
    Town,
    Village,
    grid_numbering,
    village_kind,
)
from dashboard.seed.people import chinese_name, mobile_number

__all__ = [
    "CITY_NAME",
    "DEFAULT_COUNTY_CODE",
    "DEFAULT_TOWN_CODE",
    "Scale",
    "ShaoxingSource",
    "generate_region",
    "grid_budget",
    "load_shaoxing",
]

Scale = Literal["town", "county", "city"]
Geoms = NDArray[np.object_]
XY = NDArray[np.float64]

CITY_NAME = "绍兴市"
DEFAULT_COUNTY_CODE = "330681"  # 诸暨市
DEFAULT_TOWN_CODE = "330681109"  # 枫桥镇, home of the "Fengqiao experience"
TOWN_FALLBACK_VILLAGES = 22  # if the default town is missing: the town nearest this many
PUBLISHED_CITY_GRIDS = 8_436
TOWN_SCALE_GRIDS = 90
HOUSEHOLDS = (80, 120)
COMMUNITY_GRID_WEIGHT = 2.0
ATOMS_PER_TOWN = 24  # enough for town areas within ~15 % of their share
LLOYD_STEPS = 3

_LAT0 = 29.9  # the middle of Shaoxing; the plane is lon·cos(lat0), lat
_KX = math.cos(math.radians(_LAT0))
_POLYGON, _MULTIPOLYGON = 3, 6  # shapely geometry type ids
_TOUCH_TOLERANCE = 1e-9  # plane degrees (~0.1 mm): "these two pieces share this border"


@dataclass(frozen=True)
class SourceTown:
    code: str
    name: str
    county_code: str


@dataclass(frozen=True)
class SourceVillage:
    code: str
    name: str
    town_code: str


@dataclass(frozen=True)
class ShaoxingSource:
    """The real data the generator starts from."""

    counties: tuple[County, ...]
    towns: tuple[SourceTown, ...]
    villages: tuple[SourceVillage, ...]


def _data_text(name: str) -> str:
    path = resources.files("dashboard").joinpath("data", "regions", "shaoxing", name)
    return path.read_text(encoding="utf-8")


def load_shaoxing() -> ShaoxingSource:
    features = json.loads(_data_text("counties.geojson"))["features"]
    counties = tuple(
        sorted(
            (
                County(
                    code=f["properties"]["code"],
                    name=f["properties"]["name"],
                    polygon=shapely.geometry.shape(f["geometry"]),
                )
                for f in features
            ),
            key=lambda c: c.code,
        )
    )
    towns = tuple(
        SourceTown(r["code"], r["name"], r["county_code"])
        for r in csv.DictReader(_data_text("towns.csv").splitlines())
    )
    villages = tuple(
        SourceVillage(r["code"], r["name"], r["town_code"])
        for r in csv.DictReader(_data_text("villages.csv").splitlines())
    )
    return ShaoxingSource(counties, towns, villages)


def generate_region(
    scale: Scale,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    source: ShaoxingSource | None = None,
) -> Region:
    """Generate the town (枫桥镇), county (诸暨市) or city (绍兴市) region.

    The town scale holds the town's county (for its outline) and that one town; the county
    scale all the county's towns; the city all six counties. ``progress(n)`` is called with the
    number of villages finished since the previous call (they add up to the number of villages
    in the region), e.g. ``tqdm.update``. ``source`` saves re-reading the data files.
    """
    src = source or load_shaoxing()
    villages_of: dict[str, list[SourceVillage]] = {}
    for v in src.villages:
        villages_of.setdefault(v.town_code, []).append(v)

    if scale == "city":
        counties, name = src.counties, CITY_NAME
    elif scale in ("county", "town"):
        county_code = DEFAULT_COUNTY_CODE if scale == "county" else _town_scale_town(src)[:6]
        counties = tuple(c for c in src.counties if c.code == county_code)
        name = counties[0].name
    else:
        raise ValueError(f"scale must be 'town', 'county' or 'city', got {scale!r}")

    towns: list[Town] = []
    for county in counties:
        county_towns = [t for t in src.towns if t.county_code == county.code]
        towns += _partition_county(county, county_towns, villages_of, seed)
    if scale == "town":
        town_code = _town_scale_town(src)
        towns = [t for t in towns if t.code == town_code]
        name = f"{name}{towns[0].name}"

    in_scope = [v for t in towns for v in villages_of.get(t.code, [])]
    budget = grid_budget(scale, len(in_scope), len(src.villages))
    grid_counts = _allocate_grids(in_scope, budget, seed)

    villages: list[Village] = []
    grids: list[Grid] = []
    for town in towns:
        town_villages = _partition_town(town, villages_of.get(town.code, []), seed)
        villages += town_villages
        grids += _partition_villages(town, town_villages, grid_counts, seed)
        if progress is not None:
            progress(len(town_villages))
    return Region(name, tuple(counties), tuple(towns), tuple(villages), tuple(grids))


def grid_budget(scale: Scale, villages_in_scope: int, villages_in_city: int) -> int:
    """How many grids a generated region has (see the module docstring)."""
    if scale == "town":
        return max(villages_in_scope, TOWN_SCALE_GRIDS)
    share = PUBLISHED_CITY_GRIDS * villages_in_scope / max(1, villages_in_city)
    return max(villages_in_scope, round(share))


def _town_scale_town(src: ShaoxingSource) -> str:
    counts: dict[str, int] = {}
    for v in src.villages:
        counts[v.town_code] = counts.get(v.town_code, 0) + 1
    if DEFAULT_TOWN_CODE in counts:
        return DEFAULT_TOWN_CODE
    return min(counts, key=lambda c: (abs(counts[c] - TOWN_FALLBACK_VILLAGES), c))


# --- geometry helpers (all in the local plane) -------------------------------------------------


def _to_plane(geoms: Any) -> Any:
    return shapely.transform(geoms, lambda xy: xy * np.array([_KX, 1.0]))


def _to_lonlat(geoms: Any) -> Any:
    return shapely.transform(geoms, lambda xy: xy / np.array([_KX, 1.0]))


def _rng(seed: int, purpose: int, code: str) -> np.random.Generator:
    return np.random.default_rng([seed, purpose, int(code)])


def _sample_inside(polygon: Any, n: int, rng: np.random.Generator) -> XY:
    """``n`` uniform points strictly inside ``polygon``."""
    shapely.prepare(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    fill = max(polygon.area / max((maxx - minx) * (maxy - miny), 1e-18), 0.02)
    found: list[XY] = []
    missing = n
    while missing > 0:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(int(missing / fill * 1.3) + 8, 2))
        xy = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])][:missing]
        found.append(xy)
        missing -= len(xy)
    return np.concatenate(found)


def _polygonal(geoms: Geoms) -> Geoms:
    """Drop the lines and points an intersection can leave next to the polygons."""
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero((types != _POLYGON) & (types != _MULTIPOLYGON)):
        parts = shapely.get_parts(geoms[i])
        while (shapely.get_type_id(parts) == 7).any():  # nested collections
            parts = shapely.get_parts(parts)
        polygons = parts[np.isin(shapely.get_type_id(parts), (_POLYGON, _MULTIPOLYGON))]
        geoms[i] = shapely.union_all(polygons)
    return geoms


def _inner_points(cells: Geoms) -> XY:
    """Centroids, or a point on the surface where the centroid falls outside the cell."""
    points = shapely.centroid(cells)
    outside = ~shapely.contains(cells, points)
    points[outside] = shapely.point_on_surface(cells[outside])
    coords: XY = shapely.get_coordinates(points)
    return coords


def _voronoi(parents: Geoms, seeds: XY, owner: NDArray[np.int64]) -> tuple[Geoms, Geoms]:
    """Per parent, the Voronoi cells of its seeds: (raw cells, cells clipped to the parent).

    ``owner[i]`` is the parent of ``seeds[i]`` (sorted); cells come back in seed order.
    """
    multipoints = shapely.multipoints(seeds, indices=owner)
    diagrams = shapely.voronoi_polygons(multipoints, extend_to=parents, ordered=True)
    raw, raw_owner = shapely.get_parts(diagrams, return_index=True)
    if not np.array_equal(raw_owner, owner):
        raise RuntimeError("Voronoi diagram lost a seed (duplicate points?)")
    return raw, _polygonal(shapely.intersection(raw, parents[owner]))


def _relaxed_voronoi(
    parents: Geoms, counts: Sequence[int], rngs: Sequence[np.random.Generator]
) -> tuple[Geoms, Geoms, NDArray[np.int64]]:
    """Seeds sampled inside each parent, ``LLOYD_STEPS`` of Lloyd relaxation, final cells."""
    for p in parents:
        shapely.prepare(p)
    seeds = np.concatenate(
        [_sample_inside(p, n, rng) for p, n, rng in zip(parents, counts, rngs, strict=True)]
    )
    owner = np.repeat(np.arange(len(parents)), counts)
    for _ in range(LLOYD_STEPS):
        _, cells = _voronoi(parents, seeds, owner)
        seeds = _inner_points(cells)
    raw, cells = _voronoi(parents, seeds, owner)
    for p in range(len(parents)):
        members = np.flatnonzero(owner == p)
        cells[members] = _absorb_detached(cells[members])
    return raw, cells, owner


def _absorb_detached(cells: Geoms) -> Geoms:
    """Give the small detached pieces of a clipped cell to the sibling they border most.

    Clipping a Voronoi cell to a concave parent can cut it in two (a bay of the outline); a
    grid or village in two pieces looks wrong on a map. Each extra piece joins the sibling that
    shares the longest border with it; a piece bordering no sibling stays where it is.
    """
    cells = cells.copy()
    for i in np.flatnonzero(shapely.get_type_id(cells) == _MULTIPOLYGON):
        parts = sorted(shapely.get_parts(cells[i]), key=lambda part: -part.area)
        keep = [parts[0]]
        for part in parts[1:]:
            halo = shapely.buffer(part, _TOUCH_TOLERANCE)
            shared = shapely.length(shapely.intersection(shapely.boundary(cells), halo))
            shared[i] = 0.0
            j = int(np.argmax(shared))
            merged = shapely.union(cells[j], part) if shared[j] > 0 else None
            if merged is not None and shapely.get_type_id(merged) == _POLYGON:
                cells[j] = merged
            else:
                keep.append(part)
        cells[i] = shapely.union_all(keep)
    return cells


def _order_codes_by_place(
    centres: XY, core: XY, first: Sequence[str], rest: Sequence[str]
) -> dict[int, str]:
    """Give the ``first`` codes to the cells nearest ``core``, the ``rest`` clockwise from north."""
    distance = np.hypot(*(centres - core).T)
    near = list(np.argsort(distance, kind="stable")[: len(first)])
    assigned = dict(zip(near, first, strict=True))
    others = [i for i in range(len(centres)) if i not in assigned]
    dx, dy = (centres[others] - core).T
    bearing = np.arctan2(dx, dy) % (2 * np.pi)  # clockwise from north
    for i, code in zip(np.asarray(others)[np.argsort(bearing, kind="stable")], rest, strict=True):
        assigned[int(i)] = code
    return {int(k): v for k, v in assigned.items()}


# --- towns ---------------------------------------------------------------------------------------


def _partition_county(
    county: County,
    towns: Sequence[SourceTown],
    villages_of: dict[str, list[SourceVillage]],
    seed: int,
) -> list[Town]:
    outline = _to_plane(county.polygon)
    rng = _rng(seed, 1, county.code)
    n_atoms = ATOMS_PER_TOWN * len(towns)
    raw, cells, _ = _relaxed_voronoi(np.array([outline]), [n_atoms], [rng])
    centres, areas = _inner_points(cells), shapely.area(cells)

    groups = _capacity_groups(centres, areas, len(towns), rng)
    group_centres = np.array([np.average(centres[groups == g], axis=0, weights=areas[groups == g])
                              for g in range(len(towns))])  # fmt: skip
    core = _inner_points(np.array([outline]))[0]
    streets = [t.code for t in towns if t.name.endswith("街道")]
    others = [t.code for t in towns if not t.name.endswith("街道")]
    code_of_group = _order_codes_by_place(group_centres, core, streets, others)
    weights = np.array([len(villages_of.get(code_of_group[g], [])) for g in range(len(towns))])
    groups = _capacity_groups(centres, areas, len(towns), rng, group_centres, weights)
    groups = _connect_groups(cells, groups)

    pieces = [shapely.coverage_union_all(raw[groups == g]) for g in range(len(towns))]
    clipped = _absorb_detached(_polygonal(shapely.intersection(np.array(pieces), outline)))
    polygons = _to_lonlat(clipped)
    by_code = {t.code: t for t in towns}
    result = []
    for g, polygon in enumerate(polygons):
        source = by_code[code_of_group[g]]
        result.append(
            Town(
                code=source.code,
                name=source.name,
                county_code=county.code,
                polygon=polygon,
                centroid=_lonlat_tuple(_inner_points(np.array([polygon]))[0]),
            )
        )
    return sorted(result, key=lambda t: t.code)


def _capacity_groups(
    centres: XY,
    areas: NDArray[np.float64],
    k: int,
    rng: np.random.Generator,
    seeds: XY | None = None,
    weights: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """Group atoms into ``k`` compact groups whose areas are proportional to ``weights``.

    Without seeds: area-weighted k-means from a farthest-point start. With weights: a discrete
    power diagram (distance² minus a per-group offset) whose offsets are tuned to the targets.
    """
    if seeds is None:
        start = [int(rng.integers(len(centres)))]
        for _ in range(k - 1):
            gap = np.min(((centres[:, None, :] - centres[start][None]) ** 2).sum(-1), axis=1)
            start.append(int(np.argmax(gap)))
        seeds = centres[start].copy()
    targets = areas.sum() * (np.ones(k) / k if weights is None else weights / weights.sum())
    offsets = np.zeros(k)
    scale = areas.sum() / k  # a typical group's area ~ its squared radius, in plane units
    for step in range(120):
        d2 = ((centres[:, None, :] - seeds[None]) ** 2).sum(-1) - offsets[None]
        groups = np.argmin(d2, axis=1)
        got = np.bincount(groups, weights=areas, minlength=k)
        if weights is not None:
            offsets += 0.3 * scale * (targets - got) / targets
        if step % 10 == 9 or weights is None:
            for g in np.flatnonzero(got > 0):
                seeds[g] = np.average(centres[groups == g], axis=0, weights=areas[groups == g])
    result: NDArray[np.int64] = groups.astype(np.int64)
    return result


def _connect_groups(cells: Geoms, groups: NDArray[np.int64]) -> NDArray[np.int64]:
    """Move atoms cut off from their group's largest piece to the neighbour they touch most."""
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    neighbours: list[list[int]] = [[] for _ in cells]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            neighbours[a].append(b)
    groups = groups.copy()
    for _ in range(20):
        moved = False
        for g in np.unique(groups):
            pieces = _components(np.flatnonzero(groups == g).tolist(), neighbours, groups)
            for piece in sorted(pieces, key=len)[:-1]:
                for atom in piece:
                    votes = [groups[n] for n in neighbours[atom] if groups[n] != g]
                    if votes:
                        groups[atom] = max(set(votes), key=lambda x: (votes.count(x), -x))
                        moved = True
        if not moved:
            break
    return groups


def _components(
    members: list[int], neighbours: list[list[int]], groups: NDArray[np.int64]
) -> list[list[int]]:
    seen: set[int] = set()
    pieces = []
    for start in members:
        if start in seen:
            continue
        piece, stack = [], [start]
        seen.add(start)
        while stack:
            atom = stack.pop()
            piece.append(atom)
            for n in neighbours[atom]:
                if n not in seen and groups[n] == groups[start]:
                    seen.add(n)
                    stack.append(n)
        pieces.append(piece)
    return pieces


# --- villages and grids --------------------------------------------------------------------------


def _partition_town(town: Town, sources: Sequence[SourceVillage], seed: int) -> list[Village]:
    if not sources:
        return []
    outline = _to_plane(town.polygon)
    _, cells, _ = _relaxed_voronoi(np.array([outline]), [len(sources)], [_rng(seed, 2, town.code)])
    centres = _inner_points(cells)
    core = _inner_points(np.array([outline]))[0]
    ordered = sorted(sources, key=lambda v: v.code)
    communities = [v.code for v in ordered if village_kind(v.name) == "community"]
    rural = [v.code for v in ordered if village_kind(v.name) == "village"]
    code_of_cell = _order_codes_by_place(centres, core, communities, rural)
    by_code = {v.code: v for v in sources}
    polygons = _to_lonlat(cells)
    inner = _inner_points(polygons)
    result = []
    for i, code in sorted(code_of_cell.items(), key=lambda item: item[1]):
        source = by_code[code]
        contact = random.Random(f"contact:{seed}:{code}")
        result.append(
            Village(
                code=code,
                name=source.name,
                town_code=town.code,
                polygon=polygons[i],
                centroid=_lonlat_tuple(inner[i]),
                kind=village_kind(source.name),
                contact_name=chinese_name(contact),
                contact_phone=mobile_number(contact),
            )
        )
    return result


def _allocate_grids(villages: Sequence[SourceVillage], budget: int, seed: int) -> dict[str, int]:
    """Spread ``budget`` grids over the villages by weight, at least one each.

    Largest-remainder rounding, so the total is exactly the budget.
    """
    if not villages:
        return {}
    weights = np.array(
        [
            (COMMUNITY_GRID_WEIGHT if village_kind(v.name) == "community" else 1.0)
            * _rng(seed, 4, v.code).uniform(0.7, 1.3)
            for v in villages
        ]
    )
    share = weights / weights.sum() * max(budget, len(villages))
    counts = np.maximum(1, np.floor(share)).astype(np.int64)
    remainder = share - np.floor(share)
    order = np.argsort(-remainder, kind="stable")
    i = 0
    while counts.sum() < budget:
        counts[order[i % len(order)]] += 1
        i += 1
    while counts.sum() > budget and (counts > 1).any():
        counts[np.argmax(counts)] -= 1
    return {v.code: int(n) for v, n in zip(villages, counts, strict=True)}


def _partition_villages(
    town: Town, villages: Sequence[Village], grid_counts: dict[str, int], seed: int
) -> list[Grid]:
    if not villages:
        return []
    parents = _to_plane(np.array([v.polygon for v in villages]))
    counts = [grid_counts[v.code] for v in villages]
    rngs = [_rng(seed, 3, v.code) for v in villages]
    _, cells, owner = _relaxed_voronoi(parents, counts, rngs)
    polygons = _to_lonlat(cells)
    inner = _inner_points(polygons)
    grids: list[Grid] = []
    for index, village in enumerate(villages):
        members = np.flatnonzero(owner == index)
        centroids = [_lonlat_tuple(inner[i]) for i in members]
        _, south, _, north = village.polygon.bounds
        households = rngs[index].integers(HOUSEHOLDS[0], HOUSEHOLDS[1] + 1, size=len(members))
        for seq, k in enumerate(grid_numbering(centroids, north, south), start=1):
            grids.append(
                Grid(
                    code=f"{village.code}{seq:03d}",
                    village_code=village.code,
                    households=int(households[seq - 1]),
                    polygon=polygons[members[k]],
                    centroid=centroids[k],
                )
            )
    return grids


def _lonlat_tuple(xy: XY) -> tuple[float, float]:
    return float(xy[0]), float(xy[1])
