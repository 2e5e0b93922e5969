"""The field app (/m) on a 360×800 phone in headless Chromium against ``python run.py``: a patrol
moves the worker's dot on /wall; a report with a photo made offline arrives once when the
network is back (and once only, when the phone sends it again); the one-click emergency alarms
the wall and the supervisors' page; a verify task and a check task complete the loop.

The phone is a second Chromium with the DevTools protocol's geolocation
(``Emulation.setGeolocationOverride``), phone metrics and network conditions; the wall is the
session's desktop browser. Set ``GCC_FIELD_SCREENSHOTS=<dir>`` to keep the 360×800 screenshots
of every page (docs/field-*.png are made so).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import RunningApp, as_phone, chromium, run_cli, start_app

pytestmark = pytest.mark.e2e

WALL_LIVE = (
    "var e = document.querySelector('.wall-live'); return !!e && e.classList.contains('live');"
)
ALARM_CASE = (
    "var b = document.getElementById('wall-alarm');"
    "return b && !b.classList.contains('hidden') ? b.dataset.case : null;"
)
WALL_POSITION = (
    "var w = window.GccWall && window.GccWall.current;"
    "var p = w && w.positions.get(arguments[0]); return p ? [p[0], p[1]] : null;"
)
# Where the worker's dot is, from the middle of the map element (ActionChains' origin).
DOT_ON_SCREEN = """
const w = window.GccWall.current, p = w.positions.get(arguments[0]), m = w.map.map;
const c = m.latLngToContainerPoint([p[1], p[0]]), r = m.getContainer().getBoundingClientRect();
return [Math.round(c.x - r.width / 2), Math.round(c.y - r.height / 2)];
"""
QUEUED = "return document.getElementById('m-queue').classList.contains('hidden') ? 0 : 1;"


def until(browser: Any, condition: Callable[[Any], Any], timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


@dataclass
class Field:
    app: RunningApp
    tmp: Path
    token: str  # a commander's token: the desk's side of the loop
    worker: str
    grid_centre: tuple[float, float]  # lon, lat

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.tmp}/var/demo.db?mode=ro", uri=True)

    def api(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        data, kind = None, "application/json"
        if isinstance(body, tuple):  # (field name, JPEG bytes): multipart
            data, kind = _multipart(*body)
        elif body is not None:
            data = json.dumps(body).encode()
        request = urllib.request.Request(
            self.app.url + path,
            method=method,
            data=data,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": kind, **headers},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


def _multipart(name: str, jpeg: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return (
        head + jpeg + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    return bytes(cv2.imencode(".jpg", image)[1])


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    tmp = tmp_path_factory.mktemp("field")
    app = start_app(tmp, "--no-simulator")
    try:
        out = run_cli(app, "token", "create", "desk-e2e", "--role", "commander")
        token = out.strip().splitlines()[-1]
        with sqlite3.connect(f"file:{tmp}/var/demo.db?mode=ro", uri=True) as conn:
            worker, lon, lat = conn.execute(
                "SELECT u.worker_id, g.lon, g.lat FROM users u JOIN grid_workers w "
                "ON w.id = u.worker_id JOIN grids g ON g.code = w.grid_code "
                "WHERE u.username = 'demo-worker'"
            ).fetchone()
        yield Field(app, tmp, token, worker, (lon, lat))
    finally:
        app.stop()


def _chromium(size: str) -> Any:
    """Chromium with a fake camera and microphone (a test pattern and a beep), allowed without
    asking, and local addresses not hidden behind mDNS names (two browsers on one machine)."""
    return chromium(
        size,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
    )


@pytest.fixture(scope="module")
def phone(field: Field) -> Iterator[Any]:
    driver = _chromium("360,800")
    as_phone(driver)
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": field.app.url, "permissions": ["geolocation"]}
    )
    driver.execute_cdp_cmd("Network.enable", {})
    password = (field.tmp / "var" / "demo-password").read_text().strip()
    driver.get(field.app.url + "/login?next=/m")
    driver.find_element(By.ID, "username").send_keys("demo-worker")
    driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
    until(driver, lambda b: b.execute_script("return document.body.dataset.ready") == "1")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def wall(field: Field) -> Iterator[Any]:
    """The command room's browser (the demo signs it in as the commander): the wall."""
    driver = _chromium("1920,1080")
    driver.get(field.app.url + "/wall")
    until(driver, lambda b: b.execute_script(WALL_LIVE), 40)
    yield driver
    driver.quit()


def _go(phone: Any, page: str) -> None:
    phone.find_element(By.CSS_SELECTOR, f"#m-tabs button[data-go='{page}']").click()


def _tap(phone: Any, css: str) -> None:
    """A tap on a button that may lie under the tab bar: scrolled to the middle first. A live
    update may redraw the list between finding the button and tapping it (the old element is
    then stale and nothing was tapped): it is found again."""

    def tap(b: Any) -> bool:
        button = b.find_element(By.CSS_SELECTOR, css)
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        return True

    WebDriverWait(
        phone, 20, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    ).until(tap)


def _place(phone: Any, lon: float, lat: float) -> None:
    phone.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": 8}
    )


def _offline(phone: Any, offline: bool) -> None:
    phone.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def _shot(phone: Any, name: str) -> None:
    folder = os.environ.get("GCC_FIELD_SCREENSHOTS")
    if folder:
        phone.execute_script(
            "window.scrollTo(0, 0); const t = document.getElementById('m-toast');"
            "if (t) t.classList.add('hidden');"
        )
        phone.save_screenshot(str(Path(folder) / f"field-{name}-zh.png"))


def _near(got: Any, lon: float, lat: float) -> bool:
    return got is not None and abs(got[0] - lon) < 1e-5 and abs(got[1] - lat) < 1e-5


def test_a_patrol_moves_the_workers_dot_on_the_wall(field: Field, phone: Any, wall: Any) -> None:
    lon, lat = field.grid_centre
    _place(phone, lon, lat)
    _go(phone, "patrol")
    phone.find_element(By.ID, "m-patrol-toggle").click()
    until(wall, lambda b: _near(b.execute_script(WALL_POSITION, field.worker), lon, lat))
    # A walk, not a teleport: ~25 m after 3 s (the filters mark faster jumps and keep the dot;
    # docs/tracks.md), so the clock must really move between the two fixes.
    time.sleep(3)
    step_lon, step_lat = lon + 0.0002, lat + 0.0001
    _place(phone, step_lon, step_lat)
    phone.find_element(By.ID, "m-patrol-fix").click()  # "locate me" while on patrol: a fix now
    until(wall, lambda b: _near(b.execute_script(WALL_POSITION, field.worker), step_lon, step_lat))
    assert "2" in phone.find_element(By.ID, "m-patrol-state").text
    with field.db() as conn:
        accuracy = conn.execute(
            "SELECT accuracy FROM position_fixes WHERE worker_id = ? ORDER BY at DESC LIMIT 1",
            (field.worker,),
        ).fetchone()
    assert accuracy == (8.0,)  # the browser's accuracy is kept
    _shot(phone, "patrol")

    # A click on the worker's dot calls the worker: the phone rings; the caller gives up.
    spot = wall.execute_script(DOT_ON_SCREEN, field.worker)
    ActionChains(wall).move_to_element_with_offset(
        wall.find_element(By.ID, "wall-map"), spot[0], spot[1]
    ).click().perform()
    until(wall, lambda b: "正在呼叫" in b.find_element(By.ID, "fc-status").text)
    until(phone, lambda b: b.find_elements(By.ID, "m-call-answer"))
    wall.find_element(By.ID, "fc-hangup").click()
    until(phone, lambda b: "hidden" in b.find_element(By.ID, "m-call").get_attribute("class"))
    wall.find_element(By.ID, "fc-close").click()
    phone.find_element(By.ID, "m-patrol-toggle").click()  # end the patrol


def test_a_report_made_offline_arrives_once_with_its_photo(
    field: Field, phone: Any, wall: Any, tmp_path: Path
) -> None:
    lon, lat = field.grid_centre
    _place(phone, lon, lat)
    photo = tmp_path / "crack.jpg"
    photo.write_bytes(_jpeg(1))
    text = f"墙体开裂 {uuid.uuid4().hex[:6]}"
    _go(phone, "report")
    until(phone, lambda b: b.execute_script("return !!document.querySelector('.m-pin')"))
    _offline(phone, True)
    phone.find_element(By.ID, "m-photo-input").send_keys(str(photo))
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, "#page-report .m-thumb img"))
    phone.find_element(By.ID, "m-cat-search").send_keys("垃圾")
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, "#m-cat-results .m-chip"))
    phone.find_element(By.CSS_SELECTOR, "#m-cat-results .m-chip").click()
    phone.find_element(By.ID, "m-desc").send_keys(text)
    phone.find_element(By.ID, "m-address").send_keys("枫桥镇新街 12 号")
    _shot(phone, "report")
    _tap(phone, "#m-report-submit")
    until(phone, lambda b: b.execute_script(QUEUED) == 1)
    assert "1" in phone.find_element(By.ID, "m-queue").text
    # Keep a copy of the queued item (its Idempotency-Key and photo): sent again below.
    phone.execute_async_script(
        "const done = arguments[0];"
        "GccField.queue.all().then((items) => { window.kept = items[0]; done(); });"
    )
    with field.db() as conn:
        waiting = conn.execute("SELECT count(*) FROM cases WHERE description = ?", (text,))
        assert waiting.fetchone() == (0,)
    phone.find_element(By.ID, "m-queue").click()
    _shot(phone, "queue")
    phone.find_element(By.ID, "m-queue").click()

    _offline(phone, False)
    phone.execute_script("window.dispatchEvent(new Event('online'))")
    until(phone, lambda b: b.execute_script(QUEUED) == 0, 30)
    # The same item once more, as a retry after a lost answer would send it: same key.
    phone.execute_async_script(
        "const done = arguments[0]; const r = indexedDB.open('gcc-field', 1);"
        "r.onsuccess = () => { const t = r.result.transaction('outbox', 'readwrite');"
        "t.objectStore('outbox').put(window.kept); t.oncomplete = () => done(); };"
    )
    phone.execute_script("GccField.queue.flush()")
    until(phone, lambda b: b.execute_script(QUEUED) == 0, 30)
    with field.db() as conn:
        rows = conn.execute(
            "SELECT c.id, count(a.id), c.address FROM cases c "
            "LEFT JOIN attachments a ON a.case_id = c.id WHERE c.description = ? GROUP BY c.id",
            (text,),
        ).fetchall()
    assert len(rows) == 1 and rows[0][1] == 1 and rows[0][2] == "枫桥镇新街 12 号"
    case_id = rows[0][0]
    until(
        wall,
        lambda b: b.execute_script(
            "return Array.from(document.querySelectorAll('#wall-feed .feed-item'))"
            ".some((e) => e.dataset.id === arguments[0]);",
            str(case_id),
        ),
    )
    _go(phone, "mine")
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, f".m-report[data-id='{case_id}']"))
    _shot(phone, "mine")


def test_a_case_fixed_on_the_spot_is_self_handled_with_its_after_photo(
    field: Field, phone: Any, tmp_path: Path
) -> None:
    before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
    before.write_bytes(_jpeg(4))
    after.write_bytes(_jpeg(5))
    text = f"井盖松动已复位 {uuid.uuid4().hex[:6]}"
    _go(phone, "report")
    phone.find_element(By.ID, "m-photo-input").send_keys(str(before))
    phone.find_element(By.ID, "m-cat-search").send_keys("井盖")
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, "#m-cat-results .m-chip"))
    phone.find_element(By.CSS_SELECTOR, "#m-cat-results .m-chip").click()
    phone.find_element(By.ID, "m-desc").send_keys(text)
    _tap(phone, "#m-self")
    phone.find_element(By.ID, "m-after-input").send_keys(str(after))
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, "#m-after .m-thumb img"))
    _tap(phone, "#m-report-submit")
    with field.db() as conn:

        def handled() -> Any:
            return conn.execute(
                "SELECT id, status FROM cases WHERE description = ? AND status = 'self_handled'",
                (text,),
            ).fetchone()

        case_id = until(phone, lambda b: handled(), 30)[0]
        photos = conn.execute("SELECT count(*) FROM attachments WHERE case_id = ?", (case_id,))
        assert photos.fetchone() == (2,)  # the photo of the report and the one after the fix
        step = conn.execute(
            "SELECT attachments FROM case_events WHERE case_id = ? AND action = 'self_handle'",
            (case_id,),
        ).fetchone()
    assert len(json.loads(step[0])["ids"]) == 1


def test_the_one_click_emergency_alarms_the_wall_and_the_supervisors(
    field: Field, phone: Any, wall: Any
) -> None:
    lon, lat = field.grid_centre
    _place(phone, lon, lat)
    _go(phone, "sos")
    _shot(phone, "sos")
    phone.find_element(By.ID, "m-sos-fire").click()
    phone.find_element(By.ID, "m-sos-go").click()
    with field.db() as conn:
        case_id = until(
            phone,
            lambda b: conn.execute(
                "SELECT max(id) FROM cases WHERE source = 'emergency' AND emergency = 1 "
                "AND reported_category = '04001'"
            ).fetchone()[0],
        )
    until(wall, lambda b: b.execute_script(ALARM_CASE) == str(case_id))
    desk = wall.current_window_handle
    wall.switch_to.new_window("tab")
    try:
        wall.get(field.app.url + "/supervision")
        until(wall, lambda b: b.execute_script(ALARM_CASE) == str(case_id), 30)
    finally:
        wall.close()
        wall.switch_to.window(desk)


def test_verify_and_check_tasks_complete_the_loop(field: Field, phone: Any) -> None:
    lon, lat = field.grid_centre
    public = {"category": "10001", "description": "群众反映：垃圾堆放", "source": "public"}
    case_id = field.api("POST", "/api/v1/cases", public | {"lon": lon, "lat": lat})["id"]
    field.api("POST", f"/api/v1/cases/{case_id}/actions", {"action": "accept"})
    _go(phone, "patrol")
    field.api("POST", f"/api/v1/cases/{case_id}/actions", {"action": "request_verify"})
    # Live: the task count rises without any click on the phone.
    until(phone, lambda b: b.find_element(By.ID, "m-task-count").text.strip() not in ("", "0"))
    _go(phone, "tasks")
    card = f".m-task[data-id='{case_id}']"
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, card))
    _shot(phone, "tasks")
    _tap(phone, f"{card} .m-verify")
    until(phone, lambda b: _status(field, case_id) == "verified")

    for step in ({"action": "register"}, {"action": "dispatch"}, {"action": "start"}):
        field.api("POST", f"/api/v1/cases/{case_id}/actions", step)
    ids = field.api("POST", f"/api/v1/cases/{case_id}/attachments", ("photos", _jpeg(2)))
    handled = {"action": "handled", "attachments": ids["attachments"]}
    field.api("POST", f"/api/v1/cases/{case_id}/actions", handled)
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, f"{card}[data-kind='check']"))
    photo = Path(field.tmp) / "after.jpg"
    photo.write_bytes(_jpeg(3))
    phone.find_element(By.ID, f"m-check-photo-{case_id}").send_keys(str(photo))
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, f"{card} .m-thumb img"))
    _tap(phone, f"{card} .m-pass")
    until(phone, lambda b: _status(field, case_id) == "checked")
    with field.db() as conn:
        event = conn.execute(
            "SELECT actor, role, attachments FROM case_events WHERE case_id = ? "
            "AND action = 'check_pass'",
            (case_id,),
        ).fetchone()
    assert event[0] == "demo-worker" and event[1] == "grid_worker"
    assert len(json.loads(event[2])["ids"]) == 1  # the photo from the site


def _status(field: Field, case_id: int) -> str:
    with field.db() as conn:
        return str(conn.execute("SELECT status FROM cases WHERE id = ?", (case_id,)).fetchone()[0])


CALL_BYTES = "GccFieldCall.stats().then(arguments[0])"
PHONE_BYTES = "GccField.callStats().then(arguments[0])"


def test_a_video_call_from_a_case_to_the_reporters_phone(
    field: Field, phone: Any, wall: Any
) -> None:
    lon, lat = field.grid_centre
    _go(phone, "patrol")
    report = "return GccField.request('POST', '/api/v1/cases', arguments[0]).then((r) => r.body.id)"
    body = {"category": "10001", "description": "需要视频确认", "source": "grid_worker"}
    case_id = phone.execute_script(report, body | {"lon": lon, "lat": lat})
    desk = wall.current_window_handle
    wall.switch_to.new_window("tab")
    try:
        wall.get(f"{field.app.url}/cases/{case_id}")
        until(wall, lambda b: b.find_elements(By.ID, "fc-call-reporter"), 30).pop().click()
        until(phone, lambda b: b.find_elements(By.ID, "m-call-answer"))
        _shot(phone, "call")
        phone.find_element(By.ID, "m-call-answer").click()
        # Each side receives the other's video (WebRTC inbound-rtp bytes).
        until(wall, lambda b: (b.execute_async_script(CALL_BYTES) or 0) > 0, 30)
        until(phone, lambda b: (b.execute_async_script(PHONE_BYTES) or 0) > 0, 30)
        _shot(wall, "call-desk")  # the command room's side (1920×1080)
        wall.find_element(By.ID, "fc-still").click()
        until(wall, lambda b: b.find_element(By.ID, "fc-status").get_attribute("data-still"))
        assert wall.find_element(By.ID, "fc-status").get_attribute("data-still") == "saved"
        wall.find_element(By.ID, "fc-hangup").click()
        until(phone, lambda b: "hidden" in b.find_element(By.ID, "m-call").get_attribute("class"))
        assert wall.find_elements(By.ID, "fc-close")  # the dialog says the call ended
    finally:
        wall.close()
        wall.switch_to.window(desk)
    with field.db() as conn:
        calls = conn.execute(
            "SELECT caller, worker_id, answered_at IS NOT NULL, ended_at IS NOT NULL, outcome "
            "FROM field_calls WHERE case_id = ?",
            (case_id,),
        ).fetchall()
        trail = [
            row[0]
            for row in conn.execute(
                "SELECT action FROM case_events WHERE case_id = ? ORDER BY id", (case_id,)
            )
        ]
    assert calls == [("demo", field.worker, 1, 1, "ended")]
    assert trail == ["report", "evidence", "video_call"]


def test_the_app_opens_with_no_network(field: Field, phone: Any) -> None:
    """The service worker's app shell: with the server gone the app still starts, as the worker
    left it (this test stops the server: it runs last)."""
    phone.get(field.app.url + "/m")  # online: the service worker now controls the page
    until(phone, lambda b: b.execute_script("return document.body.dataset.ready") == "1")
    until(phone, lambda b: b.execute_script("return !!navigator.serviceWorker.controller"))
    field.app.stop()
    phone.get(field.app.url + "/m?page=tasks")
    until(phone, lambda b: b.execute_script("return document.body.dataset.ready") == "1")
    assert "网格 " in phone.find_element(By.ID, "m-grid").text  # the worker, from the cache
    # The tasks page from the last answer the phone had.
    until(phone, lambda b: b.find_element(By.CSS_SELECTOR, "#page-tasks h2").text == "我的任务")
