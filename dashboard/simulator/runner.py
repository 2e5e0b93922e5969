"""The simulator's loop: patrols, arrivals, bursts and handling, one tick at a time.

``Simulator.step(now)`` does one tick: the position fixes the phones sent since the last tick
(one batch), the reports made since then, and every handling step that has come due. It takes
``now`` as an argument, so tests drive it with a fake clock through a day in seconds; ``run``
is the thread loop of the live demo (``while not stop: self._step()``), which survives errors:
it logs, backs off and carries on, e.g. while the server restarts. Work that could not be sent
(fixes, reports, steps) is kept and sent again later.

``burst(n)`` pushes ``n`` reports as fast as the system takes them, for the benchmarks.

Its first step adopts the cases already open in the system (``Handling.adopt``): the seeded
history's, or what a previous run left, so they are handled and closed like the new ones.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.clock import Clock
from dashboard.config import SimulatorConfig
from dashboard.reference import ReferenceData
from dashboard.seed.people import WorkerSeed
from dashboard.seed.rhythm import REPORTS_PER_DAY
from dashboard.simulator.arrivals import Arrivals, Kind, PlannedReport
from dashboard.simulator.bursts import Bursts
from dashboard.simulator.client import Fix, Forbidden, Refused, Report, SimClient, Unavailable
from dashboard.simulator.handling import Handling
from dashboard.simulator.patrol import Patrol, Shift
from dashboard.simulator.world import World

logger = logging.getLogger(__name__)

MAX_GAP = timedelta(minutes=5)  # a longer pause (a laptop asleep) is skipped, not replayed
MAX_BACKOFF_S = 30.0
RETRY_STEP_AFTER = timedelta(seconds=15)  # a handling step the system could not take
FIX_BATCH = 1_000  # fixes per request (the API takes up to 5,000)
FIX_BACKLOG = 20_000  # fixes kept while the system is unreachable (phones buffer too)
REPORT_BACKLOG = 1_000  # reports kept while the system is unreachable
SUMMARY_EVERY = timedelta(minutes=10)


@dataclass
class SimStats:
    """What the simulator did so far (the demo logs it now and then; tests read it)."""

    fixes: int = 0
    reports: int = 0
    emergencies: int = 0
    burst_reports: int = 0
    adopted: int = 0  # open cases found at the start and followed from there
    actions: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    failures: int = 0  # ticks that failed (system unavailable, unexpected error)
    last_error: str = ""

    def summary(self) -> str:
        return (
            f"{self.reports} reports ({self.emergencies} emergencies, {self.burst_reports} in "
            f"bursts), {sum(self.actions.values())} actions, {self.fixes} fixes, "
            f"{sum(self.refused.values())} refused, {self.failures} failed ticks"
        )


@dataclass(frozen=True)
class BurstResult:
    sent: int
    created: int
    refused: int
    failed: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.created / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Pending:
    seq: int
    planned: PlannedReport
    report: Report  # with its idempotency key, so a resend cannot create it twice


class Simulator:
    def __init__(
        self,
        client: SimClient,
        world: World,
        reference: ReferenceData,
        clock: Clock,
        *,
        seed: int,
        config: SimulatorConfig | None = None,
        per_day: float = REPORTS_PER_DAY["town"],
        walkers: Sequence[WorkerSeed] | None = None,
        start: datetime | None = None,
    ) -> None:
        cfg = config or SimulatorConfig()
        start = start or clock.now()
        self.client, self.world, self.clock, self.config = client, world, clock, cfg
        shift = Shift.from_config(cfg, reference.calendar.tz)
        if walkers is None:
            walkers = world.workers[: cfg.patrol_workers]
        self.patrol = Patrol(world, walkers, shift, cfg, seed, start)
        self.arrivals = Arrivals(
            world,
            reference.categories,
            reference.calendar,
            per_day=per_day * cfg.rate_multiplier,
            min_per_hour=cfg.min_per_hour,
            seed=seed,
            start=start,
            first_emergency=timedelta(minutes=cfg.first_emergency_minutes),
            emergency_every=timedelta(hours=cfg.emergency_every_hours),
        )
        self.bursts = Bursts(
            world,
            reference.categories,
            seed=seed,
            start=start,
            first=timedelta(minutes=cfg.first_burst_minutes),
            every=timedelta(minutes=cfg.burst_every_minutes),
            max_cases=cfg.burst_max_cases,
        )
        self.handling = Handling(reference, shift, seed=seed, speed=cfg.handling_speed)
        self.stats = SimStats()
        # Idempotency keys: unique per run, so a restarted demo cannot get an earlier run's case.
        self._run_id = f"{seed}-{start.astimezone(UTC).strftime('%Y%m%dT%H%M%S%f')}"
        self._seq = 0
        self._last = start
        self._fixes: deque[Fix] = deque(maxlen=FIX_BACKLOG)
        self._reports: deque[_Pending] = deque(maxlen=REPORT_BACKLOG)
        self._failures = 0
        self._summary_at = start + SUMMARY_EVERY
        self._adopt_at: datetime | None = start if cfg.adopt_open_cases else None
        self.fatal: str | None = None  # why the loop stopped for good, if it did

    # --- one tick -------------------------------------------------------------------------

    def step(self, now: datetime) -> None:
        """Everything due up to ``now``; raises Unavailable (after doing what it could)."""
        if now - self._last > MAX_GAP:
            logger.info("simulator: %s without a step; skipping ahead", now - self._last)
            self.patrol.skip_to(now)
            self.arrivals.skip_to(now)
            self.bursts.skip_to(now)
        self._last = max(self._last, now)
        failure: Unavailable | None = None
        for part in (self._adopt, self._send_fixes, self._send_reports, self._handle):
            try:
                part(now)
            except Unavailable as err:
                failure = failure or err
        if now >= self._summary_at:
            self._summary_at = now + SUMMARY_EVERY
            logger.info("simulator: %s", self.stats.summary())
        if failure is not None:
            raise failure

    def _adopt(self, now: datetime) -> None:
        """Once, at the first step the system answers: follow the cases open in it."""
        if self._adopt_at is None:
            return
        cases = self.client.open_cases()
        self.stats.adopted = self.handling.adopt(cases, self.world, max(self._adopt_at, now))
        self._adopt_at = None
        logger.info("simulator: following %s open cases", self.stats.adopted)

    def _send_fixes(self, now: datetime) -> None:
        self._fixes.extend(self.patrol.due(now))
        while self._fixes:
            batch = [self._fixes[i] for i in range(min(FIX_BATCH, len(self._fixes)))]
            try:
                self.stats.fixes += self.client.send_fixes(batch)
            except Refused as err:
                self._refused(err, f"a batch of {len(batch)} fixes")
            for _ in batch:
                self._fixes.popleft()

    def _send_reports(self, now: datetime) -> None:
        for planned in self.arrivals.due(now):
            self._enqueue(planned)
        try:
            for planned in self.bursts.due(now, self.client.villages):
                self._enqueue(planned)
        finally:  # what arrived is sent even when the lights could not be read
            self._flush_reports()

    def _enqueue(self, planned: PlannedReport) -> None:
        seq, self._seq = self._seq, self._seq + 1
        key = f"sim-{self._run_id}-{seq}"
        report = replace(planned.report, idempotency_key=key)
        self._reports.append(_Pending(seq, planned, report))

    def _flush_reports(self) -> None:
        while self._reports:
            pending = self._reports[0]
            try:
                ref = self.client.report(pending.report)
            except Refused as err:
                self._reports.popleft()
                self._refused(err, f"report {pending.seq}")
                continue
            self._reports.popleft()
            self.stats.reports += 1
            self.stats.emergencies += pending.planned.kind is Kind.EMERGENCY
            self.stats.burst_reports += pending.planned.kind is Kind.BURST
            self.handling.admit(pending.planned, ref, pending.seq)

    def _handle(self, now: datetime) -> None:
        while (track := self.handling.next_due(now)) is not None:
            act = track.act
            assert act is not None
            try:
                ref = self.client.act(track.case_id, act)
            except Refused as err:
                self.handling.drop(track)
                self._refused(err, f"{act.action} on case {track.case_id}")
                continue
            except Exception:  # unavailable, or a bug on either side: the step is tried again
                self.handling.retry(track, now + RETRY_STEP_AFTER)
                raise
            self.stats.actions[act.action.value] += 1
            self.handling.done(track, ref)

    def _refused(self, err: Refused, what: str) -> None:
        self.stats.refused[err.code] += 1
        logger.info("simulator: %s refused: %s", what, err.message)

    # --- the thread loop ------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        logger.info(
            "simulator started: %s workers on patrol, ~%.0f reports a day",
            len(self.patrol.walkers),
            self.arrivals.per_day,
        )
        while not stop.is_set():
            pause = self._step()
            if pause is None:
                break
            stop.wait(pause)
        logger.info("simulator stopped: %s", self.stats.summary())

    def _step(self) -> float | None:
        """One tick of the loop; the pause before the next, or None to stop for good."""
        try:
            self.step(self.clock.now())
        except Forbidden as err:
            self.fatal = f"the system refuses the simulator's credentials: {err.message}"
            logger.error("simulator stopped: %s", self.fatal)
            return None
        except Unavailable as err:
            return self._backoff(err)
        except Exception as err:  # a bug must not end the demo: log it, back off, go on
            logger.exception("simulator step failed")
            return self._backoff(err)
        self._failures = 0
        return self.config.tick_seconds

    def _backoff(self, err: Exception) -> float:
        self._failures += 1
        self.stats.failures += 1
        self.stats.last_error = str(err)
        delay = min(MAX_BACKOFF_S, self.config.tick_seconds * 2.0 ** min(self._failures, 10))
        logger.warning("simulator: %s; next try in %.1f s", err, delay)
        return delay

    # --- benchmarks -----------------------------------------------------------------------

    def burst(self, n: int, *, threads: int = 1, now: datetime | None = None) -> BurstResult:
        """Send ``n`` routine reports as fast as possible (not handled afterwards)."""
        at = now or self.clock.now()
        reports = []
        for _ in range(n):
            seq, self._seq = self._seq, self._seq + 1
            report = self.arrivals.routine(at).report
            reports.append(replace(report, idempotency_key=f"sim-{self._run_id}-{seq}"))
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            outcomes = Counter(pool.map(self._send_one, reports))
        seconds = time.perf_counter() - started
        self.stats.reports += outcomes["created"]
        return BurstResult(n, outcomes["created"], outcomes["refused"], outcomes["failed"], seconds)

    def _send_one(self, report: Report, attempts: int = 6) -> str:
        for attempt in range(attempts):
            try:
                self.client.report(report)
                return "created"
            except Refused as err:
                self.stats.refused[err.code] += 1
                return "refused"
            except Unavailable:  # rate limited or busy: the idempotency key makes a resend safe
                time.sleep(min(2.0, 0.05 * 2**attempt))
        return "failed"


class SimulatorThread:
    """The simulator running in a background thread of the server process."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=simulator.run, args=(self._stop,), name="simulator", daemon=True
        )

    def start(self) -> SimulatorThread:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def status(self) -> dict[str, Any]:
        stats = self.simulator.stats
        return {"alive": self.alive, "reports": stats.reports, "fixes": stats.fixes}
