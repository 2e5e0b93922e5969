"""The video wall (/video) in headless Chromium against ``python run.py`` (the demo starts its
capture service as a child, with synthetic cameras): a 4×4 wall where every tile keeps getting
new frames over the /video socket, the full-size MJPEG view, pausing while hidden, saved
layouts, and the video check of a case (nearest cameras first, a snapshot saved as evidence).

Set ``GCC_VIDEO_SCREENSHOTS=<dir>`` to keep the 1920×1080 screenshots of this run (zh and en,
4×4 and 8×8); docs/video-wall.png is the zh 4×4 one.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.domain.geo import haversine_m
from dashboard.domain.status import OPEN_STATUSES
from tests.e2e.conftest import ROOT, RunningApp, free_port, start_app

pytestmark = pytest.mark.e2e

RADIUS_M = 800  # config.toml [video] check_radius_m (the default)
TILES = "return Array.from(document.querySelectorAll('#video-grid .tile[data-camera]'))"
SEQS = TILES + ".map((t) => [t.dataset.camera, Number(t.dataset.seq)]);"
WALL_LIVE = (
    "var e = document.querySelector('.wall-live'); return !!e && e.classList.contains('live');"
)
LIVE = "var e = document.querySelector('.video-live'); return !!e && e.classList.contains('live');"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    # The demo as a user starts it (seeding, the capture child), without the simulator's load.
    capture = f"[video]\ncapture_port = {free_port()}\n"  # the capture child's, free too
    app = start_app(tmp_path_factory.mktemp("video"), "--no-simulator", extra_config=capture)
    yield app
    app.stop()


@pytest.fixture
def screen(browser: Any) -> Iterator[Any]:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
    )
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def until(browser: Any, condition: Callable[[Any], Any], timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


def open_wall(screen: Any, app: RunningApp, query: str, tiles: int) -> list[str]:
    screen.get(f"{app.url}/video?{query}")
    until(screen, lambda b: b.execute_script(LIVE), 30)
    ids: list[str] = until(
        screen,
        lambda b: (
            (found := [c for c, _ in b.execute_script(SEQS)]) and len(found) == tiles and found
        ),
        30,
    )
    return ids


def every_tile_moves(screen: Any, timeout: float = 60) -> dict[str, set[int]]:
    """Wait until every tile on the page has drawn at least two different frames."""
    seen: dict[str, set[int]] = {}

    def moved(b: Any) -> bool:
        for camera, seq in b.execute_script(SEQS):
            if seq > 0:
                seen.setdefault(camera, set()).add(seq)
        tiles = b.execute_script(TILES + ".length")
        return len(seen) >= tiles and all(len(s) >= 2 for s in seen.values())

    until(screen, moved, timeout)
    return seen


def test_every_tile_of_a_4x4_wall_gets_new_frames(video: RunningApp, screen: Any) -> None:
    ids = open_wall(screen, video, "grid=4", 16)
    assert len(set(ids)) == 16
    seen = every_tile_moves(screen)
    assert set(seen) == set(ids)
    # Only the visible tiles are asked for, and the frames are really pictures.
    assert sorted(
        screen.execute_script("return document.getElementById('video').dataset.watching").split()
    ) == sorted(ids)
    drawn = screen.execute_script(
        "const c = document.querySelector('#video-grid .tile[data-camera] canvas');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "const s = new Set(); for (let i = 0; i < d.length; i += 397) s.add(d[i]);"
        "return [c.width, c.height, s.size];"
    )
    assert drawn[0] >= 160 and drawn[1] >= 90 and drawn[2] > 8
    # The next page: other cameras, asked for instead of the first page's.
    screen.find_element(By.ID, "video-next").click()
    until(screen, lambda b: not set(c for c, _ in b.execute_script(SEQS)) & set(ids))
    following = [c for c, _ in screen.execute_script(SEQS)]
    until(
        screen,
        lambda b: (
            sorted(
                b.execute_script("return document.getElementById('video').dataset.watching").split()
            )
            == sorted(following)
        ),
    )
    assert screen.find_element(By.ID, "video-page").text.startswith("第 2 /")


def test_a_tile_opens_the_full_size_mjpeg_view(video: RunningApp, screen: Any) -> None:
    ids = open_wall(screen, video, "grid=3", 9)
    screen.find_elements(By.CSS_SELECTOR, "#video-grid .tile[data-camera]")[2].click()
    full = screen.find_element(By.ID, "video-full")
    until(screen, lambda b: "hidden" not in full.get_attribute("class").split())
    assert full.get_attribute("data-camera") == ids[2]
    img = screen.find_element(By.CSS_SELECTOR, "#video-full-box img")
    assert img.get_attribute("src").endswith(f"/video/cameras/{ids[2]}/live.mjpg")
    # The MJPEG loads, at full size (bigger than a 320×180 tile).
    width = until(screen, lambda b: b.execute_script("return arguments[0].naturalWidth", img), 30)
    assert width > 320
    # The tiles underneath are covered: nothing is asked for meanwhile.
    assert screen.execute_script("return document.getElementById('video').dataset.watching") == ""
    screen.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    until(screen, lambda b: "hidden" in full.get_attribute("class").split())
    assert screen.find_elements(By.CSS_SELECTOR, "#video-full-box img") == []
    # Closing ended the MJPEG request: the capture service stops decoding the main stream
    # (video.idle_stop_seconds later), as the camera's status on the socket shows.
    decoding = "const s = GccVideo.current.status.get(arguments[0]); return s && s.decoding;"
    until(screen, lambda b: b.execute_script(decoding, ids[2]) not in (None, "full"), 30)
    until(
        screen,
        lambda b: (
            len(
                b.execute_script("return document.getElementById('video').dataset.watching").split()
            )
            == 9
        ),
    )


def test_a_hidden_page_pauses_and_resumes(video: RunningApp, screen: Any) -> None:
    open_wall(screen, video, "grid=2", 4)
    every_tile_moves(screen)
    hide = (
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => %s});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    screen.execute_script(hide % "true")
    until(
        screen,
        lambda b: (
            b.execute_script("return document.getElementById('video').dataset.watching") == ""
        ),
    )
    assert screen.find_element(By.ID, "video-conn").text == "页面不可见，视频已暂停"
    screen.execute_script(hide % "false")
    every_tile_moves(screen)


def _capture_pid(app: RunningApp) -> int:
    """The demo's capture child (it prints its pid when it starts)."""
    found = re.search(r"capture service on http://\S+ \(pid (\d+)\)", app.log.read_text())
    assert found, "the demo did not start its capture service"
    return int(found.group(1))


def test_offline_tiles_are_shown_and_recover_by_themselves(video: RunningApp, screen: Any) -> None:
    open_wall(screen, video, "grid=3", 9)
    every_tile_moves(screen)
    offline = TILES + ".filter((t) => t.classList.contains('offline')).length"
    badges = TILES + ".map((t) => t.querySelector('.tile-badge').textContent)"
    screen.execute_script("window.samePage = true")
    pid = _capture_pid(video)
    os.kill(pid, signal.SIGSTOP)  # the capture service hangs: no frames, no status
    try:
        until(screen, lambda b: b.execute_script(offline) == 9, 40)
        assert set(screen.execute_script(badges)) == {"离线 / 重连中"}
    finally:
        os.kill(pid, signal.SIGCONT)
    until(screen, lambda b: b.execute_script(offline) == 0, 40)
    every_tile_moves(screen)
    assert screen.execute_script("return window.samePage") is True  # no reload happened


def test_a_layout_is_saved_recalled_and_deleted(video: RunningApp, screen: Any) -> None:
    ids = open_wall(screen, video, "grid=2", 4)
    screen.find_element(By.CSS_SELECTOR, "#video-cycle [data-s='30']").click()
    screen.find_element(By.ID, "video-layout-toggle").click()
    screen.find_element(By.ID, "video-layout-name").send_keys("一号屏")
    screen.find_element(By.ID, "video-layout-shared").click()
    screen.find_element(By.ID, "video-layout-save").click()
    chips = "#video-layout-select [data-layout]"
    chip = until(screen, lambda b: b.find_elements(By.CSS_SELECTOR, chips))[0]
    assert chip.text == "一号屏" and "active" in chip.get_attribute("class").split()
    assert screen.find_element(By.CSS_SELECTOR, "#video-layout-select .chip-tag").text == "共享"
    assert "一号屏" in screen.find_element(By.ID, "video-layout-msg").text
    # Elsewhere: a 3×3 grid on its second page, no cycling; the layout brings its view back.
    screen.find_element(By.CSS_SELECTOR, "#video-grid-chooser [data-n='3']").click()
    screen.find_element(By.CSS_SELECTOR, "#video-cycle [data-s='30']").click()
    screen.find_element(By.ID, "video-next").click()
    until(
        screen,
        lambda b: len(b.execute_script(SEQS)) == 9 and ids[0] not in dict(b.execute_script(SEQS)),
    )
    screen.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)  # closes the panel
    screen.find_element(By.ID, "video-layout-toggle").click()
    screen.find_element(By.CSS_SELECTOR, chips).click()
    until(screen, lambda b: [c for c, _ in b.execute_script(SEQS)] == ids[:4])
    assert screen.find_element(By.ID, "video-layout-toggle").text == "一号屏 ▾"
    cycle = screen.find_element(By.ID, "video-cycle")
    assert cycle.get_attribute("data-on") == "1"
    screen.find_element(By.ID, "video-layout-toggle").click()
    screen.find_element(By.CSS_SELECTOR, "#video-layout-select [data-delete]").click()
    until(
        screen, lambda b: not b.find_elements(By.CSS_SELECTOR, "#video-layout-select [data-layout]")
    )
    screen.find_element(By.CSS_SELECTOR, "#video-cycle [data-s='30']").click()  # cycling off


def _case_with_cameras(app: RunningApp) -> tuple[int, int]:
    """An open case with the most cameras within the radius (read from the demo database)."""
    db = Path(app.config).parent / "var" / "demo.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        cameras = conn.execute("SELECT lon, lat FROM cameras").fetchall()
        cases = conn.execute("SELECT id, status, lon, lat FROM cases").fetchall()

    def near(lon: float, lat: float) -> int:
        return sum(1 for c in cameras if haversine_m(lon, lat, c[0], c[1]) <= RADIUS_M)

    open_cases = [
        (near(lon, lat), cid) for cid, status, lon, lat in cases if status in OPEN_STATUSES
    ]
    count, case_id = max(open_cases)
    return case_id, count


def _attachments(app: RunningApp, case_id: int) -> int:
    db = Path(app.config).parent / "var" / "demo.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM attachments WHERE case_id = ?", (case_id,)
            ).fetchone()[0]
        )


FOCUS_ITEMS = (
    "return Array.from(document.querySelectorAll('#video-focus-list .focus-item'))"
    ".map((e) => [e.dataset.camera, e.dataset.distance]);"
)


def _focus_items(screen: Any) -> list[list[str]]:
    """The focus list as [camera, distance] pairs, read in one script: the page may re-render
    the list while it boots, and elements found a moment earlier would then be stale."""
    return screen.execute_script(FOCUS_ITEMS)


def test_a_case_check_shows_the_nearest_cameras_and_saves_evidence(
    video: RunningApp, screen: Any
) -> None:
    case_id, count = _case_with_cameras(video)
    assert count >= 2
    screen.get(f"{video.url}/video?case={case_id}")
    items = until(screen, _focus_items, 30)
    distances = [float(d) for _, d in items]
    assert distances == sorted(distances) and distances[-1] <= RADIUS_M
    assert len(items) == min(count, 12)
    # The tiles show the same cameras, nearest first, each with its distance.
    listed = [c for c, _ in items]
    until(screen, lambda b: [c for c, _ in b.execute_script(SEQS)] == listed)
    assert f"事件 #{case_id} 周边视频" in screen.find_element(By.ID, "video-focus").text
    before = _attachments(video, case_id)
    nearest = f'#video-focus-list .focus-item[data-camera="{listed[0]}"]'
    screen.find_element(By.CSS_SELECTOR, f"{nearest} .evidence-btn").click()
    saved = until(
        screen,
        lambda b: [
            m
            for m in b.find_elements(By.CSS_SELECTOR, f"{nearest} .evidence-msg")
            if "ok" in (m.get_attribute("class") or "").split()
        ],
        30,
    )
    msg = saved[0]
    assert msg.text.startswith("已存为证据")
    assert _attachments(video, case_id) == before + 1


LAYOUT = """
const clipped = Array.from(document.querySelectorAll('.video-toolbar .vbtn, .video h1'))
  .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent);
const tiles = Array.from(document.querySelectorAll('#video-grid .tile')).map((e) => {
  const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; });
return {page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
  tiles: tiles, clipped: clipped};
"""


@pytest.mark.parametrize(("lang", "grid"), [("zh", 4), ("en", 4), ("zh", 8), ("en", 8)])
def test_the_wall_fills_1920x1080(
    video: RunningApp, screen: Any, tmp_path: Path, lang: str, grid: int
) -> None:
    open_wall(screen, video, f"grid={grid}&lang={lang}", grid * grid)
    every_tile_moves(screen, 90)
    layout = screen.execute_script(LAYOUT)
    assert layout["page"] == [1920, 1080]
    assert len(layout["tiles"]) == grid * grid
    for left, top, right, bottom in layout["tiles"]:
        assert left >= 0 and top >= 0 and right <= 1920 and bottom <= 1080
        assert right - left > 200 and bottom - top > 100
    assert layout["clipped"] == []
    path = tmp_path / f"video-{lang}-{grid}x{grid}.png"
    screen.save_screenshot(str(path))
    target = os.environ.get("GCC_VIDEO_SCREENSHOTS")
    if target:
        (ROOT / target).mkdir(parents=True, exist_ok=True)
        (ROOT / target / path.name).write_bytes(path.read_bytes())


def _click_first(screen: Any, selector: str) -> bool:
    """Click the first match; the wall redraws its panels, so a stale element is tried again."""
    try:
        screen.find_element(By.CSS_SELECTOR, selector).click()
    except (NoSuchElementException, StaleElementReferenceException):
        return False
    return True


ALARM_CASE = (
    "var b = document.getElementById('wall-alarm');"
    "return b && !b.classList.contains('hidden') ? b.dataset.case : null;"
)


def _acknowledge_alarms(screen: Any) -> None:
    """An open emergency of the seeded history covers the wall until someone acknowledges it by
    name, as the duty officer would."""
    for _ in range(20):
        shown = screen.execute_script(ALARM_CASE)
        if shown is None:
            return
        field = screen.find_element(By.ID, "wall-alarm-name")
        field.send_keys(Keys.CONTROL, "a", Keys.DELETE)
        field.send_keys("值班员王五")
        screen.find_element(By.ID, "wall-alarm-ack").click()
        until(screen, lambda b, before=shown: b.execute_script(ALARM_CASE) != before)
    pytest.fail("alarms kept coming")


def test_the_live_wall_offers_video_checks(video: RunningApp, screen: Any) -> None:
    screen.get(f"{video.url}/wall")
    until(screen, lambda b: b.execute_script(WALL_LIVE), 30)
    _acknowledge_alarms(screen)
    link = "#wall .video-check-menu:not(.hidden) .vc-link"
    until(screen, lambda b: _click_first(b, "#wall-feed .feed-item"))
    case_link = until(screen, lambda b: b.find_element(By.CSS_SELECTOR, link))
    assert re.fullmatch(r".*/video\?case=\d+&lang=zh", case_link.get_attribute("href"))
    assert case_link.text == "▶ 视频核查" and case_link.get_attribute("target") == "_blank"
    # A point on the map: the cameras nearest to it, each with its distance, nearest first.
    ActionChains(screen).move_to_element(screen.find_element(By.ID, "wall-map")).click().perform()
    near = until(
        screen,
        lambda b: (
            (href := b.find_element(By.CSS_SELECTOR, link).get_attribute("href"))
            and "near=" in href
            and href
        ),
    )
    assert re.fullmatch(r".*/video\?near=\d+\.\d{6},\d+\.\d{6}&lang=zh", near)
    screen.get(near)
    items = until(screen, _focus_items, 30)
    title = screen.find_element(By.CSS_SELECTOR, ".focus-title").text
    assert "地图选点周边视频" in title and not re.search(r"\d+\.\d+", title)  # words, no lon/lat
    distances = [float(d) for _, d in items]
    assert distances == sorted(distances) and distances[-1] <= RADIUS_M


def test_auto_cycling_turns_the_pages(video: RunningApp, screen: Any) -> None:
    open_wall(screen, video, "grid=8&cycle=5", 64)
    first = [c for c, _ in screen.execute_script(SEQS)]
    until(screen, lambda b: b.find_element(By.ID, "video-grid").get_attribute("data-page") == "1")
    assert not set(first) & {c for c, _ in screen.execute_script(SEQS)}
    assert screen.find_element(By.ID, "video-page").text == "第 2 / 3 页"


def test_the_page_recovers_by_itself_after_a_server_restart(video: RunningApp, screen: Any) -> None:
    open_wall(screen, video, "grid=2", 4)
    every_tile_moves(screen)
    screen.execute_script("window.samePage = true")
    video.stop()
    until(
        screen,
        lambda b: "down" in b.find_element(By.CSS_SELECTOR, ".video-live").get_attribute("class"),
    )
    assert screen.find_element(By.ID, "video-conn").text == "视频连接中断，正在重连…"
    # Started again as an operator would (same config and port; the module's teardown stops it).
    video.log_file = video.log.open("ab")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    video.process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(video.config), "--no-simulator"],
        cwd=ROOT,
        stdout=video.log_file,
        stderr=subprocess.STDOUT,
        env=env,
    )
    video.wait_healthy()
    until(screen, lambda b: b.execute_script(LIVE), 30)
    every_tile_moves(screen)
    assert screen.execute_script("return window.samePage") is True  # no reload happened
