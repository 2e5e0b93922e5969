"""Village lights from stored cases (DOMAIN.md "Village status"), on both backends.

Cases go in through the CaseService, as in production, so each report or closure refreshes its
village in the same transaction. The rule is the default one: a 24 h window, at least 5 cases,
red from 80 % open, back to ok below 70 %, red at once on an open emergency.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dashboard.domain.status import Action, Source
from dashboard.services import cases as cases_module
from dashboard.services.villages import refresh_villages
from dashboard.storage.models import Case
from tests.integration.support import TOWN_NOW, Town, act, make_report

MINUTE = timedelta(minutes=1)


def _report_open_cases(town: Town, n: int, *, grid_index: int = 0, start: datetime) -> list[int]:
    """``n`` open cases in the village of the grid, one a minute from ``start``."""
    ids = []
    for i in range(n):
        town.clock.set(start + i * MINUTE)
        ids.append(town.cases.report(make_report(town, grid_index=grid_index)).id)
    return ids


def _close(town: Town, case_id: int, at: datetime) -> None:
    """The shortest way to closed: the grid worker fixes it on the spot, the centre closes it."""
    act(town, case_id, Action.SELF_HANDLE, at)
    act(town, case_id, Action.CLOSE, at)


def _village_events(town: Town, code: str) -> list[dict[str, object]]:
    return [e.payload for e in town.outbox("village") if e.payload["code"] == code]


def test_below_min_cases_a_village_stays_ok(town: Town) -> None:
    code = town.grid(0).village_code
    _report_open_cases(town, 4, start=TOWN_NOW)  # 4 of 4 open, but fewer than min_cases (5)

    village = town.village(code)
    assert (village.status, village.red_since, village.open_ratio) == ("ok", None, None)
    assert village.status_changed_at is None
    assert town.outbox("village") == []


def test_enough_open_cases_turn_the_village_red(town: Town) -> None:
    code = town.grid(0).village_code
    _report_open_cases(town, 5, start=TOWN_NOW)
    turned_red_at = TOWN_NOW + 4 * MINUTE  # the fifth case

    village = town.village(code)
    assert village.status == "red"
    assert village.red_since == turned_red_at
    assert village.status_changed_at == turned_red_at
    assert village.red_reasons == "open_ratio"
    assert village.open_ratio == 1.0
    (event,) = _village_events(town, code)
    assert event["status"] == "red"
    assert event["reasons"] == ["open_ratio"]
    assert datetime.fromisoformat(str(event["red_since"])) == turned_red_at
    assert [e.payload["code"] for e in town.outbox("village")] == [code]  # no other village


def test_red_village_has_hysteresis_and_returns_to_ok(town: Town) -> None:
    code = town.grid(0).village_code
    ids = _report_open_cases(town, 8, start=TOWN_NOW)
    red_since = TOWN_NOW + 4 * MINUTE
    later = TOWN_NOW + timedelta(hours=1)

    _close(town, ids[0], later)
    _close(town, ids[1], later + MINUTE)  # 6 of 8 open = 0.75: between leave and enter ratio

    village = town.village(code)
    assert (village.status, village.red_since, village.open_ratio) == ("red", red_since, 0.75)
    assert len(_village_events(town, code)) == 1  # a moving ratio alone is not news

    _close(town, ids[2], later + 2 * MINUTE)  # 5 of 8 = 0.625 < 0.7

    village = town.village(code)
    assert (village.status, village.red_since, village.red_reasons) == ("ok", None, "")
    assert village.open_ratio == 0.625
    assert village.status_changed_at == later + 2 * MINUTE
    assert [e["status"] for e in _village_events(town, code)] == ["red", "ok"]


def test_an_open_emergency_makes_its_village_red_at_once(town: Town) -> None:
    code = town.grid(5).village_code
    town.cases.report(make_report(town, grid_index=5, source=Source.EMERGENCY))

    village = town.village(code)
    assert (village.status, village.red_since) == ("red", TOWN_NOW)
    assert village.red_reasons == "emergency"
    assert village.open_ratio is None  # one case: the ratio does not count yet
    (event,) = _village_events(town, code)
    assert event["reasons"] == ["emergency"]


def test_closing_the_emergency_turns_the_village_back(town: Town) -> None:
    code = town.grid(5).village_code
    record = town.cases.report(make_report(town, grid_index=5, emergency=True))
    assert town.village(code).status == "red"

    _close(town, record.id, TOWN_NOW + timedelta(minutes=40))

    village = town.village(code)
    assert (village.status, village.red_since, village.red_reasons) == ("ok", None, "")
    assert [e["status"] for e in _village_events(town, code)] == ["red", "ok"]


def test_refresh_after_the_window_passes_drops_the_ratio_but_not_an_emergency(
    town: Town,
) -> None:
    busy = town.grid(0).village_code
    emergency = town.grid(5).village_code
    assert busy != emergency
    _report_open_cases(town, 5, start=TOWN_NOW)
    town.cases.report(make_report(town, grid_index=5, source=Source.EMERGENCY))
    assert town.village(busy).status == town.village(emergency).status == "red"
    emergency_red_since = town.village(emergency).red_since
    published = len(town.outbox("village"))

    later = TOWN_NOW + timedelta(hours=25)
    with town.db.transaction() as session:
        changes = refresh_villages(session, town.rule, later)

    assert [c.code for c in changes] == [busy]  # every village was looked at, one changed
    village = town.village(busy)
    assert (village.status, village.red_since, village.open_ratio) == ("ok", None, None)
    assert village.status_changed_at == later
    # An open emergency counts whatever its age: that village stays red since the report.
    still = town.village(emergency)
    assert (still.status, still.red_since) == ("red", emergency_red_since)
    events = town.outbox("village")
    assert len(events) == published + 1
    assert events[-1].payload["code"] == busy and events[-1].payload["status"] == "ok"

    with town.db.transaction() as session:
        assert refresh_villages(session, town.rule, later) == []  # nothing moves twice


def test_simultaneous_reports_in_one_village_are_all_counted(
    pg_town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = pg_town
    code = town.grid(0).village_code
    _report_open_cases(town, 3, start=TOWN_NOW)
    town.clock.set(TOWN_NOW + 10 * MINUTE)
    reports = [make_report(town), make_report(town)]
    real_refresh = cases_module.refresh_villages
    both_inserted = threading.Barrier(2)

    def refresh_when_both_are_inserted(*args: Any, **kwargs: Any) -> Any:
        # Both reports have flushed their case and neither has committed. If the service
        # serialises the two reports earlier (a fix may lock sooner), stop waiting and go on.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inserted.wait(timeout=3)
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(cases_module, "refresh_villages", refresh_when_both_are_inserted)
    with ThreadPoolExecutor(max_workers=2) as pool:
        records = list(pool.map(town.cases.report, reports, timeout=60))

    assert len({r.id for r in records}) == 2
    with town.db.read() as session:
        open_cases = session.scalar(
            select(func.count()).where(Case.village_code == code, Case.open.is_(True))
        )
    assert open_cases == 5  # 5 of 5 open in the window: the rule says red
    village = town.village(code)
    assert (village.status, village.open_ratio) == ("red", 1.0)
