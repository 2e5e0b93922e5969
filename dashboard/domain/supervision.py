"""Supervision rules: which reminders, supervision orders, call-list entries and patrol flags
are due, and the exact instant each became due (``due_at``).

Pure: the watchers (dashboard.services.watchers) hand in rows as plain facts plus ``now`` and the
working calendar; nothing here reads a clock or a database. Every item carries the key the
database makes unique — (case, stage, deadline), (village, red_since), (worker, kind, since) — so
deriving the same item twice, in two processes or after a restart, yields the same key and the
watcher inserts nothing twice; a missed minute is caught up because what is due is derived from
the data, not from the moment the watcher happened to run.

Deadline items (DOMAIN.md "Time limits"): a case's limit starts at registration (立案) and runs
while the clock runs (``CLOCK_RUNNING_STATUSES``: registered … rework; not while suspended, not
once handled). A reminder is due from the yellow moment (``deadlines.yellow_moment``, on working
time), an order from the deadline (red at the deadline itself). A case that turned yellow and red
while no watcher ran gets both, each with its own ``due_at``: nothing is lost. An approved
extension or a resume after a suspension moves the deadline, a new key, so the stage is watched
again against the new deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT, yellow_moment
from dashboard.domain.errors import DeadlineError
from dashboard.domain.status import CLOCK_RUNNING_STATUSES
from dashboard.domain.village_status import (
    RedReason,
    VillageLight,
    VillageRule,
    VillageState,
    call_due_at,
)

# The limit the watchers watch: the one computed at registration (立案) and moved by extension and
# resumption. The reminders' and orders' ``stage`` column holds it.
STAGE_REGISTERED = "registered"
_RUNNING = frozenset(s.value for s in CLOCK_RUNNING_STATUSES)

SILENT = "silent"
OUTSIDE = "outside_grid"


@dataclass(frozen=True, slots=True)
class WatchedCase:
    """What the deadline rules need of an open case."""

    id: int
    status: str  # a CaseStatus value
    start: datetime | None  # registered_at: when the limit started
    deadline: datetime | None
    suspended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DueItem:
    """A reminder or order that is due: its unique key and the instant it became due."""

    case_id: int
    stage: str
    deadline: datetime
    due_at: datetime


def is_watched(case: WatchedCase) -> bool:
    """The clock runs: registered and not yet handled, not suspended, with a deadline."""
    return (
        case.status in _RUNNING
        and case.suspended_at is None
        and case.start is not None
        and case.deadline is not None
    )


def reminder_moment(
    case: WatchedCase, calendar: WorkingCalendar, yellow_at: float = DEFAULT_YELLOW_AT
) -> datetime | None:
    """When the case's stage light turns yellow; None when it is not watched."""
    if not is_watched(case):
        return None
    assert case.start is not None and case.deadline is not None
    try:
        return yellow_moment(case.start, case.deadline, calendar, yellow_at)
    except DeadlineError:
        # No working time between start and deadline (a deadline typed by hand inside a
        # weekend): there is no yellow phase; the order at the deadline still comes.
        return None


def reminder_due(
    case: WatchedCase,
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
    *,
    moment: datetime | None = None,
) -> DueItem | None:
    """The reminder of ``case`` if it is due at ``now`` (``moment``: a precomputed yellow
    moment for this case's start and deadline, as the watcher caches them)."""
    if not is_watched(case):
        return None
    due_at = moment if moment is not None else reminder_moment(case, calendar, yellow_at)
    if due_at is None or now < due_at:
        return None
    assert case.deadline is not None
    return DueItem(case.id, STAGE_REGISTERED, case.deadline, due_at)


def order_due(case: WatchedCase, now: datetime) -> DueItem | None:
    """The supervision order of ``case`` if its deadline has passed (red at the deadline)."""
    if not is_watched(case):
        return None
    assert case.deadline is not None
    if now < case.deadline:
        return None
    return DueItem(case.id, STAGE_REGISTERED, case.deadline, case.deadline)


def deadline_items(
    cases: Iterable[WatchedCase],
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
) -> tuple[list[DueItem], list[DueItem]]:
    """(reminders, orders) due at ``now`` for ``cases``, at most one of each per key."""
    reminders: dict[tuple[int, str, datetime], DueItem] = {}
    orders: dict[tuple[int, str, datetime], DueItem] = {}
    for case in cases:
        if (item := reminder_due(case, now, calendar, yellow_at)) is not None:
            reminders.setdefault((item.case_id, item.stage, item.deadline), item)
        if (item := order_due(case, now)) is not None:
            orders.setdefault((item.case_id, item.stage, item.deadline), item)
    return list(reminders.values()), list(orders.values())


# --- the call list -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedVillage:
    code: str
    status: str  # a VillageLight value
    red_since: datetime | None


def call_entry_due_at(village: RedVillage, rule: VillageRule) -> datetime | None:
    """When a red village is due on the call list (``red_since + call_after``); None if ok."""
    if village.status != VillageLight.RED.value or village.red_since is None:
        return None
    # Only red_since matters to call_due_at; the reason is a placeholder for the invariant.
    state = VillageState(
        VillageLight.RED, village.red_since, frozenset({RedReason.OPEN_RATIO}), None
    )
    return call_due_at(state, rule)


def call_entries_due(
    villages: Iterable[RedVillage], now: datetime, rule: VillageRule
) -> list[tuple[str, datetime, datetime]]:
    """``(village, red_since, listed_at)`` for every village red for at least ``call_after``."""
    due = []
    for village in villages:
        at = call_entry_due_at(village, rule)
        if at is not None and at <= now:
            assert village.red_since is not None
            due.append((village.code, village.red_since, at))
    return due


def call_entry_resolved(entry_red_since: datetime, village: RedVillage | None) -> bool:
    """An entry is about one red episode: it resolves once the village left it (turned ok, or
    turned red again later, which is a new episode with a new entry)."""
    return (
        village is None
        or village.status != VillageLight.RED.value
        or village.red_since != entry_red_since
    )


# --- patrol --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatrolShift:
    """The daily patrol shift with its lunch break, local wall-clock times in ``tz``."""

    start: time
    end: time
    lunch_start: time
    lunch_end: time
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if not self.start <= self.lunch_start <= self.lunch_end <= self.end:
            raise ValueError("need start <= lunch_start <= lunch_end <= end (a day shift)")

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, self.tz)

    def _periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        return (
            (self._at(day, self.start), self._at(day, self.lunch_start)),
            (self._at(day, self.lunch_end), self._at(day, self.end)),
        )

    def on_duty(self, t: datetime) -> bool:
        return any(a <= t < b for a, b in self._periods(t.astimezone(self.tz).date()))

    def duty_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Time on duty (shift minus lunch) in ``[a, b)``."""
        total = timedelta(0)
        day = a.astimezone(self.tz).date()
        while day <= b.astimezone(self.tz).date():
            for start, end in self._periods(day):
                lo, hi = max(start, a), min(end, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add_duty_time(self, a: datetime, amount: timedelta) -> datetime:
        """The first instant by which ``amount`` of duty time has passed since ``a``."""
        left = amount
        day = a.astimezone(self.tz).date()
        while True:
            for start, end in self._periods(day):
                lo = max(start, a)
                if end <= lo:
                    continue
                if lo + left <= end:
                    return lo + left
                left -= end - lo
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class WorkerFix:
    """A worker's newest fix and whether it lies in their own grid."""

    worker_id: str
    village: str
    at: datetime
    inside: bool
    outside_since: datetime | None = None  # first fix of the trailing streak outside the grid


@dataclass(frozen=True, slots=True)
class PatrolItem:
    worker_id: str
    kind: str  # SILENT | OUTSIDE
    since: datetime
    due_at: datetime
    village: str


def silent_due(
    fix: WorkerFix, now: datetime, shift: PatrolShift, silent: timedelta
) -> PatrolItem | None:
    """Silent: ``silent`` of duty time (lunch excluded) without a fix, and on duty now."""
    if not shift.on_duty(now):
        return None
    due_at = shift.add_duty_time(fix.at, silent)
    if now < due_at:
        return None
    return PatrolItem(fix.worker_id, SILENT, fix.at, due_at, fix.village)


def outside_due(
    fix: WorkerFix, now: datetime, shift: PatrolShift, outside: timedelta
) -> PatrolItem | None:
    """Outside: the newest fixes have been outside the worker's grid for ``outside``."""
    if fix.inside or fix.outside_since is None or not shift.on_duty(now):
        return None
    due_at = fix.outside_since + outside
    if now < due_at:
        return None
    return PatrolItem(fix.worker_id, OUTSIDE, fix.outside_since, due_at, fix.village)


def outside_streak_start(fixes_newest_first: Iterable[tuple[datetime, bool]]) -> datetime | None:
    """The first fix of the trailing run of fixes outside the grid; None if the newest is in."""
    since = None
    for at, inside in fixes_newest_first:
        if inside:
            break
        since = at
    return since


def flag_cleared(kind: str, since: datetime, fix: WorkerFix | None) -> bool:
    """A flag clears when it stops being true: a newer fix (silent), a fix back inside the grid
    or a new streak (outside). A silent flag does not clear at the end of the shift: the worker
    is still silent, and the next morning's flag would carry the same key."""
    if fix is None:
        return False
    if kind == SILENT:
        return fix.at > since
    return fix.inside or fix.outside_since != since
