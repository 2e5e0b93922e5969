"""The demo's capture child: ``python run.py`` starts one ``run.py capture`` and stops it on exit.

The child gets the same ``--config`` and a shared secret generated for this run (unless
``GCC_CAPTURE_SECRET`` — or the configured variable — is already set), placed in the child's
environment and in this process's ``os.environ`` so the web side's ``CaptureClient`` can read it.
The child also gets ``GCC_CAPTURE_PARENT_PID`` and stops by itself if the demo dies hard.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dashboard.config import AppConfig
from dashboard.ports import port_free
from streams.capture.service import PARENT_ENV

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
STOP_WAIT_S = 5.0
PORT_WAIT_S = 6.0  # a demo restarted at once: its old capture child takes ~1 s to notice and exit


@dataclass
class CaptureChild:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_port_free(host: str, port: int, timeout: float = PORT_WAIT_S) -> bool:
    """True once the port can be bound; False if it is still taken after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not port_free(host, port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def ensure_secret(config: AppConfig) -> str:
    """The capture secret of this run: the environment's, else a new one put there."""
    name = config.video.capture_secret_env
    secret = os.environ.get(name) or secrets.token_urlsafe(32)
    os.environ[name] = secret
    return secret


def start_capture_child(config: AppConfig, config_path: str | None) -> CaptureChild | None:
    """Start the capture service next to the demo; None (and a clear message) when its port is
    taken — the video wall then shows its cameras as unavailable."""
    video = config.video
    host, port = video.capture_host, video.capture_port
    if video.capture_urls and len(video.capture_urls) > 1:
        print("视频：已配置多个采集分片，演示不启动采集服务 (video: capture shards are configured; "
              "start them with `run.py capture --shard I/N`)")  # fmt: skip
        return None
    if not wait_port_free(host, port):
        print(
            f"视频：端口 {host}:{port} 已被占用，视频墙不可用 (video: the capture port "
            f"{host}:{port} is taken — another capture service or program? Stop it or set "
            f"[video] capture_port)",
            file=sys.stderr,
        )
        return None
    secret = ensure_secret(config)
    env = dict(os.environ)
    env[video.capture_secret_env] = secret
    env[PARENT_ENV] = str(os.getpid())
    cmd = [sys.executable, str(ROOT / "run.py")]
    if config_path:
        cmd += ["--config", str(Path(config_path).resolve())]
    process = subprocess.Popen([*cmd, "capture"], cwd=ROOT, env=env)
    print(f"视频采集服务已启动 capture service on http://{host}:{port} (pid {process.pid})")
    return CaptureChild(process, f"http://{host}:{port}")
