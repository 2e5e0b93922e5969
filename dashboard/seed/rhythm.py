"""The rhythm of a command room's day, shared by the seeded history and the live simulator.

How many reports a region gets, at which hours, from which sources, in which categories, in
what words, and how long a department takes over one. ``dashboard.seed.history`` draws the past
with these; ``dashboard.simulator`` draws the present with the very same numbers, so the demo's
live cases look like its history. Every function takes its random generator from the caller, so
each side stays deterministic in its own seed.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.categories import SubCategory
from dashboard.domain.status import Source

# Reports per day for each scale (DOMAIN.md: Yangxunqiao ~1,000/day for 87 grids is the busy
# end; Shaoxing ~9,000/day for the city). The town demo uses a calmer 600/day.
REPORTS_PER_DAY = {"town": 600, "county": 2_500, "city": 9_000}
# Hour-of-day weights of reports (local time): quiet nights, peaks at 10:00 and 15:00.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 13, 8, 9, 13, 15, 13, 10, 7, 5, 4, 3, 2, 1)
WEEKEND_FACTOR = 0.7  # fewer reports on Saturdays and Sundays
SOURCE_WEIGHTS = {
    Source.GRID_WORKER: 70.0,
    Source.HOTLINE: 12.0,
    Source.PUBLIC: 8.0,
    Source.CAMERA: 5.0,
    Source.POLICE: 4.7,
    Source.EMERGENCY: 0.3,
}
SELF_HANDLE_SHARE = 0.50  # of grid-worker reports, fixed on the spot
VOID_SHARE = 0.08  # of public and hotline reports: invalid or duplicate

DESCRIPTIONS = (
    "{place}发现{what}，请尽快处理。",
    "巡查中发现{place}{what}，已拍照取证。",
    "群众反映{place}{what}，影响周边居民。",
    "{place}存在{what}问题，现场情况见照片。",
    "{place}{what}，已劝导，需相关部门处置。",
)
PLACES = (
    "村口",
    "主干道旁",
    "河道边",
    "菜市场附近",
    "文化礼堂前",
    "老年活动中心旁",
    "小区东门",
    "桥头",
    "工业园区",
)


def expected_per_hour(per_day: float, hour: datetime) -> float:
    """Mean number of reports in the local clock hour starting at ``hour``."""
    expected = per_day * HOUR_WEIGHTS[hour.hour] / sum(HOUR_WEIGHTS)
    return expected * WEEKEND_FACTOR if hour.weekday() >= 5 else expected


def hour_arrivals(
    rng: random.Random, per_day: float, hour: datetime, floor: float = 0.0
) -> Iterator[datetime]:
    """Report times in the local clock hour starting at ``hour``, unsorted, in drawing order.

    One hour of a non-homogeneous Poisson process: a Poisson count, then uniform times; the
    mean is at least ``floor``. The times are drawn lazily, one per ``next``, because the history
    generator draws each case from the same generator between two arrivals and its output must
    not change.
    """
    for _ in range(poisson(rng, max(expected_per_hour(per_day, hour), floor))):
        yield hour + timedelta(seconds=rng.uniform(0, 3600))


def category_cum_weights(subs: Sequence[SubCategory]) -> list[float]:
    """Cumulative weights of a Zipf-like category mix for ``random.choices(cum_weights=…)``.

    The first 小类 of each 大类 are the everyday ones; environment (05) and city management (10)
    are three times as frequent as the rest.
    """
    return list(
        itertools.accumulate(
            1.0 / (1 + int(s.code[2:]) * 0.7) * (3 if s.major_code in ("05", "10") else 1)
            for s in subs
        )
    )


def describe(rng: random.Random, village_name: str, sub: SubCategory) -> str:
    """A report text in the words grid workers and callers use."""
    template = rng.choice(DESCRIPTIONS)
    return template.format(place=village_name + rng.choice(PLACES), what=sub.name_zh)


def caller(rng: random.Random, source: Source) -> str:
    """Who reported a case that no grid worker reported (a masked phone number, or a system)."""
    if source is Source.CAMERA:
        return "视频巡查"
    if source is Source.EMERGENCY:
        return "一键报警"
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"[:7] + "****"


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones (we only need realism)."""
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


# After office hours a department's duty officer (值班) still works its cases, more slowly:
# half the office pace. So a case reported at 18:00 is not left untouched until 08:30
# (which turned half the town red every evening), and weekends move too, only slower.
AFTER_HOURS_PACE = 0.5
# The typical department effort on a case: this share of the limit's working time, at most
# TYPICAL_CAP (a well-run town: most cases handled the same day, a tail of late ones).
TYPICAL_SHARE = 0.3
TYPICAL_CAP = timedelta(hours=2)
# The difficult ones (a dispute between neighbours, an owner who cannot be reached): they take
# most of their limit, and some more, so a town always has a few cases in yellow and red.
DIFFICULT_SHARE = 0.06
DIFFICULT_SHARE_OF_LIMIT = (1.0, 2.5)


def office_time_add(
    calendar: WorkingCalendar, start: datetime, work: timedelta, pace: float = AFTER_HOURS_PACE
) -> datetime:
    """When a department has put ``work`` of office-hours effort into a case from ``start``:
    work periods count fully, the rest of the time at ``pace`` (the duty officer)."""
    if work <= timedelta(0):
        return start
    t, remaining = start, work
    for p_start, p_end in _work_periods_from(calendar, start):
        if p_start > t:  # after hours until the period starts
            gap = (p_start - t) * pace
            if remaining <= gap:
                return t + remaining / pace
            remaining -= gap
            t = p_start
        available = p_end - t
        if remaining <= available:
            return t + remaining
        remaining -= available
        t = p_end
    raise AssertionError("unreachable: the periods never end")  # pragma: no cover


def _work_periods_from(
    calendar: WorkingCalendar, t: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """UTC (start, end) of the work periods ending after ``t``, for a year at most."""
    day = t.astimezone(calendar.tz).date()
    for _ in range(366):
        if calendar.is_working_day(day):
            for start, end in calendar.work_periods:
                p_start = datetime.combine(day, start, tzinfo=calendar.tz).astimezone(UTC)
                p_end = datetime.combine(day, end, tzinfo=calendar.tz).astimezone(UTC)
                if p_end > t:
                    yield max(p_start, t), p_end
        day += timedelta(days=1)


def handling_time(
    rng: random.Random,
    calendar: WorkingCalendar,
    start: datetime,
    deadline: datetime,
    pace: float,
    attempt: int,
) -> timedelta:
    """Wall-clock time a department takes from ``start`` to report a case handled.

    Most cases are fixed within hours (a median of an hour or two, at most 30 % of the
    limit), scaled by the department's own ``pace``; a lognormal tail makes some run late, more
    often at the slow departments, and the difficult ones (``DIFFICULT_SHARE``) take about their
    limit. A rework (``attempt`` > 0) takes half as long. After office
    hours the duty officer works at ``AFTER_HOURS_PACE`` (``office_time_add``).
    """
    total = calendar.working_time_between(start, deadline)
    typical = min(total * TYPICAL_SHARE, TYPICAL_CAP)
    work = typical * pace * math.exp(rng.gauss(0, 0.9))
    if not attempt and rng.random() < DIFFICULT_SHARE:
        work = total * rng.uniform(*DIFFICULT_SHARE_OF_LIMIT)
    if attempt:
        work *= 0.5
    work = max(work, timedelta(minutes=15))
    return office_time_add(calendar, start, work) - start
