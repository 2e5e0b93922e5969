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
from datetime import UTC, datetime, timedelta
from typing import overload

import numpy as np
import shapely  # type: ignore[import-untyped]

from dashboard.domain.geo import EARTH_RADIUS_M
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


class _Moments(Sequence[datetime]):
    """Epoch seconds read as aware UTC datetimes, one when asked (exact to the microsecond)."""

    def __init__(self, t: np.ndarray) -> None:
        self._t = t

    def __len__(self) -> int:
        return len(self._t)

    @overload
    def __getitem__(self, i: int) -> datetime: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[datetime]: ...
    def __getitem__(self, i: int | slice) -> datetime | Sequence[datetime]:
        if isinstance(i, slice):
            return [datetime.fromtimestamp(x, UTC) for x in self._t[i].tolist()]
        return datetime.fromtimestamp(float(self._t[i]), UTC)


@dataclass(frozen=True)
class Track:
    """A worker's trusted fixes in time order, as columns: epoch seconds ``t``, longitudes and
    latitudes (``at``: the times as datetimes, made one at a time). The analysis below is
    vectorised over these (a 10-hour track at one fix a second in tens of milliseconds)."""

    t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    @property
    def at(self) -> Sequence[datetime]:
        return _Moments(self.t)

    @classmethod
    def of(cls, points: Sequence[TrackPoint]) -> Track:
        return cls.columns([p.at for p in points], [p.lon for p in points], [p.lat for p in points])

    @classmethod
    def columns(cls, at: Sequence[datetime], lon: Sequence[float], lat: Sequence[float]) -> Track:
        return cls(
            np.fromiter((a.timestamp() for a in at), dtype=float, count=len(at)),
            np.asarray(lon, dtype=float),
            np.asarray(lat, dtype=float),
        )

    def __len__(self) -> int:
        return len(self.t)


def _thinned_index(t: np.ndarray, seconds: float) -> np.ndarray:
    """Indices of at most one fix per ``seconds`` (the first of each run), the last always."""
    n = len(t)
    if n < 3:
        return np.arange(n)
    kept = [0]
    last = float(t[0])
    for i, ti in enumerate(t[1:-1].tolist(), start=1):
        if ti - last >= seconds:
            kept.append(i)
            last = ti
    kept.append(n - 1)
    return np.array(kept)


def find_stops(
    points: Sequence[TrackPoint] | Track,
    radius_m: float,
    min_duration: timedelta,
    max_gap: timedelta | None = None,
) -> list[Stop]:
    """Stops of a time-ordered track; a gap longer than ``max_gap`` (a silent episode) ends one.

    Vectorised: from each anchor, the fixes up to ``min_duration`` later are checked at once."""
    track = points if isinstance(points, Track) else Track.of(points)
    # A stop lasts minutes: one fix per STOP_RESOLUTION_S is enough to find it (a track at one
    # fix a second is thinned tenfold; the stop's ends are then exact to that resolution).
    keep = _thinned_index(track.t, STOP_RESOLUTION_S)
    n = len(keep)
    if n < 2:
        return []
    t, lons, lats = track.t[keep], track.lon[keep], track.lat[keep]
    lat0 = math.radians(float(lats[0]))
    scale = math.radians(1) * EARTH_RADIUS_M
    x = lons * scale * math.cos(lat0)
    y = lats * scale
    gaps = np.diff(t) > (max_gap.total_seconds() if max_gap is not None else math.inf)
    need = min_duration.total_seconds()
    r2 = radius_m * radius_m
    stops: list[Stop] = []
    moments = track.at
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
        lon = float(lons[i:j].sum() / (j - i))
        lat = float(lats[i:j].sum() / (j - i))
        stops.append(Stop(moments[int(keep[i])], moments[int(keep[j - 1])], lon, lat))
        i = j
    return stops


def haversine_steps(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The great-circle length of each step between consecutive points (metres), the formula
    of dashboard.domain.geo.haversine_m over arrays."""
    phi = np.radians(lat)
    dphi = np.diff(phi)
    dlmb = np.radians(np.diff(lon))
    h = np.sin(dphi / 2) ** 2 + np.cos(phi[:-1]) * np.cos(phi[1:]) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))))


def summarize(
    points: Sequence[TrackPoint] | Track,
    inside: Callable[[float, float], bool] | np.ndarray,
    *,
    silent: timedelta,
    stop_radius_m: float,
    stop_duration: timedelta,
) -> PatrolSummary:
    """The summary of one worker's trusted, time-ordered fixes. ``inside``: the own grid, as a
    test of a point or as one boolean per fix (vectorised callers)."""
    track = points if isinstance(points, Track) else Track.of(points)
    stops = find_stops(track, stop_radius_m, stop_duration, silent)
    n = len(track)
    if isinstance(inside, np.ndarray):
        inside_at = inside.astype(bool)
    else:
        inside_at = np.fromiter(
            (inside(x, y) for x, y in zip(track.lon.tolist(), track.lat.tolist(), strict=True)),
            dtype=bool,
            count=n,
        )
    if n < 2:
        return PatrolSummary(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, tuple(stops), (), ())
    t = track.t
    dt = np.diff(t)
    # Strictly longer than ``silent``, exact to the microsecond as the datetimes compare (an
    # epoch double of today holds the microseconds: rounding recovers them).
    us = np.rint(t * 1e6).astype(np.int64)
    is_silent = np.diff(us) > silent // timedelta(microseconds=1)
    awake = ~is_silent
    steps = haversine_steps(track.lon, track.lat)
    a_t, b_t = t[:-1], t[1:]
    if stops:
        starts = np.array([s.start.timestamp() for s in stops])
        ends = np.array([s.end.timestamp() for s in stops])
        k = np.searchsorted(ends, a_t, side="right")  # the first stop ending after a
        ok = k < len(stops)
        kk = np.minimum(k, len(stops) - 1)
        in_stop = ok & (starts[kk] <= a_t) & (b_t <= ends[kk])
    else:
        in_stop = np.zeros(n - 1, dtype=bool)
    inside_pair = inside_at[:-1]
    patrol = float(dt[awake].sum())
    stopped = float(dt[awake & in_stop].sum())
    inside_s = float(dt[awake & inside_pair].sum())
    at = track.at
    silent_eps = [Episode(at[i], at[i + 1]) for i in np.flatnonzero(is_silent).tolist()]
    # Out-of-grid episodes: runs of awake intervals that start outside (a silent one ends a run).
    outside_eps: list[Episode] = []
    open_at: int | None = None
    for i, (quiet, inn) in enumerate(zip(is_silent.tolist(), inside_pair.tolist(), strict=True)):
        if quiet or inn:
            if open_at is not None:
                outside_eps.append(Episode(at[open_at], at[i]))
                open_at = None
        elif open_at is None:
            open_at = i
    if open_at is not None:
        outside_eps.append(Episode(at[open_at], at[n - 1]))
    return PatrolSummary(
        distance_m=float(steps[awake].sum()),
        patrol_s=patrol,
        moving_s=patrol - stopped,
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
    points: Sequence[TrackPoint] | Track,
    radius_m: float,
) -> float | None:
    """Share of ``households`` within ``radius_m`` of a fix (None without households)."""
    if not households:
        return None
    track = points if isinstance(points, Track) else Track.of(points)
    if not len(track):
        return 0.0
    lat0 = math.radians(households[0][1])
    scale = math.radians(1) * EARTH_RADIUS_M
    hx = np.array([h[0] for h in households]) * scale * math.cos(lat0)
    hy = np.array([h[1] for h in households]) * scale
    # The same place sent again adds nothing (a worker standing still, a resent backlog).
    places = np.unique(np.stack([track.lon, track.lat], axis=1), axis=0)
    px = places[:, 0] * scale * math.cos(lat0)
    py = places[:, 1] * scale
    covered = np.zeros(len(households), dtype=bool)
    for start in range(0, len(px), 512):  # bounded memory: households × 512 at a time
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
