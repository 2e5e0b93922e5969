"""The leaders' trends page (/trends) in headless Chromium against ``python run.py``: a leader
signs in and lands on it; changing the period (the kind, then a step back) and the drill-down
level (city → town → village → the case list, and back up the breadcrumb) redraws the charts.

Set ``GCC_TRENDS_SCREENSHOTS=<dir>`` to keep 1920×1080 and 1366×768 screenshots (zh, en).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import RunningApp, run_cli, start_app

pytestmark = pytest.mark.e2e

PASSWORD = "leader e2e password"
USER = "boss-e2e"
TRACES = """
var g = document.querySelector('#tr-graph-%s .js-plotly-plot');
return g && g.data ? JSON.stringify(g.data.map(function (d) { return [d.x, d.y]; })) : null;
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = start_app(
        tmp_path_factory.mktemp("trends"), "--no-simulator", extra_config='auto_login_user = ""\n'
    )
    try:
        run_cli(running, "user", "create", USER, "--role", "leader", password=PASSWORD)
        yield running
    finally:
        running.stop()


def _wait(driver: webdriver.Chrome, until: Callable[[Any], Any], timeout: float = 45) -> Any:
    return WebDriverWait(
        driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
    ).until(until)


def _content(driver: webdriver.Chrome) -> tuple[str, str]:
    element = driver.find_element(By.CSS_SELECTOR, "#tr-content .tr-content")
    return element.get_attribute("data-period") or "", element.get_attribute("data-level") or ""


def _traces(driver: webdriver.Chrome, name: str) -> str:
    return str(driver.execute_script(TRACES % name) or "")


def _changed(driver: webdriver.Chrome, before: tuple[str, str], name: str, traces: str) -> None:
    """Wait until the content was redrawn for another period or level and the chart differs."""
    _wait(driver, lambda d: _content(d) != before and _traces(d, name) not in ("", traces))


def _click(driver: webdriver.Chrome, css: str) -> None:
    element = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def _shots(driver: webdriver.Chrome, app: RunningApp, name: str) -> None:
    folder = os.environ.get("GCC_TRENDS_SCREENSHOTS")
    if not folder:
        return
    driver.set_window_size(1920, 1080)
    for lang in ("zh", "en"):
        driver.get(f"{app.url}/trends?lang={lang}&kind=month")
        _wait(driver, lambda d: _traces(d, "trend"))
        driver.save_screenshot(str(Path(folder) / f"{name}-{lang}.png"))
    driver.set_window_size(1366, 768)
    driver.get(f"{app.url}/trends?lang=zh")
    _wait(driver, lambda d: _traces(d, "trend"))
    driver.save_screenshot(str(Path(folder) / f"{name}-1366-zh.png"))
    driver.set_window_size(1920, 1080)


def test_the_period_and_the_drill_down_redraw_the_charts(
    app: RunningApp, browser: webdriver.Chrome
) -> None:
    driver = browser
    driver.delete_all_cookies()
    driver.get(app.url + "/login")
    _wait(driver, lambda d: d.find_element(By.ID, "login-form"))
    driver.find_element(By.ID, "username").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    _wait(driver, lambda d: "/trends" in d.current_url)  # a leader lands on the trends page
    _wait(driver, lambda d: _traces(d, "trend"))
    assert _content(driver)[1] == "city"
    assert "结案率" in driver.find_element(By.ID, "tr-kpi-closure_rate").text
    formula = driver.find_element(By.ID, "tr-kpi-on_time_closure_rate").get_attribute("title")
    assert formula and formula.startswith("按期结案率 = ")

    # The period: a week instead of the month, then the week before.
    before, trend = _content(driver), _traces(driver, "trend")
    _click(driver, "#tr-kind input[value='week']")
    _changed(driver, before, "trend", trend)
    assert "kind=week" in _content(driver)[0]
    before, trend = _content(driver), _traces(driver, "trend")
    _click(driver, "#tr-prev")
    _changed(driver, before, "trend", trend)
    before, trend = _content(driver), _traces(driver, "trend")
    _click(driver, "#tr-next")  # back to this week (the history is two days long)
    _changed(driver, before, "trend", trend)
    _click(driver, "#tr-kind input[value='month']")
    _wait(driver, lambda d: "kind=month" in _content(d)[0])

    # The drill-down: the town, then its busiest village (its case list), then back up.
    before, places = _content(driver), _traces(driver, "places")
    _click(driver, "#tr-places-table .tr-drill")
    _changed(driver, before, "places", places)
    assert _content(driver)[1] == "town"
    assert driver.find_element(By.ID, "tr-crumb-current").text
    before, trend = _content(driver), _traces(driver, "trend")
    _click(driver, "#tr-places-table .tr-drill")
    _changed(driver, before, "trend", trend)
    assert _content(driver)[1] == "village"
    rows = driver.find_elements(By.CSS_SELECTOR, "#tr-case-list tbody tr")
    assert rows and rows[0].text.startswith("#")
    before, trend = _content(driver), _traces(driver, "trend")
    _click(driver, "#tr-breadcrumb button.tr-crumb:last-of-type")
    _changed(driver, before, "trend", trend)
    assert _content(driver)[1] == "town"
    _shots(driver, app, "trends")


def _sign_in(driver: webdriver.Chrome, app: RunningApp) -> None:
    driver.delete_all_cookies()
    driver.get(app.url + "/login")
    _wait(driver, lambda d: d.find_element(By.ID, "login-form"))
    driver.find_element(By.ID, "username").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    _wait(driver, lambda d: "/trends" in d.current_url)


def _case_with_photo(app: RunningApp) -> tuple[int, str, str]:
    """A grid worker's report with a photo in the first grid of the town, made through the
    case service of the app's own database (as a phone's report would be): its id, the photo's
    id and its village."""
    import cv2
    import numpy as np
    from sqlalchemy import select

    from dashboard.config import load_config
    from dashboard.domain.roles import Role
    from dashboard.domain.status import Source
    from dashboard.services.cases import CaseReport
    from dashboard.storage.models import Grid
    from dashboard.wiring import build_services

    services = build_services(load_config(app.config))
    try:
        with services.db.read() as session:
            grid = session.scalars(select(Grid).order_by(Grid.code).limit(1)).one()
            lon, lat = grid.lon, grid.lat
        ok, jpeg = cv2.imencode(".jpg", np.full((240, 320, 3), (40, 120, 200), np.uint8))
        assert ok
        photo = services.photos.inspect(jpeg.tobytes(), "site.jpg")
        report = CaseReport(
            "01002", "楼道堆放杂物，影响通行", lon, lat, Source.GRID_WORKER, "gw-e2e",
            Role.GRID_WORKER,
        )  # fmt: skip
        record = services.cases.report(report, [photo])
        return record.id, photo.sha256, record.village_code
    finally:
        services.close()


def _number(text: str) -> int:
    digits = "".join(ch for ch in text if ch.isdigit())
    assert digits, text
    return int(digits)


def _drill(driver: webdriver.Chrome, code: str, level: str) -> None:
    before = _content(driver)
    button = _wait(
        driver,
        lambda d: d.find_element(
            By.XPATH, f"//button[contains(@class, 'tr-drill') and contains(@id, '\"{code}\"')]"
        ),
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    _wait(driver, lambda d: _content(d) != before and _content(d)[1] == level)


def test_a_leader_drills_down_to_the_case_list_and_reads_a_case(
    app: RunningApp, browser: webdriver.Chrome
) -> None:
    """City → town → village on /trends, then the village's cases of the period in the case
    list (filtered: the same count as the page's 上报数), then one case: its trail and its
    photo, and no control that changes it."""
    case_id, photo_id, village = _case_with_photo(app)
    driver = browser
    driver.set_window_size(1920, 1080)
    _sign_in(driver, app)
    driver.get(f"{app.url}/trends?lang=zh&kind=month")
    _wait(driver, lambda d: _traces(d, "trend") and _content(d)[1] == "city")
    _drill(driver, village[:9], "town")
    _drill(driver, village, "village")
    reported = _number(driver.find_element(By.CSS_SELECTOR, "#tr-kpi-reported .tr-kpi-value").text)
    period = dict(p.split("=", 1) for p in _content(driver)[0].split("&"))
    assert reported >= 1

    _click(driver, "#tr-open-cases")
    _wait(
        driver, lambda d: "/cases?" in d.current_url and d.find_elements(By.ID, "case-list-total")
    )
    url = driver.current_url
    assert f"place={village}" in url
    assert f"from={period['from']}" in url and f"to={period['to']}" in url
    total = _number(driver.find_element(By.ID, "case-list-total").text)
    assert total == reported  # the list is the page's figure, case by case
    assert driver.find_elements(By.ID, "case-list-export") == []  # no export for a leader
    assert driver.find_element(By.ID, "case-list-place").get_attribute("value") == village
    if os.environ.get("GCC_TRENDS_SCREENSHOTS"):
        driver.save_screenshot(
            str(Path(os.environ["GCC_TRENDS_SCREENSHOTS"]) / "leader-cases-zh.png")
        )

    link = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, f"a[href^='/cases/{case_id}?']"))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    _wait(driver, lambda d: d.find_elements(By.ID, "case-ws-readonly"))
    assert f"/cases/{case_id}" in driver.current_url
    trail = driver.find_elements(By.CSS_SELECTOR, ".case-ws-timeline > li")
    assert trail, "the case's trail is shown"
    photo = _wait(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, f"#case-ws-photos img[src*='{photo_id}']"),
    )
    _wait(driver, lambda d: d.execute_script("return arguments[0].naturalWidth", photo) == 320)
    assert driver.find_elements(By.CSS_SELECTOR, "[id*='case-ws-action']") == []
    assert driver.find_elements(By.CSS_SELECTOR, "button.case-ws-btn, .case-ws-upload") == []
    assert "只读" in driver.find_element(By.ID, "case-ws-readonly").text
    if os.environ.get("GCC_TRENDS_SCREENSHOTS"):
        driver.save_screenshot(
            str(Path(os.environ["GCC_TRENDS_SCREENSHOTS"]) / "leader-case-zh.png")
        )
