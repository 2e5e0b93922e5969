"""The deadline light as SQL conditions, exact, without computing it for every open case.

``case_light`` (dashboard.domain.case_light, over ``deadlines.stage_light``) is the rule; this
module only finds, with the database, the rows for which it answers red, yellow or green at
``now``. The light of an open, registered case with a deadline is computed from
``registered_at`` to ``deadline`` at ``now``, or at ``suspended_at`` while the case is suspended
(its clock stands still), as the case API does.

- **red** is a plain range: ``deadline <= now`` (``deadline <= suspended_at`` when suspended).
- **yellow** depends on working time, which SQL cannot measure. With ``used`` the working time
  from registration to now and ``rem`` the working time from now to the deadline, yellow means
  ``used / (used + rem) >= y``, i.e. ``rem <= floor(k · used)`` with ``k = (1 - y) / y`` (in
  integer microseconds, exactly as ``stage_light`` compares). ``used`` falls as ``registered_at``
  rises, so for registrations in a bucket ``[lo, hi)`` the yellow deadlines all lie before
  ``add_working_time(now, floor(k·used(lo)) + 1µs)`` and every deadline up to
  ``add_working_time(now, floor(k·used(hi)))`` is yellow. Geometric buckets of registration age
  make that band of doubt narrow: the rows inside it (about 2 % of the open cases at city scale)
  are read and judged by ``LightBatch`` (``stage_light``'s rule over a cumulative working-time
  table), and come back into the SQL as an ``id IN (...)`` list. Suspended cases are all judged
  in Python the same way. The result is an exact SQL condition usable for counting, paging and
  sorting: the light filter and sort never load the cases that are plainly green.
- **green** is "has a light", neither red nor yellow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import pairwise

from sqlalchemy import BindParameter, ColumnElement, Row, and_, bindparam, false, not_, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.case_light import case_light
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT, Light
from dashboard.read.light_batch import MAX_SPAN, LightBatch
from dashboard.storage.models import Case

_US = timedelta(microseconds=1)
_FIRST_AGE = timedelta(minutes=15)  # the youngest bucket: registered in the last 15 minutes
_GROWTH = 1.25  # each older bucket spans 25 % more age: ~40 buckets cover 60 days


def has_light() -> ColumnElement[bool]:
    return and_(Case.open.is_(True), Case.registered_at.is_not(None), Case.deadline.is_not(None))


def _stopped() -> ColumnElement[bool]:
    return Case.suspended_at.is_not(None)


def red_condition(now: datetime) -> ColumnElement[bool]:
    """Exactly the rows ``stage_light`` calls red (at the deadline the light is already red)."""
    return and_(
        has_light(),
        or_(
            and_(not_(_stopped()), Case.deadline <= now),
            and_(_stopped(), Case.deadline <= Case.suspended_at),
        ),
    )


def _bucket_edges(oldest: datetime, now: datetime) -> list[datetime]:
    """Ascending registration times ``oldest … now``: ages 15 min, ×1.25, … back to ``oldest``."""
    edges = [now]
    age = _FIRST_AGE
    while now - age > oldest:
        edges.append(now - age)
        age = timedelta(seconds=age.total_seconds() * _GROWTH)
    edges.append(oldest)
    return edges[::-1]


class _Buckets:
    """Sure-yellow and doubtful ranges of ``deadline`` per bucket of ``registered_at``."""

    def __init__(
        self, edges: Sequence[datetime], now: datetime, calendar: WorkingCalendar, k: Fraction
    ) -> None:
        self.sure: list[ColumnElement[bool]] = []
        self.doubt: list[ColumnElement[bool]] = []
        for lo, hi in pairwise(edges):
            used_lo = calendar.working_time_between(lo, now) // _US
            used_hi = calendar.working_time_between(hi, now) // _US
            in_bucket = and_(Case.registered_at >= lo, Case.registered_at < hi)
            beyond = calendar.add_working_time(now, (math.floor(k * used_lo) + 1) * _US)
            x_low = math.floor(k * used_hi)
            if x_low >= 1:  # below that the deadline could hold no working time at all
                sure_until = calendar.add_working_time(now, x_low * _US)
                self.sure.append(and_(in_bucket, Case.deadline <= sure_until))
                self.doubt.append(
                    and_(in_bucket, Case.deadline > sure_until, Case.deadline < beyond)
                )
            else:
                self.doubt.append(and_(in_bucket, Case.deadline < beyond))
        # Registered "after now" (a clock skew): judged one by one.
        self.doubt.append(Case.registered_at >= edges[-1])


def _judge_yellow(
    rows: Sequence[Row[int, datetime | None, datetime | None, datetime | None]],
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float,
) -> list[int]:
    """The ids of ``rows`` (id, registered_at, deadline, suspended_at) whose light is yellow."""
    if not rows:
        return []
    moments = [m for r in rows for m in (r.registered_at, r.deadline, r.suspended_at) if m]
    first, last = min(*moments, now), max(*moments, now)
    if last - first > MAX_SPAN:  # a deadline years away: measure row by row
        return [
            r.id
            for r in rows
            if case_light(
                r.registered_at, r.deadline, r.suspended_at, True, now, calendar, yellow_at
            )
            is Light.YELLOW
        ]
    batch = LightBatch(calendar, first, last)
    return [
        r.id
        for r in rows
        if batch.light(r.registered_at, r.deadline, r.suspended_at or now, yellow_at)
        is Light.YELLOW
    ]


def yellow_condition(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
) -> ColumnElement[bool]:
    """Exactly the rows matching ``where`` whose light is yellow at ``now`` (see the docstring).

    Runs up to three small queries (the oldest registration, the doubtful rows, the suspended
    rows); the condition it returns is valid for the rows matching ``where`` only.
    """
    y = Fraction(str(yellow_at))
    k = (1 - y) / y
    running = and_(has_light(), not_(_stopped()), Case.deadline > now)
    sure: ColumnElement[bool] = false()
    doubt: ColumnElement[bool] = false()
    oldest = session.scalar(
        select(Case.registered_at).where(*where, running).order_by(Case.registered_at).limit(1)
    )
    if oldest is not None:
        buckets = _Buckets(_bucket_edges(min(oldest, now), now), now, calendar, k)
        sure = and_(running, or_(*buckets.sure)) if buckets.sure else false()
        doubt = and_(running, or_(*buckets.doubt))
    stopped = and_(has_light(), _stopped(), Case.deadline > Case.suspended_at)
    judged = session.execute(
        select(Case.id, Case.registered_at, Case.deadline, Case.suspended_at).where(
            *where, or_(doubt, stopped)
        )
    ).all()
    ids = _judge_yellow(judged, now, calendar, yellow_at)
    if not ids:
        return sure
    # Rendered inline (integers only): no bind-parameter limit however many are judged yellow.
    judged_yellow: BindParameter[list[int]] = bindparam(
        "yellow_ids", ids, expanding=True, literal_execute=True, unique=True
    )
    return or_(sure, Case.id.in_(judged_yellow))


def light_condition(
    light: str,
    session: Session,
    where: Sequence[ColumnElement[bool]],
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
) -> ColumnElement[bool]:
    """The condition for ``light`` (green / yellow / red) among the rows matching ``where``."""
    if light == Light.RED:
        return red_condition(now)
    yellow = yellow_condition(session, where, now, calendar, yellow_at)
    if light == Light.YELLOW:
        return yellow
    return and_(has_light(), not_(red_condition(now)), not_(yellow))
