"""Case arrivals: the daily rhythm, the source and category mix, emergencies and bursts."""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from datetime import datetime, timedelta

import shapely

from dashboard.domain.status import Source
from dashboard.seed.rhythm import HOUR_WEIGHTS, SOURCE_WEIGHTS, WEEKEND_FACTOR
from dashboard.simulator.arrivals import Arrivals, Kind, PlannedReport
from dashboard.simulator.bursts import BATCH, BATCH_EVERY, SPREAD_M, Bursts
from dashboard.simulator.client import VillageInfo
from dashboard.simulator.patrol import metres
from tests.unit.test_simulator_fakes import MONDAY_8AM, SHANGHAI, reference, town

MIDNIGHT = MONDAY_8AM.replace(hour=0)
FAR = timedelta(days=365)  # no emergency in the way


def arrivals(
    *,
    per_day: float = 2_400,
    floor: float = 0.0,
    seed: int = 7,
    start: datetime = MIDNIGHT,
    first_emergency: timedelta = FAR,
    emergency_every: timedelta = FAR,
) -> Arrivals:
    ref = reference()
    return Arrivals(
        town(),
        ref.categories,
        ref.calendar,
        per_day=per_day,
        min_per_hour=floor,
        seed=seed,
        start=start,
        first_emergency=first_emergency,
        emergency_every=emergency_every,
    )


def collect(source: Arrivals, start: datetime, hours: float, tick_s: float = 600) -> list:
    planned: list[PlannedReport] = []
    now, end = start, start + timedelta(hours=hours)
    while now < end:
        now = min(end, now + timedelta(seconds=tick_s))
        planned += source.due(now)
    return planned


@functools.cache
def working_week() -> tuple[PlannedReport, ...]:
    """Monday to Friday at 2,400 reports a day: about 12,000 reports."""
    return tuple(collect(arrivals(), MIDNIGHT, 24 * 5, tick_s=3600))


def test_arrivals_follow_the_hour_weights() -> None:
    planned = working_week()
    counts = Counter(p.at.astimezone(SHANGHAI).hour for p in planned)
    total = sum(HOUR_WEIGHTS)
    expected = {h: len(planned) * w / total for h, w in enumerate(HOUR_WEIGHTS)}
    chi2 = sum((counts[h] - e) ** 2 / e for h, e in expected.items())
    assert chi2 < 49.7  # 23 degrees of freedom, p = 0.001
    assert 11_000 < len(planned) < 13_000  # 5 days × 2,400
    assert counts[10] > 10 * counts[3] and counts[15] > 10 * counts[2]


def test_weekends_are_quieter() -> None:
    saturday = MIDNIGHT + timedelta(days=5)
    weekend = collect(arrivals(start=saturday), saturday, 24, tick_s=3600)
    per_weekday = len(working_week()) / 5
    assert abs(len(weekend) / per_weekday - WEEKEND_FACTOR) < 0.05


def test_a_floor_keeps_the_night_moving() -> None:
    night = collect(arrivals(per_day=600, floor=60), MIDNIGHT, 4, tick_s=600)
    assert 200 < len(night) < 280  # 60 an hour instead of ~4


def test_reports_come_mostly_from_grid_workers_and_never_as_routine_emergencies() -> None:
    sources = Counter(p.report.source for p in working_week())
    routine = {s: w for s, w in SOURCE_WEIGHTS.items() if s is not Source.EMERGENCY}
    n = sum(sources.values())
    for source, weight in routine.items():
        share = weight / sum(routine.values())
        assert abs(sources[source] / n - share) < 0.02, source
    assert sources[Source.EMERGENCY] == 0


def test_a_report_is_made_where_its_grid_worker_works_and_reads_like_one() -> None:
    world, ref = town(), reference()
    for p in working_week()[:500]:
        r = p.report
        grid = world.grid(p.worker.grid_code)
        assert shapely.contains_xy(grid.polygon, r.lon, r.lat)
        assert r.category in ref.categories and r.description.strip()
        assert r.occurred_at is not None and r.occurred_at <= p.at
        if r.source is Source.GRID_WORKER:
            assert r.actor == r.reporter == p.worker.id
        else:
            assert r.actor != p.worker.id and r.reporter


def test_everyday_categories_dominate() -> None:
    majors = Counter(p.sub.major_code for p in working_week())
    # Environment (05) and city management (10) weigh three times the others.
    assert majors.most_common(2)[0][0] in ("05", "10")
    assert majors["10"] > 2 * majors["02"]


def test_the_first_emergency_comes_minutes_after_the_start_then_rarely() -> None:
    start = MONDAY_8AM + timedelta(hours=1)
    source = arrivals(
        per_day=0.001,
        start=start,
        first_emergency=timedelta(minutes=2),
        emergency_every=timedelta(hours=4),
    )
    planned = collect(source, start, 24, tick_s=30)
    emergencies = [p for p in planned if p.kind is Kind.EMERGENCY]
    assert emergencies[0].at == start + timedelta(minutes=2)
    assert 2 <= len(emergencies) <= 14
    for p in emergencies:
        assert p.report.emergency and p.report.source is Source.EMERGENCY
        assert p.sub.code in ("04001", "01005", "03004")


def test_the_same_seed_gives_the_same_reports_whatever_the_tick() -> None:
    start = MONDAY_8AM
    by_minute = collect(arrivals(start=start), start, 2, tick_s=60)
    by_hour = collect(arrivals(start=start), start, 2, tick_s=3600)
    assert by_minute == by_hour and by_minute
    assert collect(arrivals(start=start, seed=8), start, 2, tick_s=3600) != by_hour


# --- bursts -------------------------------------------------------------------------------------


class Lights:
    """The lights as the system would answer them: a village is red after ``red_after`` reports."""

    def __init__(self, ratios: dict[str, float], red_after: int | None) -> None:
        self.ratios = ratios
        self.red_after = red_after
        self.sent: Counter[str] = Counter()

    def __call__(self) -> list[VillageInfo]:
        return [
            VillageInfo(v.code, self._status(v.code), self.ratios.get(v.code))
            for v in town().villages
        ]

    def _status(self, code: str) -> str:
        red = self.red_after is not None and self.sent[code] >= self.red_after
        return "red" if red else "ok"


def run_bursts(lights: Lights, minutes: float, max_cases: int = 40) -> tuple[Bursts, list]:
    bursts = Bursts(
        town(),
        reference().categories,
        seed=7,
        start=MONDAY_8AM,
        first=timedelta(minutes=4),
        every=timedelta(minutes=90),
        max_cases=max_cases,
    )
    planned: list[PlannedReport] = []
    now = MONDAY_8AM
    while now < MONDAY_8AM + timedelta(minutes=minutes):
        now += timedelta(seconds=5)
        batch = bursts.due(now, lights)
        for p in batch:
            village = town().grid(p.worker.grid_code).village_code
            lights.sent[village] += 1
        planned += batch
    return bursts, planned


def test_a_burst_goes_to_the_calm_village_closest_to_red_and_stops_when_it_is_red() -> None:
    villages = [v.code for v in town().villages]
    # villages[7] is too close to red: with its duplicates voided it would not recover.
    ratios = dict.fromkeys(villages, 0.3) | {villages[5]: 0.6, villages[6]: 0.9, villages[7]: 0.75}
    lights = Lights(ratios, red_after=15)
    lights.sent[villages[6]] = 15  # already red: not a target
    bursts, planned = run_bursts(lights, minutes=10)
    assert planned[0].at == MONDAY_8AM + timedelta(minutes=4)
    assert bursts.finished == [(villages[5], 18, True)]  # three batches of 6, then red
    assert all(p.kind is Kind.BURST for p in planned)
    assert [p.duplicate for p in planned] == [False] + [True] * 17  # the desk voids these
    times = sorted({p.at for p in planned})
    assert [b - a for a, b in itertools.pairwise(times)] == [BATCH_EVERY] * 2
    assert Counter(p.at for p in planned) == dict.fromkeys(times, BATCH)


def test_a_burst_is_one_thing_in_one_spot_of_one_village() -> None:
    _, planned = run_bursts(Lights({}, red_after=30), minutes=10)
    village = town().village(town().grid(planned[0].worker.grid_code).village_code)
    assert len({p.sub.code for p in planned}) == 1
    spot = (planned[0].report.lon, planned[0].report.lat)
    for p in planned:
        assert shapely.contains_xy(village.polygon, p.report.lon, p.report.lat)
        assert metres(spot, (p.report.lon, p.report.lat)) <= 2 * SPREAD_M + 1
    assert {p.report.source for p in planned} > {Source.HOTLINE, Source.PUBLIC}


def test_a_burst_gives_up_after_its_maximum_and_the_next_one_comes_later() -> None:
    bursts, planned = run_bursts(Lights({}, red_after=None), minutes=10, max_cases=20)
    assert len(planned) == 20
    assert bursts.finished[0][1:] == (20, False)
    assert bursts.wave is None and bursts.next_start >= MONDAY_8AM + timedelta(minutes=14)
