"""Handling: every simulated step is legal, and the stories look like the command room's day.

The simulator runs against ``DomainClient`` (the real state machine, deadlines, role matrix and
village rule, in memory) with a fake clock: a simulated day takes a few seconds.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime, timedelta

from dashboard.clock import FixedClock
from dashboard.config import SimulatorConfig
from dashboard.domain.permissions import can_act
from dashboard.domain.roles import Role
from dashboard.domain.status import CLOSED_STATUSES, Action, CaseStatus
from dashboard.simulator.runner import Simulator
from tests.unit.test_simulator_fakes import MONDAY_8AM, SHANGHAI, DomainClient, reference, town

HOUR = timedelta(hours=1)


def simulate(
    duration: timedelta,
    *,
    start: datetime = MONDAY_8AM,
    seed: int = 7,
    tick: timedelta = timedelta(seconds=60),
    **settings: object,
) -> tuple[Simulator, DomainClient]:
    clock = FixedClock(start)
    client = DomainClient(town(), reference(), clock)
    config = SimulatorConfig.model_validate({"min_per_hour": 0} | settings)
    sim = Simulator(
        client, town(), reference(), clock, seed=seed, config=config, walkers=[], start=start
    )
    now = start
    while now < start + duration:
        now += tick
        clock.set(now)
        sim.step(now)
    return sim, client


@functools.cache
def one_day() -> tuple[Simulator, DomainClient]:
    """A Monday 08:00 to Tuesday 08:00 at the town's real rate (600 reports)."""
    return simulate(24 * HOUR, rate_multiplier=1.0, burst_every_minutes=240)


def emergency_ids(client: DomainClient) -> set[int]:
    return {i for i, (_, report, _) in enumerate(client.reports, start=1) if report.emergency}


def test_an_hour_of_the_demo_takes_only_legal_steps() -> None:
    sim, client = simulate(HOUR)
    assert sim.stats.reports > 100 and sum(sim.stats.actions.values()) > 200
    assert client.refusals == [] and not sim.stats.refused
    for entry in client.log:
        assert can_act(entry.role, entry.action), entry


def test_a_day_tells_every_story_of_the_lifecycle() -> None:
    sim, client = one_day()
    assert client.refusals == [] and not sim.stats.refused
    assert {e.action for e in client.log} == set(Action)  # all 17 actions, each legal
    assert 500 < sim.stats.reports < 800
    ends = Counter(client.status(i) for i in client.cases)
    assert ends[CaseStatus.CLOSED] + ends[CaseStatus.EVALUATED] > 0.3 * len(client.cases)
    assert ends[CaseStatus.VOIDED] > 0


def test_some_cases_run_late() -> None:
    _, client = one_day()
    end = MONDAY_8AM + 24 * HOUR
    late = [
        c
        for c in client.cases.values()
        if c.state.closed_on_time is False or c.state.is_overdue(end)
    ]
    assert len(late) > 10


def test_a_village_turns_red_soon_after_the_start() -> None:
    sim, client = simulate(timedelta(minutes=10), start=MONDAY_8AM + 2 * HOUR)
    village, sent, red = sim.bursts.finished[0]
    assert red and village in client.ever_red and sent <= 40


def test_departments_are_slower_after_hours_and_grid_workers_work_their_shift() -> None:
    _, client = one_day()
    urgent = emergency_ids(client)
    calendar = reference().calendar
    tick = timedelta(seconds=60)  # an action is stamped at the end of the tick it fell in
    office = after = 0
    for e in client.log:
        if e.case_id in urgent:
            continue
        if e.role is Role.DEPARTMENT:
            if calendar.working_time_between(e.at - tick, e.at) > timedelta(0):
                office += 1
            else:
                after += 1
        if e.role is Role.GRID_WORKER:
            local = (e.at - tick).astimezone(SHANGHAI).time()
            assert local.hour >= 8 and local.hour < 18, e
    # Monday 08:00 to Tuesday 08:00: 7.5 office hours, 16.5 hours of duty officers.
    office_hours = calendar.working_time_between(MONDAY_8AM, MONDAY_8AM + 24 * HOUR) / HOUR
    assert after > 0 and after / (24 - office_hours) < office / office_hours / 2


def test_emergencies_are_closed_within_hours_day_or_night() -> None:
    _, client = one_day()
    urgent = emergency_ids(client)
    assert urgent
    closed_at = {e.case_id: e.at for e in client.log if e.action is Action.CLOSE}
    for case_id in urgent:
        state = client.cases[case_id].state
        assert state.reported_at is not None
        if MONDAY_8AM + 24 * HOUR - state.reported_at > 4 * HOUR:
            assert state.status in CLOSED_STATUSES
            assert closed_at[case_id] - state.reported_at < 3 * HOUR


def test_the_same_seed_tells_the_same_stories() -> None:
    _, first = simulate(HOUR)
    _, again = simulate(HOUR)
    _, other = simulate(HOUR, seed=8)
    assert first.log == again.log and first.log
    assert other.log != first.log


def test_a_faster_handling_speed_closes_cases_sooner() -> None:
    _, real_time = simulate(2 * HOUR, rate_multiplier=2)
    _, fast = simulate(2 * HOUR, rate_multiplier=2, handling_speed=20)
    closed = [
        sum(1 for c in client.cases.values() if c.state.status in CLOSED_STATUSES)
        for client in (real_time, fast)
    ]
    assert closed[1] > 2 * closed[0]
