"""search_cases / iter_case_rows against the seeded town on SQLite and PostgreSQL.

Cases are reported through CaseService, a few walked through the real lifecycle, then most rows
are given varied states directly (registration ages from minutes to weeks, every limit, some
suspended or closed, deadlines exactly at the yellow moment and exactly now) so every filter
is compared with a hand count over all rows, and every light with the domain's ``stage_light``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.domain.deadlines import (
    TimeLimit,
    deadline_for,
    is_overdue,
    stage_light,
    yellow_moment,
)
from dashboard.domain.permissions import UNLIMITED, Scope
from dashboard.domain.status import CLOSED_STATUSES, Action, CaseStatus
from dashboard.read.case_queries import (
    SORT_KEYS,
    CaseFilters,
    InvalidQuery,
    iter_case_rows,
    search_cases,
)
from dashboard.storage.models import Case, Village
from dashboard.storage.models import Town as TownRow
from tests.integration.conftest import _town
from tests.integration.support import TOWN_NOW, Town, make_report, walk

NOW = TOWN_NOW
LIMITS = [TimeLimit.parse(x) for x in ("4h", "8h", "1d", "3d", "5d", "15d")]
CATEGORIES = ["01002", "02001", "05003", "06001", "07001", "10001"]
DEPARTMENTS = ["police", "urban", "market"]
RUNNING = [CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.HANDLING, CaseStatus.REWORK]
N_CASES = 90


def _shape(row: Case, rng: random.Random, cal: Any, i: int) -> None:
    """Give a reported case a varied state (consistent: open follows status)."""
    row.category_code = row.reported_category = CATEGORIES[i % len(CATEGORIES)]
    row.emergency = i % 11 == 0
    row.address = f"{'=cmd' if i == 3 else ''}路{i}号"
    row.reported_at = NOW - timedelta(minutes=rng.randint(5, 60 * 24 * 40))
    if i % 9 == 0:  # never registered: no light
        return
    registered = NOW - timedelta(minutes=rng.choice([3, 20, 90, 600, 3000, 9000, 30000]))
    limit = rng.choice(LIMITS)
    deadline = deadline_for(registered, limit, cal)
    if i % 13 == 1:  # exactly at the yellow moment: already yellow
        registered = NOW - timedelta(hours=30)
        deadline = _deadline_yellow_at_now(registered, cal)
    if i % 17 == 2:  # exactly at the deadline: red and overdue
        deadline = NOW
    row.registered_at, row.deadline = registered, deadline
    status = rng.choice([*RUNNING, CaseStatus.SUSPENDED, CaseStatus.HANDLED, CaseStatus.CLOSED])
    row.status, row.open = status.value, status not in CLOSED_STATUSES
    if status is not CaseStatus.REGISTERED:
        row.department_code = DEPARTMENTS[i % len(DEPARTMENTS)]
        row.dispatched_at = registered + timedelta(minutes=1)
    if status is CaseStatus.SUSPENDED:
        row.suspended_at = registered + (NOW - registered) * rng.random()
        row.resume_status = CaseStatus.HANDLING.value
    if status is CaseStatus.CLOSED:
        row.closed_at = NOW - timedelta(minutes=1)


def _deadline_yellow_at_now(registered: Any, cal: Any) -> Any:
    """The deadline whose yellow moment (80 % of the working time) is exactly NOW."""
    used = cal.working_time_between(registered, NOW)
    return cal.add_working_time(registered, used * 5 / 4)


def _make_cases(town: Town) -> list[Case]:
    """N_CASES cases in 12 grids; a few walked for real, the rest shaped; all rows returned."""
    town.clock.set(NOW - timedelta(days=41))
    ids = [town.cases.report(make_report(town, i % 12)).id for i in range(N_CASES)]
    town.clock.set(NOW - timedelta(hours=2))
    walked = set(ids[-4:])
    for case_id in walked:
        walk(town, case_id, (Action.ACCEPT, Action.REGISTER, Action.DISPATCH, Action.START))
    town.clock.set(NOW)
    rng, cal = random.Random(5), town.reference.calendar
    with town.db.transaction() as session:
        for i, case_id in enumerate(ids):
            if case_id not in walked:
                _shape(session.get(Case, case_id), rng, cal, i)
    with town.db.read() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shaped(request: pytest.FixtureRequest) -> Iterator[tuple[Town, list[Case]]]:
    """The seeded town on each backend with the cases above, made once per backend (the
    tests only read); the town is emptied again afterwards."""
    for town in _town(request.getfixturevalue(f"_town_{request.param}")):
        yield town, _make_cases(town)


def _search(town: Town, scope: Scope = UNLIMITED, /, **kwargs: Any) -> tuple[list[dict], int]:
    sort = kwargs.pop("sort", "id")
    with town.db.read() as session:
        page = search_cases(
            session,
            scope,
            CaseFilters(**kwargs),
            NOW,
            town.reference.calendar,
            sort=sort,
            per_page=500,
        )
    return page.rows, page.total


def _ids(town: Town, scope: Scope = UNLIMITED, /, **kwargs: Any) -> list[int]:
    rows, total = _search(town, scope, **kwargs)
    assert total == len(rows)
    return [r["id"] for r in rows]


def _expect(cases: list[Case], keep: Callable[[Case], bool]) -> list[int]:
    return [c.id for c in cases if keep(c)]


def _light(c: Case, cal: Any) -> str | None:
    if not c.open or c.registered_at is None or c.deadline is None:
        return None
    return stage_light(c.registered_at, c.deadline, c.suspended_at or NOW, cal).value


def _running(c: Case) -> bool:
    return c.open and c.status != CaseStatus.SUSPENDED and c.deadline is not None


def test_light_filter_matches_stage_light_for_every_row(shaped: tuple[Town, list[Case]]) -> None:
    town, cases = shaped
    cal = town.reference.calendar
    seen = {}
    for light in ("green", "yellow", "red"):
        rows, total = _search(town, light=light)
        assert [r["id"] for r in rows] == _expect(cases, lambda c, li=light: _light(c, cal) == li)
        assert all(r["light"] == light for r in rows) and total == len(rows)
        seen[light] = total
    assert min(seen.values()) >= 3, seen  # the data covers each light
    boundary = [
        c
        for c in cases
        if c.deadline
        and c.registered_at
        and c.open
        and not c.suspended_at
        and yellow_moment(c.registered_at, c.deadline, cal) == NOW
    ]
    assert boundary and {c.id for c in boundary} <= set(_ids(town, light="yellow"))


def test_overdue_and_soon_due_match_a_hand_count(shaped: tuple[Town, list[Case]]) -> None:
    town, cases = shaped
    late = _expect(cases, lambda c: _running(c) and is_overdue(c.deadline, NOW))
    assert late and _ids(town, overdue=True) == late
    assert any(c.deadline == NOW for c in cases if c.id in late)  # at the deadline: overdue
    for hours in (2, 24, 72):
        soon = _expect(
            cases, lambda c, h=hours: _running(c) and NOW < c.deadline <= NOW + timedelta(hours=h)
        )
        assert _ids(town, due_within_hours=hours) == soon
    rows, _ = _search(town, overdue=True)
    for row in rows:
        assert row["overdue_minutes"] == int((NOW - row["deadline"]).total_seconds() // 60)
        assert row["light"] == "red"


def test_each_filter_matches_a_hand_count(shaped: tuple[Town, list[Case]]) -> None:
    town, cases = shaped
    with town.db.read() as session:
        village_names = dict(session.execute(select(Village.code, Village.name)).all())
        town_code = session.scalars(select(TownRow.code)).first()
    some = cases[20]
    name = village_names[some.village_code]
    checks: list[tuple[dict[str, Any], Callable[[Case], bool]]] = [
        ({"case_id": some.id}, lambda c: c.id == some.id),
        ({"text": "排水沟"}, lambda c: True),
        ({"text": "路7号"}, lambda c: "路7号" in c.address),
        ({"text": "no such words"}, lambda c: False),
        ({"place": some.village_code}, lambda c: c.village_code == some.village_code),
        ({"place": some.grid_code}, lambda c: c.grid_code == some.grid_code),
        ({"place": name}, lambda c: name in village_names[c.village_code]),
        ({"category": "05"}, lambda c: (c.category_code or c.reported_category).startswith("05")),
        ({"category": "07001"}, lambda c: (c.category_code or c.reported_category) == "07001"),
        ({"status": "open"}, lambda c: c.open),
        ({"status": "closed"}, lambda c: c.status in CLOSED_STATUSES),
        ({"status": "suspended"}, lambda c: c.status == "suspended"),
        ({"town": town_code}, lambda c: c.town_code == town_code),
        ({"department": "urban"}, lambda c: c.department_code == "urban"),
        ({"emergency": True}, lambda c: c.emergency),
        ({"emergency": False}, lambda c: not c.emergency),
        (
            {"reported_from": NOW - timedelta(days=10), "reported_to": NOW - timedelta(days=2)},
            lambda c: NOW - timedelta(days=10) <= c.reported_at < NOW - timedelta(days=2),
        ),
        (
            {"status": "open", "department": "police", "light": "red"},
            lambda c: (
                c.open
                and c.department_code == "police"
                and _light(c, town.reference.calendar) == "red"
            ),
        ),
    ]
    for filters, keep in checks:
        expected = _expect(cases, keep)
        assert _ids(town, **filters) == expected, filters
    assert len(_ids(town, status="open")) > 10


@pytest.mark.parametrize("key", SORT_KEYS)
def test_sorts_are_total_orders_in_both_directions(
    shaped: tuple[Town, list[Case]], key: str
) -> None:
    town, cases = shaped
    up = _ids(town, sort=key)
    down = _ids(town, sort=f"-{key}")
    assert sorted(up) == sorted(down) == [c.id for c in cases]
    by_id = {c.id: c for c in cases}
    if key in ("id", "reported_at", "status"):
        values = [getattr(by_id[i], key) for i in up]
        assert values == sorted(values) and down == up[::-1]
    if key == "deadline":
        dated = [by_id[i].deadline for i in up if by_id[i].deadline is not None]
        assert dated == sorted(dated) and by_id[up[-1]].deadline is None
    if key == "light":
        rank = {"red": 0, "yellow": 1, "green": 2, None: 3}
        ranks = [rank[_light(by_id[i], town.reference.calendar)] for i in up]
        assert ranks == sorted(ranks)
    if key == "overdue":
        flags = [not (_running(by_id[i]) and is_overdue(by_id[i].deadline, NOW)) for i in up]
        assert flags == sorted(flags) and not flags[0]


def test_paging_gives_every_row_once_with_the_total(shaped: tuple[Town, list[Case]]) -> None:
    town, cases = shaped
    seen: list[int] = []
    with town.db.read() as session:
        for page in range(1, 20):
            got = search_cases(
                session,
                UNLIMITED,
                CaseFilters(),
                NOW,
                town.reference.calendar,
                sort="-reported_at",
                page=page,
                per_page=7,
            )
            assert got.total == len(cases) and got.per_page == 7
            if not got.rows:
                break
            seen += [r["id"] for r in got.rows]
        streamed = [
            r["id"]
            for r in iter_case_rows(
                session, UNLIMITED, CaseFilters(), NOW, town.reference.calendar, "-reported_at"
            )
        ]
    assert seen == streamed and sorted(seen) == [c.id for c in cases]


def test_scope_limits_a_village_user_and_a_department_user(shaped: tuple[Town, list[Case]]) -> None:
    town, cases = shaped
    village = cases[5].village_code
    assert _ids(town, Scope(area_code=village)) == _expect(
        cases, lambda c: c.village_code == village
    )
    town_area = village[:9]
    assert _ids(town, Scope(area_code=town_area)) == _expect(
        cases, lambda c: c.village_code.startswith(town_area)
    )
    mine = _expect(cases, lambda c: c.department_code == "urban" and c.dispatched_at is not None)
    assert mine and _ids(town, Scope(department_code="urban")) == mine
    # A filter for another department inside a department scope finds nothing.
    assert _ids(town, Scope(department_code="urban"), department="police") == []
    rows, _ = _search(town, Scope(department_code="urban"), light="red")
    assert {r["department"] for r in rows} <= {"urban"}


def test_rows_carry_the_contract_fields(shaped: tuple[Town, list[Case]]) -> None:
    town, _cases = shaped
    rows, _ = _search(town, department="urban")
    expected = {
        "id",
        "status",
        "source",
        "emergency",
        "category",
        "description",
        "address",
        "village",
        "village_name",
        "town",
        "town_name",
        "department",
        "department_name",
        "reporter",
        "reported_at",
        "deadline",
        "light",
        "overdue_minutes",
        "open",
    }
    assert rows and all(set(r) == expected for r in rows)
    assert rows[0]["department_name"] == "综合行政执法队" and rows[0]["village_name"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"light": "blue"}, "light"),
        ({"due_within_hours": 0}, "due_within_hours"),
        ({"reported_from": NOW, "reported_to": NOW - timedelta(days=1)}, "reported_to"),
        ({"sort": "description"}, "sort"),
    ],
)
def test_bad_queries_are_refused_with_the_field(
    shaped: tuple[Town, list[Case]], kwargs: dict, field: str
) -> None:
    town, _cases = shaped
    with pytest.raises(InvalidQuery) as err:
        _search(town, **kwargs)
    assert err.value.field == field
