"""Services on a resident's behalf (代办): the catalogue and the closed loop on the working
calendar (dashboard.domain.service_requests)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from dashboard.domain.calendar import WorkingCalendar, load_calendar
from dashboard.domain.categories import load_departments
from dashboard.domain.deadlines import Light
from dashboard.domain.errors import InvalidData
from dashboard.domain.service_requests import (
    IllegalServiceStep,
    ServiceCatalogue,
    ServiceGroup,
    ServiceStatus,
    accept,
    closed_on_time,
    complete,
    evaluate,
    load_service_items,
    open_request,
    refuse,
    request_light,
    resubmit,
    return_for_papers,
    withdraw,
)

SH = ZoneInfo("Asia/Shanghai")
DEPARTMENTS = frozenset({"police", "civil", "health", "housing", "market", "agriculture"})


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@cache
def cal() -> WorkingCalendar:
    text = resources.files("dashboard").joinpath("data/calendar_cn.toml").read_text("utf-8")
    return load_calendar(text)


@cache
def catalogue() -> ServiceCatalogue:
    data = resources.files("dashboard").joinpath("data")
    shipped = load_departments(data.joinpath("departments.toml").read_text("utf-8"))
    codes = frozenset(d.code for d in shipped)
    return load_service_items(data.joinpath("service_items.toml").read_text("utf-8"), codes)


def test_the_shipped_catalogue_has_the_three_groups_and_the_aid_item() -> None:
    assert {i.group for i in catalogue().items.values()} == set(ServiceGroup)
    aid = catalogue().item("S001")
    assert (aid.department, aid.limit_days, aid.name_zh) == ("civil", 10, "临时救助申请")
    assert len(aid.documents_zh) == len(aid.documents_en) >= 3


def test_no_request_without_the_residents_consent() -> None:
    with pytest.raises(IllegalServiceStep, match="consent"):
        open_request(False, local(2026, 11, 2, 9))


def test_the_aid_request_of_the_seed_story_returned_once_and_done_on_time() -> None:
    aid = catalogue().item("S001")  # 10 working days
    state = open_request(True, local(2026, 9, 28, 9))  # Monday before the National Day week
    assert (
        state.status is ServiceStatus.SUBMITTED
        and request_light(state, local(2026, 9, 28, 10), cal(), 0.8) is None
    )
    state = accept(state, aid, local(2026, 9, 29, 9), cal())
    # 10 working days from Tue 29 Sep: 30 Sep, then the holiday 1-8 Oct, then 9 Oct (Fri) and
    # Sat 10 Oct (a 调休 working day) ... lands on the 10th working day at 09:00.
    assert state.deadline == cal().add_working_days(local(2026, 9, 29, 9), 10)
    assert state.deadline > local(2026, 10, 12)
    # Returned on day 2 for a missing paper; the clock stands still for a week.
    state = return_for_papers(state, "缺少医院诊断证明", local(2026, 9, 30, 9))
    assert (
        state.status is ServiceStatus.RETURNED
        and request_light(state, local(2026, 10, 20), cal(), 0.8) is None
    )
    before = state.deadline
    state = resubmit(state, local(2026, 10, 14, 9), cal())
    assert state.status is ServiceStatus.ACCEPTED and state.returns == 1
    assert state.deadline is not None and before is not None and state.deadline > before
    assert cal().working_time_between(
        local(2026, 10, 14, 9), state.deadline
    ) == cal().working_time_between(
        local(2026, 9, 30, 9), before
    )  # the working time that remained at the return is granted again
    assert request_light(state, local(2026, 10, 14, 10), cal(), 0.8) is Light.GREEN
    state = complete(state, local(2026, 10, 20, 15))
    assert closed_on_time(state) is True and not state.is_open
    assert evaluate(state, 5).rating == 5


def test_the_light_turns_yellow_then_red_in_working_time() -> None:
    item = catalogue().item("P001")  # 3 working days
    state = accept(open_request(True, local(2026, 11, 2, 9)), item, local(2026, 11, 2, 9), cal())
    assert request_light(state, local(2026, 11, 3, 9), cal(), 0.8) is Light.GREEN
    assert request_light(state, local(2026, 11, 4, 17), cal(), 0.8) is Light.YELLOW
    assert request_light(state, local(2026, 11, 5, 9), cal(), 0.8) is Light.RED
    late = complete(state, local(2026, 11, 6, 9))
    assert closed_on_time(late) is False


def test_returned_before_acceptance_goes_back_to_waiting() -> None:
    state = return_for_papers(
        open_request(True, local(2026, 11, 2, 9)), "缺身份证", local(2026, 11, 2, 10)
    )
    state = resubmit(state, local(2026, 11, 3, 9), cal())
    assert state.status is ServiceStatus.SUBMITTED and state.deadline is None


@pytest.mark.parametrize(
    ("step", "code"),
    [
        (lambda s: complete(s, local(2026, 11, 2, 10)), "illegal_step"),  # not accepted yet
        (lambda s: resubmit(s, local(2026, 11, 2, 10), cal()), "illegal_step"),
        (lambda s: return_for_papers(s, " ", local(2026, 11, 2, 10)), "reason_required"),
        (lambda s: refuse(s, "", local(2026, 11, 2, 10)), "reason_required"),
        (lambda s: evaluate(s, 5), "illegal_step"),  # open: nothing to evaluate yet
    ],
)
def test_steps_out_of_order_are_refused(step: object, code: str) -> None:
    state = open_request(True, local(2026, 11, 2, 9))
    with pytest.raises(IllegalServiceStep) as err:
        step(state)  # type: ignore[operator]
    assert err.value.code == code


def test_closed_requests_stay_closed_and_are_rated_once() -> None:
    state = refuse(
        open_request(True, local(2026, 11, 2, 9)), "不符合低保条件", local(2026, 11, 3, 9)
    )
    with pytest.raises(IllegalServiceStep):
        withdraw(state, local(2026, 11, 4, 9))
    rated = evaluate(state, 2)
    for rating in (3, 0, 6):
        with pytest.raises(IllegalServiceStep):
            evaluate(rated if rating == 3 else state, rating)
    assert (
        withdraw(open_request(True, local(2026, 11, 2, 9)), local(2026, 11, 2, 10)).status
        is ServiceStatus.WITHDRAWN
    )


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        (('department = "civil"', 'department = "bank"'), "unknown department"),
        (("limit_days = 10", "limit_days = 0"), "limit_days"),
        (('code = "S001"', 'code = "X001"'), "P, A or S"),
        (('"身份证复印件"]', '"身份证复印件", "多余"]'), "differ"),
    ],
)
def test_a_bad_service_catalogue_names_the_fault(change: tuple[str, str], fault: str) -> None:
    text = (
        '[[item]]\ncode = "S001"\ngroup = "social_security"\n'
        'name_zh = "临时救助"\nname_en = "Aid"\n'
        'department = "civil"\nlimit_days = 10\ndocuments_zh = ["身份证复印件"]\n'
        'documents_en = ["ID card"]\n'
    )
    assert load_service_items(text, DEPARTMENTS).item("S001").limit_days == 10
    with pytest.raises(InvalidData, match=fault):
        load_service_items(text.replace(*change), DEPARTMENTS)
