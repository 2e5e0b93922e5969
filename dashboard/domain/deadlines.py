"""Time limits, deadlines, suspension, extension and the per-stage traffic light.

Pure rules over a ``WorkingCalendar``; ``now`` is always an argument (never read from the
clock here) so the scheduler, the wall and the tests agree on the same instant.

Light convention (DOMAIN.md): with ``r`` the share of the limit's *working* time used so far,
green while ``r < yellow_at`` (0.8), yellow from ``yellow_at`` until the deadline, red from the
deadline on — at exactly the deadline the light is already red and the case is overdue. Ratios
are compared exactly (``fractions.Fraction`` over integer microseconds) so that ``stage_light``
at ``yellow_moment(...)`` is yellow and one microsecond earlier it is still green.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from dashboard.domain.calendar import WorkingCalendar, ensure_aware
from dashboard.domain.errors import DeadlineError
from dashboard.domain.time_bounds import MAX_STAGE_SPAN, measurable

_LIMIT_RE = re.compile(r"^\s*(\d+)\s*([hd])\s*$", re.IGNORECASE)
_US = timedelta(microseconds=1)
DEFAULT_YELLOW_AT = 0.8


class TimeUnit(StrEnum):
    WORKING_HOURS = "working_hours"  # 工作时
    WORKING_DAYS = "working_days"  # 工作日


_SUFFIX = {TimeUnit.WORKING_HOURS: "h", TimeUnit.WORKING_DAYS: "d"}


@dataclass(frozen=True)
class TimeLimit:
    """A limit such as 4 working hours (``"4h"``) or 15 working days (``"15d"``)."""

    amount: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        # bool is an int subclass; True working days is a data error, not 1.
        if type(self.amount) is not int or self.amount <= 0:
            raise DeadlineError("bad_limit", f"limit amount {self.amount!r} must be an int > 0")
        if not isinstance(self.unit, TimeUnit):
            raise DeadlineError("bad_limit", f"limit unit {self.unit!r} is not a TimeUnit")

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        """``"4h"`` → 4 working hours, ``"15d"`` → 15 working days (case and spaces ignored)."""
        match = _LIMIT_RE.match(text) if isinstance(text, str) else None
        if match is None:
            raise DeadlineError("bad_limit", f"{text!r} is not a time limit like '4h' or '15d'")
        unit = TimeUnit.WORKING_HOURS if match[2].lower() == "h" else TimeUnit.WORKING_DAYS
        return cls(int(match[1]), unit)

    def __str__(self) -> str:
        """The compact form ``parse`` reads back, as stored in data files."""
        return f"{self.amount}{_SUFFIX[self.unit]}"

    def describe(self) -> str:
        noun = "hour" if self.unit is TimeUnit.WORKING_HOURS else "day"
        return f"{self.amount} working {noun}{'' if self.amount == 1 else 's'}"

    def describe_zh(self) -> str:
        noun = "工作时" if self.unit is TimeUnit.WORKING_HOURS else "工作日"
        return f"{self.amount}个{noun}"


def deadline_for(start: datetime, limit: TimeLimit, calendar: WorkingCalendar) -> datetime:
    """When ``limit`` expires for a stage started at ``start`` (UTC).

    Working hours count working minutes; working days land on the same local clock time on the
    N-th following working day (see ``WorkingCalendar.add_working_days`` for the convention).
    """
    if limit.unit is TimeUnit.WORKING_HOURS:
        return calendar.add_working_time(start, timedelta(hours=limit.amount))
    return calendar.add_working_days(start, limit.amount)


def resume_deadline(
    deadline: datetime, suspended_at: datetime, resumed_at: datetime, calendar: WorkingCalendar
) -> datetime:
    """The deadline after a suspension (挂账): the clock stood still while suspended.

    The working time that remained at ``suspended_at`` is granted again from ``resumed_at``
    (the result is the earliest such moment). A suspension that covered no working time
    (Friday 17:30 → Monday 08:30) returns the deadline unchanged — otherwise a working-days
    deadline at 08:30 would be pulled back to the previous 17:30, the same working time but an
    earlier wall clock. A case suspended when already overdue keeps its deadline: suspension
    cannot cure lateness.
    """
    suspended_at = ensure_aware(suspended_at, "suspended_at")
    resumed_at = ensure_aware(resumed_at, "resumed_at")
    if resumed_at < suspended_at:
        raise DeadlineError(
            "bad_suspension",
            f"resumed at {resumed_at.isoformat()} before suspended at {suspended_at.isoformat()}",
        )
    deadline = ensure_aware(deadline, "deadline")
    if suspended_at >= deadline or not calendar.working_time_between(suspended_at, resumed_at):
        return deadline
    remaining = calendar.working_time_between(suspended_at, deadline)
    return calendar.add_working_time(resumed_at, remaining)


def extend_deadline(current: datetime, requested: datetime) -> datetime:
    """An approved extension (延期): the requested deadline, which must be later (UTC)."""
    current = ensure_aware(current, "current deadline")
    requested = ensure_aware(requested, "requested deadline")
    if requested <= current:
        raise DeadlineError(
            "bad_extension",
            f"requested deadline {requested.isoformat()} is not later than {current.isoformat()}",
        )
    return requested


def suggested_extension(current: datetime | None, now: datetime) -> datetime:
    """What an extension form offers: a day after the later of the current deadline and
    ``now``, so the suggestion is always one the lifecycle accepts (after both; issue 10 §4:
    "deadline + 1 day" of a case two days overdue was already past)."""
    base = ensure_aware(now, "now") if current is None else max(ensure_aware(current), now)
    return base + timedelta(days=1)


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def _used_and_total(
    start: datetime, deadline: datetime, now: datetime, calendar: WorkingCalendar
) -> tuple[int, int]:
    """Working microseconds used by ``now`` and granted until ``deadline``."""
    if not measurable(start, deadline):  # a stored row from before the bounds (year 9999)
        raise DeadlineError(
            "deadline_out_of_bounds",
            f"the stage {start.isoformat()} → {deadline.isoformat()} is longer than "
            f"{MAX_STAGE_SPAN.days} days; the deadline is not measured",
        )
    total = calendar.working_time_between(start, deadline) // _US
    if total <= 0:
        raise DeadlineError(
            "bad_deadline", f"no working time between {start.isoformat()} and the deadline"
        )
    return calendar.working_time_between(start, now) // _US, total


def elapsed_ratio(
    start: datetime, deadline: datetime, now: datetime, calendar: WorkingCalendar
) -> float:
    """Share of the limit's working time used at ``now`` (1 at the deadline, more after)."""
    used, total = _used_and_total(start, deadline, now, calendar)
    return used / total


def _check_yellow_at(yellow_at: float) -> Fraction:
    if not 0 < yellow_at < 1:
        raise DeadlineError("bad_threshold", f"yellow_at {yellow_at!r} must be in (0, 1)")
    # The decimal the user wrote (0.8 = 4/5), not the binary float (0.8000000000000000444),
    # so that exactly 80 % of the limit is already yellow.
    return Fraction(str(yellow_at))


def stage_light(
    start: datetime,
    deadline: datetime,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    yellow_at: float = DEFAULT_YELLOW_AT,
) -> Light:
    """Green / yellow / red for a stage (see the module docstring; red at the deadline)."""
    threshold = _check_yellow_at(yellow_at)
    if is_overdue(deadline, now):
        return Light.RED
    used, total = _used_and_total(start, deadline, now, calendar)
    return Light.YELLOW if Fraction(used, total) >= threshold else Light.GREEN


def is_overdue(deadline: datetime, now: datetime) -> bool:
    """True from the deadline instant on (consistent with the red light)."""
    return ensure_aware(now, "now") >= ensure_aware(deadline, "deadline")


def yellow_moment(
    start: datetime,
    deadline: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
) -> datetime:
    """The exact instant the light turns yellow, for the reminder scheduler (UTC).

    Rounded *up* to the microsecond so the light is yellow at the returned instant.
    """
    threshold = _check_yellow_at(yellow_at)
    _, total = _used_and_total(start, deadline, start, calendar)
    used = math.ceil(threshold * total)
    return calendar.add_working_time(start, used * _US)
