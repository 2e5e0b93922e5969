"""Grid-worker metrics (DOMAIN.md, "Metrics"): reports, verify/check timeliness, patrols.

* valid report rate = (registered + voided with a reason) / reported — a report voided *with a
  reason* (e.g. a duplicate someone else filed first) was made in good faith;
* on-time verify rate and on-time check rate = on time / done, from counts;
* 漏报率 missed-report rate = public reports in the worker's grid / the worker's own registered
  reports. This is the published ratio, not a share: it can exceed 100 % (5 public reports
  against 2 own ones is 250 %). The caller decides which public reports count (we recommend the
  registered ones, so invalid complaints do not count against the worker);
* patrol distance: haversine over one patrol's time-ordered fixes, skipping any fix that would
  need more than ``max_speed_kmh`` from the last accepted fix (GPS noise);
* coverage: share of the grid's cells visited (cell ids and the cell count come from the caller).

The rankings' patrol figures (issue 13) add up the tracks' own per-day patrol summaries
(``dashboard.domain.patrol``, docs/tracks.md) over a period with :class:`PatrolTotals`:
distance and time on patrol are sums of the days; the share inside the own grid is
Σ time inside / Σ time on patrol; household coverage is Σ households passed per patrol day /
(the grid's households × patrol days) — the average day's coverage, weighted by households.
A patrol day is a local day with at least one trusted fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dashboard.domain.metrics import CaseFacts, Period, rate
from dashboard.domain.status import CaseStatus, Source

__all__ = [
    "EARTH_RADIUS_KM",
    "Fix",
    "PatrolTotals",
    "ReportCounts",
    "WorkerFacts",
    "WorkerMetrics",
    "coverage",
    "haversine_km",
    "patrol_distance_km",
    "report_counts_by_worker",
    "worker_metrics",
]

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
DEFAULT_MAX_SPEED_KMH = 30.0


@dataclass(frozen=True, slots=True)
class Fix:
    """One WGS-84 position of a worker's phone."""

    at: datetime
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"not a WGS-84 position: lat={self.lat}, lon={self.lon}")


@dataclass(frozen=True, slots=True)
class ReportCounts:
    """A worker's own reports in a period (see :func:`report_counts_by_worker`)."""

    reported: int = 0
    registered: int = 0
    voided_with_reason: int = 0


@dataclass(frozen=True, slots=True)
class WorkerFacts:
    """Everything the worker metrics need for one worker and period, gathered by the caller."""

    reported: int = 0
    registered: int = 0
    voided_with_reason: int = 0
    verifications: int = 0
    verified_on_time: int = 0
    checks: int = 0
    checked_on_time: int = 0
    public_reports_in_grid: int = 0
    fixes: tuple[Fix, ...] = ()  # one patrol, time-ordered
    visited_cells: frozenset[str] = frozenset()
    grid_cells: int = 0

    def __post_init__(self) -> None:
        counts = (
            self.reported,
            self.registered,
            self.voided_with_reason,
            self.verifications,
            self.verified_on_time,
            self.checks,
            self.checked_on_time,
            self.public_reports_in_grid,
            self.grid_cells,
        )
        if min(counts) < 0:
            raise ValueError(f"counts must not be negative: {self}")
        if self.registered + self.voided_with_reason > self.reported:
            raise ValueError("registered + voided_with_reason exceeds reported")
        if self.verified_on_time > self.verifications:
            raise ValueError("verified_on_time exceeds verifications")
        if self.checked_on_time > self.checks:
            raise ValueError("checked_on_time exceeds checks")


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    valid_report_rate: float | None
    on_time_verify_rate: float | None
    on_time_check_rate: float | None
    missed_report_rate: float | None
    patrol_km: float
    coverage: float | None


def worker_metrics(
    facts: WorkerFacts, *, max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH
) -> WorkerMetrics:
    """All grid-worker metrics of one worker (percentages; None where the denominator is 0)."""
    return WorkerMetrics(
        valid_report_rate=rate(facts.registered + facts.voided_with_reason, facts.reported),
        on_time_verify_rate=rate(facts.verified_on_time, facts.verifications),
        on_time_check_rate=rate(facts.checked_on_time, facts.checks),
        missed_report_rate=rate(facts.public_reports_in_grid, facts.registered),
        patrol_km=patrol_distance_km(facts.fixes, max_speed_kmh=max_speed_kmh),
        coverage=coverage(facts.visited_cells, facts.grid_cells),
    )


def report_counts_by_worker(cases: Iterable[CaseFacts], period: Period) -> dict[str, ReportCounts]:
    """Per reporter id, the grid-worker reports made in ``period`` and what became of them.

    Only cases with source ``grid_worker`` and a reporter id count. Registered means registered
    (at any time so far) and not voided; voided with a reason is the storage layer's flag.
    """
    tallies: dict[str, list[int]] = {}
    for case in cases:
        reporter = case.reporter_id
        if reporter is None or case.source != Source.GRID_WORKER or case.reported_at not in period:
            continue
        tally = tallies.get(reporter)
        if tally is None:
            tally = tallies[reporter] = [0, 0, 0]
        tally[0] += 1
        if case.status is CaseStatus.VOIDED:
            if case.voided_with_reason:
                tally[2] += 1
        elif case.registered_at is not None:
            tally[1] += 1
    return {reporter: ReportCounts(*tally) for reporter, tally in tallies.items()}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS-84 points (spherical Earth)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def patrol_distance_km(
    fixes: Iterable[Fix], *, max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH
) -> float:
    """Distance walked over time-ordered ``fixes``, ignoring jumps faster than ``max_speed_kmh``.

    Each fix is compared with the last *accepted* one, so a single wild fix is dropped and the
    track continues from where the worker really was. Two fixes at the same instant but different
    places are noise too. Raises ValueError if the fixes go back in time.
    """
    if not (math.isfinite(max_speed_kmh) and max_speed_kmh > 0):
        raise ValueError(f"max_speed_kmh must be a positive number, got {max_speed_kmh}")
    total = 0.0
    last: Fix | None = None
    previous_at: datetime | None = None
    for fix in fixes:
        if previous_at is not None and fix.at < previous_at:
            raise ValueError(f"fixes must be time-ordered: {fix.at} after {previous_at}")
        previous_at = fix.at
        if last is None:
            last = fix
            continue
        step = haversine_km(last.lat, last.lon, fix.lat, fix.lon)
        hours = (fix.at - last.at).total_seconds() / 3600
        if step > max_speed_kmh * hours:
            continue  # faster than a patrol can move: GPS noise
        total += step
        last = fix
    return total


def coverage(visited_cells: Iterable[str], total_cells: int) -> float | None:
    """Share of the grid's ``total_cells`` cells visited (distinct ids), None for an empty grid."""
    visited = len(set(visited_cells))
    if visited > total_cells:
        raise ValueError(f"{visited} distinct cells visited but the grid has only {total_cells}")
    return rate(visited, total_cells)


def day_households_passed(coverage: float | None, households: int) -> int | None:
    """A day's households passed: its coverage share of the grid's households, rounded."""
    return None if coverage is None else round(coverage * households)


@dataclass(frozen=True, slots=True)
class PatrolTotals:
    """One worker's patrol over a period, from the days' summaries (see the module's text)."""

    days: int = 0  # local days with at least one trusted fix
    fixes: int = 0
    flagged: int = 0
    distance_m: float = 0.0
    patrol_s: float = 0.0
    inside_s: float = 0.0
    households_passed: int = 0  # Σ over the patrol days
    households_due: int = 0  # Σ the grid's households over the patrol days

    def plus_day(
        self,
        *,
        fixes: int,
        flagged: int,
        distance_m: float,
        patrol_s: float,
        inside_s: float,
        coverage: float | None,
        households: int,
    ) -> PatrolTotals:
        """These totals with one day's summary added (a day without a trusted fix adds its
        fixes only)."""
        return self.plus_counts(
            fixes=fixes,
            flagged=flagged,
            distance_m=distance_m,
            patrol_s=patrol_s,
            inside_s=inside_s,
            passed=day_households_passed(coverage, households),
            households=households,
        )

    def plus_counts(
        self,
        *,
        fixes: int,
        flagged: int,
        distance_m: float,
        patrol_s: float,
        inside_s: float,
        passed: int | None,
        households: int,
    ) -> PatrolTotals:
        """``plus_day`` with the day's households passed already counted
        (``day_households_passed``: a stored day's summary)."""
        if fixes < flagged or min(fixes, flagged, households, passed or 0) < 0:
            raise ValueError(f"bad day: {fixes} fixes, {flagged} flagged, {households} households")
        patrolled = fixes > flagged
        passed = passed if patrolled and passed is not None else 0
        return PatrolTotals(
            days=self.days + patrolled,
            fixes=self.fixes + fixes,
            flagged=self.flagged + flagged,
            distance_m=self.distance_m + distance_m,
            patrol_s=self.patrol_s + patrol_s,
            inside_s=self.inside_s + inside_s,
            households_passed=self.households_passed + passed,
            households_due=self.households_due + (households if patrolled else 0),
        )

    @property
    def inside_share(self) -> float | None:
        """Σ time inside the own grid / Σ time on patrol, in %, on whole seconds."""
        return rate(round(self.inside_s), round(self.patrol_s))

    @property
    def household_coverage(self) -> float | None:
        """Σ households passed / Σ the grid's households, over the patrol days, in %."""
        return rate(self.households_passed, self.households_due)
