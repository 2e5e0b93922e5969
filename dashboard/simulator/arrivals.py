"""New cases: when they arrive and what they say.

The same rhythm as the seeded history (``dashboard.seed.rhythm``): reports follow the hour of
the day (quiet nights, peaks at 10:00 and 15:00, fewer at weekends), come mostly from grid
workers, some from the 12345 hotline, the public app, cameras and 110, fall into the same
category mix and read the same. ``rate_multiplier`` makes a demo livelier than real life.

One-click emergencies follow a clock of their own (the first a couple of minutes after the
start, so the wall's alarm is seen, then rarely), since multiplying their real 0.3 % share would
sound the alarm every few minutes.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.categories import CategoryTree, SubCategory
from dashboard.domain.regions import Grid
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.seed.people import WorkerSeed, random_point_in
from dashboard.seed.rhythm import (
    SOURCE_WEIGHTS,
    caller,
    category_cum_weights,
    describe,
    hour_arrivals,
)
from dashboard.simulator.client import Report
from dashboard.simulator.world import World

# (category, what the one-click report says): fire, mass dispute, serious traffic accident.
EMERGENCIES = (
    ("04001", "一键报警：{place}发生火情，现场浓烟，消防通道被堵，请求立即支援！"),
    ("01005", "一键报警：{place}大量群众聚集，情绪激动，有冲突苗头，请求立即处置！"),
    ("03004", "一键报警：{place}发生严重交通事故，有人员受伤，请求立即处置！"),
)
# Who sends the reports that no grid worker sends (the actor of the API call).
INTEGRATIONS = {
    Source.HOTLINE: "12345热线",
    Source.PUBLIC: "公众端",
    Source.CAMERA: "视频巡查",
    Source.POLICE: "110联动",
}


class Kind(StrEnum):
    ROUTINE = "routine"
    EMERGENCY = "emergency"
    BURST = "burst"  # one of many reports about one thing in one village


@dataclass(frozen=True)
class PlannedReport:
    """A report the simulator will send, with what its story needs to know."""

    at: datetime
    report: Report
    sub: SubCategory
    worker: WorkerSeed  # the grid worker on the spot: verifies, checks, handles it themself
    kind: Kind = Kind.ROUTINE
    duplicate: bool = False  # a burst's report about what an earlier one already reported


class Arrivals:
    def __init__(
        self,
        world: World,
        categories: CategoryTree,
        calendar: WorkingCalendar,
        *,
        per_day: float,
        min_per_hour: float = 0.0,
        seed: int,
        start: datetime,
        first_emergency: timedelta,
        emergency_every: timedelta,
    ) -> None:
        self.world = world
        self.categories = categories
        self.tz = calendar.tz
        self.per_day = per_day
        self.min_per_hour = min_per_hour
        self._times_rng = random.Random(f"arrivals:times:{seed}")
        self._rng = random.Random(f"arrivals:content:{seed}")
        self._emergency_rng = random.Random(f"arrivals:emergency:{seed}")
        self._weights = [g.households for g in world.grids]
        self._subs = categories.subs
        self._sub_cum = category_cum_weights(self._subs)
        routine = {s: w for s, w in SOURCE_WEIGHTS.items() if s is not Source.EMERGENCY}
        self._sources, self._source_weights = list(routine), list(routine.values())
        self._start = start
        self._pending: deque[datetime] = deque()
        self._hour = start.astimezone(self.tz).replace(minute=0, second=0, microsecond=0)
        self._emergency_every = emergency_every
        self.next_emergency = start + first_emergency

    def due(self, now: datetime) -> list[PlannedReport]:
        """The reports made up to ``now``, in time order."""
        while self._hour <= now:
            hour = self._hour
            drawn = hour_arrivals(self._times_rng, self.per_day, hour, self.min_per_hour)
            times = sorted(drawn)
            self._pending.extend(t for t in times if t >= self._start)
            self._hour = hour + timedelta(hours=1)
        planned: list[PlannedReport] = []
        while self._pending and self._pending[0] <= now:
            planned.append(self.routine(self._pending.popleft()))
        while self.next_emergency <= now:
            planned.append(self._emergency(self.next_emergency))
            gap = self._emergency_rng.expovariate(1 / self._emergency_every.total_seconds())
            self.next_emergency += timedelta(seconds=max(gap, 60.0))
        planned.sort(key=lambda p: p.at)
        return planned

    def skip_to(self, now: datetime) -> None:
        """Forget the reports that fell in a long pause of the simulator."""
        while self._pending and self._pending[0] < now:
            self._pending.popleft()
        self._start = max(self._start, now)
        self.next_emergency = max(self.next_emergency, now)

    # --- what a report says ---------------------------------------------------------------

    def _grid(self) -> Grid:
        return self._rng.choices(self.world.grids, weights=self._weights)[0]

    def _worker(self, grid: Grid) -> WorkerSeed:
        staff = self.world.staff_of(grid.code) or self.world.workers
        return staff[0] if len(staff) == 1 else self._rng.choice(staff[:2])

    def _first_worker(self, grid: Grid) -> WorkerSeed:
        return (self.world.staff_of(grid.code) or self.world.workers)[0]

    def routine(self, at: datetime) -> PlannedReport:
        rng = self._rng
        source = rng.choices(self._sources, weights=self._source_weights)[0]
        grid = self._grid()
        lon, lat = random_point_in(grid.polygon, rng)
        sub = rng.choices(self._subs, cum_weights=self._sub_cum)[0]
        worker = self._worker(grid)
        village = self.world.village(grid.village_code)
        by_worker = source is Source.GRID_WORKER
        report = Report(
            category=sub.code,
            description=describe(rng, village.short_name, sub),
            lon=round(lon, 6),
            lat=round(lat, 6),
            source=source,
            actor=worker.id if by_worker else INTEGRATIONS[source],
            role=Role.GRID_WORKER if by_worker else Role.INTEGRATION,
            reporter=worker.id if by_worker else caller(rng, source),
            occurred_at=at - timedelta(minutes=rng.uniform(0, 20 if by_worker else 60)),
        )
        return PlannedReport(at, report, sub, worker)

    def _emergency(self, at: datetime) -> PlannedReport:
        rng = self._emergency_rng
        kinds = [(c, text) for c, text in EMERGENCIES if c in self.categories]
        code, text = rng.choice(kinds) if kinds else (self._subs[0].code, EMERGENCIES[0][1])
        grid = rng.choices(self.world.grids, weights=self._weights)[0]
        lon, lat = random_point_in(grid.polygon, rng)
        worker = self._first_worker(grid)
        village = self.world.village(grid.village_code)
        report = Report(
            category=code,
            description=text.format(place=village.short_name),
            lon=round(lon, 6),
            lat=round(lat, 6),
            source=Source.EMERGENCY,
            actor=worker.id,
            role=Role.GRID_WORKER,
            reporter=worker.id,
            emergency=True,
            occurred_at=at,
        )
        return PlannedReport(at, report, self.categories.get(code), worker, Kind.EMERGENCY)
