"""The residents' page (/residents) in headless Chromium against the demo started with
``python run.py`` (issue 18): the commander confirms a waiting points claim and the village's
place in the month's ranking changes; a service request waiting for its department is accepted
and then returned for a missing paper, with the reason typed on the page. The database agrees."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from layouts import residents_ids as ids
from tests.e2e.conftest import RunningApp

pytestmark = pytest.mark.e2e
WAIT = 30


def _database(app: RunningApp) -> Any:
    from dashboard.config import load_config
    from dashboard.storage.db import Database

    return Database.from_url(load_config(app.config).database_url())


def _ranking(browser: Any) -> dict[str, int]:
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{ids.RANKING} tr[data-village]")
    return {
        r.get_attribute("data-village"): int(r.find_elements(By.TAG_NAME, "td")[2].text)
        for r in rows
    }


def _says(text: str, expected: str) -> bool:
    return bool(text.strip()) and expected in text


def _message(browser: Any, expected: str = "") -> str:
    """The page's message once it says ``expected`` (or anything): a message of the previous
    click may still be shown while the callback of this one runs (seen on a busy machine)."""
    with contextlib.suppress(TimeoutException):  # the caller's assertion names what it saw
        WebDriverWait(browser, WAIT).until(
            lambda d: _says(d.find_element(By.ID, ids.MESSAGE).text, expected)
        )
    return str(browser.find_element(By.ID, ids.MESSAGE).text)


def test_a_claim_confirmed_and_a_request_accepted_and_returned(
    demo_app: RunningApp, browser: Any
) -> None:
    from dashboard.storage.models import PointsClaim, PointsEntry, Resident, ServiceRequest

    db = _database(demo_app)
    with db.read() as session:
        claim, village, points = session.execute(
            select(PointsClaim.id, Resident.village_code, PointsClaim.item_code)
            .join(Resident, Resident.id == PointsClaim.resident_id)
            .where(PointsClaim.status == "pending")
            .order_by(PointsClaim.entered_at.desc(), PointsClaim.id.desc())
            .limit(1)
        ).one()
        waiting = session.scalars(
            select(ServiceRequest.id).where(ServiceRequest.status == "submitted").limit(1)
        ).one()
    browser.get(demo_app.url + "/residents")  # the demo signs this browser in as its commander
    wait = WebDriverWait(browser, WAIT)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-claim='{claim}']")))
    before = _ranking(browser).get(village, 0)

    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-claim='{claim}']")
    row.find_elements(By.TAG_NAME, "button")[0].click()  # 确认
    assert f"申报 {claim} 已确认" in _message(browser, f"申报 {claim} 已确认")
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, f"tr[data-claim='{claim}']")))
    with db.read() as session:
        entry = session.scalars(select(PointsEntry).where(PointsEntry.claim_id == claim)).one()
    assert entry.item_code == points
    assert _ranking(browser).get(village, 0) == before + entry.amount

    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-request='{waiting}']")
    row.find_elements(By.TAG_NAME, "button")[0].click()  # 受理
    wait.until(
        ec.presence_of_element_located(
            (By.CSS_SELECTOR, f"tr[data-request='{waiting}'][data-status='accepted']")
        )
    )
    returns = f"tr[data-request='{waiting}'] button:nth-child(2)"
    browser.find_element(By.CSS_SELECTOR, returns).click()  # 退回补正 without a reason
    assert "请先填写理由" in _message(browser, "请先填写理由")
    browser.find_element(By.ID, ids.NOTE).send_keys("缺少户口簿复印件")
    browser.find_element(By.CSS_SELECTOR, returns).click()
    wait.until(
        ec.presence_of_element_located(
            (By.CSS_SELECTOR, f"tr[data-request='{waiting}'][data-status='returned']")
        )
    )
    with db.read() as session:
        request = session.get(ServiceRequest, waiting)
        assert request is not None and request.status == "returned" and request.returns == 1
    db.dispose()
