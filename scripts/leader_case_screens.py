"""Screenshots of a leader's read-only case pages and of the rankings for docs/ (1920×1080, zh).

    python run.py --config CONF --no-simulator        # the demo, seeded with [demo] history_days
    python scripts/leader_case_screens.py CONF URL docs/

adds one public report to the seeded database of CONF, taken through the whole loop yesterday
(verified by the grid's worker, dispatched, handled and checked with photos, closed), signs in
as ``demo-leader`` (password in ``<data_dir>/demo-password``) and saves ``leader-cases-zh.png``
(the case list of the report's village this month, as the trends page's 「案件列表」 opens it),
``leader-case-zh.png`` (the case, read-only), ``trends-village-zh.png``, ``rankings-zh.png`` and
``rankings-workers-zh.png``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.clock import FixedClock
from dashboard.config import AppConfig, load_config
from dashboard.domain.lifecycle import ActionRequest
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.services.cases import CaseReport
from dashboard.storage.models import Grid, GridWorker
from dashboard.wiring import build_services

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTLED = (
    "const c = document.getElementById('_pages_content');"
    "return c && c.children.length > 0 && !c.querySelector('.page-placeholder')"
    " && !document.querySelector('[data-dash-is-loading=\"true\"]');"
)


def scene(kind: str) -> bytes:
    """A plain street scene: the report (rubbish on the pavement), the result, the check."""
    img = np.full((480, 640, 3), (170, 180, 185), np.uint8)
    cv2.rectangle(img, (0, 300), (640, 480), (90, 95, 100), -1)  # the road
    cv2.rectangle(img, (0, 0), (640, 120), (220, 200, 160), -1)  # the sky
    cv2.rectangle(img, (60, 110), (580, 300), (150, 160, 175), -1)  # a building
    for x in range(90, 560, 90):
        cv2.rectangle(img, (x, 150), (x + 50, 210), (110, 90, 70), -1)  # its windows
    if kind == "report":
        rng = np.random.default_rng(1)
        for _ in range(14):
            x, y = int(rng.integers(150, 450)), int(rng.integers(250, 380))
            w, h = int(rng.integers(30, 80)), int(rng.integers(20, 60))
            color = tuple(int(c) for c in rng.integers(40, 200, 3))
            cv2.rectangle(img, (x, y), (x + w, y + h), color, -1)
    else:
        cv2.line(img, (0, 390), (640, 390), (240, 240, 240), 4)
    if kind == "check":
        cv2.rectangle(img, (420, 250), (470, 330), (60, 140, 60), -1)  # a green bin
    done, data = cv2.imencode(".jpg", img)
    assert done
    return bytes(data.tobytes())


def make_case(config: AppConfig) -> tuple[int, str]:
    """One public report yesterday from 09:12, through the whole loop; its id and village."""
    start = (datetime.now(SHANGHAI) - timedelta(days=1)).replace(
        hour=9, minute=12, second=0, microsecond=0
    )
    clock = FixedClock(start)
    services = build_services(config, clock)
    try:
        with services.db.read() as session:
            grid = session.scalars(select(Grid).order_by(Grid.code).offset(3).limit(1)).one()
            worker = session.scalars(
                select(GridWorker).where(GridWorker.grid_code == grid.code)
            ).first()
            assert worker is not None
        photos = services.photos
        report = CaseReport(
            "10001",  # 暴露垃圾
            "小区东门外人行道上堆放大量装修垃圾，影响通行",
            grid.lon,
            grid.lat,
            Source.PUBLIC,
            "resident-app",
            Role.INTEGRATION,
            reporter="居民（手机App）",
        )
        case = services.cases.report(report, [photos.inspect(scene("report"), "report.jpg")]).id

        def act(minutes: int, action: Action, actor: str, role: Role, **kw: Any) -> None:
            clock.set(clock.now() + timedelta(minutes=minutes))
            extra = []
            if "photo" in kw:
                photo = photos.inspect(kw.pop("photo"), "step.jpg")
                extra, kw["attachments"] = [photo], (photo.sha256,)
            services.cases.act(case, ActionRequest(action, actor, role, **kw), extra)

        desk, dept, field = "demo-dispatcher", "urban", worker.id
        act(6, Action.ACCEPT, desk, Role.DISPATCHER)
        act(4, Action.REQUEST_VERIFY, desk, Role.DISPATCHER)
        act(38, Action.VERIFY, field, Role.GRID_WORKER, note="现场属实，约十余袋装修垃圾")
        act(9, Action.REGISTER, desk, Role.DISPATCHER)
        act(5, Action.DISPATCH, desk, Role.DISPATCHER, department_code=dept)
        act(40, Action.START, dept, Role.DEPARTMENT)
        act(150, Action.HANDLED, dept, Role.DEPARTMENT, photo=scene("result"), note="已清运完毕")
        act(
            55,
            Action.CHECK_PASS,
            field,
            Role.GRID_WORKER,
            photo=scene("check"),
            note="现场已清理干净",
        )
        act(20, Action.CLOSE, "demo", Role.COMMANDER)
        return case, grid.village_code
    finally:
        services.close()


def main() -> None:
    conf, url, out = Path(sys.argv[1]), sys.argv[2].rstrip("/"), Path(sys.argv[3])
    config = load_config(conf)
    case_id, village = make_case(config)
    password = (config.data_dir() / "demo-password").read_text().strip()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    metrics = {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)

    def shot(path: str, name: str, wait: float = 3) -> None:
        driver.get(url + path)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(SETTLED))
        time.sleep(wait)  # the charts and tables draw
        driver.save_screenshot(str(out / name))

    try:
        driver.get(url + "/login")
        driver.find_element(By.ID, "username").send_keys("demo-leader")
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.ID, "login-submit").click()
        WebDriverWait(driver, 30).until(lambda d: "/trends" in d.current_url)
        today = datetime.now(SHANGHAI).date()
        first = today.replace(day=1)
        cases = f"/cases?place={village}&from={first}&to={today}&lang=zh"
        shot(cases, "leader-cases-zh.png")
        shot(f"/cases/{case_id}?lang=zh", "leader-case-zh.png", 4)
        drilled = f"/trends?lang=zh&kind=month&town={village[:9]}&village={village}"
        shot(drilled, "trends-village-zh.png", 5)
        shot("/trends/rankings?lang=zh", "rankings-zh.png")
        heading = driver.find_element(By.XPATH, "//h2[contains(., '网格员排名')]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", heading)
        time.sleep(1)
        driver.save_screenshot(str(out / "rankings-workers-zh.png"))
    finally:
        driver.quit()
    print(f"case {case_id} in {village}: screenshots in {out}")


if __name__ == "__main__":
    main()
