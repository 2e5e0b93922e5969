"""The ``/video`` namespace end to end: ``run.py serve`` and ``run.py capture`` as subprocesses over
one seeded town, Socket.IO clients over websocket (streams/video_socket.py is the contract).

Synthetic tiles come about once a second per camera, so the waits below are conditions on frames
and capture states, never fixed sleeps. Each test uses cameras no other test touches, so what
the capture service reports about one test's cameras is that test's doing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import socketio
from sqlalchemy import select

from dashboard.domain.roles import Role
from dashboard.storage.db import Database
from dashboard.storage.models import Camera
from tests.integration.live_helpers import (
    Deployment,
    LiveClient,
    Server,
    free_port,
    make_deployment,
    running,
    wait_until,
)
from tests.integration.video_helpers import (
    CAPTURE_SECRET,
    LEAKY_ID,
    LEAKY_PASSWORD,
    SECRET_ENV,
    CaptureProcess,
    VideoClient,
    capture_process,
    leaky_camera,
)


@dataclass
class Stack:
    deployment: Deployment
    server: Server
    capture: CaptureProcess
    cameras: list[tuple[str, str]]  # (id, village) of every synthetic camera, by id
    clients: list[VideoClient]

    def token(self, name: str, role: Role = Role.ADMIN, area: str | None = None) -> str:
        return self.deployment.token(name, role, area)

    def screen(self, token: str, auto_ack: bool = True) -> VideoClient:
        client = VideoClient(auto_ack=auto_ack).connect(self.server.url, token)
        self.clients.append(client)
        return client

    def state(self, camera_id: str) -> str:
        status = self.capture.camera(camera_id)
        return "" if status is None else str(status["state"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("video-socket")
    port = free_port()
    video = f"[video]\ncapture_port = {port}\nidle_stop_seconds = 3\n"
    deployment = make_deployment(tmp, bus=video)
    deployment.env[SECRET_ENV] = CAPTURE_SECRET
    db = Database.from_url(deployment.database_url)
    try:
        with db.read() as session:
            rows = session.execute(select(Camera.id, Camera.village_code).order_by(Camera.id)).all()
        cameras = [(str(c), str(v)) for c, v in rows]
        with (
            leaky_camera(db, cameras[0][1]),
            capture_process(deployment.config, port, deployment.env, tmp / "capture.log") as cap,
            running(deployment) as (server,),
        ):
            yield Stack(deployment, server, cap, cameras, [])
    finally:
        db.dispose()


@pytest.fixture
def video(stack: Stack) -> Iterator[Stack]:
    yield stack
    # python-socketio's client takes ~3 s to disconnect after it has sent an event: in parallel
    done = [threading.Thread(target=c.disconnect) for c in stack.clients]
    for thread in done:
        thread.start()
    for thread in done:
        thread.join()
    stack.clients.clear()


def _camera(stack: Stack, index: int) -> str:
    return stack.cameras[index][0]


def _decodes(jpeg: bytes) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "a frame that is not a JPEG"
    return int(image.shape[1]), int(image.shape[0])


def test_frames_arrive_for_the_watched_cameras_only(video: Stack) -> None:
    a, b, c = (_camera(video, i) for i in (0, 1, 2))
    screen = video.screen(video.token("frames-admin"))
    answer = screen.call("watch", {"ids": [a, b], "quality": "tile"})
    assert answer == {"ok": True, "watching": [a, b], "refused": []}
    screen.wait(lambda s: {a, b} <= s.seen(), "frames of both cameras")
    frame = screen.frames_of(a)[0]
    assert set(frame) == {"id", "seq", "at", "w", "h", "jpeg"}
    assert _decodes(frame["jpeg"]) == (frame["w"], frame["h"]) == (320, 180)
    assert screen.call("watch", {"ids": [c]})["watching"] == [c]
    before = len(screen.frames_of(a)) + len(screen.frames_of(b))
    screen.wait(lambda s: len(s.frames_of(c)) >= 3, "three frames of the new camera")
    # at most the frame of each that was on its way when the watch changed, then nothing
    assert len(screen.frames_of(a)) + len(screen.frames_of(b)) <= before + 2
    assert screen.seen() == {a, b, c}
    seqs = [f["seq"] for f in screen.frames_of(c)]
    assert seqs == sorted(set(seqs))  # newer frames only, never one twice


def test_a_screen_that_does_not_acknowledge_gets_no_second_frame(video: Stack) -> None:
    camera = _camera(video, 3)
    token = video.token("flow-admin")
    fast = video.screen(token)
    slow = video.screen(token, auto_ack=False)
    for screen in (fast, slow):
        screen.call("watch", {"ids": [camera]})
    fast.wait(lambda s: len(s.frames_of(camera)) >= 4, "four frames on the fast screen", 30)
    assert len(slow.frames_of(camera)) == 1  # nothing queued behind the unacknowledged one
    first = slow.frames_of(camera)[0]
    newest_on_fast = fast.frames_of(camera)[-1]["seq"]
    slow.client.emit("ack", {"id": camera, "seq": first["seq"]}, namespace="/video")
    slow.wait(lambda s: len(s.frames_of(camera)) == 2, "the next frame after the ack")
    second = slow.frames_of(camera)[1]
    assert second["seq"] > first["seq"] and second["seq"] >= newest_on_fast  # the latest


def test_unwatch_and_pause_end_the_capture_demand(video: Stack) -> None:
    x, y = _camera(video, 4), _camera(video, 5)
    assert video.state(x) == video.state(y) == "idle"
    screen = video.screen(video.token("demand-admin"))
    screen.call("watch", {"ids": [x, y]})
    screen.wait(lambda s: {x, y} <= s.seen(), "frames of both")
    screen.call("watch", {"ids": [y]})  # x scrolled out of view
    wait_until(lambda: video.state(x) == "idle", 20, f"{x} idle after unwatch")
    assert video.state(y) == "online"
    assert screen.call("pause") == {"ok": True}  # the page is hidden
    count = len(screen.frames)
    wait_until(lambda: video.state(y) == "idle", 20, f"{y} idle after pause")
    assert len(screen.frames) == count


def test_cameras_outside_the_area_are_refused(video: Stack) -> None:
    mine, village = video.cameras[6]
    other = next(c for c, v in video.cameras if v != village)
    screen = video.screen(video.token("area-leader", Role.LEADER, village))
    answer = screen.call("watch", {"ids": [mine, other, "NO-SUCH"]})
    assert answer["ok"] and answer["watching"] == [mine]
    assert answer["refused"] == [other, "NO-SUCH"]
    screen.wait(lambda s: s.errors, "the error event")
    assert screen.errors[0]["error"] == "camera_refused"
    assert screen.errors[0]["ids"] == [other, "NO-SUCH"]
    screen.wait(lambda s: len(s.frames_of(mine)) >= 2, "frames of the camera in the area")
    assert screen.seen() == {mine}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"ids": "CAM"}, "bad_request"),
        ({"ids": [1, 2]}, "bad_request"),
        ({"ids": [], "quality": "full"}, "bad_request"),
        ("CAM", "bad_request"),
        ({"ids": [f"CAM-{i}" for i in range(65)]}, "too_many"),
    ],
)
def test_bad_watch_requests_are_answered(video: Stack, payload: Any, code: str) -> None:
    screen = video.screen(video.token("bad-admin"))
    assert screen.call("watch", payload)["error"] == code
    screen.wait(lambda s: s.errors, "the error event")


def test_only_camera_viewers_may_connect(video: Stack) -> None:
    # every role, user and token, in-process: test_security_matrix; here over the wire
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            video.server.url,
            namespaces=["/video"],
            transports=["websocket"],
            auth={"token": video.token("video-dept", Role.DEPARTMENT)},
            wait_timeout=10,
        )
    assert video.screen(video.token("video-wall", Role.WALL)).client.connected


def test_status_reaches_video_screens_and_the_live_wall(video: Stack) -> None:
    camera, village = video.cameras[7]
    wall = LiveClient().connect(video.server.url, video.token("status-wall", Role.WALL))
    try:
        screen = video.screen(video.token("status-admin"))
        screen.call("watch", {"ids": [camera]})

        def online(s: VideoClient) -> bool:
            return any(
                c["id"] == camera and c["state"] == "online"
                for status in s.statuses
                for c in status["cameras"]
            )

        screen.wait(online, "an online status of the watched camera")
        status = next(c for s in screen.statuses for c in s["cameras"] if c["id"] == camera)
        assert set(status) == {"id", "state", "fps", "age", "viewers", "decoding"}
        event = wall.wait_for(
            "the camera's status on the live wall",
            lambda w: next(
                (e for e in w.events("camera") if e["id"] == camera and e["status"] == "online"),
                None,
            ),
        )
        assert event["village"] == village
    finally:
        wall.disconnect()


def test_no_event_or_log_carries_a_stream_url(video: Stack, tmp_path: Path) -> None:
    wall = LiveClient().connect(video.server.url, video.token("leak-wall", Role.WALL))
    try:
        screen = video.screen(video.token("leak-admin"))
        screen.call("watch", {"ids": [LEAKY_ID, "NO-SUCH"]})
        # The capture service refuses a row whose URL holds a clear password, as the config
        # file does (issue 11): it says so by the camera's id, never by its URL.
        wait_until(
            lambda: f"camera {LEAKY_ID} skipped" in video.capture.log_text(),
            30,
            "the capture service to refuse the leaky camera",
        )
        assert video.capture.camera(LEAKY_ID) is None
    finally:
        wall.disconnect()
    seen = json.dumps([screen.statuses, screen.errors, wall.events()], default=str)
    for text in (seen, video.server.log_text()):
        assert LEAKY_PASSWORD not in text and "rtsp://" not in text
    assert LEAKY_PASSWORD not in video.capture.log_text()  # it may name the URL, redacted
