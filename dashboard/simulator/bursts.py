"""Bursts: many reports about one thing in one village, until the village turns red.

A factory's fumes, a night of noise, a rubbish heap by the river: the hotline rings again and
again and the public app fills up, all about one spot. Such a wave is what turns a village red
on the wall (≥ 80 % of its cases in the window open), and the demo must show a red village
within minutes, so a burst keeps sending small batches of reports and watches the village's
light, stopping as soon as it is red (or after ``burst_max_cases``).

Every report of a wave after the first is a duplicate: the desk voids it within minutes (重复上报,
the first report carries the case), so the village recovers as fast as it turned red. Waves go
to a village well below the red line (``CALM_RATIO``), so voiding the duplicates brings it back.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import shapely  # type: ignore[import-untyped]

from dashboard.domain.categories import CategoryTree, SubCategory
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.seed.people import random_point_in
from dashboard.seed.rhythm import caller, describe
from dashboard.simulator.arrivals import INTEGRATIONS, Kind, PlannedReport
from dashboard.simulator.client import Report, VillageInfo
from dashboard.simulator.patrol import offset
from dashboard.simulator.world import World

THEMES = ("05004", "05002", "10001", "10003", "05003")  # noise, fumes, rubbish, clutter, burning
BATCH = 6  # reports per batch
BATCH_EVERY = timedelta(seconds=20)
SPREAD_M = 150.0  # the reports come from around one spot
SOURCES = (Source.HOTLINE, Source.PUBLIC, Source.HOTLINE, Source.GRID_WORKER)
CALM_RATIO = 0.62  # a wave picks a village below this open ratio (it leaves red below 0.7)

Villages = Callable[[], list[VillageInfo]]


@dataclass
class _Wave:
    village: str
    sub: SubCategory
    spot: tuple[float, float]
    sent: int = 0
    next_batch: datetime | None = None


class Bursts:
    def __init__(
        self,
        world: World,
        categories: CategoryTree,
        *,
        seed: int,
        start: datetime,
        first: timedelta,
        every: timedelta,
        max_cases: int,
    ) -> None:
        self.world = world
        self._rng = random.Random(f"bursts:{seed}")
        self._themes = [categories.get(c) for c in THEMES if c in categories] or [
            categories.subs[0]
        ]
        self._every = every
        self._max = max_cases
        self.next_start = start + first
        self.wave: _Wave | None = None
        self.finished: list[tuple[str, int, bool]] = []  # (village, reports sent, turned red)

    def due(self, now: datetime, villages: Villages) -> list[PlannedReport]:
        """The next batch of the current wave, if one is due (asks for the lights as needed)."""
        if self.wave is None:
            if now < self.next_start:
                return []
            self.wave = self._begin(villages())
        wave = self.wave
        if wave.next_batch is not None and now < wave.next_batch:
            return []
        if wave.sent:
            red = any(v.code == wave.village and v.status == "red" for v in villages())
            if red or wave.sent >= self._max:
                self._end(now, red)
                return []
        count = min(BATCH, self._max - wave.sent)
        wave.sent += count
        wave.next_batch = now + BATCH_EVERY
        first = wave.sent == count
        return [self._report(wave, now, duplicate=not first or i > 0) for i in range(count)]

    def skip_to(self, now: datetime) -> None:
        if self.wave is None:
            self.next_start = max(self.next_start, now)

    def _begin(self, lights: list[VillageInfo]) -> _Wave:
        """Pick the calm village closest to red (open ratio high), the smallest on a tie."""
        known = {v.code: v for v in lights}

        def calm(code: str) -> bool:
            light = known.get(code, VillageInfo(code, "ok"))
            return light.status != "red" and (light.open_ratio or 0.0) < CALM_RATIO

        candidates = (
            [v for v in self.world.villages if calm(v.code)]
            or [
                v
                for v in self.world.villages
                if known.get(v.code, VillageInfo(v.code, "ok")).status != "red"
            ]
            or list(self.world.villages)
        )

        def closeness(code: str) -> tuple[float, int]:
            ratio = known[code].open_ratio if code in known else None
            return (-(0.5 if ratio is None else ratio), self.world.households(code))

        target = min(candidates, key=lambda v: closeness(v.code))
        grids = self.world.grids_of(target.code)
        grid = self._rng.choice(grids)
        spot = random_point_in(grid.polygon, self._rng)
        return _Wave(target.code, self._rng.choice(self._themes), spot)

    def _end(self, now: datetime, red: bool) -> None:
        assert self.wave is not None
        self.finished.append((self.wave.village, self.wave.sent, red))
        self.wave = None
        gap = self._rng.expovariate(1 / self._every.total_seconds())
        self.next_start = now + timedelta(seconds=max(gap, 600.0))

    def _report(self, wave: _Wave, at: datetime, *, duplicate: bool) -> PlannedReport:
        rng = self._rng
        village = self.world.village(wave.village)
        lon, lat = self._near(wave)
        grid = self.world.grids_of(wave.village)[0]
        worker = (self.world.staff_of(grid.code) or self.world.workers)[0]
        source = rng.choice(SOURCES)
        by_worker = source is Source.GRID_WORKER
        report = Report(
            category=wave.sub.code,
            description=describe(rng, village.short_name, wave.sub),
            lon=lon,
            lat=lat,
            source=source,
            actor=worker.id if by_worker else INTEGRATIONS[source],
            role=Role.GRID_WORKER if by_worker else Role.INTEGRATION,
            reporter=worker.id if by_worker else caller(rng, source),
            occurred_at=at - timedelta(minutes=rng.uniform(0, 30)),
        )
        return PlannedReport(at, report, wave.sub, worker, Kind.BURST, duplicate)

    def _near(self, wave: _Wave) -> tuple[float, float]:
        """A point around the wave's spot that is still in the village (else the spot)."""
        angle, reach = self._rng.uniform(0, 2 * math.pi), self._rng.uniform(0, SPREAD_M)
        lon, lat = offset(wave.spot, reach * math.cos(angle), reach * math.sin(angle))
        village = self.world.village(wave.village)
        if shapely.contains_xy(village.polygon, lon, lat):
            return round(lon, 6), round(lat, 6)
        return round(wave.spot[0], 6), round(wave.spot[1], 6)
