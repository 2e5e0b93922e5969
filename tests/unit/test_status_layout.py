"""The status page's warning when the working calendar lacks a year's holidays."""

from __future__ import annotations

from dashboard.domain.calendar import CalendarGap
from layouts import status_ids as ids
from layouts.status import calendar_warning


def test_no_gap_no_warning() -> None:
    assert calendar_warning(None, "zh") is None


def test_the_current_year_missing_says_deadlines_count_weekdays_only() -> None:
    notice = calendar_warning(CalendarGap(2027, current=True), "zh")
    assert notice is not None and notice.id == ids.CALENDAR_WARNING
    assert "2027年" in notice.children and "周一至周五" in notice.children


def test_next_year_missing_says_from_1_january() -> None:
    zh = calendar_warning(CalendarGap(2027, current=False), "zh")
    en = calendar_warning(CalendarGap(2027, current=False), "en")
    assert zh is not None and "1月1日起" in zh.children
    assert en is not None and "from 1 January" in en.children and "2027" in en.children
