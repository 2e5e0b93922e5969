"""Grid workers on patrol: walking their grid during the shift, their phones sending fixes.

Each worker walks from waypoint to waypoint inside their grid (straight legs that stay inside an
inset of the grid polygon, at ~1.2 m/s, with pauses to look around or talk to a household) and
their phone sends a fix every 30-60 s, like the Traccar client, with 5-10 m of GPS noise that
never carries a fix out of the grid. Outside the shift and at lunch the app is off, except for
the workers on night duty. A few phones go silent now and then, and a few workers now and then
wander into a neighbouring grid for a while: the patrol watcher is meant to flag both.

Every worker draws from a random generator of their own, so what one worker does does not
depend on the others, nor on how often the simulator steps.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import shapely  # type: ignore[import-untyped]

from dashboard.config import SimulatorConfig
from dashboard.domain.regions import Grid, Polygonal
from dashboard.seed.people import WorkerSeed, random_point_in
from dashboard.simulator.client import Fix
from dashboard.simulator.world import World

FIX_INTERVAL_S = (30.0, 60.0)  # between two fixes of one phone
WALK_SPEED = (1.0, 1.4)  # m/s
MAX_NOISE_M = 10.0
INSET_M = 20.0  # waypoints and legs keep this far from the grid's edge (more than the noise)
LOCAL_STEP_M = 250.0  # most waypoints are a short walk away
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQUATOR = 111_320.0
SILENCE_MIN = (20.0, 60.0)  # a silent phone: minutes without a fix
SILENCE_EVERY_S = 90 * 60  # mean time between two silences of a flaky phone
WANDER_CHANCE = 0.05  # per leg, for the workers who wander
WANDER_MIN = (10.0, 30.0)  # minutes spent outside the grid


@dataclass(frozen=True)
class Shift:
    """When grid workers patrol: a day shift with a lunch break, in local time."""

    start: time
    end: time
    lunch_start: time
    lunch_end: time
    tz: ZoneInfo

    @classmethod
    def from_config(cls, cfg: SimulatorConfig, tz: ZoneInfo) -> Shift:
        return cls(cfg.shift_start, cfg.shift_end, cfg.lunch_start, cfg.lunch_end, tz)

    def on_duty(self, at: datetime) -> bool:
        t = at.astimezone(self.tz).time()
        return self.start <= t < self.lunch_start or self.lunch_end <= t < self.end

    def next_start(self, at: datetime) -> datetime:
        """The first moment on duty at or after ``at`` (``at`` itself when on duty)."""
        if self.on_duty(at):
            return at
        local = at.astimezone(self.tz)
        t, day = local.time(), local.date()
        if t < self.start:
            return datetime.combine(day, self.start, self.tz)
        if self.lunch_start <= t < self.lunch_end:
            return datetime.combine(day, self.lunch_end, self.tz)
        return datetime.combine(day + timedelta(days=1), self.start, self.tz)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (b[0] - a[0]) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians(a[1]))
    dy = (b[1] - a[1]) * M_PER_DEG_LAT
    return math.hypot(dx, dy)


def offset(p: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    lon = p[0] + east_m / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(p[1])))
    return lon, p[1] + north_m / M_PER_DEG_LAT


def walking_area(polygon: Polygonal) -> Polygonal:
    """The grid shrunk by ``INSET_M`` (its largest piece), or the grid itself when too thin."""
    inset = polygon.buffer(-INSET_M / M_PER_DEG_LAT)
    if inset.geom_type == "MultiPolygon":
        inset = max(inset.geoms, key=lambda g: g.area)
    if inset.is_empty or inset.area < 0.1 * polygon.area:
        inset = polygon
    shapely.prepare(inset)
    return inset


@dataclass
class _Leg:
    start: datetime
    end: datetime
    origin: tuple[float, float]
    target: tuple[float, float]

    def at(self, t: datetime) -> tuple[float, float]:
        share = (t - self.start) / (self.end - self.start)
        return (
            self.origin[0] + (self.target[0] - self.origin[0]) * share,
            self.origin[1] + (self.target[1] - self.origin[1]) * share,
        )


class Walker:
    """One grid worker and their phone."""

    def __init__(
        self,
        worker: WorkerSeed,
        grid: Grid,
        places: _Places,
        shift: Shift,
        cfg: SimulatorConfig,
        seed: int,
        start: datetime,
    ) -> None:
        self.worker = worker
        self.grid = grid
        self.shift = shift
        self.rng = rng = random.Random(f"patrol:{seed}:{worker.id}")
        self.night_duty = rng.random() < cfg.night_duty_share
        self.flaky = rng.random() < cfg.silent_share
        self.wanderer = rng.random() < cfg.wander_share and places.has_neighbours(grid)
        self._places = places
        self._home_area = places.area(grid)
        self._area = self._home_area
        self.pos = (worker.home_lon, worker.home_lat)
        if not shapely.contains_xy(self._area, *self.pos):
            self.pos = random_point_in(self._area, rng)
        self._leg: _Leg | None = None
        self._pause_until: datetime | None = None
        self._silent_until: datetime | None = None
        self._away_until: datetime | None = None
        self.next_fix = start + timedelta(seconds=rng.uniform(0, FIX_INTERVAL_S[1]))

    @property
    def away(self) -> bool:
        """Walking outside their own grid right now."""
        return self._away_until is not None

    def on_duty(self, at: datetime) -> bool:
        return self.night_duty or self.shift.on_duty(at)

    def fixes_until(self, now: datetime) -> list[Fix]:
        fixes: list[Fix] = []
        while self.next_fix <= now:
            at = self.next_fix
            if not self.on_duty(at):
                self._leg = self._pause_until = None  # the app is off; walk on from here later
                later = self.shift.next_start(at)
                self.next_fix = later + timedelta(seconds=self.rng.uniform(0, 120))
                continue
            fix = self._fix_at(at)
            if fix is not None:
                fixes.append(fix)
            self.next_fix = at + timedelta(seconds=self.rng.uniform(*FIX_INTERVAL_S))
        return fixes

    def skip_to(self, now: datetime) -> None:
        """Resume at ``now`` after a long pause of the simulator (no backlog of fixes)."""
        self._leg = self._pause_until = None
        self.next_fix = now + timedelta(seconds=self.rng.uniform(0, FIX_INTERVAL_S[1]))

    # --- one fix ------------------------------------------------------------------------

    def _fix_at(self, at: datetime) -> Fix | None:
        true = self._position(at)
        if self.flaky and self._silent(at):
            return None
        accuracy = round(self.rng.uniform(5.0, MAX_NOISE_M), 1)
        east, north = self.rng.gauss(0, accuracy / 2), self.rng.gauss(0, accuracy / 2)
        scale = min(1.0, accuracy / max(math.hypot(east, north), 1e-9))
        lon, lat = offset(true, east * scale, north * scale)
        lon, lat = round(lon, 6), round(lat, 6)
        if not self.away and not shapely.contains_xy(self.grid.polygon, lon, lat):
            lon, lat = round(true[0], 6), round(true[1], 6)  # noise never leaves the grid
        return Fix(self.worker.id, lon, lat, at, accuracy)

    def _silent(self, at: datetime) -> bool:
        if self._silent_until is not None and at < self._silent_until:
            return True
        self._silent_until = None
        if self.rng.random() < sum(FIX_INTERVAL_S) / 2 / SILENCE_EVERY_S:
            self._silent_until = at + timedelta(minutes=self.rng.uniform(*SILENCE_MIN))
            return True
        return False

    # --- walking ------------------------------------------------------------------------

    def _position(self, t: datetime) -> tuple[float, float]:
        """Walk the plan forward to ``t``: legs, then pauses, then new legs."""
        while True:
            if self._leg is not None:
                if t < self._leg.end:
                    return self._leg.at(t)
                self.pos, arrived = self._leg.target, self._leg.end
                self._leg = None
                self._pause_until = arrived + self._pause()
            if self._pause_until is not None and t < self._pause_until:
                return self.pos
            self._leg = self._next_leg(self._pause_until or t)
            self._pause_until = None

    def _pause(self) -> timedelta:
        if self.rng.random() < 0.2:  # a household visit, a chat at the shop
            return timedelta(minutes=self.rng.uniform(3, 10))
        return timedelta(seconds=self.rng.uniform(20, 120))

    def _next_leg(self, start: datetime) -> _Leg:
        self._choose_area(start)
        target = self._waypoint()
        distance = metres(self.pos, target)
        seconds = max(1.0, distance / self.rng.uniform(*WALK_SPEED))
        return _Leg(start, start + timedelta(seconds=seconds), self.pos, target)

    def _choose_area(self, start: datetime) -> None:
        if self._away_until is not None and start >= self._away_until:
            self._away_until, self._area = None, self._home_area  # back home
        elif self.wanderer and self._away_until is None and self.rng.random() < WANDER_CHANCE:
            elsewhere = self.rng.choice(self._places.neighbours(self.grid))
            self._area = self._places.area(elsewhere)
            self._away_until = start + timedelta(minutes=self.rng.uniform(*WANDER_MIN))

    def _waypoint(self) -> tuple[float, float]:
        """A point whose straight path from here stays inside the walking area."""
        here_inside = shapely.contains_xy(self._area, *self.pos)
        for _ in range(12):
            if here_inside and self.rng.random() < 0.6:
                angle = self.rng.uniform(0, 2 * math.pi)
                reach = self.rng.uniform(30, LOCAL_STEP_M)
                target = offset(self.pos, reach * math.cos(angle), reach * math.sin(angle))
            else:
                target = random_point_in(self._area, self.rng)
            if not here_inside:
                return target  # leaving or coming back across the boundary: a straight line
            path = shapely.LineString([self.pos, target])
            if shapely.contains(self._area, path):
                return target
        return self.pos  # boxed into a corner: stand a while, try again after the pause


class _Places:
    """Walking areas and neighbouring grids, computed once per grid and shared by its workers."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._areas: dict[str, Polygonal] = {}
        self._neighbours: dict[str, tuple[Grid, ...]] = {}

    def area(self, grid: Grid) -> Polygonal:
        if grid.code not in self._areas:
            shapely.prepare(grid.polygon)
            self._areas[grid.code] = walking_area(grid.polygon)
        return self._areas[grid.code]

    def has_neighbours(self, grid: Grid) -> bool:
        return len(self._world.grids) > 1

    def neighbours(self, grid: Grid, n: int = 3) -> tuple[Grid, ...]:
        """The grids next door: the other grids of the village, else the nearest few."""
        if grid.code not in self._neighbours:
            world = self._world
            near = [g for g in world.grids_of(grid.village_code) if g.code != grid.code]
            if not near:
                others = [g for g in world.grids if g.code != grid.code]
                near = sorted(others, key=lambda g: metres(grid.centroid, g.centroid))[:n]
            self._neighbours[grid.code] = tuple(near)
        return self._neighbours[grid.code]


class Patrol:
    """Every walking worker; ``due(now)`` gives the fixes their phones sent up to ``now``."""

    def __init__(
        self,
        world: World,
        workers: Sequence[WorkerSeed],
        shift: Shift,
        cfg: SimulatorConfig,
        seed: int,
        start: datetime,
    ) -> None:
        places = _Places(world)
        self.walkers = {
            w.id: Walker(w, world.grid(w.grid_code), places, shift, cfg, seed, start)
            for w in workers
        }
        self._queue = [(walker.next_fix, wid) for wid, walker in self.walkers.items()]
        heapq.heapify(self._queue)

    def due(self, now: datetime) -> list[Fix]:
        fixes: list[Fix] = []
        while self._queue and self._queue[0][0] <= now:
            _, wid = heapq.heappop(self._queue)
            walker = self.walkers[wid]
            fixes.extend(walker.fixes_until(now))
            heapq.heappush(self._queue, (walker.next_fix, wid))
        fixes.sort(key=lambda f: (f.at, f.worker))
        return fixes

    def skip_to(self, now: datetime) -> None:
        for walker in self.walkers.values():
            walker.skip_to(now)
        self._queue = [(walker.next_fix, wid) for wid, walker in self.walkers.items()]
        heapq.heapify(self._queue)
