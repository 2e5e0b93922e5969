"""The loop: it keeps what it could not send, survives errors, stops cleanly; and ``burst(n)``."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from dashboard.clock import FixedClock
from dashboard.config import SimulatorConfig
from dashboard.simulator.client import Fix, Forbidden, Unavailable
from dashboard.simulator.runner import MAX_GAP, Simulator, SimulatorThread
from tests.unit.test_simulator_fakes import MONDAY_8AM, DomainClient, reference, town

NINE = MONDAY_8AM + timedelta(hours=1)
TICK = timedelta(seconds=30)


def make(
    client_class: type[DomainClient] = DomainClient, walkers: int = 20, **settings: object
) -> tuple[Simulator, DomainClient, FixedClock]:
    clock = FixedClock(NINE)
    client = client_class(town(), reference(), clock)
    config = SimulatorConfig.model_validate(settings)
    sim = Simulator(
        client,
        town(),
        reference(),
        clock,
        seed=7,
        config=config,
        walkers=town().workers[:walkers],
        start=NINE,
    )
    return sim, client, clock


def advance(sim: Simulator, clock: FixedClock, minutes: float) -> None:
    """Step the simulator through ``minutes``, carrying on when the system is unavailable."""
    end = clock.now() + timedelta(minutes=minutes)
    while clock.now() < end:
        clock.set(clock.now() + TICK)
        with contextlib.suppress(Unavailable):
            sim.step(clock.now())


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for a condition another thread makes true (polling; never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.01)


def test_nothing_is_lost_while_the_system_is_down() -> None:
    steady, steady_client, steady_clock = make()
    advance(steady, steady_clock, 20)
    flaky, client, clock = make()
    advance(flaky, clock, 5)
    client.unavailable = 10**6  # the server goes down for five minutes …
    with pytest.raises(Unavailable):
        flaky.step(clock.now() + TICK)
    advance(flaky, clock, 5)
    client.unavailable = 0  # … and comes back
    advance(flaky, clock, 10)
    # The same reports (each sent once: idempotency keys), the same fixes, every step legal.
    assert [r.description for _, r, _ in client.reports] == [
        r.description for _, r, _ in steady_client.reports
    ]
    assert len(client.keys) == len(client.reports)
    assert sorted(client.fixes, key=lambda f: (f.at, f.worker)) == steady_client.fixes
    assert client.refusals == [] and flaky.stats.refused == Counter()


def test_a_long_pause_is_skipped_not_replayed() -> None:
    sim, client, clock = make()
    advance(sim, clock, 1)
    fixes_before, reports_before = len(client.fixes), len(client.reports)
    later = clock.now() + MAX_GAP + timedelta(hours=2)  # e.g. a laptop asleep
    for now in (later, later + timedelta(seconds=61)):
        clock.set(now)
        sim.step(now)
    fixes = client.fixes[fixes_before:]
    assert fixes and all(f.at >= later for f in fixes) and len(fixes) <= 2 * 20
    # A minute's reports and what fell due in the pause (the emergency, a burst of 6) happen
    # once, not two hours' worth (~400).
    assert len(client.reports) - reports_before < 20


class ServerWithABug(DomainClient):
    """Fails once with an unexpected error, as a bug in the system would."""

    broken = True

    def send_fixes(self, fixes: list[Fix]) -> int:  # type: ignore[override]
        if self.broken:
            self.broken = False
            raise RuntimeError("a bug on the other side")
        return super().send_fixes(fixes)


def test_the_loop_survives_outages_and_errors_and_stops_on_request() -> None:
    sim, client, clock = make(ServerWithABug, tick_seconds=0.01)
    client.unavailable = 3
    runner = SimulatorThread(sim).start()
    try:
        clock.set(NINE + timedelta(minutes=4))  # the loop reads the clock: four minutes pass
        wait_for(lambda: sim.stats.reports > 0 and sim.stats.fixes > 0)
        assert sim.stats.failures >= 2 and runner.alive  # an outage and a bug, survived
    finally:
        runner.stop()
    assert not runner.alive and sim.fatal is None


class RevokedToken(DomainClient):
    def send_fixes(self, fixes: list[Fix]) -> int:  # type: ignore[override]
        raise Forbidden("unauthorized", "token revoked")


def test_the_loop_stops_for_good_when_the_credentials_are_refused() -> None:
    sim, _, clock = make(RevokedToken, tick_seconds=0.01)
    clock.set(NINE + timedelta(minutes=5))
    stop = threading.Event()
    sim.run(stop)  # returns by itself
    assert not stop.is_set() and sim.fatal is not None and "token revoked" in sim.fatal


@pytest.mark.parametrize("threads", [1, 4])
def test_burst_pushes_n_reports(threads: int) -> None:
    sim, client, _ = make(walkers=0)
    result = sim.burst(200, threads=threads)
    assert result.sent == result.created == 200 and result.failed == result.refused == 0
    assert len(client.cases) == 200 and len(client.keys) == 200
    assert result.per_second > 0


def test_burst_rides_out_a_short_outage() -> None:
    sim, client, _ = make(walkers=0)
    client.unavailable = 3
    result = sim.burst(20)
    assert result.created == 20 and len(client.cases) == 20
