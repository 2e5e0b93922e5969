"""The trends page's figures and its exports: every KPI of the page equals the direct computation
(both databases, at every drill level); a chart as a real PNG, tables as CSV with their columns,
and the monthly briefing as an A4 PDF whose text (pdftotext) holds the month's Chinese KPIs —
made by the scheduler, on its controlled clock, on the first working day of the month only."""

from __future__ import annotations

import csv
import io
import struct
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from dashboard.clock import FixedClock
from dashboard.domain.metrics import (
    closure_rate,
    extension_rate,
    on_time_closure_rate,
    rework_rate,
)
from dashboard.domain.permissions import UNLIMITED
from dashboard.domain.roles import Role
from dashboard.domain.trend_periods import DateRange, PeriodKind
from dashboard.scheduler import WatcherScheduler
from dashboard.services.trend_briefing import first_working_day
from dashboard.services.trend_view import TrendViews
from layouts.trends import fmt_value
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    lite_api_fixture,  # noqa: F401
)
from tests.integration.trend_history import Places, clear_trends, direct, generate, local

NOW = local(date(2026, 3, 18), 10.5)
MARCH = DateRange(date(2026, 3, 1), date(2026, 3, 31))
FEBRUARY = DateRange(date(2026, 2, 1), date(2026, 2, 28))


def _history(api: Api) -> Iterator[Api]:
    clear_trends(api.services.db)
    api.clock.set(NOW)
    generate(api.services.db, api.services.reference, first=date(2025, 1, 20), now=NOW)
    yield api
    clear_trends(api.services.db)


@pytest.fixture
def history(api: Api) -> Iterator[Api]:
    yield from _history(api)


@pytest.fixture
def lite_history(lite_api: Api) -> Iterator[Api]:
    yield from _history(lite_api)


def test_every_kpi_of_the_page_equals_the_direct_computation(history: Api) -> None:
    api = history
    calendar = api.services.reference.calendar
    views = TrendViews(api.services.db, api.services.reference)
    town = Places.of(api.services.db).grids[0][2]
    busiest = views.build(UNLIMITED, "zh", NOW, MARCH, PeriodKind.MONTH, town).places
    village = busiest[0].code  # the village with the most reports in March
    for town, place_village, area in ((None, None, None), (village[:9], None, village[:9]),
                                      (village[:9], village, village)):  # fmt: skip
        view = views.build(UNLIMITED, "zh", NOW, MARCH, PeriodKind.MONTH, town, place_village)
        assert view.place.code == area
        kpis = {k.key: k for k in view.kpis}
        for span, pick in (
            (MARCH, lambda k: k.value),
            (view.comparison.previous, lambda k: k.previous),
            (view.comparison.last_year.range, lambda k: k.last_year),
        ):
            want = direct(api.services.db, calendar, span, NOW, area)
            c = want.counts
            hours = (
                None
                if want.handling_cases == 0
                else round(want.handling_seconds / 3600 / want.handling_cases + 1e-9, 1)
            )
            expected = {
                "reported": want.reported,
                "registered": c.registered,
                "closed": c.closed,
                "closure_rate": closure_rate(c),
                "on_time_closure_rate": on_time_closure_rate(c),
                "rework_rate": rework_rate(c),
                "extension_rate": extension_rate(c),
                "average_handling_hours": hours,
            }
            assert {key: pick(k) for key, k in kpis.items()} == expected, (span, area)
        # The formula each card shows: "按期结案率 = 737 / 972".
        want = direct(api.services.db, calendar, MARCH, NOW, area).counts
        on_time = kpis["on_time_closure_rate"]
        assert (on_time.numerator, on_time.denominator) == (
            want.closed_on_time,
            want.should_be_closed,
        )
    # The village level lists the village's cases of the period.
    assert view.cases and all(r["reported_at"].startswith("2026-03") for r in view.cases)


def test_a_chart_is_a_png_and_tables_are_csv(lite_history: Api) -> None:
    api = lite_history
    token = api.token(Role.INTEGRATION, "trends-export")
    _ = token  # integrations may not see trends:
    query = "from=2026-03-01&to=2026-03-31&kind=month"
    assert api.get(f"/api/v1/trends/tables/places.csv?{query}", headers=token).status_code == 403
    api.user("boss", Role.LEADER)
    _login(api, "boss")
    response = api.get(f"/api/v1/trends/charts/trend.png?{query}&width=800&height=400")
    assert response.status_code == 200, response.data[:300]
    png = response.data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (800, 400) and len(png) > 5000
    response = api.get(f"/api/v1/trends/tables/departments.csv?{query}")
    assert response.status_code == 200
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:4] == ["代码", "名称", "上报数", "立案数"] and len(rows[0]) == 12
    view = TrendViews(api.services.db, api.services.reference).build(
        UNLIMITED, "zh", NOW, MARCH, PeriodKind.MONTH
    )
    assert [r[0] for r in rows[1:]] == [d.code for d in view.departments]
    assert [int(r[2]) for r in rows[1:]] == [d.figures["reported"] for d in view.departments]
    english = api.get(f"/api/v1/trends/tables/oldest.csv?{query}&lang=en").data.decode()
    assert (
        english.splitlines()[0]
        == "\ufeffCase,Category,Village,Department,Status,Reported at,Age (days)"
    )
    assert api.get(f"/api/v1/trends/tables/nope.csv?{query}").status_code == 404
    bad = api.get("/api/v1/trends/tables/places.csv?from=2026-03-01")
    assert bad.status_code == 422 and bad.json["field"] == "to"
    bad = api.get(f"/api/v1/trends/tables/places.csv?{query}&village=12")
    assert bad.status_code == 422 and bad.json["field"] == "village"


def _login(api: Api, username: str) -> None:
    from dashboard.security.sessions import SESSION_COOKIE
    from dashboard.security.web import security_of

    signed_in = security_of(api.app).sessions.sign_in(
        username, "correct horse battery", "127.0.0.1"
    )
    api.client.set_cookie(SESSION_COOKIE, signed_in.cookie)


def test_the_scheduler_makes_the_monthly_briefing_on_the_first_working_day(
    lite_history: Api,
) -> None:
    api = lite_history
    services = api.services
    calendar = services.reference.calendar
    first = first_working_day(calendar, 2026, 3)
    assert first == date(2026, 3, 2)  # 1 March 2026 is a Sunday
    clock = FixedClock(local(date(2026, 3, 1), 8))
    watchers = WatcherScheduler(services.db, services.reference, services.config, clock)
    assert watchers.run_job("briefing") is True
    folder = Path(services.config.data_dir()) / "briefings"
    assert not list(folder.glob("*.pdf")) if folder.exists() else True  # Sunday: nothing
    clock.set(local(first, 7))
    watchers.run_job("briefing")
    made = folder / "briefing-2026-02-all-zh.pdf"
    assert made.is_file()
    pdf = made.read_bytes()
    assert pdf[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(made)], capture_output=True, text=True, check=True)
    assert "Pages:           1" in info.stdout and "(A4)" in info.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(made), "-"], capture_output=True, text=True, check=True
    ).stdout
    view = TrendViews(services.db, services.reference).build(
        UNLIMITED, "zh", clock.now(), FEBRUARY, PeriodKind.MONTH
    )
    assert "月度简报（2026年2月）" in text
    for kpi in view.kpis:
        name = {
            "reported": "上报数",
            "closure_rate": "结案率",
            "on_time_closure_rate": "按期结案率",
        }
        if kpi.key in name:
            assert name[kpi.key] in text and fmt_value(kpi.key, kpi.value, "zh") in text
    on_time = next(k for k in view.kpis if k.key == "on_time_closure_rate")
    assert f"按期结案率 = {on_time.numerator:,} / {on_time.denominator:,}" in text
    # Listed for download, and served to the area's leaders only.
    listed = api.get("/api/v1/trends/briefings", headers=api.token(Role.ADMIN, "a"))
    assert listed.json["briefings"][0]["name"] == made.name
    got = api.get(f"/api/v1/trends/briefings/{made.name}", headers=api.token(Role.ADMIN, "b"))
    assert got.status_code == 200 and got.data == pdf
    watchers.run_job("briefing")  # again the same day: kept, not made twice
    assert made.read_bytes() == pdf
    made.unlink()
