"""The light of one case (dashboard.domain.case_light): the one rule behind the case API, the
case workspace and the case search (issue 12). Table-driven; every time is relative to a fixed
``REGISTERED`` on a fixed calendar, never the machine's clock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashboard.domain.calendar import load_calendar
from dashboard.domain.case_light import case_light
from dashboard.domain.deadlines import Light
from dashboard.domain.time_bounds import MAX_STAGE_SPAN

CST = timezone(timedelta(hours=8))
CALENDAR = load_calendar('timezone = "Asia/Shanghai"\n[years.2025]\nholidays = []\n')
REGISTERED = datetime(2025, 3, 3, 9, 0, tzinfo=CST)  # a Monday morning
SATURDAY = datetime(2025, 3, 8, 10, 0, tzinfo=CST)  # a weekend: no working time
DEADLINE = CALENDAR.add_working_time(REGISTERED, timedelta(hours=10))


def at(working_hours: float) -> datetime:
    """The moment ``working_hours`` of working time after registration."""
    return CALENDAR.add_working_time(REGISTERED, timedelta(hours=working_hours))


# (why, registered_at, deadline, suspended_at, open, now, yellow_at, light, logged)
CASES = [
    ("closed", REGISTERED, DEADLINE, None, False, at(5), 0.8, None, False),
    ("not registered", None, DEADLINE, None, True, at(5), 0.8, None, False),
    ("no deadline", REGISTERED, None, None, True, at(5), 0.8, None, False),
    ("half the time used", REGISTERED, DEADLINE, None, True, at(5), 0.8, Light.GREEN, False),
    ("just before 80 %", REGISTERED, DEADLINE, None, True, at(7.9), 0.8, Light.GREEN, False),
    ("80 % used", REGISTERED, DEADLINE, None, True, at(8), 0.8, Light.YELLOW, False),
    ("at the deadline", REGISTERED, DEADLINE, None, True, DEADLINE, 0.8, Light.RED, False),
    (
        "a week late",
        REGISTERED,
        DEADLINE,
        None,
        True,
        DEADLINE + timedelta(days=7),
        0.8,
        Light.RED,
        False,
    ),
    (
        "yellow_at from the config",
        REGISTERED,
        DEADLINE,
        None,
        True,
        at(5),
        0.5,
        Light.YELLOW,
        False,
    ),
    (
        "suspended at half: the clock stands still",
        REGISTERED,
        DEADLINE,
        at(5),
        True,
        DEADLINE + timedelta(days=30),
        0.8,
        Light.GREEN,
        False,
    ),
    (
        "suspended when late",
        REGISTERED,
        DEADLINE,
        DEADLINE + timedelta(hours=1),
        True,
        DEADLINE + timedelta(days=30),
        0.8,
        Light.RED,
        False,
    ),
    (
        "no working time before the deadline",
        SATURDAY,
        SATURDAY + timedelta(hours=2),
        None,
        True,
        SATURDAY + timedelta(hours=1),
        0.8,
        None,
        True,
    ),
    (
        "a stored stage longer than MAX_STAGE_SPAN",
        REGISTERED,
        REGISTERED + MAX_STAGE_SPAN + timedelta(days=1),
        None,
        True,
        at(1),
        0.8,
        None,
        True,
    ),
    (
        "a stored deadline in year 9999",
        REGISTERED,
        datetime(9999, 12, 31, tzinfo=UTC),
        None,
        True,
        at(1),
        0.8,
        None,
        True,
    ),
    (
        "a naive deadline",
        REGISTERED,
        DEADLINE.replace(tzinfo=None),
        None,
        True,
        at(1),
        0.8,
        None,
        True,
    ),
]


@pytest.mark.parametrize(
    ("registered", "deadline", "suspended", "is_open", "now", "yellow_at", "light", "logged"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_case_light(
    caplog: pytest.LogCaptureFixture,
    registered: datetime | None,
    deadline: datetime | None,
    suspended: datetime | None,
    is_open: bool,
    now: datetime,
    yellow_at: float,
    light: Light | None,
    logged: bool,
) -> None:
    with caplog.at_level(logging.WARNING, logger="dashboard.domain.case_light"):
        got = case_light(registered, deadline, suspended, is_open, now, CALENDAR, yellow_at)
    assert got is light
    assert bool(caplog.records) is logged
