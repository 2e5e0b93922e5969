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
from datetime import datetime, timedelta

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


def handling_time(
    rng: random.Random,
    calendar: WorkingCalendar,
    start: datetime,
    deadline: datetime,
    pace: float,
    attempt: int,
) -> timedelta:
    """Wall-clock time a department takes from ``start`` to report a case handled.

    Most cases are fixed within hours (a median of a few working hours, at most 30 % of the
    limit), scaled by the department's own ``pace``; a lognormal tail makes some run late, more
    often at the slow departments. A rework (``attempt`` > 0) takes half as long.
    """
    total = calendar.working_time_between(start, deadline)
    typical = min(total * 0.3, timedelta(hours=4))
    work = typical * pace * math.exp(rng.gauss(0, 0.9))
    if attempt:
        work *= 0.5
    work = max(work, timedelta(minutes=15))
    return calendar.add_working_time(start, work) - start
