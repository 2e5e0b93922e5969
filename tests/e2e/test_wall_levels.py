"""The wall above a town (docs/wall.md, "Levels") in headless Chromium against ``python run.py``
with the county seed (23 towns, 515 villages: a small stand-in for the city, fast enough for the
suite): the map's units are the towns, every town with a red village is named, a click on a town
shows its villages and that town's figures, and "back" returns.

Set ``GCC_WALL_SCREENSHOTS=<dir>`` to keep the 1920×1080 screenshots of the run
(wall-county.png, wall-county-town.png).
"""

from __future__ import annotations

import math
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.e2e.conftest import ROOT, start_app
from tests.e2e.test_wall import LIVE, RUN, Wall, inside, until

pytestmark = pytest.mark.e2e

MAP = (
    "var m = document.getElementById('wall-map');"
    "return m ? [m.dataset.level, m.dataset.town] : null;"
)
TOWN_POINT = """
const w = GccWall.current, layer = w.map.layers.get(arguments[0]);
const p = w.map.map.latLngToContainerPoint(layer.getCenter());
const box = document.getElementById('wall-map').getBoundingClientRect();
return [p.x - box.width / 2, p.y - box.height / 2];
"""


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wall]:
    tmp = tmp_path_factory.mktemp("wall-county")
    app = start_app(tmp, "--no-simulator", extra_config='scale = "county"\n', history_days=1)
    created = subprocess.run(
        [
            *RUN,
            "--config",
            str(app.config),
            "token",
            "create",
            "e2e-county",
            "--role",
            "integration",
            "--all-areas",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    holder = Wall(app, created.stdout.strip().splitlines()[-1], tmp)
    yield holder
    holder.app.stop()


def _make_red(county: Wall, village: dict[str, Any]) -> None:
    """Enough open reports in the village to turn it red (config.toml [rules.village])."""
    by_ratio = math.ceil((0.8 * village["total"] - village["open"]) / (1 - 0.8))
    lon, lat = inside(county, village["code"])
    for _ in range(max(5 - village["total"], by_ratio, 1)):
        county.report(lon, lat, source="hotline", description="积压未办")


def _shot(screen: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    screen.save_screenshot(str(path))
    target = os.environ.get("GCC_WALL_SCREENSHOTS")
    if target:
        (ROOT / target).mkdir(parents=True, exist_ok=True)
        (ROOT / target / name).write_bytes(path.read_bytes())


def test_county_wall_shows_towns_names_red_ones_and_drills_in_and_back(
    county: Wall, browser: Any, tmp_path: Path
) -> None:
    villages = county.api("GET", "/api/v1/villages")
    target = next(v for v in villages if v["status"] != "red")
    _make_red(county, target)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        browser.get(county.app.url + "/wall")
        until(browser, lambda b: b.execute_script(LIVE), 30)
        until(browser, lambda b: (b.execute_script(MAP) or [None])[0] == "towns", 30)
        villages = county.api("GET", "/api/v1/villages")
        red_towns = {v["town"]: v["town_name"] for v in villages if v["status"] == "red"}
        assert target["town"] in red_towns
        # Every town with a red village is red on the map, named there and counted in the list.
        until(
            browser,
            lambda b: (
                set(b.find_element(By.ID, "wall-map").get_attribute("data-red").split())
                == set(red_towns)
            ),
        )
        labels = {
            e.get_attribute("textContent")
            for e in browser.find_elements(By.CSS_SELECTOR, ".village-label.red")
        }
        assert set(red_towns.values()) <= labels
        red_list = browser.find_element(By.ID, "wall-red-list")
        assert red_list.get_attribute("data-count") == str(len(red_towns))
        assert "另有" not in red_list.text
        _shot(browser, tmp_path, "wall-county.png")

        # A click on the town: its villages, its own figures; then back.
        x, y = browser.execute_script(TOWN_POINT, target["town"])
        ActionChains(browser).move_to_element_with_offset(
            browser.find_element(By.ID, "wall-map"), int(x), int(y)
        ).click().perform()
        until(browser, lambda b: b.execute_script(MAP) == ["villages", target["town"]])
        until(
            browser,
            lambda b: (
                target["code"]
                in (b.find_element(By.ID, "wall-map").get_attribute("data-red") or "").split()
            ),
        )
        in_town = [v for v in villages if v["town"] == target["town"]]
        until(
            browser,
            lambda b: (
                {
                    e.get_attribute("textContent")
                    for e in b.find_elements(By.CSS_SELECTOR, ".village-label")
                }
                >= {v["name"] for v in in_town}
            ),
        )
        red_here = sum(1 for v in in_town if v["status"] == "red")
        until(
            browser,
            lambda b: (
                b.find_element(By.CSS_SELECTOR, "[data-kpi=red_villages] .kpi-value").text
                == str(red_here)
            ),
        )
        assert red_towns[target["town"]] in browser.find_element(By.ID, "wall-map-title").text
        assert target["name"] in browser.find_element(By.ID, "wall-red-list").text
        _shot(browser, tmp_path, "wall-county-town.png")
        browser.find_element(By.ID, "wall-back").click()
        until(browser, lambda b: b.execute_script(MAP) == ["towns", ""])
        assert not browser.find_element(By.ID, "wall-back").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
