"""Fault: the capture process is killed and started again (issue 15). ``run.py capture`` serves
the seeded town's (synthetic) cameras to ``run.py serve`` (gunicorn); a viewer keeps asking for a
camera's picture. Killed (SIGKILL), the web process answers 503 for frames (never a 500, never a
hang), its readiness stays (cases still come in) and /healthz shows capture down; started again,
the pictures come back without restarting the web process.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dashboard.domain.roles import Role
from tests.integration.capture_helpers import CaptureDeployment, CaptureProcess, launch_capture
from tests.integration.fault_helpers import report, start_production
from tests.integration.live_helpers import (
    Deployment,
    Server,
    case_body,
    free_port,
    grid_points,
    make_deployment,
    wait_until,
)

CAMERA_SECRET = "fault-capture-secret-not-a-secret"


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    port = free_port()
    deployment = make_deployment(tmp_path, bus=f"[video]\ncapture_port = {port}\n")
    deployment.env["GCC_CAPTURE_SECRET"] = CAMERA_SECRET
    return deployment


def _capture(deployment: Deployment) -> CaptureProcess:
    text = deployment.config.read_text(encoding="utf-8")
    port = int(text.split("capture_port = ")[1].split()[0])
    capture = launch_capture(
        CaptureDeployment(deployment.dir, deployment.config, port, deployment.env)
    )
    capture.wait_ready()
    return capture


class Viewer:
    """Asks for one camera's picture every 100 ms and counts the answers."""

    def __init__(self, server: Server, token: str, camera: str) -> None:
        self.url = f"{server.url}/api/v1/cameras/{camera}/snapshot.jpg?quality=tile"
        self.token, self.slowest = token, 0.0
        self.answers: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Viewer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            request = urllib.request.Request(
                self.url, headers={"Authorization": f"Bearer {self.token}"}
            )
            began = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=15) as resp:
                    resp.read()
                    status = resp.status
            except urllib.error.HTTPError as err:
                err.read()
                status = err.code
            except OSError:
                status = 0
            self.slowest = max(self.slowest, time.monotonic() - began)
            self.answers.append(status)
            time.sleep(0.1)

    def since(self, n: int) -> list[int]:
        return self.answers[n:]


def test_capture_killed_and_restarted(deployment: Deployment) -> None:
    started = time.monotonic()
    capture = _capture(deployment)
    server = start_production(deployment, workers=1)
    viewer: Viewer | None = None
    try:
        server.wait_healthy()
        token = deployment.token("viewer-fault", Role.COMMANDER)
        viewer = Viewer(server, token, _first_camera(deployment)).start()
        wait_until(lambda: 200 in viewer.answers, 30, "a picture before the fault")

        capture.process.kill()
        capture.stop()
        mark = len(viewer.answers)
        wait_until(lambda: 503 in viewer.since(mark), 30, "503 while capture is down")
        wait_until(lambda: server.health()[1]["capture"]["ok"] is False, 15, "capture down")
        status, _ = server.post(
            "/api/v1/cases", case_body(grid_points(deployment.database_url)[0]), token
        )
        assert status == 201  # intake does not need the cameras

        capture = _capture(deployment)
        mark = len(viewer.answers)
        wait_until(lambda: 200 in viewer.since(mark), 30, "pictures again after the restart")
        viewer.stop()
        answers = {s: viewer.answers.count(s) for s in set(viewer.answers)}
        took = time.monotonic() - started
        report(
            f"capture killed and restarted ({took:.0f} s): {len(viewer.answers)} picture "
            f"requests, answers {dict(sorted(answers.items()))}, slowest {viewer.slowest:.1f} s"
        )
        assert set(answers) <= {200, 503}, answers
        assert viewer.slowest < 10
        assert "Traceback" not in server.log_text()
    finally:
        if viewer is not None:
            viewer.stop()
        server.stop()
        capture.stop()


def _first_camera(deployment: Deployment) -> str:
    from sqlalchemy import select

    from dashboard.storage.db import Database
    from dashboard.storage.models import Camera

    db = Database.from_url(deployment.database_url)
    try:
        with db.read() as session:
            return str(session.scalar(select(Camera.id).order_by(Camera.id).limit(1)))
    finally:
        db.dispose()
