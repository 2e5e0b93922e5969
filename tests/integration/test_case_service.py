"""CaseService on the real databases: reports, the whole closed loop, the audit trail, locking.

Every test runs on SQLite and PostgreSQL (the ``town`` fixture) with a FixedClock that only moves
when the test moves it, so every stored time and deadline is asserted exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm.exc import StaleDataError

from dashboard.domain.deadlines import TimeLimit, deadline_for
from dashboard.domain.errors import UnknownCategory
from dashboard.domain.lifecycle import IllegalTransition
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.services import cases as cases_module
from dashboard.services.cases import (
    CaseNotFound,
    CaseRecord,
    CaseService,
    ConcurrentChange,
    IdempotencyKeyReused,
    InvalidReport,
)
from dashboard.storage.models import Case, CaseEvent
from dashboard.storage.outbox import wake_on_outbox_commit
from tests.integration.support import (
    ACTORS,
    SHANGHAI,
    TO_CLOSED,
    TOWN_NOW,
    Town,
    act,
    make_report,
    request,
    walk,
)

A, S = Action, CaseStatus


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- report -------------------------------------------------------------------------------


def test_report_writes_case_audit_entry_and_outbox_event(town: Town) -> None:
    grid = town.grid(3)
    record = town.cases.report(make_report(town, grid_index=3, address="枫桥镇 3 号"))

    assert record.created
    assert record.status == "reported"
    assert (record.grid_code, record.village_code, record.town_code) == (
        grid.code,
        grid.village_code,
        grid.village_code[:9],
    )
    assert record.category_code == "01002"
    assert record.deadline is None
    assert not record.emergency

    row = town.case(record.id)
    assert row.reported_at == TOWN_NOW
    assert row.reported_at.utcoffset() == timedelta(0)  # stored and read back as aware UTC
    assert row.updated_at == TOWN_NOW
    assert row.county_code == grid.village_code[:6]
    assert (row.reported_category, row.category_code) == ("01002", None)  # fixed at register
    assert (row.source, row.reporter, row.address) == ("grid_worker", "gw-0001", "枫桥镇 3 号")
    assert row.open and row.version == 1

    (event,) = town.events(record.id)
    assert (event.action, event.from_status, event.to_status) == ("report", None, "reported")
    assert (event.actor, event.role, event.at) == ("gw-0001", "grid_worker", TOWN_NOW)
    assert event.details == {"category": "01002", "source": "grid_worker"}

    (published,) = town.outbox()
    assert published.topic == "case"
    assert published.created_at == TOWN_NOW and published.published_at is None
    assert published.payload["id"] == record.id
    assert published.payload["action"] == "report"
    assert published.payload["status"] == "reported"
    assert published.payload["village"] == grid.village_code
    assert published.payload["open"] is True
    assert town.counts() == {"cases": 1, "case_events": 1, "outbox": 1}


def test_report_is_one_transaction(town: Town, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the case row is flushed (here: in the village refresh) leaves nothing."""

    def broken_refresh(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("village refresh failed")

    monkeypatch.setattr(cases_module, "refresh_villages", broken_refresh)
    with pytest.raises(RuntimeError, match="village refresh failed"):
        town.cases.report(make_report(town))
    assert town.counts() == {"cases": 0, "case_events": 0, "outbox": 0}


def test_a_report_wakes_the_relay_after_its_commit_and_a_failed_one_does_not(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report's outbox row is a Core insert (no ORM object to see at flush): the relay is
    woken all the same, once, after the commit; a rolled-back report wakes nobody."""
    woken: list[int] = []
    remove = wake_on_outbox_commit(town.db.sessions, lambda: woken.append(town.counts()["outbox"]))
    try:
        town.cases.report(make_report(town))
        assert woken == [1]  # after the commit: the row is there to publish

        def broken_refresh(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("village refresh failed")

        monkeypatch.setattr(cases_module, "refresh_villages", broken_refresh)
        with pytest.raises(RuntimeError):
            town.cases.report(make_report(town, grid_index=1))
        monkeypatch.undo()
        town.cases.report(make_report(town, grid_index=2))
        assert woken == [1, 2]
    finally:
        remove()


BAD_REPORTS = [
    pytest.param({"category_code": "99999"}, UnknownCategory, "unknown_category", id="category"),
    pytest.param(
        {"lon": 116.397, "lat": 39.909}, InvalidReport, "outside_region", id="outside-region"
    ),
    pytest.param({"description": "  \n "}, InvalidReport, "description_required", id="empty"),
    pytest.param(
        {"occurred_at": datetime(2026, 11, 23, 8, 0)}, InvalidReport, "naive_time", id="naive"
    ),
    pytest.param(
        {"occurred_at": TOWN_NOW + timedelta(minutes=6)},
        InvalidReport,
        "future_time",
        id="future",
    ),
    pytest.param({"lat": 91.0}, InvalidReport, "bad_coordinates", id="coordinates"),
    pytest.param({"description": "漏" * 2001}, InvalidReport, "description_too_long", id="long"),
]


@pytest.mark.parametrize(("overrides", "error", "code"), BAD_REPORTS)
def test_bad_report_changes_nothing(
    town: Town, overrides: dict[str, Any], error: type[Exception], code: str
) -> None:
    town.cases.report(make_report(town))  # an earlier case, so "unchanged" is not just "empty"
    before = town.counts()

    with pytest.raises(error) as raised:
        town.cases.report(make_report(town, idempotency_key="retry-1", **overrides))

    assert raised.value.code == code  # type: ignore[attr-defined]
    assert town.counts() == before
    # The refused report did not reserve its Idempotency-Key: a corrected retry is created.
    assert town.cases.report(make_report(town, idempotency_key="retry-1")).created


def test_occurred_at_within_the_allowed_clock_skew_is_accepted(town: Town) -> None:
    occurred = TOWN_NOW + timedelta(minutes=5)  # a phone a little ahead of the server
    record = town.cases.report(make_report(town, occurred_at=occurred))
    assert town.case(record.id).occurred_at == occurred


def test_same_idempotency_key_returns_the_first_case(town: Town) -> None:
    first = town.cases.report(make_report(town, idempotency_key="tablet-1:0042"))
    town.clock.set(TOWN_NOW + timedelta(seconds=30))  # the tablet retries after a time-out
    again = town.cases.report(make_report(town, idempotency_key="tablet-1:0042"))

    assert first.created and not again.created
    assert again.id == first.id
    assert again.status == first.status and again.village_code == first.village_code
    assert town.counts() == {"cases": 1, "case_events": 1, "outbox": 1}
    # The same key with another report is refused, not answered with the first case (issue 11).
    with pytest.raises(IdempotencyKeyReused):
        town.cases.report(
            make_report(town, idempotency_key="tablet-1:0042", description="another report")
        )
    assert town.counts() == {"cases": 1, "case_events": 1, "outbox": 1}


def test_idempotency_key_race_answers_with_the_winner(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two retries both found no earlier case; the loser hits the unique key and answers with
    the winner's case instead of failing."""
    winner = town.cases.report(make_report(town, idempotency_key="tablet-1:0043"))
    real_lookup = CaseService._by_idempotency_key
    lookups: list[str] = []

    def lookup_before_the_winner_committed(
        self: CaseService, key: str, fingerprint: str | None
    ) -> CaseRecord | None:
        lookups.append(key)
        return None if len(lookups) == 1 else real_lookup(self, key, fingerprint)

    monkeypatch.setattr(CaseService, "_by_idempotency_key", lookup_before_the_winner_committed)
    loser = town.cases.report(make_report(town, idempotency_key="tablet-1:0043"))

    assert len(lookups) == 2  # the check before the insert, then the answer after the conflict
    assert (loser.id, loser.created) == (winner.id, False)
    assert town.counts() == {"cases": 1, "case_events": 1, "outbox": 1}


def test_emergency_source_marks_the_case_as_emergency(town: Town) -> None:
    record = town.cases.report(make_report(town, source=Source.EMERGENCY, category_code="04001"))
    assert record.emergency
    assert town.case(record.id).emergency


def test_act_on_a_missing_case_is_case_not_found(town: Town) -> None:
    with pytest.raises(CaseNotFound):
        town.cases.act(987_654, request(A.ACCEPT))
    assert town.counts() == {"cases": 0, "case_events": 0, "outbox": 0}


# --- refused actions ----------------------------------------------------------------------


def test_illegal_transition_changes_nothing(town: Town) -> None:
    record = town.cases.report(make_report(town))
    town.clock.set(TOWN_NOW + timedelta(minutes=5))
    before = town.counts()

    with pytest.raises(IllegalTransition) as raised:
        town.cases.act(record.id, request(A.CLOSE))

    assert raised.value.code == "illegal_transition"
    assert raised.value.status is S.REPORTED
    row = town.case(record.id)
    assert (row.status, row.version, row.updated_at) == ("reported", 1, TOWN_NOW)
    assert town.counts() == before
    assert town.cases.get(record.id).status == "reported"


def test_refused_action_missing_a_reason_changes_nothing(town: Town) -> None:
    record = town.cases.report(make_report(town))
    before = town.counts()
    with pytest.raises(IllegalTransition) as raised:
        town.cases.act(record.id, request(A.VOID, reason=" "))
    assert raised.value.code == "reason_required"
    assert town.case(record.id).status == "reported"
    assert town.counts() == before


def test_dispatch_to_an_unknown_department_changes_nothing(town: Town) -> None:
    record = town.cases.report(make_report(town))
    walk(town, record.id, (A.ACCEPT, A.REGISTER))
    before = town.counts()

    with pytest.raises(InvalidReport) as raised:
        act(town, record.id, A.DISPATCH, department_code="no_such_department")

    assert raised.value.code == "unknown_department"
    row = town.case(record.id)
    assert (row.status, row.department_code, row.dispatch_count) == ("registered", "justice", 0)
    assert town.counts() == before


def test_register_with_an_unknown_department_is_refused_cleanly(town: Town) -> None:
    record = town.cases.report(make_report(town))
    act(town, record.id, A.ACCEPT)
    before = town.counts()

    with pytest.raises(InvalidReport) as raised:
        act(town, record.id, A.REGISTER, department_code="no_such_department")

    assert raised.value.code == "unknown_department"
    assert town.case(record.id).status == "accepted"
    assert town.counts() == before


def test_register_with_an_unknown_category_changes_nothing(town: Town) -> None:
    record = town.cases.report(make_report(town))
    act(town, record.id, A.ACCEPT)
    before = town.counts()
    with pytest.raises(UnknownCategory):
        act(town, record.id, A.REGISTER, category_code="99999")
    row = town.case(record.id)
    assert (row.status, row.category_code, row.deadline) == ("accepted", None, None)
    assert town.counts() == before


# --- the whole closed loop ----------------------------------------------------------------

MON_0910 = _local(2026, 11, 23, 9, 10)
SUSPENDED_AT = _local(2026, 11, 23, 11, 0)
RESUMED_AT = _local(2026, 11, 24, 10, 0)
# Each step: action, clock time, extra request fields, status after it.
LIFE: list[tuple[Action, datetime, dict[str, Any], CaseStatus]] = [
    (A.ACCEPT, _local(2026, 11, 23, 9, 5), {}, S.ACCEPTED),
    (A.REGISTER, MON_0910, {}, S.REGISTERED),
    (A.DISPATCH, _local(2026, 11, 23, 9, 15), {}, S.DISPATCHED),  # the default department
    (A.START, _local(2026, 11, 23, 9, 30), {}, S.HANDLING),
    (A.SUSPEND, SUSPENDED_AT, {}, S.SUSPENDED),
    (A.RESUME, RESUMED_AT, {}, S.HANDLING),
    (A.HANDLED, _local(2026, 11, 24, 15, 0), {"attachments": ("photo-1",)}, S.HANDLED),
    (A.CHECK_FAIL, _local(2026, 11, 25, 9, 0), {}, S.REWORK),
    (A.HANDLED, _local(2026, 11, 25, 14, 0), {"attachments": ("photo-2",)}, S.HANDLED),
    (A.CHECK_PASS, _local(2026, 11, 26, 9, 0), {}, S.CHECKED),
    (A.CLOSE, _local(2026, 11, 26, 10, 0), {}, S.CLOSED),
    (A.EVALUATE, _local(2026, 11, 26, 11, 0), {"report_rating": 4}, S.EVALUATED),
]


def test_full_case_life_with_suspension_and_rework(town: Town) -> None:
    calendar = town.reference.calendar
    limit = town.reference.categories.get("01002").limit
    assert limit == TimeLimit.parse("5d")
    registered_deadline = _local(2026, 11, 30, 9, 10)  # 5 working days later, same clock time
    # Suspended Mon 11:00 → Tue 10:00 = 1 h + 4 h + 1 h 30 of working time, granted again:
    # Mon 30th 09:10 + 6 h 30 working = 12:00 (2 h 50) then 13:30 + 3 h 40 = 17:10.
    resumed_deadline = _local(2026, 11, 30, 17, 10)

    record = town.cases.report(make_report(town))
    for action, at, extra, expected in LIFE:
        after_step = act(town, record.id, action, at, **extra)
        assert after_step.status == expected, action
        if action is A.REGISTER:
            assert after_step.deadline == deadline_for(MON_0910, limit, calendar)
            assert after_step.deadline == registered_deadline
        if action is A.RESUME:
            assert after_step.deadline == resumed_deadline
            moved = calendar.working_time_between(registered_deadline, resumed_deadline)
            assert moved == calendar.working_time_between(SUSPENDED_AT, RESUMED_AT)
            assert moved == timedelta(hours=6, minutes=30)

    full = town.cases.get(record.id)
    assert full.status == "evaluated" and full.deadline == resumed_deadline
    expected_history = [("report", None, "reported", "gw-0001", "grid_worker", _iso(TOWN_NOW))]
    before = "reported"
    for action, at, _, after in LIFE:
        actor, role = ACTORS[action]
        expected_history.append((action.value, before, after.value, actor, role.value, _iso(at)))
        before = after.value
    assert [
        (h["action"], h["from"], h["to"], h["actor"], h["role"], h["at"]) for h in full.history
    ] == expected_history
    by_step = full.history[1:]
    assert [h["attachments"] for h in by_step if h["action"] == "handled"] == [
        ["photo-1"],
        ["photo-2"],
    ]
    assert by_step[1]["details"] == {
        "category": "01002",
        "deadline": registered_deadline.astimezone(UTC).isoformat(),
        "department": "justice",
    }
    assert by_step[2]["details"] == {"department": "justice"}
    assert by_step[4]["reason"] == "the owner is away until tomorrow"
    assert by_step[5]["details"]["old_deadline"] == _iso(registered_deadline)
    assert by_step[5]["details"]["new_deadline"] == _iso(resumed_deadline)
    assert by_step[7]["reason"] == "rubbish still on the verge"
    assert by_step[10]["details"] == {"closed_on_time": "true"}
    assert by_step[11]["details"] == {"satisfaction": "5", "report_rating": "4"}

    row = town.case(record.id)
    counters = (row.rework_count, row.dispatch_count, row.suspend_count, row.return_count)
    assert counters == (1, 1, 1, 0)
    assert row.extension_count == 0
    assert (row.category_code, row.department_code) == ("01002", "justice")
    assert row.registered_at == MON_0910
    assert row.handled_at == _local(2026, 11, 25, 14, 0)  # the latest handling
    assert row.closed_at == _local(2026, 11, 26, 10, 0) and row.closed_on_time is True
    assert (row.satisfaction, row.report_rating) == (5, 4)
    assert (row.suspended_at, row.resume_status) == (None, None)
    assert not row.open
    assert row.version == 1 + len(LIFE)  # every step bumped the optimistic-lock version

    published = town.outbox("case")
    assert [e.payload["action"] for e in published] == ["report"] + [a.value for a, *_ in LIFE]
    assert published[-1].payload["status"] == "evaluated"
    assert published[-1].payload["open"] is False
    assert town.counts() == {
        "cases": 1,
        "case_events": 1 + len(LIFE),
        "outbox": 1 + len(LIFE),
    }


@pytest.mark.parametrize(
    ("reported", "category", "limit", "deadline"),
    [
        pytest.param(
            _local(2026, 11, 27, 16, 0), "02001", "4h", _local(2026, 11, 30, 11, 0), id="weekend"
        ),
        pytest.param(
            _local(2026, 9, 30, 16, 0), "02001", "4h", _local(2026, 10, 8, 11, 0), id="holiday-h"
        ),
        pytest.param(
            _local(2026, 9, 30, 16, 0), "01005", "1d", _local(2026, 10, 8, 16, 0), id="holiday-d"
        ),
    ],
)
def test_register_deadline_follows_the_working_calendar(
    town: Town, reported: datetime, category: str, limit: str, deadline: datetime
) -> None:
    """Friday 16:00 + 4 h → Monday 11:00; before National Day (1–7 Oct) → Thursday 8 Oct."""
    sub = town.reference.categories.get(category)
    assert str(sub.limit) == limit
    town.clock.set(reported)
    record = town.cases.report(make_report(town, category_code=category))

    registered = walk(town, record.id, (A.ACCEPT, A.REGISTER))

    assert registered.deadline == deadline
    assert registered.deadline == deadline_for(reported, sub.limit, town.reference.calendar)
    assert town.case(record.id).deadline == deadline


@pytest.mark.parametrize(
    ("closed_at", "on_time"),
    [
        pytest.param(_local(2026, 11, 23, 14, 30), True, id="at-the-deadline"),
        pytest.param(_local(2026, 11, 23, 14, 31), False, id="a-minute-late"),
        pytest.param(_local(2026, 11, 24, 9, 0), False, id="next-day"),
    ],
)
def test_closed_on_time(town: Town, closed_at: datetime, on_time: bool) -> None:
    # 4 working hours from Monday 09:00: 09:00-12:00 and 13:30-14:30.
    record = town.cases.report(make_report(town, category_code="02001"))
    registered = walk(town, record.id, TO_CLOSED[:-1])
    assert registered.deadline == _local(2026, 11, 23, 14, 30)

    closed = act(town, record.id, A.CLOSE, closed_at)

    assert closed.status == "closed"
    row = town.case(record.id)
    assert row.closed_on_time is on_time
    assert row.closed_at == closed_at
    assert town.events(record.id)[-1].details == {"closed_on_time": str(on_time).lower()}


def test_extension_moves_the_deadline_and_the_trail_keeps_both(town: Town) -> None:
    record = town.cases.report(make_report(town, category_code="02001"))  # 4 working hours
    walk(town, record.id, (A.ACCEPT, A.REGISTER, A.DISPATCH))
    first = _local(2026, 11, 23, 14, 30)
    approved = _local(2026, 11, 25, 17, 30)

    with pytest.raises(IllegalTransition) as raised:
        act(town, record.id, A.EXTEND, deadline=first - timedelta(hours=1), reason="too soon")
    assert raised.value.code == "deadline_not_later"
    extended = act(town, record.id, A.EXTEND, deadline=approved, reason="needs a contractor")

    assert (extended.status, extended.deadline) == ("dispatched", approved)
    row = town.case(record.id)
    assert (row.deadline, row.extension_count) == (approved, 1)
    last = town.cases.get(record.id).history[-1]
    assert (last["action"], last["reason"]) == ("extend", "needs a contractor")
    moved = {k: datetime.fromisoformat(v) for k, v in last["details"].items()}
    assert moved == {"old_deadline": first, "new_deadline": approved}


def test_a_suspension_outside_working_time_keeps_the_deadline(town: Town) -> None:
    """Suspended Friday 17:40, resumed Monday 08:20: no working time passed, nothing moves."""
    town.clock.set(_local(2026, 11, 27, 17, 35))
    record = town.cases.report(make_report(town))
    registered = walk(town, record.id, (A.ACCEPT, A.REGISTER, A.DISPATCH))
    # After office hours the clock starts on Monday 08:30; 5 working days from then.
    assert registered.deadline == _local(2026, 12, 7, 8, 30)

    act(town, record.id, A.SUSPEND, _local(2026, 11, 27, 17, 40))
    resumed = act(town, record.id, A.RESUME, _local(2026, 11, 30, 8, 20))

    assert (resumed.status, resumed.deadline) == ("dispatched", registered.deadline)
    assert town.case(record.id).suspended_at is None


def test_returned_case_goes_to_another_department(town: Town) -> None:
    record = town.cases.report(make_report(town))
    walk(town, record.id, (A.ACCEPT, A.REGISTER, A.DISPATCH, A.RETURN))
    row = town.case(record.id)
    assert (row.status, row.department_code, row.returned_by) == ("returned", None, "justice")

    with pytest.raises(IllegalTransition) as raised:
        act(town, record.id, A.DISPATCH, department_code="justice")
    assert raised.value.code == "same_department"
    redispatched = act(town, record.id, A.DISPATCH, department_code="civil")

    assert redispatched.status == "dispatched"
    row = town.case(record.id)
    assert (row.department_code, row.dispatch_count, row.return_count) == ("civil", 2, 1)


def test_a_public_report_is_verified_before_it_is_registered(town: Town) -> None:
    record = town.cases.report(
        make_report(town, source=Source.PUBLIC, actor="citizen-app", role=Role.INTEGRATION)
    )
    act(town, record.id, A.ACCEPT)
    with pytest.raises(IllegalTransition) as raised:
        act(town, record.id, A.REGISTER)
    assert raised.value.code == "verification_required"

    act(town, record.id, A.REQUEST_VERIFY)
    act(town, record.id, A.VERIFY)
    registered = act(town, record.id, A.REGISTER)

    assert registered.status == "registered"
    assert [h["action"] for h in town.cases.get(record.id).history] == [
        "report",
        "accept",
        "request_verify",
        "verify",
        "register",
    ]
    assert town.case(record.id).verified_at == TOWN_NOW


# --- optimistic locking -------------------------------------------------------------------


def test_two_sessions_writing_one_case_the_second_gets_stale_data(town: Town) -> None:
    record = town.cases.report(make_report(town))
    events_before = len(town.events())

    with town.db.sessions() as first, town.db.sessions() as second:
        mine, theirs = first.get(Case, record.id), second.get(Case, record.id)
        assert mine is not None and theirs is not None
        mine.description = "written first"
        first.commit()

        theirs.description = "written second"
        second.add(
            CaseEvent(
                case_id=record.id,
                action="accept",
                from_status="reported",
                to_status="accepted",
                at=TOWN_NOW,
                actor="op-li",
                role=Role.DISPATCHER.value,
            )
        )
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()

    row = town.case(record.id)
    assert (row.description, row.version) == ("written first", 2)
    assert len(town.events()) == events_before  # the loser's audit entry was rolled back


def test_concurrent_actions_the_second_fails_and_writes_nothing(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rival commits between our read and our write: ConcurrentChange, nothing of ours kept."""
    record = town.cases.report(make_report(town))
    real_apply = cases_module.apply_action
    rival_done: list[bool] = []

    def apply_after_a_rival(*args: Any, **kwargs: Any) -> Any:
        if not rival_done:  # only for our first call; the rival's own call passes straight on
            rival_done.append(True)
            town.cases.act(record.id, request(A.ACCEPT))  # its own session, committed
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(cases_module, "apply_action", apply_after_a_rival)
    town.clock.set(TOWN_NOW + timedelta(minutes=1))

    with pytest.raises(ConcurrentChange) as raised:
        town.cases.act(record.id, request(A.VOID))  # decided on the stale "reported" state

    assert raised.value.code == "concurrent_change"
    assert isinstance(raised.value.__cause__, StaleDataError)
    row = town.case(record.id)
    assert (row.status, row.version, row.voided_at) == ("accepted", 2, None)
    assert [e.action for e in town.events(record.id)] == ["report", "accept"]
    assert [e.payload["action"] for e in town.outbox("case")] == ["report", "accept"]

    # The loser reloads and retries: the action now applies to the current state.
    assert town.cases.act(record.id, request(A.VOID)).status == "voided"
