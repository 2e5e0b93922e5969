"""The residents' side end to end (issue 18), against the session's demo (``python run.py``): a
360×800 phone signed in as ``demo-worker`` and the desk (the demo's commander, at 1600×1000).

1. Points: the worker claims a deed for a resident from the phone, with an evidence photo, made
   in a dead zone (sent once when the network returns); the desk confirms it on /residents; the
   resident's balance and the village's line of the month's ranking grow by the item's points;
   a reward is exchanged for points (stock and balance go down).
2. Services: the worker opens a temporary-aid request with a photographed paper and the
   resident's consent; the civil-affairs desk (/department) accepts it and returns it for a
   missing paper, typed in the row; the phone shows what is missing, the worker photographs it
   and resubmits; the department completes it; the phone's trail shows every step.

``GCC_FIELD_SCREENSHOTS=docs`` keeps the pictures of docs/residents.md (phone 360×800, desk
1600×1000)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import func, select

from layouts import department_ids as dept_ids
from layouts import residents_ids as ids
from tests.e2e.conftest import ROOT, RunningApp, app_now, as_phone, chromium

pytestmark = pytest.mark.e2e
WAIT = 30
QUEUED = "return document.getElementById('m-queue').classList.contains('hidden') ? 0 : 1;"


def until(driver: Any, condition: Callable[[Any], Any], timeout: float = WAIT) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def _database(app: RunningApp) -> Any:
    from dashboard.config import load_config
    from dashboard.storage.db import Database

    return Database.from_url(load_config(app.config).database_url())


def _jpeg(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    path.write_bytes(bytes(cv2.imencode(".jpg", image)[1]))
    return path


def _shot(driver: Any, name: str) -> None:
    folder = os.environ.get("GCC_FIELD_SCREENSHOTS")
    if folder:
        driver.execute_script(
            "const t = document.getElementById('m-toast'); if (t) t.classList.add('hidden');"
        )
        driver.save_screenshot(str(Path(folder) / name))


@pytest.fixture(scope="module")
def phone(demo_app: RunningApp) -> Iterator[Any]:
    driver = chromium("360,800", "--lang=zh-CN")
    as_phone(driver)
    # A phone in the town: its calendar day and times are the app's (Asia/Shanghai).
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Shanghai"})
    driver.execute_cdp_cmd("Network.enable", {})
    password = (demo_app.config.parent / "var" / "demo-password").read_text().strip()
    driver.get(demo_app.url + "/login?next=/m")
    driver.find_element(By.ID, "username").send_keys("demo-worker")
    driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
    until(driver, lambda b: b.execute_script("return document.body.dataset.ready") == "1")
    driver.find_element(By.CSS_SELECTOR, "#m-tabs button[data-go='residents']").click()
    until(driver, lambda b: b.find_element(By.ID, "page-residents").get_attribute("data-ready"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def desk(browser: Any) -> Iterator[Any]:
    """The session's desk browser (the demo signs it in as its commander) at desk size."""
    metrics = {"width": 1600, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _offline(phone: Any, offline: bool) -> None:
    phone.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    if not offline:
        phone.execute_script("window.dispatchEvent(new Event('online'))")


def _tap(phone: Any, css: str) -> None:
    """A tap on a button that may lie under the tab bar or a toast: scrolled to the middle,
    tapped again while something still covers it (a toast fading, the page settling)."""

    def tap(b: Any) -> bool:
        button = b.find_element(By.CSS_SELECTOR, css)
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        try:
            button.click()
        except ElementClickInterceptedException:
            return False
        return True

    until(phone, tap)


def _message(desk: Any, element: str, words: str) -> str:
    until(desk, lambda d: words in d.find_element(By.ID, element).text)
    return str(desk.find_element(By.ID, element).text)


def _ranking(desk: Any) -> dict[str, int]:
    rows = desk.find_elements(By.CSS_SELECTOR, f"#{ids.RANKING} tr[data-village]")
    return {
        r.get_attribute("data-village"): int(r.find_elements(By.TAG_NAME, "td")[2].text)
        for r in rows
    }


def _month_points(app: RunningApp, db: Any, village: str) -> int:
    """Points awarded to the village's residents since the 1st of this month in the app's
    calendar (the ranking's rule), on the app's clock."""
    from dashboard.storage.models import PointsEntry, Resident

    tz = ZoneInfo("Asia/Shanghai")
    first = app_now(app).astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with db.read() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0))
            .join(Resident, Resident.id == PointsEntry.resident_id)
            .where(
                Resident.village_code == village,
                PointsEntry.kind == "award",
                PointsEntry.at >= first,
            )
        )
    return int(total or 0)


def _choose(desk: Any, dropdown: str, value: int, words: str) -> None:
    """A value of a Dash drop-down, found by typing ``words`` in its search box."""
    desk.find_element(By.CSS_SELECTOR, f"button#{dropdown}.dash-dropdown").click()
    until(desk, lambda d: d.find_element(By.CSS_SELECTOR, ".dash-dropdown-search")).send_keys(words)

    def pick(d: Any) -> bool:
        option = d.find_element(By.CSS_SELECTOR, f"[role=listbox] input[value='{value}']")
        option.find_element(By.XPATH, "./ancestor::label").click()
        return True

    until(desk, pick)


def test_a_deed_from_the_phone_confirmed_ranked_and_exchanged(
    demo_app: RunningApp, phone: Any, desk: Any, tmp_path: Path
) -> None:
    from dashboard.storage.models import (
        GridWorker,
        PointsClaim,
        PointsEntry,
        PointsReward,
        Resident,
        ResidentFile,
        User,
    )

    db = _database(demo_app)
    with db.read() as session:
        village = session.scalar(
            select(GridWorker.village_code)
            .join(User, User.worker_id == GridWorker.id)
            .where(User.username == "demo-worker")
        )
        resident = session.scalars(
            select(Resident)
            .where(Resident.village_code == village, Resident.kind == "resident")
            .order_by(Resident.id)
        ).first()
        assert resident is not None, "the demo seeds residents in the worker's village"
        claimed = set(
            session.scalars(
                select(PointsClaim.item_code).where(PointsClaim.resident_id == resident.id)
            )
        )
        balance_before = int(
            session.scalar(
                select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                    PointsEntry.resident_id == resident.id
                )
            )
        )
    catalogue = tomllib.loads((ROOT / "dashboard/data/points_items.toml").read_text("utf-8"))
    item = max(
        (
            i
            for i in catalogue["item"]
            if "resident" in i["subjects"] and i["points"] > 0 and i["code"] not in claimed
        ),
        key=lambda i: i["points"],
    )

    # The phone, in a dead zone: the claim waits in the queue, then goes once.
    _tap(phone, "#m-res-go-claim")
    Select(phone.find_element(By.ID, "m-claim-resident")).select_by_value(str(resident.id))
    Select(phone.find_element(By.ID, "m-claim-item")).select_by_value(item["code"])
    Select(phone.find_element(By.ID, "m-claim-reporter")).select_by_value("neighbour")
    phone.find_element(By.ID, "m-claim-desc").send_keys("每天接送邻居家两个孩子上学")
    phone.find_element(By.ID, "m-claim-photo-input").send_keys(str(_jpeg(tmp_path / "d.jpg", 1)))
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, "#m-claim-form .m-thumb img"))
    phone.execute_script("document.getElementById('m-claim-date').scrollIntoView()")
    _shot(phone, "field-residents-claim-zh.png")
    _offline(phone, True)
    _tap(phone, "#m-claim-submit")
    until(phone, lambda b: b.execute_script(QUEUED) == 1)
    with db.read() as session:
        waiting = session.scalars(
            select(PointsClaim.id).where(
                PointsClaim.resident_id == resident.id, PointsClaim.item_code == item["code"]
            )
        ).all()
        assert waiting == []  # still on the phone
    _offline(phone, False)
    until(phone, lambda b: b.execute_script(QUEUED) == 0)
    with db.read() as session:
        claim = session.scalars(
            select(PointsClaim).where(
                PointsClaim.resident_id == resident.id, PointsClaim.item_code == item["code"]
            )
        ).one()
        assert (claim.status, claim.reporter, claim.entered_by) == (
            "pending",
            "neighbour",
            "demo-worker",
        )
        evidence = session.scalars(select(ResidentFile).where(ResidentFile.claim_id == claim.id))
        assert len(evidence.all()) == 1

    # The same deed again: refused by the server, kept on the phone with the reason in Chinese.
    Select(phone.find_element(By.ID, "m-claim-item")).select_by_value(item["code"])
    phone.find_element(By.ID, "m-claim-photo-input").send_keys(str(_jpeg(tmp_path / "e.jpg", 5)))
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, "#m-claim-form .m-thumb img"))
    _tap(phone, "#m-claim-submit")
    until(phone, lambda b: "failed" in b.find_element(By.ID, "m-queue").get_attribute("class"))
    phone.find_element(By.ID, "m-queue").click()
    assert "该居民的这项事迹当天已申报过" in phone.find_element(By.ID, "m-queue-list").text
    phone.find_element(By.ID, "m-queue").click()
    phone.execute_async_script(  # the worker would leave it; the next steps want an empty queue
        "const done = arguments[0]; GccField.queue.all().then((items) => {"
        "const r = indexedDB.open('gcc-field', 1); r.onsuccess = () => {"
        "const t = r.result.transaction('outbox', 'readwrite');"
        "items.forEach((i) => t.objectStore('outbox').delete(i.id));"
        "t.oncomplete = () => GccField.queue.flush().then(done); }; });"
    )
    until(phone, lambda b: b.execute_script(QUEUED) == 0)

    # The desk confirms it: the village's line of the month's ranking and the balance grow.
    desk.get(demo_app.url + "/residents")
    until(desk, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-claim='{claim.id}']"))
    before = _month_points(demo_app, db, village)  # the village's line, even below the tenth place
    assert _ranking(desk).get(village, before) == before
    row = desk.find_element(By.CSS_SELECTOR, f"tr[data-claim='{claim.id}']")
    row.find_elements(By.TAG_NAME, "button")[0].click()  # 确认
    assert f"申报 {claim.id} 已确认" in _message(desk, ids.MESSAGE, "已确认")
    until(desk, lambda d: _ranking(d).get(village, 0) == before + item["points"])
    with db.read() as session:
        balance = int(
            session.scalar(
                select(func.sum(PointsEntry.amount)).where(PointsEntry.resident_id == resident.id)
            )
        )
        assert balance == balance_before + item["points"]
        reward = session.scalars(
            select(PointsReward)
            .where(PointsReward.stock > 0, PointsReward.cost <= balance)
            .order_by(PointsReward.cost)
        ).first()
        assert reward is not None

    # A reward for the points.
    _choose(desk, ids.REDEEM_RESIDENT, resident.id, resident.name)
    _choose(desk, ids.REDEEM_REWARD, reward.id, reward.name_zh)
    desk.find_element(By.ID, ids.REDEEM_GO).click()
    assert reward.name_zh in _message(desk, ids.MESSAGE, "已兑换")
    with db.read() as session:
        after = session.get(PointsReward, reward.id)
        assert after is not None and after.stock == reward.stock - 1
        total = session.scalar(
            select(func.sum(PointsEntry.amount)).where(PointsEntry.resident_id == resident.id)
        )
        assert total == balance - reward.cost
    db.dispose()


def test_an_aid_request_from_the_phone_returned_completed_with_its_trail(
    demo_app: RunningApp, phone: Any, desk: Any, tmp_path: Path
) -> None:
    from dashboard.storage.models import Resident, ResidentFile, ServiceRequest, ServiceRequestEvent

    db = _database(demo_app)
    # A resident not registered yet: added on the phone (a wrong ID number is refused first).
    _tap(phone, "#m-res-go-service")
    name = "陈国强"  # the seed's residents are created by "seed"; this one by the worker
    _tap(phone, "#m-new-open")
    phone.find_element(By.ID, "m-new-name").send_keys(name)
    phone.find_element(By.ID, "m-new-id").send_keys("110105194912310021")  # a wrong check digit
    _tap(phone, "#m-new-save")
    until(phone, lambda b: "身份证号有误" in b.find_element(By.ID, "m-toast").text)
    phone.find_element(By.ID, "m-new-id").clear()
    phone.find_element(By.ID, "m-new-id").send_keys("11010519491231002x")
    phone.find_element(By.ID, "m-new-phone").send_keys("13812345678")
    _tap(phone, "#m-new-save")
    until(phone, lambda b: f"已新增居民：{name}" in b.find_element(By.ID, "m-toast").text)
    with db.read() as session:
        added = session.scalars(
            select(Resident).where(Resident.name == name, Resident.created_by == "demo-worker")
        ).one()
        assert (added.id_number, added.phone, added.created_by) == (
            "11010519491231002X",
            "13812345678",
            "demo-worker",
        )
    resident_id = added.id
    picked = Select(phone.find_element(By.ID, "m-svc-resident")).first_selected_option
    assert picked.get_attribute("value") == str(resident_id)  # chosen for the request

    # The phone opens it: the item, one paper photographed, the situation, the consent.
    Select(phone.find_element(By.ID, "m-svc-item")).select_by_value("S001")  # 临时救助 (civil)
    until(phone, lambda b: b.find_elements(By.ID, "m-svc-paper-1"))
    phone.find_element(By.ID, "m-svc-paper-1").send_keys(str(_jpeg(tmp_path / "id.jpg", 2)))
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, "#m-svc-papers .m-thumb img"))
    phone.find_element(By.ID, "m-svc-desc").send_keys("癌症患者，家庭困难，申请临时救助")
    _tap(phone, "#m-svc-submit")  # without the consent: refused on the phone
    until(phone, lambda b: "同意" in b.find_element(By.ID, "m-toast").text)
    assert phone.execute_script(QUEUED) == 0
    _tap(phone, "#m-svc-consent")
    phone.execute_script("window.scrollTo(0, 0)")
    _shot(phone, "field-residents-service-zh.png")
    _tap(phone, "#m-svc-submit")

    def opened(_: Any) -> Any:
        with db.read() as session:
            return session.scalars(
                select(ServiceRequest).where(
                    ServiceRequest.resident_id == resident_id,
                    ServiceRequest.item_code == "S001",
                    ServiceRequest.opened_by == "demo-worker",
                )
            ).first()

    request = until(phone, opened)
    until(phone, lambda b: b.execute_script(QUEUED) == 0)
    with db.read() as session:
        assert (request.status, request.department_code) == ("submitted", "civil")
        assert request.consent_note == "当面同意并签字"
        papers = session.scalars(select(ResidentFile).where(ResidentFile.request_id == request.id))
        assert [p.label for p in papers] == ["身份证复印件"]
    number = request.id

    # The civil-affairs desk accepts it, then returns it for a missing paper.
    desk.get(demo_app.url + "/department?dept=civil")
    row = f"tr[data-request='{number}']"
    until(desk, lambda d: d.find_elements(By.CSS_SELECTOR, row))
    step = 'button[id*=\'"step":"{}"\']'
    desk.find_element(By.CSS_SELECTOR, f"{row} {step.format('accept')}").click()
    until(desk, lambda d: d.find_elements(By.CSS_SELECTOR, f"{row}[data-status='accepted']"))
    desk.find_element(By.CSS_SELECTOR, f"{row} {step.format('return')}").click()  # no reason
    _message(desk, dept_ids.SERVICE_MESSAGE, "缺少的材料")
    desk.find_element(By.CSS_SELECTOR, f"{row} input").send_keys("户口簿复印件")
    desk.find_element(By.CSS_SELECTOR, f"{row} {step.format('return')}").click()
    until(desk, lambda d: d.find_elements(By.CSS_SELECTOR, f"{row}[data-status='returned']"))
    desk.execute_script("document.getElementById('department-services-panel').scrollIntoView()")
    _shot(desk, "department-services.png")

    # The phone shows what is missing; the worker photographs it and resubmits.
    _tap(phone, "#m-res-go-mine")
    card = f".m-request[data-id='{number}']"
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, f"{card}[data-status='returned']"))
    assert "需补充：户口簿复印件" in phone.find_element(By.CSS_SELECTOR, card).text
    phone.find_element(By.ID, f"m-resubmit-photo-{number}").send_keys(
        str(_jpeg(tmp_path / "hukou.jpg", 3))
    )
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, f"{card} .m-thumb img"))
    phone.execute_script("document.querySelector(arguments[0]).scrollIntoView()", card)
    _shot(phone, "field-residents-mine-zh.png")
    _tap(phone, f"#m-resubmit-{number}")
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, f"{card}[data-status='accepted']"))
    with db.read() as session:
        again = session.get(ServiceRequest, number)
        assert again is not None and again.status == "accepted" and again.returns == 1

    # The department completes it; the phone's trail shows every step.
    desk.get(demo_app.url + "/department?dept=civil")
    until(desk, lambda d: d.find_elements(By.CSS_SELECTOR, f"{row}[data-status='accepted']"))
    desk.find_element(By.CSS_SELECTOR, f"{row} {step.format('complete')}").click()
    _message(desk, dept_ids.SERVICE_MESSAGE, "已办结")
    _tap(phone, "#m-res-go-claim")
    _tap(phone, "#m-res-go-mine")
    until(phone, lambda b: b.find_elements(By.CSS_SELECTOR, f"{card}[data-status='done']"))
    _tap(phone, f"#m-res-trail-go-{number}")
    steps = ["open", "accept", "return", "paper", "resubmit", "complete"]
    shown = f"#m-res-trail-{number} li"
    until(
        phone,
        lambda b: (
            [e.get_attribute("data-action") for e in b.find_elements(By.CSS_SELECTOR, shown)]
            == steps
        ),
    )
    assert "户口簿复印件" in phone.find_element(By.ID, f"m-res-trail-{number}").text
    with db.read() as session:
        trail = session.scalars(
            select(ServiceRequestEvent.action)
            .where(ServiceRequestEvent.request_id == number)
            .order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)
        ).all()
        assert trail == steps
        assert session.get(ServiceRequest, number).status == "done"  # type: ignore[union-attr]
    db.dispose()


def test_the_leaders_and_the_wall_see_points_and_services(demo_app: RunningApp, desk: Any) -> None:
    """After the two tests above (or on their own): the month's figures of the demo town on
    /trends/residents, and the wall's panel of the month's first villages."""
    from dashboard.storage.models import GridWorker, User

    db = _database(demo_app)
    with db.read() as session:
        village = session.scalar(
            select(GridWorker.village_code)
            .join(User, User.worker_id == GridWorker.id)
            .where(User.username == "demo-worker")
        )
    db.dispose()
    desk.get(demo_app.url + "/trends/residents")
    until(desk, lambda d: d.find_elements(By.CSS_SELECTOR, "#trs-table tr[data-town]"))
    assert "active" in desk.find_element(By.ID, "trends-tab-residents").get_attribute("class")
    town = desk.find_element(By.CSS_SELECTOR, f"#trs-table tr[data-town='{village[:9]}']")
    cells = [c.text for c in town.find_elements(By.TAG_NAME, "td")]
    assert int(cells[1]) >= int(cells[2]) >= 0 and int(cells[4]) >= int(cells[5])
    row = desk.find_element(By.CSS_SELECTOR, f"#trs-villages tr[data-town='{village}']")
    assert row.find_elements(By.TAG_NAME, "td")[0].text
    _shot(desk, "trends-residents.png")
    desk.find_element(By.ID, "trs-period-year").click()
    until(desk, lambda d: "-01-01" in d.find_element(By.ID, "trs-range").text)

    # The wall's 本月积分榜: this month's first villages, highest first, in the map's corner.
    wall = {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False}
    desk.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", wall)
    desk.get(demo_app.url + "/wall")
    shown = "#wall-points:not(.hidden) #wall-points-list li"
    until(desk, lambda d: d.find_elements(By.CSS_SELECTOR, shown), 40)
    points = [
        int(li.find_element(By.CLASS_NAME, "wp-points").text.split()[0])
        for li in desk.find_elements(By.CSS_SELECTOR, shown)
    ]
    assert 1 <= len(points) <= 5 and points == sorted(points, reverse=True)
    _shot(desk, "wall-points-zh.png")
