"""Screenshots of the leader's pages for docs/ (1920×1080, headless Chromium).

    python run.py --config CONF seed --scale town --days 150   # once: the demo town's history
    python scripts/leadership_screens.py CONF docs/

plants, on the seeded database of CONF, what the pages are about — a rise of illegal
construction in two villages in the last seven days (10 and 6 more a day), and a campaign on it
in the busiest other village eight to four weeks ago, during which two of three of its
reports registered as illegal construction are voided (as if never made) — then starts the
demo on CONF (``--no-simulator``) and saves
``rising-zh.png``, ``campaigns-zh.png``, ``campaigns-en.png`` and ``rankings-zh.png``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.request import urlopen

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import delete, func, insert, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.config import load_config  # noqa: E402
from dashboard.reference import load_reference  # noqa: E402
from dashboard.storage.db import Database  # noqa: E402
from dashboard.storage.models import Campaign, Case, Grid  # noqa: E402

PLANTED = "违法搭建（截图）"  # the description of the planted reports


def plant(config_path: str) -> None:
    config = load_config(config_path)
    tz = load_reference(config).calendar.tz
    db = Database.from_url(config.database_url())
    today = datetime.now(UTC).astimezone(tz).date()
    with db.transaction() as session:
        session.execute(delete(Case).where(Case.description == PLANTED))  # an earlier run's
        grids = session.execute(
            select(Grid.code, Grid.village_code, Grid.lon, Grid.lat).order_by(Grid.code)
        ).all()
        villages: dict[str, tuple[str, str, float, float]] = {}
        for g in grids:
            villages.setdefault(g.village_code, tuple(g))  # type: ignore[arg-type]
        picked = list(villages.values())[3:5]
        rows = []
        for offset in range(1, 8):
            for (grid, village, lon, lat), per_day in zip(picked, (10, 6), strict=True):
                for i in range(per_day):
                    at = datetime.combine(today - timedelta(days=offset), datetime.min.time(), tz)
                    at = (at + timedelta(hours=10, minutes=7 * i)).astimezone(UTC)
                    rows.append(
                        {
                            "status": "reported",
                            "source": "grid_worker",
                            "emergency": False,
                            "category_code": "06001",
                            "reported_category": "06001",
                            "description": PLANTED,
                            "lon": lon,
                            "lat": lat,
                            "address": "",
                            "grid_code": grid,
                            "village_code": village,
                            "town_code": village[:9],
                            "county_code": village[:6],
                            "reporter": "",
                            "reported_at": at,
                            "updated_at": at,
                            "version": 1,
                            "open": True,
                        }
                    )
        session.execute(insert(Case), rows)
        if session.scalar(select(Campaign.id).limit(1)) is not None:
            return  # the campaign and its effect: planted by an earlier run
        # the campaign village: the most illegal-construction reports (and not a rising one)
        busiest = session.execute(
            select(Case.village_code, func.count())
            .where(Case.category_code.startswith("06"))
            .group_by(Case.village_code)
            .order_by(func.count().desc())
        ).all()
        rising = {village for _grid, village, _lon, _lat in picked}
        target = next(code for code, _n in busiest if code not in rising)
        start, end = today - timedelta(days=56), today - timedelta(days=29)
        lo = datetime.combine(start, datetime.min.time(), tz).astimezone(UTC)
        hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
        ids = session.scalars(
            select(Case.id)
            .where(
                Case.village_code == target,
                Case.category_code.startswith("06"),
                Case.reported_at >= lo,
                Case.reported_at < hi,
            )
            .order_by(Case.id)
        ).all()
        session.execute(
            update(Case)
            .where(Case.id.in_([i for n, i in enumerate(ids) if n % 3]))  # two of three
            .values(status="voided", open=False, voided_at=hi)
        )
        now = datetime.now(UTC)
        session.add(
            Campaign(
                name="违建百日攻坚",
                categories=["06"],
                area_code=target,
                start_day=start.isoformat(),
                end_day=end.isoformat(),
                note="",
                created_by="demo",
                created_at=now,
                updated_at=now,
            )
        )


_DEMO = ("--no-simulator", "demo")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shoot(config_path: str, out: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "run.py", "--config", config_path, "--port", str(port), *_DEMO],
        cwd=ROOT,
    )
    try:
        for _ in range(120):
            try:
                urlopen(f"{url}/healthz/live", timeout=2)
                break
            except OSError:
                time.sleep(1)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1920,1080"):
            options.add_argument(flag)
        driver = webdriver.Chrome(
            service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
            options=options,
        )
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
        )
        try:
            wait = WebDriverWait(driver, 60)
            for path, ready, name in (
                ("/trends/rising", "rising-page", "rising-zh.png"),
                ("/trends/campaigns", "cmp-effect-graph", "campaigns-zh.png"),
                ("/trends/campaigns?lang=en", "cmp-effect-graph", "campaigns-en.png"),
                ("/trends/rankings", "rankings-page", "rankings-zh.png"),
            ):
                driver.get(url + path)
                wait.until(ec.presence_of_element_located((By.ID, ready)))
                time.sleep(2)  # the chart's drawing
                driver.save_screenshot(str(out / name))
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    plant(sys.argv[1])
    shoot(sys.argv[1], Path(sys.argv[2]))
