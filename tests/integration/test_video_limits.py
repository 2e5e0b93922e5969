"""Full-size camera streams are capped per viewer and in total (issue 11: a wall kiosk token
opened 30 full-size streams and the capture service grew from 179 to 906 MiB)."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.domain.roles import Role
from streams.capture.client import CaptureClient
from tests.integration import test_security_support as support
from tests.integration.live_helpers import free_port
from tests.integration.support import SeededTown
from tests.integration.test_security_support import SecureApp
from tests.integration.test_video_api import (  # noqa: F401 - the fixtures and what they use
    Video,
    capture,
)
from tests.integration.test_video_api import lite_video as lite_video
from tests.integration.video_helpers import (
    CAPTURE_SECRET,
    SECRET_ENV,
    CaptureProcess,
    capture_config,
    capture_process,
)

_secure_apps, lite_secure = support._secure_apps, support.lite_secure


class Viewer(threading.Thread):
    """One browser holding a full-size stream open until ``leave()`` (its own thread: a Flask
    streaming response is closed in the thread that opened it)."""

    def __init__(self, video: Video, camera: str, role: Role) -> None:
        super().__init__(daemon=True)
        self.video, self.camera, self.role = video, camera, role
        self.answer: queue.Queue[tuple[int, dict[str, str], bytes]] = queue.Queue()
        self._leave = threading.Event()
        self.start()

    def run(self) -> None:
        response = self.video.get(f"/video/cameras/{self.camera}/live.mjpg", self.role)
        first = next(iter(response.response), b"") if response.status_code == 200 else b""
        self.answer.put((response.status_code, dict(response.headers), first or response.data))
        self._leave.wait(30)
        response.close()

    def status(self) -> tuple[int, dict[str, str], bytes]:
        return self.answer.get(timeout=30)

    def leave(self) -> None:
        self._leave.set()
        self.join(10)


def test_full_size_views_past_the_cap_answer_429(lite_video: Video) -> None:
    video = lite_video
    camera = video.camera_ids()[3]
    per_viewer = video.app.services.config.video.max_full_views_per_viewer
    limits = None
    viewers = [Viewer(video, camera, Role.WALL) for _ in range(per_viewer)]
    try:
        assert [v.status()[0] for v in viewers] == [200] * per_viewer
        extra = Viewer(video, camera, Role.WALL)  # the same kiosk token once more
        viewers.append(extra)
        status, headers, body = extra.status()
        assert status == 429 and int(headers["Retry-After"]) >= 1
        assert b"too_many_streams" in body
        other = Viewer(video, camera, Role.ADMIN)  # another viewer still gets a stream
        viewers.append(other)
        assert other.status()[0] == 200
        viewers[0].leave()  # one screen closed its view: a slot is free again
        again = Viewer(video, camera, Role.WALL)
        viewers.append(again)
        assert again.status()[0] == 200
        limits = video.app.services.full_views
    finally:
        for viewer in viewers:
            viewer.leave()
    assert limits is not None and limits.open_views() == 0


@pytest.fixture
def tight_capture(_town_sqlite: SeededTown, tmp_path: Path) -> Iterator[CaptureProcess]:
    """A capture service of its own that serves one full-size stream at a time."""
    url = _town_sqlite.db.engine.url.render_as_string(hide_password=False)
    port = free_port()
    config = capture_config(tmp_path, url, port, "capture_max_full_streams = 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env[SECRET_ENV] = CAPTURE_SECRET
    with capture_process(config, port, env, tmp_path / "capture.log") as process:
        yield process


def test_the_capture_service_caps_full_size_streams_of_all_web_processes(
    lite_secure: SecureApp, tight_capture: CaptureProcess
) -> None:
    services = lite_secure.services
    before = services.capture
    client = CaptureClient([tight_capture.url], CAPTURE_SECRET)
    services.capture = client
    video = Video(lite_secure, tight_capture)
    viewers: list[Viewer] = []
    try:
        camera = video.camera_ids()[5]
        first = Viewer(video, camera, Role.ADMIN)
        viewers.append(first)
        assert first.status()[0] == 200
        second = Viewer(video, camera, Role.WALL)  # another viewer, under its own cap ...
        viewers.append(second)
        status, headers, body = second.status()
        assert status == 429 and headers["Retry-After"]  # ... but over the shard's
        assert b"too_many_streams" in body
    finally:
        for viewer in viewers:
            viewer.leave()
        services.capture = before
        client.close()
