"""The case list and the department view in headless Chromium, the app started as a user starts
it (``python run.py``, the demo region, no simulator so the cases hold still).

The case list: a search narrows the results and lands in the address (bookmarkable), paging
moves on, and the CSV link downloads a file with the BOM and one line per case found. The
department view: a department user (created with the CLI, signed in with its password) accepts
a dispatched case and reports it handled with a photo; the case's status changes in the database.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from layouts import case_list_ids as ids
from layouts import department_ids as dids
from tests.e2e.conftest import RunningApp, dispatched_case, free_port, run_cli, start_app

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-department-pw"
WAIT = 30


@dataclass
class Demo:
    app: RunningApp
    case_id: int  # dispatched to `department`, not yet accepted
    department: str
    village_name: str


def _database(app: RunningApp) -> Any:
    from dashboard.config import load_config
    from dashboard.storage.db import Database

    return Database.from_url(load_config(app.config).database_url())


def _case_status(app: RunningApp, case_id: int) -> tuple[str, int]:
    """The case's status and how many photos it has, read from the app's database."""
    from dashboard.storage.models import Attachment, Case

    db = _database(app)
    try:
        with db.read() as session:
            status = session.scalar(select(Case.status).where(Case.id == case_id)) or ""
            photos = session.scalar(
                select(func.count()).select_from(Attachment).where(Attachment.case_id == case_id)
            )
        return status, int(photos or 0)
    finally:
        db.dispose()


def _order(app: RunningApp, order_id: int) -> tuple[str, str]:
    from dashboard.storage.models import SupervisionOrder

    db = _database(app)
    try:
        with db.read() as session:
            order = session.get(SupervisionOrder, order_id)
            assert order is not None
            return order.status, order.reply or ""
    finally:
        db.dispose()


def _pick_case(app: RunningApp) -> tuple[int, str, str]:
    """A dispatched case (made for the test), its department, and a village name to search for."""
    from dashboard.storage.models import Village

    case_id, department = dispatched_case(app)
    db = _database(app)
    try:
        with db.read() as session:
            village = session.scalars(select(Village.name).order_by(Village.code)).first()
        return case_id, department, str(village)
    finally:
        db.dispose()


def _add_order(app: RunningApp, case_id: int, department: str) -> None:
    """A supervision order to the department, as a supervisor would have issued it (the demo's
    own watcher raises them only once a deadline has passed, which depends on the weekday)."""
    from datetime import UTC, datetime

    from dashboard.storage.models import Case, SupervisionOrder

    db = _database(app)
    try:
        with db.transaction() as session:
            case = session.get(Case, case_id)
            assert case is not None
            now = datetime.now(UTC)
            session.add(
                SupervisionOrder(
                    case_id=case_id,
                    stage="e2e",
                    deadline=now,
                    due_at=now,
                    issued_at=now,
                    supervisor="sup-e2e",
                    department_code=department,
                    town_code=case.town_code,
                    opinion="请于今日内处置完毕并回复",
                    status="open",
                )
            )
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    capture = f"[video]\ncapture_port = {free_port()}\n"  # not the default other apps use
    app = start_app(tmp_path_factory.mktemp("caselist"), "--no-simulator", extra_config=capture)
    try:
        case_id, department, village = _pick_case(app)
        _add_order(app, case_id, department)
        run_cli(
            app,
            "user",
            "create",
            "dept-e2e",
            "--role",
            "department",
            "--department",
            department,
            password=PASSWORD,
        )
        yield Demo(app, case_id, department, village)
    finally:
        app.stop()


def _wait(driver: webdriver.Chrome) -> WebDriverWait:
    """Waits that read elements the page router may be replacing at that moment."""
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))


def _cells(driver: webdriver.Chrome, selector: str, attribute: str | None = None) -> list[str]:
    """The text (or an attribute) of every element matching ``selector``, read in one go."""

    def read(d: webdriver.Chrome) -> list[str]:
        found = d.find_elements(By.CSS_SELECTOR, selector)
        return [(e.get_attribute(attribute) or "") if attribute else e.text for e in found]

    return list(_wait(driver).until(lambda d: read(d) or None))


def _total(driver: webdriver.Chrome) -> int:
    text = driver.find_element(By.ID, ids.TOTAL).text
    return int(re.sub(r"\D", "", text))


def _query(driver: webdriver.Chrome) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query)


def test_search_narrows_pages_and_exports_csv(demo: Demo, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    driver, url = browser, demo.app.url
    driver.delete_all_cookies()  # the demo signs this browser in as its commander
    driver.get(url + "/cases")
    _wait(driver).until(ec.presence_of_element_located((By.ID, ids.TOTAL)))
    everything = _wait(driver).until(_total)
    assert everything > 100
    assert len(_cells(driver, f"#{ids.TABLE} tr.cl-row")) == 50

    driver.find_element(By.ID, ids.PLACE).send_keys(demo.village_name)
    driver.find_element(By.ID, ids.SEARCH).click()
    _wait(driver).until(lambda d: "place" in _query(d) and _total(d) < everything)
    assert _query(driver)["place"] == [demo.village_name]
    found = _wait(driver).until(_total)
    places = _cells(driver, f"#{ids.TABLE} tr.cl-row td:nth-child(5)")
    assert found > 0 and all(demo.village_name in p for p in places)

    # Paging over the whole list (a fresh search), with a smaller page size from the address.
    driver.get(url + "/cases?per_page=20")
    _wait(driver).until(ec.presence_of_element_located((By.ID, ids.NEXT)))
    first_page = _cells(driver, "tr.cl-row", "data-case")
    driver.find_element(By.ID, ids.NEXT).click()
    _wait(driver).until(lambda d: _query(d).get("page") == ["2"])
    _wait(driver).until(lambda d: "2 /" in d.find_element(By.ID, ids.PAGER).text)
    second_page = _cells(driver, "tr.cl-row", "data-case")
    assert len(second_page) == 20 and not set(first_page) & set(second_page)

    # The CSV link carries the search and downloads the file.
    driver.get(url + "/cases?" + f"place={demo.village_name}")
    _wait(driver).until(ec.presence_of_element_located((By.ID, ids.EXPORT)))
    link = driver.find_element(By.ID, ids.EXPORT)
    assert parse_qs(urlsplit(link.get_attribute("href")).query)["place"] == [demo.village_name]
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    link.click()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not list(tmp_path.glob("*.csv")):
        time.sleep(0.2)  # a download has no page state to wait on: poll the folder
    files = list(tmp_path.glob("*.csv"))
    assert files, "the CSV was not downloaded"
    raw = files[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0][:2] == ["编号", "状态"] and len(lines) == found + 1


def _sign_in(driver: webdriver.Chrome, app: RunningApp, username: str) -> None:
    driver.delete_all_cookies()
    driver.get(app.url + "/login?next=/department")
    _wait(driver).until(ec.presence_of_element_located((By.ID, "login-form")))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    _wait(driver).until(lambda d: "/login" not in d.current_url)


def _row(driver: webdriver.Chrome, case_id: int) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f"#{dids.CASES} tr[data-case='{case_id}']")


def _button(driver: webdriver.Chrome, case_id: int, text: str) -> WebElement:
    buttons = _row(driver, case_id).find_elements(By.TAG_NAME, "button")
    return next(b for b in buttons if b.text == text)


def _photo(path: Path) -> Path:
    pixels = np.random.default_rng(3).integers(0, 255, size=(120, 160, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), pixels)
    return path


def test_department_accepts_and_reports_handled_with_a_photo(
    demo: Demo, browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    driver, case_id = browser, demo.case_id
    _sign_in(driver, demo.app, "dept-e2e")
    _wait(driver).until(ec.presence_of_element_located((By.ID, dids.CASES)))
    assert driver.find_elements(By.ID, dids.PICK) == []  # a department sees only its own
    assert _row(driver, case_id).get_attribute("data-status") == "dispatched"

    _button(driver, case_id, "接收").click()
    _wait(driver).until(
        lambda d: f"已接收事件 {case_id}" in d.find_element(By.ID, dids.MESSAGE).text
    )
    _wait(driver).until(lambda d: _row(d, case_id).get_attribute("data-status") == "handling")
    assert _case_status(demo.app, case_id) == ("handling", 0)

    # Without a photo: refused, nothing changes.
    _button(driver, case_id, "报告处置完毕").click()
    _wait(driver).until(ec.presence_of_element_located((By.ID, dids.SUBMIT)))
    driver.find_element(By.ID, dids.SUBMIT).click()
    _wait(driver).until(lambda d: "请先上传" in d.find_element(By.ID, dids.MESSAGE).text)
    assert _case_status(demo.app, case_id) == ("handling", 0)

    upload = driver.find_element(By.CSS_SELECTOR, f"#{dids.UPLOAD} input[type=file]")
    upload.send_keys(str(_photo(tmp_path / "result.jpg")))
    _wait(driver).until(lambda d: "result.jpg" in d.find_element(By.ID, dids.UPLOAD_NAME).text)
    driver.find_element(By.ID, dids.NOTE).send_keys("已清理完毕")
    driver.find_element(By.ID, dids.SUBMIT).click()
    _wait(driver).until(
        lambda d: f"事件 {case_id} 已报告处置完毕" in d.find_element(By.ID, dids.MESSAGE).text
    )
    _wait(driver).until(lambda d: _row(d, case_id).get_attribute("data-status") == "handled")
    assert _case_status(demo.app, case_id) == ("handled", 1)

    # A supervision order to this department: reply to it.
    order = driver.find_element(By.CSS_SELECTOR, f"#{dids.ORDERS} .dv-order")
    order_id = int(order.get_attribute("data-order") or 0)
    order.find_element(By.TAG_NAME, "textarea").send_keys("已安排人员，今日完成处置")
    order.find_element(By.TAG_NAME, "button").click()
    _wait(driver).until(
        lambda d: f"已回复督办单 {order_id}" in d.find_element(By.ID, dids.MESSAGE).text
    )
    assert _order(demo.app, order_id) == ("replied", "已安排人员，今日完成处置")
    driver.delete_all_cookies()
