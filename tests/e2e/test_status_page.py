"""The root page, opened in Chromium against the demo started with ``python run.py``."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import RunningApp

pytestmark = pytest.mark.e2e


def _kpis(browser) -> dict[str, str]:  # type: ignore[no-untyped-def]
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".kpi")))
    return {
        k.find_element(By.CSS_SELECTOR, ".kpi-label").text: k.find_element(
            By.CSS_SELECTOR, ".kpi-value"
        ).text
        for k in browser.find_elements(By.CSS_SELECTOR, ".kpi")
    }


def test_health_reports_database_and_bus(demo_app: RunningApp) -> None:
    with urllib.request.urlopen(demo_app.url + "/healthz") as resp:
        body = json.load(resp)
    assert body["ok"] is True
    assert body["database"] == {"ok": True, "backend": "sqlite"}
    assert body["bus"]["backend"] == "memory"


def test_status_page_shows_the_seeded_region_in_chinese(
    demo_app: RunningApp,
    browser,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    browser.get(demo_app.url + "/")
    kpis = _kpis(browser)
    assert kpis["村社区"] == "31"
    assert kpis["网格"] == "90"
    assert int(kpis["网格员"].replace(",", "")) > 300
    assert int(kpis["监控点位"]) >= 150
    assert int(kpis["在办事件"].replace(",", "")) > 0
    assert "网格化社会治理综合指挥中心" in browser.find_element(By.CLASS_NAME, "shell-title").text
    assert browser.find_element(By.TAG_NAME, "h1").text == "系统状态"
    latest = browser.find_elements(By.CSS_SELECTOR, "section:nth-child(3) tbody tr")
    assert len(latest) >= 5
    browser.save_screenshot(str(tmp_path / "status-zh.png"))


def test_language_switch_to_english(demo_app: RunningApp, browser) -> None:  # type: ignore[no-untyped-def]
    browser.get(demo_app.url + "/?lang=en")
    kpis = _kpis(browser)
    assert kpis["Villages"] == "31"
    title = browser.find_element(By.CLASS_NAME, "shell-title").text
    assert "Grid Governance Command Center" in title
    browser.find_element(By.ID, "lang-link").click()
    WebDriverWait(browser, 10).until(lambda b: "村社区" in _kpis(b))
