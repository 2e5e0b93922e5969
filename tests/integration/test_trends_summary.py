"""Every trend figure from the roll-up equals the direct computation from the raw cases, on
SQLite and PostgreSQL, for many periods, areas and cutoffs, before and after cases change; the
JSON contract of ``GET /api/v1/trends/summary`` (keys, the Tianmen check numbers, a 同比 across
the Spring Festival, the clear 4xx answers, the caller's area)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from dashboard.domain.metrics import closure_rate, on_time_closure_rate
from dashboard.domain.permissions import UNLIMITED, Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import CaseStatus
from dashboard.domain.trend_figures import Figures
from dashboard.domain.trend_periods import DateRange
from dashboard.security.sessions import SESSION_COOKIE
from dashboard.security.web import security_of
from dashboard.services.trends import TrendQueries
from dashboard.storage.models import Case
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    lite_api_fixture,  # noqa: F401
)
from tests.integration.trend_history import (
    Places,
    case_row,
    clear_trends,
    direct,
    generate,
    local,
)

NOW = local(date(2026, 3, 18), 10.5)  # a Wednesday inside the history's last month


@pytest.fixture
def history(api: Api) -> Iterator[Api]:
    clear_trends(api.services.db)
    api.clock.set(NOW)
    generate(api.services.db, api.services.reference, now=NOW)
    yield api
    clear_trends(api.services.db)


def _periods() -> list[DateRange]:
    d = DateRange
    return [
        d(date(2026, 3, 1), date(2026, 3, 31)),  # a month holding now (cutoff inside)
        d(date(2026, 2, 1), date(2026, 2, 28)),  # the festival month
        d(date(2026, 2, 16), date(2026, 2, 22)),  # the festival week
        d(date(2025, 1, 27), date(2025, 2, 2)),  # last year's festival week
        d(date(2025, 10, 1), date(2025, 12, 31)),  # a quarter
        d(date(2025, 1, 1), date(2025, 12, 31)),  # a year
        d(date(2026, 3, 18), date(2026, 3, 18)),  # today
        d(date(2025, 6, 3), date(2025, 7, 19)),  # custom
    ]


def _check(
    api: Api, queries: TrendQueries, dates: DateRange, area: str | None, now: datetime = NOW
) -> None:
    calendar = api.services.reference.calendar
    got = queries.total(dates, Scope(area_code=area), now)
    want = direct(api.services.db, calendar, dates, now, area)
    assert got.counts == want.counts, (dates, area)
    assert got.parts.reported == want.reported, (dates, area)
    assert got.parts.emergencies == want.emergencies
    assert (got.parts.handling_cases, got.parts.handling_seconds) == (
        want.handling_cases,
        want.handling_seconds,
    )


def _town_and_village(api: Api) -> tuple[str, str]:
    village = Places.of(api.services.db).grids[0][1]
    return village[:9], village


def test_every_figure_equals_the_direct_computation(history: Api) -> None:
    api = history
    queries = TrendQueries(api.services.db, api.services.reference.calendar)
    town, village = _town_and_village(api)
    for dates in _periods():
        for area in (None, town, village):
            _check(api, queries, dates, area)
    # Breakdowns: the parts add up to the whole, and each equals its own direct computation.
    march = _periods()[0]
    whole = queries.total(march, UNLIMITED, NOW)
    by_village = queries.figures(march, UNLIMITED, NOW, by=("village",))
    assert sum(by_village.values(), Figures()) == whole
    for (code,), figures in list(by_village.items())[:5]:
        want = direct(api.services.db, api.services.reference.calendar, march, NOW, code)
        assert figures.counts == want.counts and figures.parts.reported == want.reported
    by_two = queries.figures(march, UNLIMITED, NOW, by=("major", "department"))
    assert sum(by_two.values(), Figures()) == whole
    by_day = queries.figures(march, UNLIMITED, NOW, by=("day",))
    assert sum(f.parts.reported for f in by_day.values()) == whole.parts.reported


def test_the_roll_up_follows_changed_and_new_cases(history: Api) -> None:
    api = history
    db, calendar = api.services.db, api.services.reference.calendar
    queries = TrendQueries(db, calendar)
    assert queries.refresh() > 0 or True  # built on first use
    rng = random.Random(5)
    later = NOW + timedelta(hours=3)
    with db.transaction() as session:
        open_ids = list(
            session.scalars(select(Case.id).where(Case.open.is_(True), Case.registered_at < NOW))
        )
        closed = dict(
            session.execute(
                select(Case.id, Case.closed_at).where(
                    Case.open.is_(False), Case.closed_at.is_not(None)
                )
            ).all()
        )
        closed_ids = sorted(closed)
        for case_id in rng.sample(open_ids, 15):  # closed now: moves into today's figures
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(status="closed", closed_at=later, open=False, updated_at=later)
            )
        for case_id in rng.sample(closed_ids, 15):  # recategorised, handled on another day
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(
                    category_code="05003",
                    department_code="urban",
                    handled_at=closed[case_id] - timedelta(days=2),
                    updated_at=later,
                )
            )
        row = case_row(Places.of(db), rng, api.services.reference, later - timedelta(hours=1))
        row |= {"updated_at": datetime(2020, 1, 1, tzinfo=NOW.tzinfo)}  # an old stamp: the id
        session.execute(insert(Case), [row])
    assert queries.refresh() >= 31
    api.clock.set(later + timedelta(hours=1))
    town, _ = _town_and_village(api)
    for dates in _periods()[:4]:  # this month, the festival month and weeks
        for area in (None, town):
            _check(api, queries, dates, area, later + timedelta(hours=1))
    assert queries.refresh() >= 0  # nothing left behind: a second refresh changes nothing
    again = queries.total(_periods()[0], UNLIMITED, later + timedelta(hours=1))
    assert (
        again.counts == direct(db, calendar, _periods()[0], later + timedelta(hours=1), None).counts
    )


# --- the JSON contract ------------------------------------------------------------------------

KEYS = {
    "from",
    "to",
    "reported",
    "registered",
    "closed",
    "closed_on_time",
    "should_be_closed",
    "closure_rate",
    "on_time_closure_rate",
    "rework_rate",
}


def _summary(api: Api, query: str, headers: dict[str, str], status: int = 200) -> Any:
    response = api.get(f"/api/v1/trends/summary?{query}", headers=headers)
    assert response.status_code == status, response.json
    return response.json


def test_the_contract_and_a_year_on_year_across_the_spring_festival(history: Api) -> None:
    api = history
    leader = api.token(Role.INTEGRATION, "trends-all")  # integrations lack view_trends …
    _summary(api, "from=2026-02-16&to=2026-02-22", leader, 403)
    api.user("boss", Role.LEADER)
    headers = _login(api, "boss")
    body = _summary(api, "from=2026-02-16&to=2026-02-22", headers)
    assert set(body) == KEYS | {"previous", "last_year"}
    assert set(body["previous"]) == KEYS and set(body["last_year"]) == KEYS
    # The festival week of 2026 (正月初一 Tue 17 Feb) is compared with the festival week of
    # 2025 (正月初一 Wed 29 Jan), not with ISO week 8 of 2025.
    assert (body["last_year"]["from"], body["last_year"]["to"]) == ("2025-01-27", "2025-02-02")
    assert (body["previous"]["from"], body["previous"]["to"]) == ("2026-02-09", "2026-02-15")
    calendar = api.services.reference.calendar
    for part, (first, last) in (
        (body, ("2026-02-16", "2026-02-22")),
        (body["previous"], ("2026-02-09", "2026-02-15")),
        (body["last_year"], ("2025-01-27", "2025-02-02")),
    ):
        dates = DateRange(date.fromisoformat(first), date.fromisoformat(last))
        want = direct(api.services.db, calendar, dates, NOW, None)
        assert part["reported"] == want.reported and part["closed"] == want.counts.closed
        assert part["should_be_closed"] == want.counts.should_be_closed
        assert part["closed_on_time"] == want.counts.closed_on_time
        assert part["registered"] == want.counts.registered
        assert part["closure_rate"] == closure_rate(want.counts)
        assert part["on_time_closure_rate"] == on_time_closure_rate(want.counts)
        for key in ("reported", "closed", "should_be_closed"):
            assert isinstance(part[key], int)
    # A month compares with the same month a year before.
    month = _summary(api, "from=2026-02-01&to=2026-02-28", headers)
    assert month["last_year"]["from"] == "2025-02-01" and month["previous"]["to"] == "2026-01-31"


def _login(api: Api, username: str) -> dict[str, str]:
    """Sign ``username`` in: the test client carries the session cookie from now on."""
    signed_in = security_of(api.app).sessions.sign_in(
        username, "correct horse battery", "127.0.0.1"
    )
    api.client.set_cookie(SESSION_COOKIE, signed_in.cookie)
    return {}


def test_the_tianmen_check_numbers(api: Api) -> None:
    """Should-be-closed 972, closed 911, on time 737 → 93.72 % and 75.82 % (the bulletin)."""
    clear_trends(api.services.db)
    rng = random.Random(972)
    places = Places.of(api.services.db)
    reference = api.services.reference
    rows = []
    june = [date(2026, 6, d) for d in range(1, 31)]
    for n in range(972):
        day = june[n % 30]
        reported = local(day, 9)
        registered = reported + timedelta(hours=1)
        deadline = registered + timedelta(days=3)
        row = case_row(places, rng, reference, reported)
        row |= {
            "status": CaseStatus.CLOSED.value,
            "registered_at": registered,
            "deadline": deadline,
            "department_code": "urban",
            "category_code": row["reported_category"],
            "voided_at": None,
            "suspended_at": None,
            "rework_count": 1 if n % 20 == 0 else 0,
        }
        if n < 737:  # closed on time, inside June
            closed = registered + timedelta(hours=3)
        elif n < 911:  # closed late, inside June
            closed = deadline + timedelta(hours=5)
            row["deadline"] = deadline = local(day, 8) - timedelta(days=4)
            row["registered_at"] = deadline - timedelta(days=3)
            row["reported_at"] = row["registered_at"] - timedelta(hours=1)
            closed = local(day, 15)
        else:  # open and overdue at the end of June
            closed = None
            row["deadline"] = registered + timedelta(hours=4)
        row |= {
            "closed_at": closed,
            "handled_at": closed,
            "open": closed is None,
            "closed_on_time": None if closed is None else closed <= row["deadline"],
            "updated_at": closed or registered,
        }
        if closed is None:
            row["status"] = CaseStatus.HANDLING.value
        rows.append(row)
    with api.services.db.transaction() as session:
        session.execute(insert(Case), rows)
    api.clock.set(local(date(2026, 7, 10), 9))
    api.user("boss", Role.LEADER)
    headers = _login(api, "boss")
    body = _summary(api, "from=2026-06-01&to=2026-06-30", headers)
    assert (body["should_be_closed"], body["closed"], body["closed_on_time"]) == (972, 911, 737)
    assert (body["closure_rate"], body["on_time_closure_rate"]) == (93.72, 75.82)
    assert body["rework_rate"] == round(100 * len([n for n in range(972) if n % 20 == 0]) / 972, 2)
    # September: nothing closed, but the 61 still open and overdue count against it.
    later = _summary(api, "from=2026-09-01&to=2026-09-30", headers)
    assert (later["closed"], later["should_be_closed"], later["closure_rate"]) == (0, 61, 0.0)
    empty = _summary(api, "from=2026-01-01&to=2026-01-31", headers)  # before any case
    assert empty["should_be_closed"] == 0 and empty["closure_rate"] is None
    assert empty["rework_rate"] is None and empty["on_time_closure_rate"] is None
    clear_trends(api.services.db)


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("to=2026-03-01", "from", "missing_date"),
        ("from=2026-03-01", "to", "missing_date"),
        ("from=2026-3-1&to=2026-03-02", "from", "bad_date"),
        ("from=2026-02-30&to=2026-03-02", "from", "bad_date"),
        ("from=2026-03-02&to=2026-03-01", "to", "period_reversed"),
        ("from=2020-01-01&to=2026-03-01", "to", "period_too_long"),
        ("from=1999-01-01&to=1999-01-02", "from", "date_out_of_range"),
        ("from=2026-03-01&to=2026-03-02&town=33068110", "town", "bad_town"),
        ("from=2026-03-01&to=2026-03-02&town=abcdefghi", "town", "bad_town"),
    ],
)
def test_bad_input_is_a_clear_422(lite_api: Api, query: str, field: str, code: str) -> None:
    lite_api.user("boss", Role.LEADER)
    body = _summary(lite_api, query, _login(lite_api, "boss"), 422)
    assert body["field"] == field and body["error"] == code


def test_scoped_to_the_callers_area(history: Api) -> None:
    api = history
    town, village = _town_and_village(api)
    api.user("chief", Role.LEADER, area_code=village)
    headers = _login(api, "chief")
    body = _summary(api, "from=2026-03-01&to=2026-03-31", headers)
    dates = DateRange(date(2026, 3, 1), date(2026, 3, 31))
    want = direct(api.services.db, api.services.reference.calendar, dates, NOW, village)
    assert body["reported"] == want.reported and body["closed"] == want.counts.closed
    assert _summary(api, f"from=2026-03-01&to=2026-03-31&town={town}", headers)["reported"] == (
        want.reported
    )
    other = "330681999"
    _summary(api, f"from=2026-03-01&to=2026-03-31&town={other}", headers, 403)
