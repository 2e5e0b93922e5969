"""Patrol analysis over a worker's trusted fixes: stops, the summary, household coverage,
silent and out-of-grid episodes, and where everyone was at one moment.

Definitions (docs/tracks.md; the replay page, the statistics endpoint and the tests share them):

- the fixes are a worker's *trusted* fixes (``valid``) in time order;
- an **interval** is the time between two consecutive fixes. One longer than ``silent`` is a
  **silent episode**: it counts neither as patrol time nor as distance. Every other interval is
  **time on patrol**, attributed to where it starts: inside the worker's own grid or outside,
  and stopped (inside a stop) or moving;
- **distance** is the great-circle length of the non-silent intervals;
- a **stop**: from a fix, the following fixes all stay within ``radius_m`` of it for at least
  ``min_duration``; the stop ends at the last such fix (the next search starts after it);
- **household coverage**: the share of the grid's household points within ``radius_m`` of some
  trusted fix. The seed stores only a household *count* per grid, so the points are generated
  from the grid's code (``household_points``: the same points for everyone, every time);
- an **out-of-grid episode**: consecutive non-silent intervals outside the own grid.

Pure: no clock, no database.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

import numpy as np
import shapely  # type: ignore[import-untyped]

from dashboard.domain.geo import EARTH_RADIUS_M, haversine_m
from dashboard.domain.regions import Polygonal


@dataclass(frozen=True, slots=True)
class TrackPoint:
    at: datetime
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Stop:
    start: datetime
    end: datetime
    lon: float
    lat: float

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Episode:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class PatrolSummary:
    distance_m: float
    patrol_s: float  # time on patrol (non-silent intervals)
    moving_s: float
    stopped_s: float
    inside_s: float
    outside_s: float
    stops: tuple[Stop, ...]
    silent: tuple[Episode, ...]
    outside: tuple[Episode, ...]

    @property
    def inside_share(self) -> float | None:
        return None if self.patrol_s <= 0 else self.inside_s / self.patrol_s

    def as_json(self) -> dict[str, object]:
        return {
            "distance_m": round(self.distance_m, 1),
            "patrol_s": round(self.patrol_s),
            "moving_s": round(self.moving_s),
            "stopped_s": round(self.stopped_s),
            "inside_s": round(self.inside_s),
            "outside_s": round(self.outside_s),
            "inside_share": None if self.inside_share is None else round(self.inside_share, 4),
            "stops": [
                {
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat(),
                    "lon": s.lon,
                    "lat": s.lat,
                    "seconds": round(s.seconds),
                }
                for s in self.stops
            ],
            "silent": [_episode_json(e) for e in self.silent],
            "outside": [_episode_json(e) for e in self.outside],
        }


def _episode_json(e: Episode) -> dict[str, object]:
    return {"start": e.start.isoformat(), "end": e.end.isoformat(), "seconds": round(e.seconds)}


STOP_RESOLUTION_S = 10.0


def _thinned(points: Sequence[TrackPoint], seconds: float) -> Sequence[TrackPoint]:
    """At most one fix per ``seconds`` (the first of each run), the last fix always kept."""
    if len(points) < 3:
        return points
    kept = [points[0]]
    for p in points[1:-1]:
        if (p.at - kept[-1].at).total_seconds() >= seconds:
            kept.append(p)
    kept.append(points[-1])
    return kept


def find_stops(
    points: Sequence[TrackPoint],
    radius_m: float,
    min_duration: timedelta,
    max_gap: timedelta | None = None,
) -> list[Stop]:
    """Stops of a time-ordered track; a gap longer than ``max_gap`` (a silent episode) ends one.

    Vectorised: from each anchor, the fixes up to ``min_duration`` later are checked at once
    (a 10-hour track at one fix a second in well under a second)."""
    # A stop lasts minutes: one fix per STOP_RESOLUTION_S is enough to find it (a track at one
    # fix a second is thinned tenfold; the stop's ends are then exact to that resolution).
    points = _thinned(points, STOP_RESOLUTION_S)
    n = len(points)
    if n < 2:
        return []
    t = np.array([p.at.timestamp() for p in points])
    lat0 = math.radians(points[0].lat)
    scale = math.radians(1) * EARTH_RADIUS_M
    x = np.array([p.lon for p in points]) * scale * math.cos(lat0)
    y = np.array([p.lat for p in points]) * scale
    gaps = np.diff(t) > (max_gap.total_seconds() if max_gap is not None else math.inf)
    need = min_duration.total_seconds()
    r2 = radius_m * radius_m
    stops: list[Stop] = []
    i = 0
    while i < n - 1:
        reach = int(np.searchsorted(t, t[i] + need, side="left"))
        if reach >= n:
            break  # not enough track left for a stop
        window = slice(i + 1, reach + 1)
        near = (x[window] - x[i]) ** 2 + (y[window] - y[i]) ** 2 <= r2
        if not near.all() or gaps[i:reach].any():
            i += 1
            continue
        j = reach + 1
        while j < n and not gaps[j - 1] and (x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2 <= r2:
            j += 1
        members = points[i:j]
        lon = sum(p.lon for p in members) / len(members)
        lat = sum(p.lat for p in members) / len(members)
        stops.append(Stop(points[i].at, points[j - 1].at, lon, lat))
        i = j
    return stops


def summarize(
    points: Sequence[TrackPoint],
    inside: Callable[[float, float], bool],
    *,
    silent: timedelta,
    stop_radius_m: float,
    stop_duration: timedelta,
) -> PatrolSummary:
    """The summary of one worker's trusted, time-ordered fixes (``inside``: the own grid)."""
    stops = find_stops(points, stop_radius_m, stop_duration, silent)
    distance = patrol = moving = stopped = inside_s = 0.0
    silent_eps: list[Episode] = []
    outside_eps: list[Episode] = []
    open_outside: datetime | None = None
    stop_i = 0
    for a, b in pairwise(points):
        dt = (b.at - a.at).total_seconds()
        if b.at - a.at > silent:
            silent_eps.append(Episode(a.at, b.at))
            if open_outside is not None:
                outside_eps.append(Episode(open_outside, a.at))
                open_outside = None
            continue
        distance += haversine_m(a.lon, a.lat, b.lon, b.lat)
        patrol += dt
        while stop_i < len(stops) and stops[stop_i].end <= a.at:
            stop_i += 1
        in_stop = stop_i < len(stops) and stops[stop_i].start <= a.at and b.at <= stops[stop_i].end
        if in_stop:
            stopped += dt
        else:
            moving += dt
        if inside(a.lon, a.lat):
            inside_s += dt
            if open_outside is not None:
                outside_eps.append(Episode(open_outside, a.at))
                open_outside = None
        elif open_outside is None:
            open_outside = a.at
    if open_outside is not None and points:
        outside_eps.append(Episode(open_outside, points[-1].at))
    return PatrolSummary(
        distance_m=distance,
        patrol_s=patrol,
        moving_s=moving,
        stopped_s=stopped,
        inside_s=inside_s,
        outside_s=patrol - inside_s,
        stops=tuple(stops),
        silent=tuple(silent_eps),
        outside=tuple(outside_eps),
    )


def household_points(grid_code: str, polygon: Polygonal, count: int) -> list[tuple[float, float]]:
    """``count`` household points inside the grid, the same for the same grid every time."""
    if count <= 0:
        return []
    seed = int.from_bytes(hashlib.sha256(grid_code.encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    west, south, east, north = polygon.bounds
    found: list[tuple[float, float]] = []
    for _ in range(50):  # rejection sampling; a grid fills its box well, so a few rounds do
        lons = rng.uniform(west, east, count * 2)
        lats = rng.uniform(south, north, count * 2)
        keep = shapely.contains_xy(polygon, lons, lats)
        found += list(zip(lons[keep].tolist(), lats[keep].tolist(), strict=True))
        if len(found) >= count:
            break
    return found[:count]


def coverage(
    households: Sequence[tuple[float, float]],
    points: Sequence[TrackPoint],
    radius_m: float,
) -> float | None:
    """Share of ``households`` within ``radius_m`` of a fix (None without households)."""
    if not households:
        return None
    if not points:
        return 0.0
    lat0 = math.radians(households[0][1])
    scale = math.radians(1) * EARTH_RADIUS_M
    hx = np.array([h[0] for h in households]) * scale * math.cos(lat0)
    hy = np.array([h[1] for h in households]) * scale
    px = np.array([p.lon for p in points]) * scale * math.cos(lat0)
    py = np.array([p.lat for p in points]) * scale
    covered = np.zeros(len(households), dtype=bool)
    for start in range(0, len(points), 512):  # bounded memory: households × 512 at a time
        dx = hx[:, None] - px[None, start : start + 512]
        dy = hy[:, None] - py[None, start : start + 512]
        covered |= ((dx * dx + dy * dy) <= radius_m * radius_m).any(axis=1)
    return float(covered.mean())


def position_at(points: Sequence[TrackPoint], moment: datetime) -> TrackPoint | None:
    """The last fix at or before ``moment`` (the replay's dot), None before the first."""
    lo, hi = 0, len(points)
    while lo < hi:
        mid = (lo + hi) // 2
        if points[mid].at <= moment:
            lo = mid + 1
        else:
            hi = mid
    return points[lo - 1] if lo else None
