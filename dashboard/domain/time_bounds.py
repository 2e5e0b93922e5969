"""How far from ``now`` a time that enters the system may lie: the one home for that rule.

Every time the API, the pages or the CLI accept (a deadline set at registration or extension,
when an incident occurred, the dates of a search, a snooze) is checked here against a window
around ``now``. Outside it the time is refused with ``TimeOutOfBounds`` (HTTP 422) naming the
field and the window, before anything is stored. Why: the working calendar walks day by day, so
a deadline in year 5000 costs seconds per look and one in year 9999 overflows ``datetime``; one
such row stopped the deadline watcher for every case of the deployment (issue 11).

``measurable(start, deadline)`` is the matching guard for rows already stored (written before
this check, or edited by hand): the watchers and the light skip a stage whose span is beyond
``MAX_STAGE_SPAN`` instead of walking thousands of years of calendar.

Pure: ``now`` is an argument; no clock is read here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.domain.errors import DomainError

MAX_DEADLINE_AHEAD = timedelta(days=366)  # a deadline or an extension: at most a year ahead
MAX_OCCURRED_BEFORE = timedelta(days=366)  # an incident reported more than a year late: refused
MAX_FUTURE_SKEW = timedelta(minutes=5)  # phones' clocks drift; more than this is an error
# A tracker's fix dated up to this far ahead is kept, marked "future" (dashboard.domain.gps_filter);
# beyond it the request is refused.
MAX_FIX_AHEAD = timedelta(days=2)
# A track asked for at once (GET /workers/{id}/track, the replay page): at most this long.
MAX_TRACK_SPAN = timedelta(days=31)
QUERY_BEFORE = timedelta(days=20 * 366)  # search dates: twenty years back …
QUERY_AHEAD = timedelta(days=2 * 366)  # … to two years ahead
MAX_SNOOZE = timedelta(days=7)  # longer than a week is not a snooze: resolve or escalate
# The longest stage whose working time is measured (an extended stage may outlive the one-year
# acceptance window); a stored row beyond it is bad data, skipped and logged by its readers.
MAX_STAGE_SPAN = timedelta(days=3 * 366)


class TimeOutOfBounds(DomainError):
    """A time outside the window the rule allows; ``field`` names the input."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


def as_utc(moment: datetime, field: str) -> datetime:
    """``moment`` in UTC; refused when naive or when the conversion leaves datetime's range
    (``9999-12-31T23:00-05:00`` is year 10000 in UTC)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimeOutOfBounds("naive_time", f"{field} needs a time zone offset", field)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise TimeOutOfBounds(
            "time_out_of_range", f"{field} {moment.isoformat()} is out of range", field
        ) from None


def check_within(
    moment: datetime,
    now: datetime,
    *,
    before: timedelta,
    after: timedelta,
    field: str,
) -> datetime:
    """``moment`` (in UTC) when ``now - before <= moment <= now + after``; else TimeOutOfBounds
    with code ``time_out_of_range`` and the window in the message."""
    value, now = as_utc(moment, field), as_utc(now, "now")
    low, high = now - before, now + after
    if not low <= value <= high:
        raise TimeOutOfBounds(
            "time_out_of_range",
            f"{field} {moment.isoformat()} is outside {low.isoformat()} … {high.isoformat()}",
            field,
        )
    return value


def check_deadline(deadline: datetime, now: datetime, field: str = "deadline") -> datetime:
    """A deadline given at registration or extension: at most ``MAX_DEADLINE_AHEAD`` ahead.

    Whether it must also be after ``now`` (and after the current deadline) is the lifecycle's
    rule (a 409 naming the step); this bounds only what the calendar will ever have to walk.
    The lower edge (``MAX_STAGE_SPAN`` back) only keeps absurd years out.
    """
    return check_within(deadline, now, before=MAX_STAGE_SPAN, after=MAX_DEADLINE_AHEAD, field=field)


def check_occurred_at(moment: datetime, now: datetime, field: str = "occurred_at") -> datetime:
    """When an incident happened: up to a year before ``now``, a few minutes after (clock skew)."""
    return check_within(moment, now, before=MAX_OCCURRED_BEFORE, after=MAX_FUTURE_SKEW, field=field)


def check_query_time(moment: datetime, now: datetime, field: str) -> datetime:
    """A date a search filters on (reported from/to)."""
    return check_within(moment, now, before=QUERY_BEFORE, after=QUERY_AHEAD, field=field)


def check_snooze(until: datetime, now: datetime, field: str = "until") -> datetime:
    """The end of a snooze: after ``now`` and at most ``MAX_SNOOZE`` ahead."""
    value, now = as_utc(until, field), as_utc(now, "now")
    if value <= now:
        raise TimeOutOfBounds("until_in_past", "snooze until a time in the future", field)
    if value > now + MAX_SNOOZE:
        raise TimeOutOfBounds("until_too_far", f"snooze for at most {MAX_SNOOZE.days} days", field)
    return value


def measurable(start: datetime, deadline: datetime) -> bool:
    """Whether a stored stage ``start → deadline`` is short enough to measure on the calendar."""
    try:
        return abs(deadline - start) <= MAX_STAGE_SPAN
    except (OverflowError, TypeError):
        return False
