"""One case walked through its whole life on the case workspace, in headless Chromium.

The app is started as a user starts it (``python run.py``, demo auto sign-in off, no simulator);
the people are created with the CLI (``run.py user create``) and each signs in through /login:
a dispatcher, a user of the target department, a grid worker and a shift commander. The report
itself comes from a grid worker's phone - there is no report form on the desk pages - so it is
``POST /api/v1/cases`` with a grid-worker token (``run.py token create``). Every later step is a
click on /cases/<id>: accept → register → dispatch (department chosen in the dropdown) →
start → handled (photo) → check fails (reason) → rework handled (photo) → check passes → close →
evaluate. After each click the page must show the new status without reloading, and at the end
the timeline must list every step with its actor and time.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import ROOT, RunningApp, start_app

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-lifecycle-pass"
DEPARTMENT = "civil"  # 民政办: not the category's default (司法所), so the dropdown is used
USERS = {
    "disp-li": ("dispatcher", None),
    "dept-civil": ("department", DEPARTMENT),
    "gw-zhang": ("grid_worker", None),
    "cmd-wang": ("commander", None),
}
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
WAIT_S = 20


@dataclass
class Lifecycle:
    app: RunningApp
    case_id: int
    photos: list[Path]


def _cli(app: RunningApp, *commands: tuple[str, ...]) -> list[str]:
    """Run ``run.py`` commands side by side (each one starts Python; the machine is shared)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env["GCC_USER_PASSWORD"] = PASSWORD
    running = [
        subprocess.Popen(
            [sys.executable, "run.py", "--config", str(app.config), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    outputs = []
    for process in running:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, out + err
        outputs.append(out)
    return outputs


def _worker(app: RunningApp) -> str:
    """A grid worker of the first grid's village: the phone's owner (a device token is scoped
    to its worker's village, where ``_report`` reports)."""
    with sqlite3.connect(app.config.parent / "var" / "demo.db") as db:
        (worker,) = db.execute(
            "SELECT w.id FROM grid_workers w JOIN grids g ON g.village_code = w.village_code "
            "ORDER BY g.code, w.id LIMIT 1"
        ).fetchone()
    return str(worker)


def _report(app: RunningApp, token: str) -> int:
    """The grid worker's phone reports a case at the first grid's centre."""
    with sqlite3.connect(app.config.parent / "var" / "demo.db") as db:
        lon, lat = db.execute("SELECT lon, lat FROM grids ORDER BY code LIMIT 1").fetchone()
    body = {
        "category": "01002",
        "description": "两户因排水沟堵塞发生争执，需协调处理",
        "lon": lon,
        "lat": lat,
        "source": "grid_worker",
        "address": "枫桥镇e2e路1号",
    }
    request = urllib.request.Request(
        app.url + "/api/v1/cases",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return int(json.load(response)["id"])


def _photo(path: Path, colour: tuple[int, int, int], text: str) -> Path:
    image = np.full((240, 320, 3), colour, np.uint8)
    cv2.putText(image, text, (20, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lifecycle]:
    tmp = tmp_path_factory.mktemp("lifecycle")
    app = start_app(tmp, "--no-simulator", extra_config='auto_login_user = ""\n')
    try:
        started = time.monotonic()
        commands = [
            ("user", "create", name, "--role", role)
            + (("--department", department) if department else ())
            for name, (role, department) in USERS.items()
        ]
        phone = ("token", "create", "gw-phone", "--role", "grid_worker", "--worker", _worker(app))
        *_, token = _cli(app, *commands, phone)
        case_id = _report(app, token.strip().splitlines()[-1])
        photos = [
            _photo(tmp / "handled-1.jpg", (40, 90, 160), "handled 1"),
            _photo(tmp / "handled-2.jpg", (40, 150, 60), "handled 2"),
        ]
        print(f"set-up (users, token, report): {time.monotonic() - started:.1f} s")
        yield Lifecycle(app, case_id, photos)
    finally:
        app.stop()


# --- the browser side --------------------------------------------------------------------------


def _wait(driver: webdriver.Chrome, until: Callable[[webdriver.Chrome], object]) -> object:
    ignored = (
        NoSuchElementException,
        StaleElementReferenceException,
        ElementClickInterceptedException,  # a dropdown's list still moving into place
    )
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=ignored).until(until)


def _sign_in(driver: webdriver.Chrome, lc: Lifecycle, username: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{lc.app.url}/cases/{lc.case_id}")
    _wait(driver, lambda d: d.find_element(By.ID, "login-form"))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    _wait(driver, lambda d: d.find_element(By.ID, "case-ws-status"))
    assert f"/cases/{lc.case_id}" in driver.current_url
    _wait(driver, lambda d: d.find_element(By.ID, "case-ws-map").get_attribute("data-ready"))
    # A full reload would drop this; every step below must leave it in place.
    driver.execute_script("window.__sameDocument = true;")


def _status(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.ID, "case-ws-status").get_attribute("data-status") or ""


def _button(driver: webdriver.Chrome, action: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'button[id*=\'"action":"{action}"\']')


def _outcome(driver: webdriver.Chrome, status: str) -> str | None:
    errors = driver.find_elements(By.CSS_SELECTOR, ".case-ws-error")
    if errors:
        return "error: " + errors[0].text
    return "ok" if _status(driver) == status else None


def _act(
    driver: webdriver.Chrome,
    action: str,
    status: str,
    fill: Callable[[webdriver.Chrome], None] | None = None,
) -> None:
    """Click the step's button, fill its form, confirm; the page shows ``status`` in place."""
    _wait(driver, lambda d: _button(d, action).is_enabled())
    _button(driver, action).click()
    _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, f".case-ws-form[data-action={action}]"))
    if fill is not None:
        fill(driver)
    driver.find_element(By.ID, "case-ws-submit").click()
    outcome = _wait(driver, lambda d: _outcome(d, status))
    assert outcome == "ok", f"{action}: {outcome}"
    assert driver.execute_script("return window.__sameDocument === true"), "the page reloaded"
    assert not driver.find_elements(By.CSS_SELECTOR, ".case-ws-form")  # the form closed


def _refused_without_reason(driver: webdriver.Chrome) -> None:
    """A failed check without its reason: the domain refuses, the page says why, nothing moves."""
    _button(driver, "check_fail").click()
    _wait(
        driver, lambda d: d.find_element(By.CSS_SELECTOR, ".case-ws-form[data-action=check_fail]")
    )
    driver.find_element(By.ID, "case-ws-submit").click()
    error = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".case-ws-error").text)
    assert "请填写原因" in str(error)
    assert _status(driver) == "handled"
    driver.find_element(By.ID, "case-ws-cancel").click()
    _wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".case-ws-form"))


def _type(field: str, text: str) -> Callable[[webdriver.Chrome], None]:
    def fill(driver: webdriver.Chrome) -> None:
        driver.find_element(By.CSS_SELECTOR, f'[id*=\'"name":"{field}"\']').send_keys(text)

    return fill


def _choose_department(code: str, name: str) -> Callable[[webdriver.Chrome], None]:
    def fill(driver: webdriver.Chrome) -> None:
        driver.find_element(By.CSS_SELECTOR, ".case-ws-form button.dash-dropdown").click()
        search = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".dash-dropdown-search"))
        assert isinstance(search, WebElement)
        search.send_keys(name)  # the list narrows to the one department

        def pick(d: webdriver.Chrome) -> bool:
            option = d.find_element(By.CSS_SELECTOR, f"[role=listbox] input[value='{code}']")
            option.find_element(By.XPATH, "./ancestor::label").click()
            return True

        _wait(driver, pick)
        _wait(driver, lambda d: name in d.find_element(By.CSS_SELECTOR, ".case-ws-form").text)

    return fill


def _upload(photo: Path) -> Callable[[webdriver.Chrome], None]:
    def fill(driver: webdriver.Chrome) -> None:
        field = driver.find_element(By.CSS_SELECTOR, ".case-ws-upload input[type=file]")
        field.send_keys(str(photo))
        # The file is read by the browser before the name shows: then confirm may go.
        _wait(
            driver, lambda d: photo.name in d.find_element(By.CSS_SELECTOR, ".case-ws-chosen").text
        )

    return fill


def _rate(value: int) -> Callable[[webdriver.Chrome], None]:
    def fill(driver: webdriver.Chrome) -> None:
        radios = driver.find_elements(
            By.CSS_SELECTOR, '[id*=\'"name":"satisfaction"\'] input[type=radio]'
        )
        next(r for r in radios if r.get_attribute("value") == str(value)).click()

    return fill


def test_one_case_through_its_whole_life_on_the_pages(
    lifecycle: Lifecycle, browser: webdriver.Chrome
) -> None:
    lc, d = lifecycle, browser
    _sign_in(d, lc, "disp-li")
    assert _status(d) == "reported"
    assert not _button(d, "close").is_enabled()  # legal later, and never for a dispatcher
    _act(d, "accept", "accepted")
    _act(d, "register", "registered")
    assert d.find_element(By.ID, "case-ws-light").get_attribute("data-light") == "green"
    _act(d, "dispatch", "dispatched", _choose_department(DEPARTMENT, "民政办"))

    _sign_in(d, lc, "dept-civil")
    assert not _button(d, "check_pass").is_enabled()
    _act(d, "start", "handling")
    _act(d, "handled", "handled", _upload(lc.photos[0]))

    _sign_in(d, lc, "gw-zhang")
    _refused_without_reason(d)
    _act(d, "check_fail", "rework", _type("reason", "排水沟仍有淤堵，请返工"))

    _sign_in(d, lc, "dept-civil")
    _act(d, "handled", "handled", _upload(lc.photos[1]))

    _sign_in(d, lc, "gw-zhang")
    _act(d, "check_pass", "checked")

    _sign_in(d, lc, "cmd-wang")
    _act(d, "close", "closed", _type("note", "双方满意"))
    _act(d, "evaluate", "evaluated", _rate(5))
    _check_timeline(d)
    assert len(d.find_elements(By.CSS_SELECTOR, "#case-ws-photos a.case-photo")) == 2


STEPS = [  # (action, actor) in the order they happened
    ("report", "gw-phone"),
    ("accept", "disp-li"),
    ("register", "disp-li"),
    ("dispatch", "disp-li"),
    ("start", "dept-civil"),
    ("handled", "dept-civil"),
    ("check_fail", "gw-zhang"),
    ("handled", "dept-civil"),
    ("check_pass", "gw-zhang"),
    ("close", "cmd-wang"),
    ("evaluate", "cmd-wang"),
]


def _check_timeline(driver: webdriver.Chrome) -> None:
    items = driver.find_elements(By.CSS_SELECTOR, "#case-ws-timeline .tl-item")
    seen = [
        (
            item.get_attribute("data-action"),
            item.find_element(By.CSS_SELECTOR, ".tl-actor").text,
            item.find_element(By.CSS_SELECTOR, ".tl-time").text,
        )
        for item in items
    ]
    assert [(a, actor.split("（")[0]) for a, actor, _ in seen] == STEPS, seen
    assert all(TIME.fullmatch(at) for _, _, at in seen), seen
    text = driver.find_element(By.ID, "case-ws-timeline").text
    assert "排水沟仍有淤堵，请返工" in text  # the check's reason
    assert "民政办" in text  # the department it was dispatched to
    handled = driver.find_elements(By.CSS_SELECTOR, ".tl-item[data-action=handled] a.case-photo")
    assert len(handled) == 2  # each "handled" carries its photo
