"""Synthetic people for the demo: village contacts and the "1+1+N+N" of every village.

DOMAIN.md: per village one grid leader (网格长), one grid manager (网格管理员), N grid workers
(网格员) and N information collectors (信息采集员). We give every grid one or two grid workers
(half of the grids two) and every village three to six collectors, spread over its grids. That
lands near both published figures: Yangxunqiao, 87 grids and 348 workers (the town scale gives
~90 grids and ~340), and Shaoxing, 8,436 grids and 26,059 workers (the city scale ~26,700).

The grid leader of a village is its contact person (the one the supervisors phone when the
village turns red), so a leader's name and phone are the village's ``contact_name`` and
``contact_phone``. Names are plausible, not real: a surname weighted towards those common in
Shaoxing, and a one- or two-character given name. Mobile numbers use real 13x/15x/18x prefixes;
none is meant to reach anybody. Everything is deterministic in ``seed``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import shapely  # type: ignore[import-untyped]

from dashboard.domain.regions import Grid, Region, Village
from dashboard.domain.roles import WorkerRole

__all__ = [
    "WorkerSeed",
    "chinese_name",
    "generate_workers",
    "mobile_number",
    "random_point_in",
]

# Common surnames, weighted: the national top ones plus those frequent around Shaoxing/Zhuji.
_SURNAMES = (
    ("陈", 9), ("王", 8), ("张", 6), ("李", 6), ("周", 5), ("徐", 5), ("金", 4), ("楼", 3),
    ("赵", 3), ("何", 3), ("吴", 3), ("杨", 3), ("黄", 3), ("朱", 3), ("孙", 2), ("胡", 2),
    ("钱", 2), ("沈", 2), ("俞", 2), ("骆", 2), ("宣", 1), ("寿", 1), ("郦", 1), ("蒋", 2),
    ("郭", 1), ("马", 1), ("刘", 2), ("章", 2), ("方", 1), ("冯", 1), ("许", 1), ("潘", 1),
    ("宋", 1), ("丁", 1), ("叶", 1), ("邵", 1), ("应", 1), ("袁", 1), ("姚", 1), ("魏", 1),
)  # fmt: skip
_GIVEN_FIRST = "建国志海晓立永振宏伟春秋小美秀玉红丽雪文明德荣金林锦家俊佳子浩宇欣婷国利亚"
_GIVEN_SECOND = "华国强明平军英芳燕红东伟荣林峰辉杰涛斌兰萍娟霞敏琴洁龙飞良生根法庆新民军芬"
_MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *(f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)),
    *(f"18{d}" for d in range(10)),
)
_SURNAME_CHARS = tuple(s for s, _ in _SURNAMES)
_SURNAME_WEIGHTS = tuple(w for _, w in _SURNAMES)

COLLECTORS_PER_VILLAGE = (3, 6)
SECOND_WORKER_PROBABILITY = 0.5


@dataclass(frozen=True)
class WorkerSeed:
    id: str  # "W" + village code + "-" + 2-digit sequence in the village, e.g. W330681109002-01
    name: str
    phone: str
    role: WorkerRole
    grid_code: str
    village_code: str
    home_lon: float  # a point inside their grid (WGS-84)
    home_lat: float


def chinese_name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAME_CHARS, weights=_SURNAME_WEIGHTS)[0]
    if rng.random() < 0.3:
        return surname + rng.choice(_GIVEN_SECOND)
    return surname + rng.choice(_GIVEN_FIRST) + rng.choice(_GIVEN_SECOND)


def mobile_number(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a 13x/15x/18x prefix."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def random_point_in(polygon: object, rng: random.Random) -> tuple[float, float]:
    """A uniform point strictly inside ``polygon`` (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = shapely.bounds(polygon).tolist()
    for _ in range(10_000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(polygon, x, y):
            return x, y
    point = shapely.point_on_surface(polygon)  # a sliver: give up on uniformity, stay inside
    return float(shapely.get_x(point)), float(shapely.get_y(point))


def generate_workers(region: Region, seed: int = 7) -> list[WorkerSeed]:
    """The grid workforce of ``region``, village by village in code order."""
    used_phones = {v.contact_phone for v in region.villages}
    workers: list[WorkerSeed] = []
    for village in sorted(region.villages, key=lambda v: v.code):
        rng = random.Random(f"workers:{seed}:{village.code}")
        grids = sorted(region.grids_of(village.code), key=lambda g: g.code)
        if grids:
            workers.extend(_village_workers(village, grids, rng, used_phones))
    return workers


def _village_workers(
    village: Village, grids: list[Grid], rng: random.Random, used_phones: set[str]
) -> list[WorkerSeed]:
    # (role, grid, name, phone); the leader is the village contact and sits in grid 001.
    staff: list[tuple[WorkerRole, Grid, str | None, str | None]] = [
        (WorkerRole.GRID_LEADER, grids[0], village.contact_name, village.contact_phone),
        (WorkerRole.GRID_MANAGER, grids[0], None, None),
    ]
    for grid in grids:
        n = 2 if rng.random() < SECOND_WORKER_PROBABILITY else 1
        staff += [(WorkerRole.GRID_WORKER, grid, None, None)] * n
    collectors = rng.randint(*COLLECTORS_PER_VILLAGE)
    staff += [
        (WorkerRole.INFORMATION_COLLECTOR, grids[i % len(grids)], None, None)
        for i in range(collectors)
    ]

    result = []
    for number, (role, grid, name, phone) in enumerate(staff, start=1):
        if phone is None:
            phone = _unique_phone(rng, used_phones)
        lon, lat = random_point_in(grid.polygon, rng)
        result.append(
            WorkerSeed(
                id=f"W{village.code}-{number:02d}",
                name=name or chinese_name(rng),
                phone=phone,
                role=role,
                grid_code=grid.code,
                village_code=village.code,
                home_lon=lon,
                home_lat=lat,
            )
        )
    return result


def _unique_phone(rng: random.Random, used: set[str]) -> str:
    while (phone := mobile_number(rng)) in used:
        pass
    used.add(phone)
    return phone
