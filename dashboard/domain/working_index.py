"""Many yellow moments at once: ``deadlines.yellow_moment`` over a precomputed working-time index.

``yellow_moment`` walks the calendar day by day for every case, which is right for one case and
slow for a city's 100,000 (the watchers' first run). ``WorkingIndex`` lists the work periods of a
date range once, with the working time before each, so the working time up to any instant is a
binary search and the instant at which an amount of working time is reached another. It follows
``WorkingCalendar.working_time_between`` and ``add_working_time`` exactly (periods half-open; an
amount used up at a period's end gives that end), and ``yellow_moments`` equals ``yellow_moment``
for every case (tests/unit/test_supervision_rules.py checks it with Hypothesis).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from dashboard.domain.calendar import WorkingCalendar, ensure_aware
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _us(t: datetime) -> int:
    return (ensure_aware(t) - _EPOCH) // _US


class WorkingIndex:
    """The work periods from ``first`` to ``last`` (local dates, inclusive), as microseconds."""

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = []  # working µs in the index before each period
        total, day = 0, first
        while day <= last:
            if calendar.is_working_day(day):
                for start, end in calendar.work_periods:
                    a = _us(datetime.combine(day, start, tzinfo=calendar.tz))
                    b = _us(datetime.combine(day, end, tzinfo=calendar.tz))
                    self.starts.append(a)
                    self.ends.append(b)
                    self.before.append(total)
                    total += b - a
            day += timedelta(days=1)
        self.after = [
            w + b - a for w, a, b in zip(self.before, self.starts, self.ends, strict=True)
        ]

    def worked(self, t: int) -> int:
        """Working µs in the index before instant ``t`` (µs)."""
        i = bisect_right(self.ends, t)  # the first period ending after t
        if i == len(self.ends):
            return self.after[-1] if self.after else 0
        return self.before[i] + max(0, t - self.starts[i])

    def reach(self, t: int, amount: int) -> int | None:
        """``add_working_time``: the earliest instant with ``amount`` µs worked since ``t``;
        None when it lies beyond the index."""
        target = self.worked(t) + amount
        j = bisect_left(self.after, target, lo=bisect_right(self.ends, t))
        if j == len(self.after):
            return None
        start = max(t, self.starts[j])
        return start + target - self.worked(start)


def yellow_moments(
    cases: Iterable[tuple[int, datetime, datetime]],
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
) -> dict[int, datetime | None]:
    """``{id: yellow_moment(start, deadline)}`` for ``(id, start, deadline)`` triples; None where
    ``yellow_moment`` refuses (no working time between start and deadline)."""
    items = list(cases)
    if not items:
        return {}
    threshold = Fraction(str(yellow_at))
    if not 0 < threshold < 1:
        raise ValueError(f"yellow_at {yellow_at!r} must be in (0, 1)")
    first = min(s for _, s, _ in items).astimezone(calendar.tz).date() - timedelta(days=1)
    last = max(d for _, _, d in items).astimezone(calendar.tz).date() + timedelta(days=1)
    index = WorkingIndex(calendar, first, last)
    result: dict[int, datetime | None] = {}
    for case_id, start, deadline in items:
        a, b = _us(start), _us(deadline)
        total = index.worked(b) - index.worked(a) if b > a else 0
        if total <= 0:
            result[case_id] = None
            continue
        moment = index.reach(a, math.ceil(threshold * total))
        result[case_id] = None if moment is None else _EPOCH + moment * _US
    return result
