"""Browser tests: the app started as a user starts it (``python run.py``), headless Chromium.

Chromium and its driver come from Debian (``make test`` installs them); nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.processes import SeedTemplates, terminate

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    config: Path
    log_file: IO[bytes]

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the app did not become healthy:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        terminate(self.process)
        self.log_file.close()


def _config_text(data_dir: Path, port: int, history_days: int, extra_config: str) -> str:
    return (
        f'[server]\nport = {port}\ndata_dir = "{data_dir}"\n'
        f'[database]\nurl = "sqlite:///{data_dir}/demo.db"\n'
        f"[demo]\nhistory_days = {history_days}\n"
        + extra_config  # may continue the [demo] table: it comes right after it
        # Each app its own capture port, so apps of several modules never share one.
        + ("" if "[video]" in extra_config else f"\n[video]\ncapture_port = {free_port()}\n")
    )


def _app_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}


_templates: SeedTemplates | None = None


@pytest.fixture(scope="session", autouse=True)
def seed_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedTemplates]:
    global _templates
    _templates = SeedTemplates(tmp_path_factory.mktemp("seed-templates"))
    yield _templates
    _templates = None


def start_app(
    tmp: Path,
    *args: str,
    extra_config: str = "",
    history_days: int = 2,
    seeded: bool = True,
) -> RunningApp:
    """``python run.py --config <tmp>/config.toml ARGS`` on the demo database of ``tmp/var``.

    ``seeded``: the database starts as a copy of the session's template for this configuration
    (``SeedTemplates``); ``seeded=False`` leaves the data directory empty, so the app seeds
    itself at its first start as ``python run.py`` does on a new machine (the session's
    ``demo_app`` does, so that path stays tested)."""
    port = free_port()
    config = tmp / "config.toml"
    config.write_text(_config_text(tmp / "var", port, history_days, extra_config), encoding="utf-8")
    if seeded:  # the session's template for this configuration (tests/processes.py)
        assert _templates is not None, "start_app runs inside the e2e tests' session"
        _templates.copy_to(
            tmp / "var" / "demo.db",
            lambda data_dir: _config_text(data_dir, port, history_days, extra_config),
        )
    log = tmp / "app.log"
    log_file = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(config), *args],
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=_app_env(),
    )
    app = RunningApp(f"http://127.0.0.1:{port}", process, log, config, log_file)
    app.wait_healthy()
    return app


@pytest.fixture(scope="session")  # shared by the modules that only read it or add their own rows
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    # The one app of the session that seeds itself at its first start, as on a new machine.
    app = start_app(tmp_path_factory.mktemp("demo"), seeded=False)
    yield app
    app.stop()


BASE_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(size: str = "1920,1080", *flags: str, console_log: bool = False) -> webdriver.Chrome:
    """Headless Chromium from Debian at ``size`` ("W,H") with the suite's flags and ``flags``;
    ``console_log`` keeps the page's console (CSP violations, script errors) for the test."""
    browser_path = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not browser_path or not driver_path:
        pytest.fail("chromium and chromium-driver are missing; `make test` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in (*BASE_FLAGS, f"--window-size={size}", *flags):
        options.add_argument(flag)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def as_phone(driver: webdriver.Chrome, width: int = 360, height: int = 800) -> None:
    """Make ``driver`` a phone's screen (mobile metrics, touch-sized viewport)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    yield driver
    driver.quit()


def run_cli(app: RunningApp, *args: str, password: str = "") -> str:
    """``run.py --config <the app's> ARGS`` as an operator types it (``GCC_USER_PASSWORD`` =
    ``password`` for ``user create``); fails the test with the output unless it succeeds."""
    env = _app_env()
    if password:
        env["GCC_USER_PASSWORD"] = password
    done = subprocess.run(
        [sys.executable, "run.py", "--config", str(app.config), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def app_now(app: RunningApp) -> datetime:
    """The app's own "now" (UTC, whole seconds), from its HTTP ``Date`` header: the clock the app
    runs on, which is this machine's — or, under scripts/on-date.sh, the moved one — so a test
    that dates what it sends reads the clock it shares with the app, not its own."""
    with urllib.request.urlopen(app.url + "/healthz/live", timeout=10) as response:
        return parsedate_to_datetime(response.headers["Date"])


def call_api(app: RunningApp, token: str, method: str, path: str, body: Any = None) -> Any:
    """One JSON request to the app's API with ``token``; the answer's JSON."""
    request = urllib.request.Request(
        app.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def dispatched_case(
    app: RunningApp, description: str = "巡查发现路灯损坏，需维修"
) -> tuple[int, str]:
    """A new case in a department's hands, made as a desk makes one through the API (a grid
    worker's report at a grid's centre, accepted, registered, dispatched to its category's
    department): (case id, department code). Tests that need one make it, since what the seeded
    history holds at a given moment depends on the hour it was seeded."""
    token = run_cli(app, "token", "create", f"desk-{uuid.uuid4().hex[:8]}", "--role", "commander")
    token = token.strip().splitlines()[-1]
    data_dir = app.config.parent / "var"
    with sqlite3.connect(f"file:{data_dir}/demo.db?mode=ro", uri=True) as conn:
        lon, lat = conn.execute("SELECT lon, lat FROM grids ORDER BY code LIMIT 1").fetchone()
    report = {
        "category": "01002",
        "description": description,
        "lon": lon,
        "lat": lat,
        "source": "grid_worker",
    }
    case_id = int(call_api(app, token, "POST", "/api/v1/cases", report)["id"])
    for step in ("accept", "register", "dispatch"):
        call_api(app, token, "POST", f"/api/v1/cases/{case_id}/actions", {"action": step})
    with sqlite3.connect(f"file:{data_dir}/demo.db?mode=ro", uri=True) as conn:
        (department,) = conn.execute(
            "SELECT department_code FROM cases WHERE id = ?", (case_id,)
        ).fetchone()
    return case_id, str(department)
