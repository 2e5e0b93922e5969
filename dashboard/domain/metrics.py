"""Closure metrics of the national practice (DOMAIN.md, "Metrics"), as percentages.

Every rate is ``numerator / denominator × 100`` rounded half-up to two decimals, and ``None``
when the denominator is 0: no cases means "no figure", never an invented 100 %.

Which cases count in a period ``[start, end)`` evaluated at ``now`` (``cutoff = min(now, end)``):

* voided cases never count here (they are judged in the grid-worker metrics);
* **closed**: ``closed_at`` within the period; **closed on time**: also ``closed_at <= deadline``
  (a closed case without a deadline — self-handled on the spot, never registered — had no limit to
  miss and counts as on time);
* **open overdue**: registered before ``end``, its deadline before ``cutoff``, and still open at
  ``cutoff`` (not closed, or closed at/after ``cutoff``). Judging openness at the cutoff rather than
  today keeps a past month's report stable when its overdue cases are closed later. A case whose
  *current* status is SUSPENDED (挂账, clock stopped) is not counted as overdue;
* **should be closed** = closed + open overdue: overdue cases count against you (anti-gaming);
* **reworks**: cases in the should-be-closed set with at least one rework — a case reworked three
  times counts once, so the rework rate is a share (≤ 100 %) and the score term stays ≥ 0;
* **registered**: ``registered_at`` within the period; **extensions**: of those, cases extended at
  least once; **dispatched**: of those, cases dispatched at least once; **dispatched right first
  time**: exactly one dispatch and no return (CaseFacts carries no dispatch time, so the
  registration period is the cohort);
* **handled**: ``handled_at`` within the period (the latest handling, as the storage layer gives
  it); **handled on time**: ``handled_at <= deadline`` (or no deadline); **should be handled** =
  handled + cases dispatched and overdue at ``cutoff``, open and not handled by then.

The one deadline in CaseFacts serves both closure and handling (the current stage limit, with
extensions and suspensions already applied by the caller).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from dashboard.domain.status import OPEN_STATUSES, CaseStatus

__all__ = [
    "CaseFacts",
    "ClosureCounts",
    "Period",
    "by_department",
    "by_key",
    "case_tally",
    "closure_counts",
    "closure_rate",
    "dispatch_accuracy",
    "extension_rate",
    "handling_rate",
    "on_time_closure_rate",
    "on_time_handling_rate",
    "rate",
    "rework_rate",
]


def rate(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator`` as a percentage rounded half-up to 2 decimals; None on 0.

    Exact integer arithmetic, equal to ``Decimal.quantize(Decimal("0.01"), ROUND_HALF_UP)`` on the
    exact quotient but free of the decimal context's precision: 911/972 → 93.72, 737/972 → 75.82.
    A numerator above the denominator is allowed (some published ratios, e.g. 漏报率, exceed 100).
    """
    if numerator < 0 or denominator < 0:
        raise ValueError(f"counts must not be negative: {numerator}/{denominator}")
    if denominator == 0:
        return None
    hundredths, remainder = divmod(numerator * 10_000, denominator)
    if 2 * remainder >= denominator:
        hundredths += 1
    return hundredths / 100  # int / int is correctly rounded to the nearest float


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """One row per case, built by the storage layer: just what the metrics need."""

    status: CaseStatus  # the current status
    reported_at: datetime
    registered_at: datetime | None
    deadline: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    department_code: str | None
    category_code: str | None
    source: str
    reporter_id: str | None
    rework_count: int = 0
    extension_count: int = 0
    dispatch_count: int = 0
    return_count: int = 0
    voided_with_reason: bool = False
    # 12-digit village code; the town is its first 9 digits (by_key groups on either).
    village_code: str | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """The half-open interval ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"a period must end after it starts: {self.start} .. {self.end}")

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class ClosureCounts:
    """The counts behind the closure metrics of one unit and period (see the module docstring)."""

    closed: int = 0
    closed_on_time: int = 0
    open_overdue: int = 0
    registered: int = 0
    reworks: int = 0
    extensions: int = 0
    dispatched: int = 0
    dispatched_right_first_time: int = 0
    handled: int = 0
    handled_on_time: int = 0
    unhandled_overdue: int = 0  # dispatched, overdue and still not handled at the cutoff

    def __post_init__(self) -> None:
        values = (
            self.closed,
            self.closed_on_time,
            self.open_overdue,
            self.registered,
            self.reworks,
            self.extensions,
            self.dispatched,
            self.dispatched_right_first_time,
            self.handled,
            self.handled_on_time,
            self.unhandled_overdue,
        )
        if min(values) < 0:
            raise ValueError(f"counts must not be negative: {self}")
        # Each part never exceeds its whole, so every rate below is within [0, 100].
        for part, whole, what in (
            (self.closed_on_time, self.closed, "closed_on_time > closed"),
            (self.reworks, self.should_be_closed, "reworks > should_be_closed"),
            (self.extensions, self.registered, "extensions > registered"),
            (self.dispatched, self.registered, "dispatched > registered"),
            (self.dispatched_right_first_time, self.dispatched, "right first time > dispatched"),
            (self.handled_on_time, self.handled, "handled_on_time > handled"),
        ):
            if part > whole:
                raise ValueError(f"inconsistent counts ({what}): {self}")

    @property
    def should_be_closed(self) -> int:
        """应结案数 = closed + open overdue."""
        return self.closed + self.open_overdue

    @property
    def should_be_handled(self) -> int:
        """应处置数 = handled + dispatched, overdue and not handled."""
        return self.handled + self.unhandled_overdue


def closure_rate(counts: ClosureCounts) -> float | None:
    """结案率 = closed / should-be-closed."""
    return rate(counts.closed, counts.should_be_closed)


def on_time_closure_rate(counts: ClosureCounts) -> float | None:
    """按期结案率 = closed on time / should-be-closed."""
    return rate(counts.closed_on_time, counts.should_be_closed)


def handling_rate(counts: ClosureCounts) -> float | None:
    """处置率 = handled / should-be-handled."""
    return rate(counts.handled, counts.should_be_handled)


def on_time_handling_rate(counts: ClosureCounts) -> float | None:
    """按期处置率 = handled on time / should-be-handled."""
    return rate(counts.handled_on_time, counts.should_be_handled)


def rework_rate(counts: ClosureCounts) -> float | None:
    """返工率 = reworked cases / should-be-closed."""
    return rate(counts.reworks, counts.should_be_closed)


def extension_rate(counts: ClosureCounts) -> float | None:
    """延期率 = extended cases / registered."""
    return rate(counts.extensions, counts.registered)


def dispatch_accuracy(counts: ClosureCounts) -> float | None:
    """准确派遣率 = dispatched once to the right department / dispatched."""
    return rate(counts.dispatched_right_first_time, counts.dispatched)


# Accumulator slots, in ClosureCounts field order.
(
    _CLOSED,
    _CLOSED_ON_TIME,
    _OPEN_OVERDUE,
    _REGISTERED,
    _REWORKS,
    _EXTENSIONS,
    _DISPATCHED,
    _RIGHT_FIRST_TIME,
    _HANDLED,
    _HANDLED_ON_TIME,
    _UNHANDLED_OVERDUE,
) = range(11)
_SLOTS = 11


def _add(acc: list[int], case: CaseFacts, period: Period, cutoff: datetime) -> None:
    """Add one case to an accumulator (the definitions are in the module docstring)."""
    if case.status is CaseStatus.VOIDED:
        return
    _add_closure(acc, case, period, cutoff)
    registered_at = case.registered_at
    if registered_at is not None and period.start <= registered_at < period.end:
        acc[_REGISTERED] += 1
        if case.extension_count > 0:
            acc[_EXTENSIONS] += 1
        if case.dispatch_count > 0:
            acc[_DISPATCHED] += 1
            if case.dispatch_count == 1 and case.return_count == 0:
                acc[_RIGHT_FIRST_TIME] += 1
    handled_at = case.handled_at
    if handled_at is not None and period.start <= handled_at < period.end:
        acc[_HANDLED] += 1
        if case.deadline is None or handled_at <= case.deadline:
            acc[_HANDLED_ON_TIME] += 1


def _add_closure(acc: list[int], case: CaseFacts, period: Period, cutoff: datetime) -> None:
    """Closed, open overdue (and its unhandled part) and reworks of one non-voided case."""
    deadline, closed_at = case.deadline, case.closed_at
    if closed_at is not None and period.start <= closed_at < period.end:
        acc[_CLOSED] += 1
        if deadline is None or closed_at <= deadline:
            acc[_CLOSED_ON_TIME] += 1
    elif (
        deadline is not None
        and deadline < cutoff
        and case.registered_at is not None
        and case.registered_at < period.end
        and case.status is not CaseStatus.SUSPENDED
        and _open_at(case, cutoff)
    ):
        acc[_OPEN_OVERDUE] += 1
        handled_at = case.handled_at
        if case.dispatch_count > 0 and (handled_at is None or handled_at >= cutoff):
            acc[_UNHANDLED_OVERDUE] += 1
    else:
        return  # not in the should-be-closed set
    if case.rework_count > 0:
        acc[_REWORKS] += 1


def _open_at(case: CaseFacts, cutoff: datetime) -> bool:
    """Whether the (non-voided) case was still open at ``cutoff``."""
    if case.closed_at is not None:
        return case.closed_at >= cutoff
    # No closing time: the current status decides (a closed status without a time is not open).
    return case.status in OPEN_STATUSES


def _counts(acc: list[int]) -> ClosureCounts:
    return ClosureCounts(*acc)


def closure_counts(cases: Iterable[CaseFacts], period: Period, now: datetime) -> ClosureCounts:
    """The closure counts of all ``cases`` for ``period``, evaluated at ``now``."""
    acc = [0] * _SLOTS
    cutoff = min(now, period.end)
    for case in cases:
        _add(acc, case, period, cutoff)
    return _counts(acc)


def case_tally(case: CaseFacts, period: Period, now: datetime) -> list[int]:
    """``closure_counts([case], period, now)`` as a list in ``ClosureCounts`` field order,
    without building (and validating) the dataclass: the same rule, for the trend roll-ups,
    which evaluate it for every case and day of years of history."""
    acc = [0] * _SLOTS
    _add(acc, case, period, min(now, period.end))
    return acc


def by_key(
    cases: Iterable[CaseFacts],
    key_fn: Callable[[CaseFacts], str | None],
    period: Period,
    now: datetime,
) -> dict[str, ClosureCounts]:
    """Closure counts per ``key_fn(case)`` in one pass; cases whose key is None are skipped.

    Towns: ``lambda c: c.village_code[:9] if c.village_code else None``; villages:
    ``lambda c: c.village_code``; categories: ``lambda c: c.category_code``.
    Only keys with at least one case appear (a key may map to all-zero counts).
    """
    accs: dict[str, list[int]] = {}
    cutoff = min(now, period.end)
    for case in cases:
        key = key_fn(case)
        if key is None:
            continue
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = [0] * _SLOTS
        _add(acc, case, period, cutoff)
    return {key: _counts(acc) for key, acc in accs.items()}


def by_department(
    cases: Iterable[CaseFacts], period: Period, now: datetime
) -> dict[str, ClosureCounts]:
    """Closure counts per (current) department; cases not yet dispatched to one are skipped."""
    return by_key(cases, _department_of, period, now)


def _department_of(case: CaseFacts) -> str | None:
    return case.department_code
