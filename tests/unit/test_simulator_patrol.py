"""Patrols: grid workers walk their grid in their shift; their phones send a fix every 30-60 s."""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, time, timedelta

import pytest
import shapely

from dashboard.config import SimulatorConfig
from dashboard.seed.people import WorkerSeed
from dashboard.simulator.client import Fix
from dashboard.simulator.patrol import FIX_INTERVAL_S, MAX_NOISE_M, Patrol, Shift, metres
from tests.unit.test_simulator_fakes import MONDAY_8AM, SHANGHAI, town

CONFIG = SimulatorConfig()
SHIFT = Shift.from_config(CONFIG, SHANGHAI)
NINE = MONDAY_8AM + timedelta(hours=1)


def walk(
    start: datetime,
    hours: float,
    *,
    tick_s: float = 5.0,
    workers: Sequence[WorkerSeed] | None = None,
    seed: int = 7,
    cfg: SimulatorConfig = CONFIG,
) -> tuple[Patrol, list[Fix]]:
    world = town()
    patrol = Patrol(world, world.workers if workers is None else workers, SHIFT, cfg, seed, start)
    fixes: list[Fix] = []
    now, end = start, start + timedelta(hours=hours)
    while now < end:
        now = min(end, now + timedelta(seconds=tick_s))
        fixes += patrol.due(now)
    return patrol, fixes


@functools.cache
def hour_of_patrol() -> tuple[Patrol, tuple[Fix, ...]]:
    """Every worker of the town, 09:00-10:00 on a Monday (a fake clock, in about a second)."""
    patrol, fixes = walk(NINE, 1.0)
    return patrol, tuple(fixes)


def by_worker(fixes: Sequence[Fix]) -> dict[str, list[Fix]]:
    tracks: dict[str, list[Fix]] = defaultdict(list)
    for fix in fixes:
        tracks[fix.worker].append(fix)
    return tracks


def test_every_worker_patrols_in_the_shift() -> None:
    patrol, fixes = hour_of_patrol()
    tracks = by_worker(fixes)
    silent = {w for w, walker in patrol.walkers.items() if walker.flaky}
    assert set(patrol.walkers) - silent <= set(tracks)
    assert len(fixes) > len(patrol.walkers) * 50  # ~80 fixes an hour each


def test_fixes_stay_inside_the_workers_grid_except_the_wanderers() -> None:
    patrol, fixes = hour_of_patrol()
    outside = defaultdict(int)
    for fix in fixes:
        walker = patrol.walkers[fix.worker]
        if not shapely.contains_xy(walker.grid.polygon, fix.lon, fix.lat):
            outside[fix.worker] += 1
    wanderers = {w for w, walker in patrol.walkers.items() if walker.wanderer}
    assert wanderers, "the town has a few wanderers (wander_share = 3 %)"
    assert set(outside) <= wanderers
    assert outside, "some wanderer left their grid in the hour"


def test_a_phone_sends_a_fix_every_30_to_60_seconds() -> None:
    patrol, fixes = hour_of_patrol()
    lo, hi = FIX_INTERVAL_S
    for worker, track in by_worker(fixes).items():
        if patrol.walkers[worker].flaky:
            continue  # their phones go silent now and then
        gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(track)]
        assert all(lo <= g <= hi for g in gaps), worker


def test_workers_walk_at_walking_speed_with_gps_noise() -> None:
    _patrol, fixes = hour_of_patrol()
    walked: dict[str, float] = defaultdict(float)
    for worker, track in by_worker(fixes).items():
        for a, b in itertools.pairwise(track):
            seconds = (b.at - a.at).total_seconds()
            step = metres((a.lon, a.lat), (b.lon, b.lat))
            # 1.4 m/s at most, plus the noise of both fixes (never over 10 m each).
            assert step <= 1.4 * seconds + 2 * MAX_NOISE_M + 0.5, (worker, step, seconds)
            walked[worker] += step
        assert all(5 <= f.accuracy <= MAX_NOISE_M for f in track)
    # Pauses and all, a patrol covers a few kilometres an hour.
    median = sorted(walked.values())[len(walked) // 2]
    assert 1_500 < median < 5_000


def test_a_flaky_phone_goes_silent_now_and_then() -> None:
    world = town()
    patrol = Patrol(world, world.workers, SHIFT, CONFIG, 7, NINE)
    flaky = [w.worker for w in patrol.walkers.values() if w.flaky][:3]
    assert flaky
    _, fixes = walk(NINE, 3.0, workers=flaky)
    gaps = [
        (b.at - a.at).total_seconds()
        for track in by_worker(fixes).values()
        for a, b in itertools.pairwise(track)
    ]
    assert max(gaps) >= 20 * 60  # 20-60 minutes without a fix


def test_no_fixes_at_lunch_or_at_night_except_from_the_night_duty() -> None:
    workers = town().workers[:150]
    noon = MONDAY_8AM.replace(hour=11, minute=45)
    patrol, fixes = walk(noon, 2.0, tick_s=60, workers=workers)
    lunch = [f for f in fixes if time(12, 0) <= f.at.astimezone(SHANGHAI).time() < time(13, 30)]
    assert lunch and all(patrol.walkers[f.worker].night_duty for f in lunch)
    assert len({f.worker for f in fixes}) > 0.8 * len(workers)  # before and after lunch
    night_patrol, night = walk(MONDAY_8AM.replace(hour=22), 0.5, tick_s=60, workers=workers)
    on_duty = {w for w, walker in night_patrol.walkers.items() if walker.night_duty}
    assert night and {f.worker for f in night} <= on_duty
    assert 0.05 * len(workers) < len(on_duty) < 0.2 * len(workers)


def test_the_same_seed_gives_the_same_patrol_whatever_the_tick() -> None:
    workers = town().workers[:40]
    _, every_second = walk(NINE, 0.5, tick_s=1, workers=workers)
    _, every_minute = walk(NINE, 0.5, tick_s=60, workers=workers)
    assert every_second == every_minute
    _, other_seed = walk(NINE, 0.5, tick_s=60, workers=workers, seed=8)
    assert other_seed != every_minute


def test_skipping_ahead_after_a_long_pause_sends_no_backlog() -> None:
    workers = town().workers[:20]
    patrol, _ = walk(NINE, 0.1, workers=workers)
    later = NINE + timedelta(hours=2)
    patrol.skip_to(later)
    fixes = patrol.due(later + timedelta(seconds=61))
    assert fixes and all(f.at >= later for f in fixes)
    assert len(fixes) <= 2 * len(workers)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (time(7, 0), time(8, 0)),
        (time(8, 0), time(8, 0)),
        (time(11, 59), time(11, 59)),
        (time(12, 0), time(13, 30)),
        (time(13, 30), time(13, 30)),
        (time(18, 0), time(8, 0)),  # the next morning
        (time(23, 59), time(8, 0)),
    ],
)
def test_next_start_of_the_shift(local: time, expected: time) -> None:
    at = datetime.combine(MONDAY_8AM.date(), local, SHANGHAI)
    start = SHIFT.next_start(at)
    assert start.astimezone(SHANGHAI).time() == expected
    assert start >= at and SHIFT.on_duty(start)
    assert start - at < timedelta(hours=15)
