"""The wall (/wall) in headless Chromium against ``python run.py``: live feed, a village turning
red, the emergency alarm, recovery after a server restart, and the 1920×1080 layout.

Set ``GCC_WALL_SCREENSHOTS=<dir>`` to keep the 1920×1080 screenshots (wall-zh.png, wall-en.png,
wall-geofence.png) of this run; the ones in docs/ show the default 30-day demo (``python run.py``).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from shapely.geometry import shape

from tests.e2e.conftest import ROOT, RunningApp, app_now, start_app

pytestmark = pytest.mark.e2e

RUN = (sys.executable, "run.py")
LIVE = "var e = document.querySelector('.wall-live'); return !!e && e.classList.contains('live');"
FIRST_FEED_ID = "var e = document.querySelector('#wall-feed .feed-item'); return e && e.dataset.id;"
ALARM_CASE = (
    "var b = document.getElementById('wall-alarm');"
    "return b && !b.classList.contains('hidden') ? b.dataset.case : null;"
)


@dataclass
class Wall:
    app: RunningApp
    token: str
    tmp: Path

    def api(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.app.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def report(self, lon: float, lat: float, **fields: Any) -> int:
        body = {"category": "05001", "description": "路边垃圾堆积", "source": "grid_worker"}
        body |= {"lon": lon, "lat": lat, **fields}
        return int(self.api("POST", "/api/v1/cases", body)["id"])

    def restart(self) -> None:
        """Stop the server and start it again on the same port, as an operator would."""
        self.app.stop()
        log_file = self.app.log.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
        process = subprocess.Popen(
            [*RUN, "--config", str(self.app.config), "--no-simulator"],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.app = RunningApp(self.app.url, process, self.app.log, self.app.config, log_file)
        self.app.wait_healthy()


@pytest.fixture(scope="module")
def wall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wall]:
    tmp = tmp_path_factory.mktemp("wall")
    # Without the simulator, so the cases on screen are this test's (and the seeded history).
    app = start_app(tmp, "--no-simulator")
    created = subprocess.run(
        [
            *RUN,
            "--config",
            str(app.config),
            "token",
            "create",
            "e2e-wall",
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


@pytest.fixture
def screen(browser, wall: Wall) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The shared browser as a 1920×1080 wall, on /wall and live."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
    )
    browser.get(wall.app.url + "/wall")
    until(browser, lambda b: b.execute_script(LIVE), 30)
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def until(browser: Any, condition: Callable[[Any], Any], timeout: float = 15) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


def inside(wall: Wall, village: str) -> tuple[float, float]:
    """A point inside the village (from the same GeoJSON the map draws)."""
    request = urllib.request.Request(
        wall.app.url + "/api/v1/villages.geojson", headers={"Authorization": f"Bearer {wall.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        features = json.load(response)["features"]
    feature = next(f for f in features if f["properties"]["code"] == village)
    point = shape(feature["geometry"]).representative_point()
    return point.x, point.y


def test_a_posted_case_appears_at_the_top_of_the_feed(wall: Wall, screen: Any) -> None:
    village = wall.api("GET", "/api/v1/villages")[0]
    case_id = wall.report(*inside(wall, village["code"]), category="01001")
    until(screen, lambda b: b.execute_script(FIRST_FEED_ID) == str(case_id))
    item = screen.find_element(By.CSS_SELECTOR, "#wall-feed .feed-item")
    assert "邻里纠纷" in item.text and village["name"] in item.text
    assert "feed-item" in item.get_attribute("class")


def test_a_refresh_merges_into_the_wall_and_keeps_its_positions(wall: Wall, screen: Any) -> None:
    """The wall's refresh (no positions, only changed villages) leaves the dots it streams."""
    db = wall.tmp / "var" / "demo.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        staff = conn.execute("SELECT id, home_lon, home_lat FROM grid_workers LIMIT 40").fetchall()
    at = app_now(wall.app).isoformat()
    fixes = [{"worker": w, "lon": lon, "lat": lat, "time": at} for w, lon, lat in staff]
    wall.api("POST", "/api/v1/positions", {"fixes": fixes})
    shown = "return [...GccWall.current.positions.keys()].filter(k => k in arguments[0]).length"
    wanted = {w: True for w, _, _ in staff}
    until(screen, lambda b: b.execute_script(shown, wanted) == len(staff))
    village = wall.api("GET", "/api/v1/villages")[1]
    case_id = wall.report(*inside(wall, village["code"]))
    until(screen, lambda b: b.execute_script(FIRST_FEED_ID) == str(case_id))

    screen.execute_script(
        "window.__seen = [];"
        "GccWall.current.live.socket.on('snapshot', (m) => window.__seen.push(m));"
        "GccWall.current.live.resync(true, true);"
    )
    until(screen, lambda b: b.execute_script("return window.__seen.length") == 1)
    got = screen.execute_script(
        "var m = window.__seen[0]; return [m.refresh, 'positions' in m.data]"
    )
    assert got == [True, False]  # a refresh, without positions
    assert screen.execute_script(shown, wanted) == len(staff)  # and the dots stayed
    count = "return GccWall.current.full.villages.length"
    assert screen.execute_script(count) == len(wall.api("GET", "/api/v1/villages"))
    assert screen.execute_script(FIRST_FEED_ID) == str(case_id)


def test_a_village_with_mostly_open_cases_turns_red_on_the_map(wall: Wall, screen: Any) -> None:
    rule_min, enter = 5, 0.8  # config.toml [rules.village] defaults
    villages = [v for v in wall.api("GET", "/api/v1/villages") if v["status"] != "red"]

    def needed(v: dict[str, Any]) -> int:
        by_ratio = math.ceil((enter * v["total"] - v["open"]) / (1 - enter))
        return max(rule_min - v["total"], by_ratio, 1)

    target = min(villages, key=needed)
    red_before = int(
        screen.find_element(By.CSS_SELECTOR, "[data-kpi=red_villages] .kpi-value").text
    )
    lon, lat = inside(wall, target["code"])
    for _ in range(needed(target)):
        wall.report(lon, lat, source="hotline", description="积压未办")
    until(
        screen,
        lambda b: (
            target["code"]
            in (b.find_element(By.ID, "wall-map").get_attribute("data-red") or "").split()
        ),
    )
    labels = [
        e.get_attribute("textContent")
        for e in screen.find_elements(By.CSS_SELECTOR, ".village-label.red")
    ]
    assert target["name"] in labels
    kpi = screen.find_element(By.CSS_SELECTOR, "[data-kpi=red_villages]")
    assert int(kpi.find_element(By.CSS_SELECTOR, ".kpi-value").text) == red_before + 1
    assert "alarm" in kpi.get_attribute("class").split()


def test_an_emergency_raises_the_alarm_until_acknowledged(wall: Wall, screen: Any) -> None:
    village = wall.api("GET", "/api/v1/villages")[-1]
    text = '<b>厂房起火</b>，浓烟很大 <img src=x onerror="window.hacked=1">'
    case_id = wall.report(
        *inside(wall, village["code"]), category="03001", source="emergency", description=text
    )
    # The banner shows the oldest unacknowledged alarm: acknowledge older ones (seeded history)
    # until this one is up, then this one.
    for _ in range(20):
        shown = until(screen, lambda b: b.execute_script(ALARM_CASE))
        banner = screen.find_element(By.ID, "wall-alarm")
        if shown == str(case_id):
            detail = until(
                screen, lambda b: b.find_element(By.CSS_SELECTOR, ".alarm-detail").text or None
            )
            assert detail == text  # as text: no markup ran or rendered
            assert banner.find_elements(By.CSS_SELECTOR, ".alarm-detail b, .alarm-detail img") == []
            assert screen.execute_script("return window.hacked") is None
            assert village["name"] in banner.text and "紧急事件警报" in banner.text
            sound = screen.execute_script(
                "return [!document.getElementById('wall-audio').paused,"
                " !document.getElementById('wall-sound-hint').classList.contains('hidden')]"
            )
            assert any(sound)  # playing, or asking for the click browsers need first
            _assert_alarm_hides_nothing_vital(screen)
        name = screen.find_element(By.ID, "wall-alarm-name")
        name.send_keys(Keys.CONTROL, "a", Keys.DELETE)  # the name stays for the next alarm
        button = screen.find_element(By.ID, "wall-alarm-ack")
        button.click()  # without a name: refused on the page
        assert screen.find_element(By.ID, "wall-alarm-msg").text == "请填写值班员姓名后确认"
        name.send_keys("值班员张三")
        button.click()
        until(screen, lambda b, before=shown: b.execute_script(ALARM_CASE) != before)
        if shown == str(case_id):
            break
    else:
        pytest.fail("the emergency never reached the banner")
    until(screen, lambda b: b.execute_script("return document.getElementById('wall-audio').paused"))


# What an alarm must leave in sight: the clock, the live/stale state, every KPI tile, and the
# flashing marker's map (its upper part at least: the banner is a strip below it).
VITAL = (".wall-clock", ".wall-live", ".wall-header h1", ".kpi")
RECTS = """
const r = (e) => {
  const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
return {banner: r(document.getElementById('wall-alarm')),
  vital: arguments[0].flatMap((s) => [...document.querySelectorAll(s)].map((e) => [s, r(e)])),
  map: r(document.getElementById('wall-map'))};
"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _assert_alarm_hides_nothing_vital(screen: Any) -> None:
    rects = screen.execute_script(RECTS, list(VITAL))
    banner = rects["banner"]
    assert banner[2] - banner[0] > 600 and banner[3] - banner[1] > 150  # still loud
    assert len(rects["vital"]) >= 8 + 3  # eight KPI tiles, the clock, the state, the title
    hidden = [name for name, rect in rects["vital"] if _overlap(rect, banner)]
    assert hidden == [], f"the alarm covers {hidden}"
    assert banner[1] >= rects["map"][1] + 400  # the map's upper part stays in sight


def test_the_page_recovers_by_itself_after_a_server_restart(wall: Wall, screen: Any) -> None:
    screen.execute_script("window.sameWall = true")
    wall.app.stop()
    until(
        screen,
        lambda b: "down" in b.find_element(By.CSS_SELECTOR, ".wall-live").get_attribute("class"),
    )
    assert screen.find_element(By.ID, "wall-conn").text == "连接中断，正在重连…"
    wall.restart()
    until(screen, lambda b: b.execute_script(LIVE), 30)
    assert screen.execute_script("return window.sameWall") is True  # no reload happened
    village = wall.api("GET", "/api/v1/villages")[1]
    case_id = wall.report(*inside(wall, village["code"]))
    until(screen, lambda b: b.execute_script(FIRST_FEED_ID) == str(case_id))


def _patrol(wall: Wall, count: int = 300) -> None:
    """Position fixes for some workers (their ids and homes read from the demo database)."""
    db = wall.tmp / "var" / "demo.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT id, home_lon, home_lat FROM grid_workers ORDER BY id LIMIT ?", (count,)
        ).fetchall()
    now = app_now(wall.app).isoformat()
    fixes = [
        {"worker": w, "lon": lon + (i % 7 - 3) * 4e-4, "lat": lat + (i % 5 - 2) * 4e-4, "time": now}
        for i, (w, lon, lat) in enumerate(rows)
    ]
    wall.api("POST", "/api/v1/positions", {"fixes": fixes})


LAYOUT = """
const box = (s) => { const r = document.querySelector(s).getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom]; };
const clipped = Array.from(document.querySelectorAll(
  '.kpi-value, .kpi-name, .panel h2, .wall-header h1, .wall-clock, .bar-value, td.num'))
  .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent);
return {page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
  left: box('.wall-left'), centre: box('.wall-centre'), right: box('.wall-right'),
  panels: Array.from(document.querySelectorAll('.wall .panel, .wall .kpi')).map((e) => {
    const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }),
  clipped: clipped};
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_wall_fills_1920x1080_without_overflow(
    wall: Wall, screen: Any, tmp_path: Path, lang: str
) -> None:
    _patrol(wall)
    screen.get(f"{wall.app.url}/wall?lang={lang}")
    until(screen, lambda b: b.execute_script(LIVE), 30)
    until(screen, lambda b: b.find_element(By.ID, "wall-map").get_attribute("data-red") is not None)
    until(
        screen,
        lambda b: (
            int(b.find_element(By.CSS_SELECTOR, "[data-kpi=on_patrol] .kpi-value").text) >= 300
        ),
    )
    layout = screen.execute_script(LAYOUT)
    assert layout["page"] == [1920, 1080]  # nothing spills: no scrolling on a wall
    assert layout["left"][2] < layout["centre"][0] and layout["centre"][2] < layout["right"][0]
    for left, top, right, bottom in layout["panels"]:
        assert left >= 0 and top >= 0 and right <= 1920 and bottom <= 1080
    assert layout["clipped"] == []
    _keep_screenshot(screen, tmp_path / f"wall-{lang}.png")


def _keep_screenshot(screen: Any, path: Path) -> None:
    """The screen as ``path``; also into ``GCC_WALL_SCREENSHOTS`` when set."""
    screen.save_screenshot(str(path))
    target = os.environ.get("GCC_WALL_SCREENSHOTS")
    if target:
        (ROOT / target).mkdir(parents=True, exist_ok=True)
        (ROOT / target / path.name).write_bytes(path.read_bytes())


CLICK_POINT = """
const w = window.GccWall.current; const m = w.map.map;
const c = m.latLngToContainerPoint(L.latLng(arguments[1], arguments[0]));
const r = document.querySelector('#wall-map').getBoundingClientRect();
return [c.x - r.width / 2, c.y - r.height / 2];
"""


def test_a_click_on_a_village_shows_who_is_inside_and_their_dwell(
    wall: Wall, screen: Any, tmp_path: Path
) -> None:
    """The geofence on the wall (issue 16): a worker who has walked inside one grid for the last
    twenty minutes is listed in the popup of a click there, with the time they came in."""
    from datetime import timedelta

    from selenium.webdriver.common.action_chains import ActionChains

    db = wall.tmp / "var" / "demo.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        worker, name, grid = conn.execute(
            "SELECT id, name, grid_code FROM grid_workers ORDER BY id DESC LIMIT 1"
        ).fetchone()
        geometry, village_code, village = conn.execute(
            "SELECT g.geometry, v.code, v.name FROM grids g JOIN villages v "
            "ON v.code = g.village_code WHERE g.code = ?",
            (grid,),
        ).fetchone()
    spot = shape(json.loads(geometry)).representative_point()
    now = app_now(wall.app)
    fixes = [
        {
            "worker": worker,
            "lon": spot.x + k * 1e-5,
            "lat": spot.y,
            "time": (now - timedelta(minutes=20 - k)).isoformat(),
            "accuracy": 5,
        }
        for k in range(0, 20, 2)
    ]
    wall.api("POST", "/api/v1/positions", {"fixes": fixes})
    until(screen, lambda b: b.execute_script("return !!window.GccWall.current.layerShown"), 30)
    # The map settled (a fit or zoom still animating would move the point under the click).
    seen: list[Any] = [None]

    def settled(b: Any) -> Any:
        point = b.execute_script(CLICK_POINT, spot.x, spot.y)
        steady = (
            seen[0] is not None
            and max(abs(p - q) for p, q in zip(point, seen[0], strict=True)) < 0.5
        )
        seen[0] = point
        return steady and point

    x, y = until(screen, settled)
    area = screen.find_element(By.CSS_SELECTOR, "#wall-map")
    ActionChains(screen).move_to_element_with_offset(area, int(x), int(y)).click().perform()
    rows = until(
        screen,
        lambda b: b.execute_script(
            "const b = document.querySelector('.geofence');"
            "return b && b.dataset.loaded && Array.from(b.querySelectorAll('tr[data-worker]'))"
            ".map((r) => [r.dataset.worker, r.cells[0].textContent, r.cells[2].textContent]);"
        ),
    )
    mine = [r for r in rows if r[0] == worker]
    heads = screen.execute_script(
        "return Array.from(document.querySelectorAll('.geofence-head')).map((e) => e.textContent)"
    )
    assert len(mine) == 2, (worker, grid, heads, rows)  # in the grid's list and the village's
    assert mine[0][1] == name and mine[0][2] in {"停留 20 分钟", "停留 21 分钟"}
    # The grid by its village and number, as everywhere in the product (never its raw code).
    assert heads[0].startswith(f"{village}第{int(grid[len(village_code) :])}网格"), heads
    _keep_screenshot(screen, tmp_path / "wall-geofence.png")
