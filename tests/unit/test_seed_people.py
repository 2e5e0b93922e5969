"""Synthetic grid workers ("1+1+N+N") and cameras of the demo region."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
import shapely  # type: ignore[import-untyped]

from dashboard.domain.regions import Region
from dashboard.domain.roles import WorkerRole
from dashboard.seed.cameras import CameraSeed, generate_cameras
from dashboard.seed.geography import generate_region
from dashboard.seed.people import (
    WorkerSeed,
    chinese_name,
    generate_workers,
    mobile_number,
)

_PHONE = re.compile(r"^1(3\d|5[0-35-9]|8\d)\d{8}$")


@pytest.fixture(scope="module")
def town() -> Region:
    return generate_region("town", seed=7)


@pytest.fixture(scope="module")
def workers(town: Region) -> list[WorkerSeed]:
    return generate_workers(town, seed=7)


@pytest.fixture(scope="module")
def cameras(town: Region) -> list[CameraSeed]:
    return generate_cameras(town, seed=7)


# --- workers -------------------------------------------------------------------------------------


def test_every_village_has_one_leader_one_manager_and_workers_in_every_grid(
    town: Region, workers: list[WorkerSeed]
) -> None:
    for village in town.villages:
        staff = [w for w in workers if w.village_code == village.code]
        roles = Counter(w.role for w in staff)
        assert roles[WorkerRole.GRID_LEADER] == 1
        assert roles[WorkerRole.GRID_MANAGER] == 1
        assert 3 <= roles[WorkerRole.INFORMATION_COLLECTOR] <= 6
        for grid in town.grids_of(village.code):
            in_grid = [w for w in staff if w.grid_code == grid.code]
            assert 1 <= sum(w.role == WorkerRole.GRID_WORKER for w in in_grid) <= 2


def test_the_grid_leader_is_the_village_contact(town: Region, workers: list[WorkerSeed]) -> None:
    for w in workers:
        if w.role == WorkerRole.GRID_LEADER:
            village = town.village(w.village_code)
            assert (w.name, w.phone) == (village.contact_name, village.contact_phone)


def test_town_totals_are_near_a_real_town(town: Region, workers: list[WorkerSeed]) -> None:
    # Yangxunqiao: 87 grids, 348 grid workers.
    assert 85 <= len(town.grids) <= 95
    assert 300 <= len(workers) <= 400


def test_county_totals_are_near_the_city_ratio() -> None:
    # Shaoxing: 26,059 workers for 2,168 villages; the county (诸暨市) should get its share.
    county = generate_region("county", seed=7)
    expected = 26_059 * len(county.villages) / 2_168
    assert abs(len(generate_workers(county, seed=7)) - expected) < 0.1 * expected


def test_ids_and_phones_are_unique_and_well_formed(workers: list[WorkerSeed]) -> None:
    assert len({w.id for w in workers}) == len(workers)
    assert len({w.phone for w in workers}) == len(workers)
    for w in workers:
        assert re.fullmatch(rf"W{w.village_code}-\d{{2}}", w.id)
        assert _PHONE.match(w.phone), w.phone
        assert w.grid_code.startswith(w.village_code)
        assert 2 <= len(w.name) <= 3


def test_home_points_are_inside_their_grid(town: Region, workers: list[WorkerSeed]) -> None:
    for w in workers:
        assert town.grid(w.grid_code).polygon.contains(shapely.Point(w.home_lon, w.home_lat))


def test_workers_are_deterministic(town: Region, workers: list[WorkerSeed]) -> None:
    assert generate_workers(town, seed=7) == workers
    other = generate_workers(town, seed=8)
    assert [w.name for w in other] != [w.name for w in workers]


@pytest.mark.parametrize("seed", range(5))
def test_names_and_phones_look_real(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", chinese_name(rng))
        assert _PHONE.match(mobile_number(rng))


# --- cameras -------------------------------------------------------------------------------------


def test_a_town_has_150_plus_cameras(town: Region, cameras: list[CameraSeed]) -> None:
    kinds = Counter(c.kind for c in cameras)
    assert len(cameras) >= 150
    assert kinds["village_centre"] == len(town.villages)
    assert kinds["main_road"] >= 100


def test_each_camera_is_inside_its_village(town: Region, cameras: list[CameraSeed]) -> None:
    for c in cameras:
        assert town.village(c.village_code).polygon.covers(shapely.Point(c.lon, c.lat)), c.id


def test_camera_ids_are_unique_and_names_say_where(town: Region, cameras: list[CameraSeed]) -> None:
    assert len({c.id for c in cameras}) == len(cameras)
    for c in cameras:
        assert re.fullmatch(rf"CAM-{c.village_code}-\d{{2,}}", c.id)
        assert c.name.startswith("枫桥镇 ")
        if c.kind == "village_centre":
            village = town.village(c.village_code)
            assert c.id.endswith("-01")
            assert c.name.endswith("村口" if village.kind == "village" else "社区入口")
            assert village.short_name in c.name
        else:
            assert "主干道" in c.name and "路段" in c.name


def test_cameras_are_deterministic(town: Region, cameras: list[CameraSeed]) -> None:
    assert generate_cameras(town, seed=7) == cameras
    other = generate_cameras(town, seed=8)
    assert [(c.lon, c.lat) for c in other] != [(c.lon, c.lat) for c in cameras]
