"""Grid-worker metrics (DOMAIN.md, "Metrics"): reports, verify/check timeliness, patrols.

* valid report rate = (registered + voided with a reason) / reported — a report voided *with a
  reason* (e.g. a duplicate someone else filed first) was made in good faith;
* on-time verify rate and on-time check rate = on time / done, from counts;
* 漏报率 missed-report rate = public reports in the worker's grid / the worker's own registered
  reports. This is the published ratio, not a share: it can exceed 100 % (5 public reports
  against 2 own ones is 250 %). The caller decides which public reports count (we recommend the
  registered ones, so invalid complaints do not count against the worker);

The patrol figures have one home, the tracks' summary (``dashboard.domain.patrol``); the rankings'
patrol figures (issue 13) add up the tracks' own per-day patrol summaries
(``dashboard.domain.patrol``, docs/tracks.md) over a period with :class:`PatrolTotals`:
distance and time on patrol are sums of the days; the share inside the own grid is
Σ time inside / Σ time on patrol; household coverage is Σ households passed per patrol day /
(the grid's households × patrol days) — the average day's coverage, weighted by households.
A patrol day is a local day with at least one trusted fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.domain.metrics import CaseFacts, Period, rate
from dashboard.domain.status import CaseStatus, Source

__all__ = [
    "PatrolTotals",
    "ReportCounts",
    "missed_report_rate",
    "report_counts_by_worker",
    "valid_report_rate",
]


@dataclass(frozen=True, slots=True)
class ReportCounts:
    """A worker's own reports in a period (see :func:`report_counts_by_worker`)."""

    reported: int = 0
    registered: int = 0
    voided_with_reason: int = 0


def valid_report_rate(counts: ReportCounts) -> float | None:
    """(registered + voided with a reason) / reported, in percent; None without reports."""
    return rate(counts.registered + counts.voided_with_reason, counts.reported)


def missed_report_rate(public_reports_in_grid: int, registered: int) -> float | None:
    """漏报率: public reports in the worker's grid / the worker's own registered reports, in
    percent (the published ratio: it can exceed 100 %); None without registered reports."""
    if public_reports_in_grid < 0:
        raise ValueError(f"counts must not be negative: {public_reports_in_grid}")
    return rate(public_reports_in_grid, registered)


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
