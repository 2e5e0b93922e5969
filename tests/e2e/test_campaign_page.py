"""The campaign page in headless Chromium, on the app started as a user starts it: record a
campaign with the form, open its effect chart (the campaign band and the control line). With
``GCC_SCREENSHOTS=DIR`` the leader's pages are saved as PNGs at 1920×1080 (docs/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import RunningApp, app_now, start_app

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the command room's calendar

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = start_app(tmp_path_factory.mktemp("campaigns"), "--no-simulator")
    yield running
    running.stop()


def _pick(browser, box_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    browser.find_element(By.XPATH, f"//*[@id='{box_id}']//label[contains(., '{text}')]").click()


def _date(browser, field_id: str, value: str) -> None:  # type: ignore[no-untyped-def]
    browser.execute_script(
        "const el = document.getElementById(arguments[0]);"
        "const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        "set.call(el, arguments[1]); el.dispatchEvent(new Event('input', {bubbles: true}));",
        field_id,
        value,
    )


def test_record_a_campaign_and_see_its_effect(app: RunningApp, browser) -> None:  # type: ignore[no-untyped-def]
    browser.set_window_size(1920, 1080)
    browser.get(f"{app.url}/trends/campaigns")
    wait = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located((By.ID, "cmp-name")))
    browser.find_element(By.ID, "cmp-name").send_keys("违建百日攻坚")
    _pick(browser, "cmp-categories", "违法建设")
    _date(browser, "cmp-start", "2026-01-05")
    _date(browser, "cmp-end", "2026-01-01")  # the end before the start: refused
    browser.find_element(By.ID, "cmp-submit").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "cmp-message"), "未登记"))
    # A campaign from ten days before the command room's today (the app's clock).
    start = app_now(app).astimezone(SHANGHAI).date() - timedelta(days=10)
    _date(browser, "cmp-start", start.isoformat())
    _date(browser, "cmp-end", (start + timedelta(days=30)).isoformat())
    browser.find_element(By.ID, "cmp-submit").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "cmp-message"), "已登记"))
    assert "违建百日攻坚" in browser.find_element(By.ID, "cmp-list").text
    browser.find_element(By.ID, "cmp-saved-link").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#cmp-effect-graph .main-svg")))
    graph = browser.find_element(By.ID, "cmp-effect-graph").text
    assert "整治期间" in graph  # the campaign band's label on the chart
    assert "整治区域上报数" in graph and "按对照推算的预期" in graph  # the two lines' legend
    assert browser.find_element(By.ID, "cmp-during").text.startswith("整治期间")
    shots = os.environ.get("GCC_SCREENSHOTS")
    if shots:
        out = Path(shots)
        browser.save_screenshot(str(out / "campaigns-zh.png"))
        for page, name in (("rising", "rising"), ("rankings", "rankings")):
            browser.get(f"{app.url}/trends/{page}")
            wait.until(ec.presence_of_element_located((By.ID, f"{page}-page")))
            browser.save_screenshot(str(out / f"{name}-zh.png"))
        browser.get(f"{app.url}/trends/campaigns?lang=en")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#cmp-effect-graph .main-svg")))
        browser.save_screenshot(str(out / "campaigns-en.png"))
