"""The demo's capture child (streams/capture/launch.py): started with a generated secret the web
side can read, stopped on exit, refused clearly when its port is taken, and gone by itself when
the demo process dies without stopping it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboard.config import load_config
from streams.capture.client import CaptureClient
from streams.capture.launch import start_capture_child
from tests.integration.capture_helpers import ROOT, CameraRow, make_capture_deployment
from tests.integration.live_helpers import wait_until

CAMERAS = [CameraRow("SYN-1", "synthetic:"), CameraRow("SYN-2", "synthetic:grid")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its dead parent's reaper) counts as gone
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\tZ" not in status.read_text().split("State:")[1][:4]


def test_demo_child_serves_with_a_generated_secret_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = make_capture_deployment(tmp_path, CAMERAS)
    config = load_config(deployment.config)
    monkeypatch.delenv("GCC_CAPTURE_SECRET", raising=False)
    child = start_capture_child(config, str(deployment.config))
    assert child is not None
    try:
        secret = os.environ["GCC_CAPTURE_SECRET"]  # for the web side of this process
        assert len(secret) >= 32
        client = CaptureClient.from_config(config.video)
        try:
            wait_until(lambda: len(client.status()) == 2, 60, "the child to answer")
            frames = wait_until(lambda: client.frames({"SYN-1": 0}, wait=2.0), 20, "a frame")
            assert frames[0].camera_id == "SYN-1"
        finally:
            client.close()
        wrong = CaptureClient(config.video.shard_urls(), "not-it")
        assert wrong.status() == []
        wrong.close()
    finally:
        child.stop()
    assert child.process.returncode is not None


def test_demo_says_so_when_the_capture_port_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = make_capture_deployment(tmp_path, CAMERAS)
    config = load_config(deployment.config)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", deployment.port))
        taken.listen()
        assert start_capture_child(config, str(deployment.config)) is None
    err = capsys.readouterr().err
    assert f"127.0.0.1:{deployment.port}" in err and "taken" in err


def test_child_stops_when_the_demo_dies(tmp_path: Path) -> None:
    deployment = make_capture_deployment(tmp_path, CAMERAS)
    demo = textwrap.dedent(
        f"""
        import sys, time
        from dashboard.config import load_config
        from streams.capture.launch import start_capture_child
        child = start_capture_child(load_config({str(deployment.config)!r}), None)
        print("CHILD", child.process.pid, flush=True)
        time.sleep(600)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", demo], cwd=ROOT, env=deployment.env,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    stdout = process.stdout
    line = wait_until(lambda: (out := stdout.readline()).startswith("CHILD") and out, 60,
                      "the demo to start its child")  # fmt: skip
    pid = int(line.split()[1])
    process.send_signal(signal.SIGKILL)  # no clean-up code runs
    process.wait()
    process.stdout.close()
    wait_until(lambda: not _alive(pid), 20, "the orphaned capture child to stop")
