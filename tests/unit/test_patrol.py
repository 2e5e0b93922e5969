"""Patrol analysis (dashboard.domain.patrol): the summary against a direct computation."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import box

from dashboard.domain.geo import haversine_m
from dashboard.domain.patrol import (
    TrackPoint,
    coverage,
    find_stops,
    household_points,
    position_at,
    summarize,
)

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
GRID = box(120.0, 29.0, 120.01, 29.01)  # ~970 m × 1,110 m


def _inside(lon: float, lat: float) -> bool:
    return 120.0 <= lon <= 120.01 and 29.0 <= lat <= 29.01


def _day() -> list[TrackPoint]:
    """Walk east 1 min apart (10 fixes), stand 10 min, walk out of the grid (5 fixes),
    fall silent 40 min, one more fix."""
    pts = [TrackPoint(T0 + timedelta(minutes=i), 120.001 + i * 0.0005, 29.005) for i in range(10)]
    last = pts[-1]
    pts += [TrackPoint(last.at + timedelta(minutes=i), last.lon, last.lat) for i in range(1, 11)]
    last = pts[-1]
    pts += [
        TrackPoint(last.at + timedelta(minutes=i), last.lon + i * 0.002, 29.005)
        for i in range(1, 6)
    ]
    last = pts[-1]
    pts.append(TrackPoint(last.at + timedelta(minutes=40), last.lon, last.lat))
    return pts


def test_the_summary_equals_a_direct_computation() -> None:
    pts = _day()
    s = summarize(
        pts,
        _inside,
        silent=timedelta(minutes=30),
        stop_radius_m=40,
        stop_duration=timedelta(minutes=5),
    )
    pairs = list(itertools.pairwise(pts))
    kept = [(a, b) for a, b in pairs if b.at - a.at <= timedelta(minutes=30)]
    assert s.distance_m == pytest.approx(
        sum(haversine_m(a.lon, a.lat, b.lon, b.lat) for a, b in kept)
    )
    assert s.patrol_s == sum((b.at - a.at).total_seconds() for a, b in kept) == 24 * 60
    assert s.inside_s == sum(
        (b.at - a.at).total_seconds() for a, b in kept if _inside(a.lon, a.lat)
    )
    assert s.outside_s == s.patrol_s - s.inside_s > 0
    assert [(x.start, x.end) for x in s.stops] == [(pts[9].at, pts[19].at)]
    assert s.stopped_s == 10 * 60 and s.moving_s == s.patrol_s - s.stopped_s
    assert [(e.start, e.end) for e in s.silent] == [(pts[24].at, pts[25].at)]
    assert [(e.start, e.end) for e in s.outside] == [(pts[22].at, pts[24].at)]


def test_stops_need_the_duration() -> None:
    pts = [TrackPoint(T0 + timedelta(minutes=i), 120.0, 29.0) for i in range(4)]
    assert find_stops(pts, 40, timedelta(minutes=5)) == []
    assert len(find_stops(pts, 40, timedelta(minutes=3))) == 1


def test_household_points_are_deterministic_and_inside() -> None:
    a = household_points("330681109002001", GRID, 100)
    assert a == household_points("330681109002001", GRID, 100) and len(a) == 100
    assert all(_inside(lon, lat) for lon, lat in a)
    assert a != household_points("330681109002002", GRID, 100)


def test_coverage_counts_households_near_a_fix() -> None:
    homes = [(120.001, 29.005), (120.009, 29.009)]
    assert coverage(homes, [TrackPoint(T0, 120.0011, 29.005)], 60) == 0.5
    assert coverage(homes, [], 60) == 0.0 and coverage([], [], 60) is None


def test_position_at_a_moment() -> None:
    pts = _day()
    assert position_at(pts, T0 - timedelta(seconds=1)) is None
    assert position_at(pts, T0 + timedelta(minutes=3, seconds=30)) == pts[3]


def _reference(points: list[TrackPoint], silent: timedelta) -> dict[str, object]:
    """The rule fix by fix (docs/tracks.md), as it was written before the arrays."""
    stops = find_stops(points, 40, timedelta(minutes=5), silent)
    distance = patrol = stopped = inside_s = 0.0
    silent_eps, outside_eps = [], []
    open_outside = None
    for a, b in itertools.pairwise(points):
        dt = (b.at - a.at).total_seconds()
        if b.at - a.at > silent:
            silent_eps.append((a.at, b.at))
            if open_outside is not None:
                outside_eps.append((open_outside, a.at))
                open_outside = None
            continue
        distance += haversine_m(a.lon, a.lat, b.lon, b.lat)
        patrol += dt
        if any(s.start <= a.at and b.at <= s.end for s in stops):
            stopped += dt
        if _inside(a.lon, a.lat):
            inside_s += dt
            if open_outside is not None:
                outside_eps.append((open_outside, a.at))
                open_outside = None
        elif open_outside is None:
            open_outside = a.at
    if open_outside is not None:
        outside_eps.append((open_outside, points[-1].at))
    return {
        "distance": distance,
        "patrol": patrol,
        "stopped": stopped,
        "inside": inside_s,
        "silent": silent_eps,
        "outside": outside_eps,
    }


@pytest.mark.parametrize("seed", range(6))
def test_the_vectorised_summary_is_the_rule_fix_by_fix(seed: int) -> None:
    import random

    rng = random.Random(seed)
    points, at, lon, lat = [], T0, 120.005, 29.005
    for _ in range(600):
        step = rng.choice([1, 5, 30, 60, 60, 60, 1800, 1800 + 1e-6, 2400])  # silent ones too
        at += timedelta(seconds=step)
        if rng.random() < 0.6:  # walk (in and out of the grid); else stand (stops)
            lon += rng.uniform(-8e-4, 8e-4)
            lat += rng.uniform(-8e-4, 8e-4)
        points.append(TrackPoint(at, lon, lat))
    silent = timedelta(minutes=30)
    s = summarize(
        points, _inside, silent=silent, stop_radius_m=40, stop_duration=timedelta(minutes=5)
    )
    want = _reference(points, silent)
    assert s.distance_m == pytest.approx(want["distance"], rel=1e-9)
    assert s.patrol_s == pytest.approx(want["patrol"]) and s.inside_s == pytest.approx(
        want["inside"]
    )
    assert s.stopped_s == pytest.approx(want["stopped"])
    assert [(e.start, e.end) for e in s.silent] == want["silent"]
    assert [(e.start, e.end) for e in s.outside] == want["outside"]
