"""The supervisors' page (/supervision) in headless Chromium against ``python run.py``: the call
list of red villages, logging a call, a new supervision order arriving live, and a one-click
emergency from the page alarming this page and the wall until acknowledged by name.

The app runs without the simulator, with the call list opened as soon as a village is red
(``call_after_hours = 0``) and the watchers every second, so the test waits seconds, not hours.
Set ``GCC_SUP_SCREENSHOTS=<dir>`` to keep the 1920×1080 screenshots (supervision-zh/en.png).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import (
    NoAlertPresentException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from dashboard.storage.db import Database
from dashboard.storage.models import Case, SupervisionOrder, Village
from tests.e2e.conftest import ROOT, RunningApp, dispatched_case, run_cli, start_app

pytestmark = pytest.mark.e2e

PASSWORD = "supervisor e2e password"
USER = "sup-e2e"
CONFIG = """auto_login_user = ""
[rules.village]
call_after_hours = 0
[supervision]
village_interval_seconds = 1
deadline_interval_seconds = 1
"""
LIVE = "var e = document.getElementById('sup-conn'); return !!e && e.classList.contains('live');"
WALL_LIVE = (
    "var e = document.querySelector('.wall-live'); return !!e && e.classList.contains('live');"
)
FIRST_CALL = """
const row = document.querySelector('#sup-calls tbody tr[data-entry]');
return {village: row.dataset.village, text: row.textContent,
  tel: row.querySelector('a.tel').getAttribute('href')};
"""
HISTORY = """
return Array.from(document.querySelectorAll('#sup-history tbody tr'))
  .filter((r) => !r.querySelector('td.empty'))
  .map((r) => Array.from(r.cells).map((c) => c.textContent));
"""
ALARM_CASE = (
    "var b = document.getElementById('wall-alarm');"
    "return b && !b.classList.contains('hidden') ? b.dataset.case : null;"
)


@dataclass
class Desk:
    app: RunningApp
    db: Database


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("supervision")
    app = start_app(tmp, "--no-simulator", extra_config=CONFIG)
    db = Database.from_url(f"sqlite:///{tmp}/var/demo.db")
    try:
        run_cli(app, "user", "create", USER, "--role", "supervisor", password=PASSWORD)
        yield Desk(app, db)
    finally:
        db.dispose()
        app.stop()


def until(browser: Any, condition: Callable[[Any], Any], timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


@pytest.fixture(scope="module")
def page(browser: Any, desk: Desk) -> Iterator[Any]:
    """The shared browser signed in as the supervisor, on /supervision and live."""
    browser.get(desk.app.url + "/login?next=/supervision")
    until(browser, lambda b: b.find_elements(By.ID, "login-form"))
    browser.find_element(By.ID, "username").send_keys(USER)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    until(browser, lambda b: b.execute_script(LIVE), 30)
    yield browser
    browser.delete_all_cookies()  # the other e2e modules' apps share the host


def _rows(browser: Any, section: str) -> list[Any]:
    return browser.find_elements(By.CSS_SELECTOR, f"#{section} tbody tr:not(:has(td.empty))")


def _history(browser: Any) -> list[list[str]]:
    """The history's rows as cell texts, newest first (read at once: rows are redrawn live)."""
    return browser.execute_script(HISTORY)  # type: ignore[no-any-return]


def _pick(page: Any, index: int = 0) -> tuple[str, str]:
    """Click "log" on the index-th village of the call list; (entry id, village name). The
    script redraws the list when live events arrive, so a row found may be replaced: retry."""

    def attempt(browser: Any) -> tuple[str, str] | None:
        try:
            row = _rows(browser, "sup-calls")[index]
            found = (row.get_attribute("data-entry"), row.find_element(By.TAG_NAME, "td").text)
            row.find_element(By.CSS_SELECTOR, "button").click()
        except (StaleElementReferenceException, IndexError):
            return None
        return found[0], found[1].splitlines()[0]

    return until(page, attempt)  # type: ignore[no-any-return]


def test_the_call_list_shows_a_red_village_with_its_contact(desk: Desk, page: Any) -> None:
    until(page, lambda b: _rows(b, "sup-calls"), 30)
    first = page.execute_script(FIRST_CALL)  # one read: the script may redraw the list
    with desk.db.read() as session:
        village = session.get(Village, first["village"])
    assert village is not None and village.status == "red"
    assert village.name in first["text"] and village.contact_name in first["text"]
    assert first["tel"] == f"tel:{village.contact_phone}"


def test_logging_a_call_shows_who_called_and_when_in_the_history(desk: Desk, page: Any) -> None:
    page.execute_script("window.sameDesk = true")
    _, village = _pick(page)
    until(page, lambda b: village in b.find_element(By.ID, "sup-call-target").text)
    note = page.find_element(By.ID, "sup-call-note")
    note.send_keys("村主任答应下午派人处理")
    until(page, lambda b: b.find_element(By.ID, "sup-call-submit").is_enabled())
    page.find_element(By.ID, "sup-call-submit").click()
    until(page, lambda b: "已登记" in b.find_element(By.ID, "sup-call-msg").text)
    cells = until(page, lambda b: next((r for r in _history(b) if r[2] == USER), None))
    assert cells[1] == village and cells[2] == USER and "已接通" in cells[4]
    assert len(cells[0]) in (5, 11)  # HH:MM today (or MM-DD HH:MM)
    until(page, lambda b: USER in b.find_element(By.ID, "sup-calls").text)  # its last call
    assert page.execute_script("return window.sameDesk") is True


def test_a_snoozed_village_leaves_the_list(desk: Desk, page: Any) -> None:
    entry, _ = _pick(page)
    until(page, lambda b: b.find_element(By.ID, "sup-snooze-submit").is_enabled())
    page.find_element(By.ID, "sup-snooze-submit").click()  # no reason: refused, nothing changes
    until(page, lambda b: "请填写暂缓原因" in b.find_element(By.ID, "sup-call-msg").text)
    page.find_element(By.ID, "sup-snooze-reason").send_keys("村两委正在开会，下午回电")
    page.find_element(By.ID, "sup-snooze-submit").click()
    until(page, lambda b: "已暂缓" in b.find_element(By.ID, "sup-call-msg").text)
    gone = f"#sup-calls tr[data-entry='{entry}']"
    until(page, lambda b: not b.find_elements(By.CSS_SELECTOR, gone))
    newest = until(page, lambda b: next(iter(_history(b)), None))
    assert "暂缓" in newest[4] and "村两委正在开会" in newest[4] and newest[2] == USER


def test_a_new_supervision_order_arrives_without_reload(desk: Desk, page: Any) -> None:
    """A case's deadline passes (moved back in the database, as time would): the deadline
    watcher issues an order, and the page shows it from the live stream."""
    page.execute_script("window.sameDesk = true")
    case_id, _department = dispatched_case(desk.app)
    with desk.db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(SupervisionOrder)) or 0
        row = session.get(Case, case_id)
        assert row is not None and row.deadline is not None
        row.deadline = datetime.now(UTC) - timedelta(seconds=30)
    selector = f"#sup-orders a[href='/cases/{case_id}']"
    until(page, lambda b: b.find_elements(By.CSS_SELECTOR, selector), 30)
    with desk.db.read() as session:
        assert (session.scalar(select(func.count()).select_from(SupervisionOrder)) or 0) > before
    overdue = f"#sup-cases a[href='/cases/{case_id}']"
    until(page, lambda b: b.find_elements(By.CSS_SELECTOR, overdue))
    assert page.execute_script("return window.sameDesk") is True
    _closing_asks_first(desk, page, case_id)


def _closing_asks_first(desk: Desk, page: Any, case_id: int) -> None:
    """Closing an order ends it for good: the page asks, and "cancel" changes nothing."""
    with desk.db.read() as session:
        order = session.scalars(
            select(SupervisionOrder).where(SupervisionOrder.case_id == case_id)
        ).one()
    button = f"//tr[.//a[@href='/cases/{case_id}']]//button"

    def ask(browser: Any) -> str | None:
        try:
            browser.find_element(By.XPATH, "//*[@id='sup-orders']" + button).click()
            return str(browser.switch_to.alert.text)
        except (StaleElementReferenceException, NoAlertPresentException):
            return None

    question = until(page, ask)
    assert str(order.id) in question and "办结" in question
    page.switch_to.alert.dismiss()
    with desk.db.read() as session:
        assert session.get(SupervisionOrder, order.id).status != "closed"  # type: ignore[union-attr]
    until(page, ask)
    page.switch_to.alert.accept()

    def closed(_browser: Any) -> bool:
        with desk.db.read() as session:
            return session.get(SupervisionOrder, order.id).status == "closed"  # type: ignore[union-attr]

    until(page, closed, 15)


def _choose_village(page: Any, name: str) -> None:
    """Type the name into the village list and take the match. On a loaded machine the click
    that opens the list can land before the list listens (the keys then go nowhere): close it
    and try again, up to three times."""
    for _ in range(3):
        page.find_element(By.ID, "sup-emergency-village").click()
        field = until(page, lambda b: b.switch_to.active_element)
        field.send_keys(name)
        field.send_keys(Keys.ENTER)
        try:
            until(page, lambda b: name in b.find_element(By.ID, "sup-emergency-village").text, 5)
            return
        except TimeoutException:
            field.send_keys(Keys.ESCAPE)
    raise AssertionError(f"could not choose {name} in the village list")


def _ack_until(page: Any, case_id: int) -> None:
    """Acknowledge older alarms (seeded history) until this case's is up; not this one."""
    for _ in range(30):
        shown = until(page, lambda b: b.execute_script(ALARM_CASE))
        if shown == str(case_id):
            return
        _ack(page, "值班员李四", shown)
    pytest.fail("the emergency never reached the banner")


def _ack(page: Any, name: str, shown: str) -> None:
    field = page.find_element(By.ID, "wall-alarm-name")
    field.send_keys(Keys.CONTROL, "a", Keys.DELETE)
    field.send_keys(name)
    page.find_element(By.ID, "wall-alarm-ack").click()
    until(page, lambda b: b.execute_script(ALARM_CASE) != shown)


def test_an_emergency_from_the_page_alarms_every_screen_until_acknowledged(
    desk: Desk, page: Any
) -> None:
    with desk.db.read() as session:
        village = session.scalars(select(Village).order_by(Village.code).limit(1)).one()
    desk_tab = page.current_window_handle
    page.switch_to.new_window("tab")
    page.get(desk.app.url + "/wall")
    until(page, lambda b: b.execute_script(WALL_LIVE), 30)
    wall_tab = page.current_window_handle
    page.switch_to.window(desk_tab)

    page.find_element(By.ID, "sup-emergency-open").click()
    until(page, lambda b: b.find_element(By.ID, "sup-emergency-form").is_displayed())
    page.find_element(
        By.XPATH, "//div[@id='sup-emergency-kind']//label[contains(., '火灾')]"
    ).click()
    _choose_village(page, village.name)
    page.find_element(By.ID, "sup-emergency-text").send_keys("厂房起火，浓烟很大 <b>x</b>")
    page.find_element(By.ID, "sup-emergency-submit").click()
    message = until(page, lambda b: b.find_element(By.ID, "sup-emergency-msg").text or None)
    case_id = int(message.split("事件编号")[1].split("：")[0].strip())
    with desk.db.read() as session:
        row = session.get(Case, case_id)
    assert row is not None and row.source == "emergency" and row.emergency
    assert row.reported_category == "04001" and row.village_code == village.code

    _ack_until(page, case_id)
    banner = page.find_element(By.ID, "wall-alarm")
    assert village.name in banner.text and "紧急事件警报" in banner.text
    until(page, lambda b: "厂房起火" in b.find_element(By.CSS_SELECTOR, ".alarm-detail").text)
    assert banner.find_elements(By.CSS_SELECTOR, ".alarm-detail b") == []
    page.switch_to.window(wall_tab)
    until(page, lambda b: b.execute_script(ALARM_CASE) == str(case_id))
    page.switch_to.window(desk_tab)

    page.find_element(By.ID, "wall-alarm-name").send_keys(Keys.CONTROL, "a", Keys.DELETE)
    page.find_element(By.ID, "wall-alarm-ack").click()  # without a name: refused on the page
    assert page.find_element(By.ID, "wall-alarm-msg").text == "请填写值班员姓名后确认"
    _ack(page, "督办员王五", str(case_id))
    assert page.execute_script(ALARM_CASE) != str(case_id)
    page.switch_to.window(wall_tab)
    until(page, lambda b: b.execute_script(ALARM_CASE) != str(case_id))
    page.close()
    page.switch_to.window(desk_tab)


LAYOUT = """
const d = document.documentElement;
return {page: [d.scrollWidth, d.clientWidth, d.scrollHeight, d.clientHeight],
  panels: Array.from(document.querySelectorAll('.sup-panel')).map((e) => {
    const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })};
"""


@pytest.mark.parametrize(("lang", "width"), [("zh", 1920), ("en", 1920), ("zh", 1366)])
def test_the_page_fits_desk_screens(
    desk: Desk, page: Any, tmp_path: Path, lang: str, width: int
) -> None:
    height = 1080 if width == 1920 else 768
    page.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        page.get(f"{desk.app.url}/supervision?lang={lang}")
        until(page, lambda b: b.execute_script(LIVE), 30)
        # The call list drawn, with rows or its "none" line: the demo town has one to three red
        # villages, and an earlier test of this module may have snoozed the only one.
        until(page, lambda b: b.find_elements(By.CSS_SELECTOR, "#sup-calls tbody tr"))
        layout = page.execute_script(LAYOUT)
        assert layout["page"][0] <= layout["page"][1]  # no sideways scrolling
        for left, _top, right, _bottom in layout["panels"]:
            assert left >= 0 and right <= width
        title = "Supervision" if lang == "en" else "督查督办"
        assert page.find_element(By.CSS_SELECTOR, ".sup-toolbar h1").text == title
        path = tmp_path / f"supervision-{lang}{'' if width == 1920 else '-' + str(width)}.png"
        page.save_screenshot(str(path))
        target = os.environ.get("GCC_SUP_SCREENSHOTS")
        if target:
            (ROOT / target).mkdir(parents=True, exist_ok=True)
            (ROOT / target / path.name).write_bytes(path.read_bytes())
    finally:
        page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
