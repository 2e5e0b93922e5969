"""The part of the world the simulator acts in: grids, villages and the people who walk them.

Two ways to get it. In process, read it from the database the server uses (``world_from_db``).
Against a remote server, regenerate the demo region from its scale and seed
(``world_from_seed``): the generator is deterministic, so the same scale and seed give the same
grids and worker ids as the server's ``python run.py seed`` did; ``World.restrict_to`` then
keeps only the villages the server really has (``GET /api/v1/villages``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from dashboard.domain.regions import Grid, Village
from dashboard.domain.roles import WorkerRole
from dashboard.seed.people import WorkerSeed
from dashboard.services.regions import load_units
from dashboard.storage.db import Database
from dashboard.storage.models import GridWorker


class WorldError(Exception):
    """The simulator has nothing to act in (no region seeded, or none shared with the server)."""


@dataclass(frozen=True)
class World:
    grids: tuple[Grid, ...]  # sorted by code
    villages: tuple[Village, ...]  # sorted by code
    workers: tuple[WorkerSeed, ...]  # sorted by id
    _grids: dict[str, Grid] = field(init=False, repr=False, compare=False)
    _villages: dict[str, Village] = field(init=False, repr=False, compare=False)
    _staff: dict[str, tuple[WorkerSeed, ...]] = field(init=False, repr=False, compare=False)
    _by_village: dict[str, tuple[Grid, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.grids or not self.workers:
            raise WorldError("the region has no grids or no grid workers: seed it first")
        staff: dict[str, list[WorkerSeed]] = {}
        for w in self.workers:
            staff.setdefault(w.grid_code, []).append(w)
        by_village: dict[str, list[Grid]] = {}
        for g in self.grids:
            by_village.setdefault(g.village_code, []).append(g)
        object.__setattr__(self, "_grids", {g.code: g for g in self.grids})
        object.__setattr__(self, "_villages", {v.code: v for v in self.villages})
        object.__setattr__(self, "_staff", {k: tuple(v) for k, v in staff.items()})
        object.__setattr__(self, "_by_village", {k: tuple(v) for k, v in by_village.items()})

    def grid(self, code: str) -> Grid:
        return self._grids[code]

    def village(self, code: str) -> Village:
        return self._villages[code]

    def grids_of(self, village_code: str) -> tuple[Grid, ...]:
        return self._by_village.get(village_code, ())

    def staff_of(self, grid_code: str) -> tuple[WorkerSeed, ...]:
        """The people of a grid; the grid workers (网格员) first, who patrol and report most."""
        people = self._staff.get(grid_code, ())
        return tuple(sorted(people, key=lambda w: w.role is not WorkerRole.GRID_WORKER))

    def households(self, village_code: str) -> int:
        return sum(g.households for g in self.grids_of(village_code))

    def restrict_to(self, village_codes: Collection[str]) -> World:
        """The part of this world inside the given villages (those a server really holds)."""
        keep = set(village_codes)
        return World(
            tuple(g for g in self.grids if g.village_code in keep),
            tuple(v for v in self.villages if v.code in keep),
            tuple(w for w in self.workers if w.village_code in keep),
        )


def make_world(
    grids: Sequence[Grid], villages: Sequence[Village], workers: Sequence[WorkerSeed]
) -> World:
    return World(
        tuple(sorted(grids, key=lambda g: g.code)),
        tuple(sorted(villages, key=lambda v: v.code)),
        tuple(sorted(workers, key=lambda w: w.id)),
    )


def world_from_db(db: Database) -> World:
    """The seeded region and its active workforce, as the server stores them."""
    with db.read() as session:
        grids, villages = load_units(session)
        workers = [
            WorkerSeed(
                id=w.id,
                name=w.name,
                phone=w.phone,
                role=WorkerRole(w.role),
                grid_code=w.grid_code,
                village_code=w.village_code,
                home_lon=w.home_lon,
                home_lat=w.home_lat,
            )
            for w in session.scalars(select(GridWorker).where(GridWorker.active.is_(True)))
        ]
    return make_world(grids, villages, workers)


def world_from_seed(scale: str, seed: int) -> World:
    """The demo region ``python run.py seed --scale SCALE --seed SEED`` writes, regenerated."""
    from dashboard.seed.geography import generate_region, load_shaoxing
    from dashboard.seed.people import generate_workers

    region = generate_region(scale, seed, source=load_shaoxing())  # type: ignore[arg-type]
    return make_world(region.grids, region.villages, generate_workers(region, seed))
