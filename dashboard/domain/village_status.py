"""Village status: villages turn red when too many cases stay open (DOMAIN.md, "Village status").

Our own rule (no standard defines it), so every number lives in :class:`VillageRule`:

* the open ratio of a village is ``window_open / window_total`` over a rolling window, and it is
  only defined when at least ``min_cases`` cases are in the window (1 of 1 must not flap);
* the ratio makes a village red at ``>= enter_ratio`` and keeps it red while ``>= leave_ratio``
  (hysteresis). The hysteresis belongs to the *ratio reason*, not to the colour: a village that is
  red only because of an emergency and sits at a ratio between the two thresholds does not gain
  the ratio reason, so it turns green as soon as the emergency is closed;
* when the window drops below ``min_cases`` the ratio reason is dropped even if it was active:
  the evidence is gone, and keeping it would leave a quiet village red indefinitely;
* an open emergency case, or ``red_on_overdue`` or more open overdue cases, also make it red;
* ``red_since`` is set when the village turns red, kept while it stays red (whatever the reasons
  become) and cleared when it turns green; red for ``call_after`` puts it on the call list.

Everything here is pure: the counts come from the storage layer, ``now`` from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "INITIAL",
    "ZERO_COUNTS",
    "RedReason",
    "VillageCounts",
    "VillageLight",
    "VillageRule",
    "VillageState",
    "call_due",
    "call_due_at",
    "changed",
    "open_ratio",
    "recompute_all",
    "village_status",
]


@dataclass(frozen=True, slots=True)
class VillageRule:
    """Configuration of the village rule; the defaults are the ones in DOMAIN.md."""

    window: timedelta = timedelta(hours=24)
    min_cases: int = 5
    enter_ratio: float = 0.8
    leave_ratio: float = 0.7
    call_after: timedelta = timedelta(hours=2)
    red_on_open_emergency: bool = True
    # e.g. 3: red while 3 or more open cases are overdue; None switches the reason off.
    red_on_overdue: int | None = None

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise ValueError(f"window must be positive, got {self.window}")
        if self.min_cases < 1:
            raise ValueError(f"min_cases must be at least 1, got {self.min_cases}")
        # Written so that NaN fails too (every comparison with NaN is False).
        if not 0 < self.leave_ratio <= self.enter_ratio <= 1:
            raise ValueError(
                "ratios must satisfy 0 < leave_ratio <= enter_ratio <= 1, got "
                f"leave_ratio={self.leave_ratio}, enter_ratio={self.enter_ratio}"
            )
        if self.call_after < timedelta(0):
            raise ValueError(f"call_after must not be negative, got {self.call_after}")
        if self.red_on_overdue is not None and self.red_on_overdue < 1:
            raise ValueError(
                f"red_on_overdue must be at least 1 or None (off), got {self.red_on_overdue}"
            )

    def window_start(self, now: datetime) -> datetime:
        """The first instant of the rolling window ending at ``now`` (reported at or after)."""
        return now - self.window


class VillageLight(StrEnum):
    OK = "ok"
    RED = "red"


class RedReason(StrEnum):
    OPEN_RATIO = "open_ratio"
    EMERGENCY = "emergency"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class VillageCounts:
    """One village's counts, aggregated by the storage layer with one GROUP BY.

    ``window_total``: cases reported in ``[rule.window_start(now), now]``, voided cases excluded
    (an invalid or duplicate report must not dilute the ratio); ``window_open``: of those, the ones
    still in ``OPEN_STATUSES``. ``open_emergencies`` and ``open_overdue`` count *all* open cases of
    the village, whatever their age: an emergency reported two days ago and still open matters.
    """

    window_total: int
    window_open: int
    open_emergencies: int = 0
    open_overdue: int = 0

    def __post_init__(self) -> None:
        if min(self.window_total, self.window_open, self.open_emergencies, self.open_overdue) < 0:
            raise ValueError(f"counts must not be negative: {self}")
        if self.window_open > self.window_total:
            raise ValueError(
                f"window_open ({self.window_open}) exceeds window_total ({self.window_total})"
            )


ZERO_COUNTS = VillageCounts(window_total=0, window_open=0)


@dataclass(frozen=True, slots=True)
class VillageState:
    """The light of one village. Invariant: red ⇔ at least one reason ⇔ ``red_since`` is set."""

    status: VillageLight
    red_since: datetime | None
    reasons: frozenset[RedReason]
    open_ratio: float | None  # None when the window holds fewer than min_cases cases

    def __post_init__(self) -> None:
        red = self.status is VillageLight.RED
        if red != bool(self.reasons) or red != (self.red_since is not None):
            raise ValueError(
                "a red village needs reasons and red_since, an ok village has neither: "
                f"status={self.status}, reasons={sorted(self.reasons)}, red_since={self.red_since}"
            )
        if self.open_ratio is not None and not 0.0 <= self.open_ratio <= 1.0:
            raise ValueError(f"open_ratio must be within [0, 1] or None, got {self.open_ratio}")

    @property
    def is_red(self) -> bool:
        return self.status is VillageLight.RED


INITIAL = VillageState(VillageLight.OK, None, frozenset(), None)

# All eight reason sets, built once: village_status picks one instead of allocating a frozenset
# per village (recompute_all runs over every village of a city on each tick).
_RATIO, _EMERGENCY, _OVERDUE = 1, 2, 4
_REASON_SETS: tuple[frozenset[RedReason], ...] = tuple(
    frozenset(
        reason
        for bit, reason in (
            (_RATIO, RedReason.OPEN_RATIO),
            (_EMERGENCY, RedReason.EMERGENCY),
            (_OVERDUE, RedReason.OVERDUE),
        )
        if mask & bit
    )
    for mask in range(8)
)


def open_ratio(counts: VillageCounts, rule: VillageRule) -> float | None:
    """Open share of the window in [0, 1], or None below ``rule.min_cases`` (never divides by 0)."""
    if counts.window_total < rule.min_cases:
        return None
    return counts.window_open / counts.window_total


def village_status(
    previous: VillageState, counts: VillageCounts, now: datetime, rule: VillageRule
) -> VillageState:
    """The village's state at ``now``, given its previous state and its current counts.

    Returns ``previous`` itself when nothing changed (same light, reasons and ratio).
    ``red_since`` is never after ``now``: if the clock went backwards it is pulled back to ``now``.
    """
    ratio = open_ratio(counts, rule)
    mask = 0
    if ratio is not None:
        # Dividing (not ``open >= enter_ratio * total``) keeps 7 of 10 exactly equal to 0.7.
        threshold = (
            rule.leave_ratio if RedReason.OPEN_RATIO in previous.reasons else rule.enter_ratio
        )
        if ratio >= threshold:
            mask |= _RATIO
    if rule.red_on_open_emergency and counts.open_emergencies > 0:
        mask |= _EMERGENCY
    if rule.red_on_overdue is not None and counts.open_overdue >= rule.red_on_overdue:
        mask |= _OVERDUE

    if not mask:
        if previous.status is VillageLight.OK and previous.open_ratio == ratio:
            return previous
        return VillageState(VillageLight.OK, None, _REASON_SETS[0], ratio)

    reasons = _REASON_SETS[mask]
    red_since = previous.red_since
    if red_since is None or red_since > now:
        red_since = now
    elif reasons == previous.reasons and ratio == previous.open_ratio:
        return previous
    return VillageState(VillageLight.RED, red_since, reasons, ratio)


def changed(before: VillageState, after: VillageState) -> bool:
    """True when a "village status change" event is due: the light or the reasons changed.

    A moving open ratio alone is not a change (it moves with every case).
    """
    return before.status is not after.status or before.reasons != after.reasons


def call_due(state: VillageState, now: datetime, rule: VillageRule) -> bool:
    """True when the village has been red for at least ``rule.call_after`` (the call list)."""
    return state.red_since is not None and now - state.red_since >= rule.call_after


def call_due_at(state: VillageState, rule: VillageRule) -> datetime | None:
    """The instant the village becomes due for a call (for a scheduler), None while it is ok."""
    return None if state.red_since is None else state.red_since + rule.call_after


def recompute_all(
    previous: Mapping[str, VillageState],
    counts: Mapping[str, VillageCounts],
    now: datetime,
    rule: VillageRule,
) -> dict[str, VillageState]:
    """The state of every village known to either mapping, keyed by village code.

    A village with no counts gets zero counts (its cases all left the window, so its ratio reason
    drops); a village seen for the first time starts from :data:`INITIAL`. A plain loop: unchanged
    villages keep their previous state object, so a quiet tick allocates little beyond the dict.
    """
    result: dict[str, VillageState] = {}
    get_counts = counts.get
    for code, state in previous.items():
        result[code] = village_status(state, get_counts(code, ZERO_COUNTS), now, rule)
    for code, village_counts in counts.items():
        if code not in result:
            result[code] = village_status(INITIAL, village_counts, now, rule)
    return result
