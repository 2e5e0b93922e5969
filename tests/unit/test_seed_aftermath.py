"""The demo's calibration rules that need no database: department time after hours, and the
replay of the village rule over the seeded history (dashboard.seed.rhythm, .aftermath)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.config import AppConfig
from dashboard.domain.village_status import RedReason, VillageRule
from dashboard.reference import load_reference
from dashboard.seed.aftermath import CaseSpan, Episode, replay_lights
from dashboard.seed.rhythm import AFTER_HOURS_PACE, office_time_add

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, tzinfo=SHANGHAI)  # a working day; office 08:30-12:00, 13:30-17:30
CALENDAR = load_reference(AppConfig()).calendar
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "work", "done"),
    [
        (MONDAY + 9 * H, H, MONDAY + 10 * H),  # office hours: at full pace
        (MONDAY + 9 * H, timedelta(0), MONDAY + 9 * H),
        (MONDAY + 11.5 * H, H, MONDAY + 13 * H),  # 0.5 h in the office, 0.5 h over lunch
        (MONDAY + 17 * H, H, MONDAY + 18.5 * H),  # 0.5 h in the office, then 1 h on duty
        (MONDAY + 5 * 24 * H + 10 * H, H, MONDAY + 5 * 24 * H + 12 * H),  # a Saturday
    ],
)
def test_departments_work_at_half_pace_after_hours(
    start: datetime, work: timedelta, done: datetime
) -> None:
    assert AFTER_HOURS_PACE == 0.5
    assert office_time_add(CALENDAR, start, work) == done


def test_after_hours_until_the_office_opens_then_at_full_pace() -> None:
    # 20:00 to 08:30 is 12.5 h at half pace = 6.25 h of work; 0.25 h more in the office.
    start = MONDAY + 20 * H
    assert office_time_add(CALENDAR, start, 6.5 * H) == MONDAY + 24 * H + 8.75 * H


RULE = VillageRule()  # 24 h window, 5 cases at least, red at 80 %, ok below 70 %, call after 2 h
NOW = MONDAY + 12 * H


def span(n: int, village: str, at: datetime, closed: datetime | None, **kw: bool) -> CaseSpan:
    return CaseSpan(
        n, village, at, closed, kw.get("voided", False), kw.get("emergency", False), None
    )


def test_the_replay_finds_when_a_village_turned_red_and_when_it_recovered() -> None:
    early = NOW - 10 * H
    spans = [span(i, "A", early + i * timedelta(minutes=5), NOW - 4 * H) for i in range(5)]
    spans += [span(9, "B", NOW - 3 * H, None, emergency=True)]
    states, episodes = replay_lights(spans, ["A", "B", "C"], RULE, NOW)
    a_red = early + 4 * timedelta(minutes=5)  # the fifth case (5 of 5 open), on a 10-min step
    assert episodes == [Episode("A", a_red, NOW - 4 * H), Episode("B", NOW - 3 * H, None)]
    assert not states["A"].is_red and not states["C"].is_red
    assert states["B"].reasons == {RedReason.EMERGENCY} and states["B"].red_since == NOW - 3 * H


def test_voided_cases_do_not_count_and_a_quiet_village_stays_ok() -> None:
    spans = [span(i, "A", NOW - 2 * H, None, voided=True) for i in range(6)]
    spans += [span(7 + i, "A", NOW - H, None) for i in range(4)]  # 4 of 4: below min_cases
    states, episodes = replay_lights(spans, ["A"], RULE, NOW)
    assert episodes == [] and not states["A"].is_red and states["A"].open_ratio is None
