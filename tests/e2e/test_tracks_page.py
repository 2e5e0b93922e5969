"""The replay page in a browser (issue 16): a worker's recorded day replayed on /tracks (play,
speed, the slider, follow, the stops listed, the summary against the stored fixes) and the
town at one moment ("who was where at 14:05"), in the demo as a user starts it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from dashboard.domain.geo import haversine_m
from tests.e2e.conftest import ROOT, RunningApp, free_port, run_cli, start_app

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningApp, date, Path]]:
    tmp = tmp_path_factory.mktemp("tracks")
    capture = f"[video]\ncapture_port = {free_port()}\n"
    app = start_app(tmp, "--no-simulator", extra_config=capture)
    day = datetime.now(SHANGHAI).date() - timedelta(days=1)  # the app's calendar (on-date.sh too)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.simulator.patrol_day",
            "--config",
            str(app.config),
            "--day",
            day.isoformat(),
            "--workers",
            "12",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    yield app, day, tmp / "var" / "demo.db"
    app.stop()


@pytest.fixture
def screen(browser: Any) -> Iterator[Any]:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
    )
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def until(browser: Any, condition: Callable[[Any], Any], timeout: float = 30) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


def _utc(local: datetime) -> str:
    return local.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _stored(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _t(screen: Any) -> float:
    return float(
        screen.execute_script("return Number(document.getElementById('tracks').dataset.t)")
    )


def test_a_workers_day_replays(recorded: tuple[RunningApp, date, Path], screen: Any) -> None:
    app, day, db = recorded
    ((worker,),) = _stored(db, "SELECT worker_id FROM position_fixes ORDER BY worker_id LIMIT 1")
    screen.get(f"{app.url}/tracks?worker={worker}&date={day}&from=08:00&to=18:00")
    until(screen, lambda b: b.find_elements(By.ID, "tr-canvas") and _t(b) > 0)
    start = datetime.combine(day, time(8), SHANGHAI)
    assert _t(screen) == start.timestamp()

    stops = screen.find_elements(By.CSS_SELECTOR, ".tr-stop")
    assert stops and all("分钟" in s.text for s in stops)  # listed with their durations

    Select(screen.find_element(By.ID, "tr-speed")).select_by_value("64")
    screen.find_element(By.ID, "tr-play").click()
    until(screen, lambda b: _t(b) >= start.timestamp() + 60)  # ×64: a minute in about a second
    screen.find_element(By.ID, "tr-play").click()  # pause
    paused = _t(screen)
    assert screen.find_element(By.ID, "tr-play").get_attribute("data-playing") == "0"
    screen.execute_script(
        "const s = document.getElementById('tr-slider'); s.value = 500;"
        "s.dispatchEvent(new Event('input'));"
    )
    middle = datetime.combine(day, time(13), SHANGHAI).timestamp()
    assert abs(_t(screen) - middle) <= 40 and _t(screen) != paused
    screen.find_element(By.ID, "tr-follow").click()
    assert screen.find_element(By.ID, "tr-follow").get_attribute("data-on") == "1"

    # The summary's distance is the stored trusted fixes' length without the silent gaps.
    rows = _stored(
        db,
        "SELECT at, lon, lat FROM position_fixes WHERE worker_id = ? AND valid AND at >= ? "
        "AND at < ? ORDER BY at, id",
        worker,
        _utc(start),
        _utc(datetime.combine(day, time(18), SHANGHAI)),
    )
    fixes = [(datetime.fromisoformat(a), lon, lat) for a, lon, lat in rows]
    metres = sum(
        haversine_m(a[1], a[2], b[1], b[2])
        for a, b in pairwise(fixes)
        if b[0] - a[0] <= timedelta(minutes=30)
    )
    summary = screen.find_element(By.CSS_SELECTOR, ".tr-summary").text
    assert f"{metres / 1000:.2f} 公里" in summary

    # The printable track map of the same range, fetched with the page's session: a PDF.
    printed = screen.execute_async_script(
        "const done = arguments[0];"
        "fetch(document.querySelector('.tr-pdf').href, {credentials: 'same-origin'})"
        ".then((r) => r.arrayBuffer().then((b) => done([r.status, r.headers.get('content-type'),"
        " String.fromCharCode(...new Uint8Array(b.slice(0, 4)))])));"
    )
    assert printed == [200, "application/pdf", "%PDF"]


def test_everyone_at_1405(recorded: tuple[RunningApp, date, Path], screen: Any) -> None:
    app, day, db = recorded
    ((town,),) = _stored(db, "SELECT code FROM towns LIMIT 1")
    screen.get(f"{app.url}/tracks?area={town}&date={day}&at=14:05")
    title = until(screen, lambda b: b.find_elements(By.ID, "tr-moment-title"))[0].text
    moment = datetime.combine(day, time(14, 5), SHANGHAI)
    ((expected,),) = _stored(
        db,
        "SELECT count(DISTINCT worker_id) FROM position_fixes WHERE valid AND at > ? AND at <= ?",
        _utc(moment - timedelta(minutes=15)),
        _utc(moment),
    )
    assert expected > 0 and f"：{expected} 人" in title
    drawn = screen.execute_script("return document.getElementById('tracks').dataset.drawn")
    assert int(drawn) == expected


def test_a_tracker_bound_on_the_command_line_is_heard(
    recorded: tuple[RunningApp, date, Path],
) -> None:
    """``run.py device bind`` as an operator types it, then the OsmAnd door of the running app:
    a fix with ``alarm=sos`` is an emergency case at that worker's position."""
    app, _, db = recorded
    ((worker, lon, lat),) = _stored(
        db, "SELECT id, home_lon, home_lat FROM grid_workers ORDER BY id LIMIT 1"
    )
    url = f"{app.url}/osmand?id=e2e-phone&lat={lat}&lon={lon}&alarm=sos"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 400  # not bound yet
    refused.value.close()
    assert "e2e-phone" in run_cli(app, "device", "bind", "e2e-phone", "--worker", worker)
    assert "e2e-phone" in run_cli(app, "device", "list")
    with urllib.request.urlopen(url, timeout=10) as answer:  # the binding is new: not cached
        assert answer.status == 200
    cases = _stored(db, "SELECT source, emergency, reporter FROM cases WHERE reporter = ?", worker)
    assert ("emergency", 1, worker) in cases
