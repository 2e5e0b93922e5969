"""``python run.py capture [--shard I/N]``: the capture process, start to stop.

The FFmpeg environment is set before anything opens a stream, log records are scrubbed of
credentials, the registry is read from the database (and ``[[video.cameras]]``), then the hub
and the HTTP API run until SIGTERM/SIGINT — or until the parent process is gone, when started
by the demo (``GCC_CAPTURE_PARENT_PID``), so a killed demo never leaves its child behind.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from urllib.parse import urlsplit

from dashboard.config import AppConfig
from streams.capture.sources import configure_process

logger = logging.getLogger(__name__)

PARENT_ENV = "GCC_CAPTURE_PARENT_PID"


class CaptureStartError(Exception):
    """The capture process cannot start (message meant for the operator)."""


def bind_address(config: AppConfig, shard: int, shards: int) -> tuple[str, int]:
    """Where shard ``shard`` of ``shards`` listens: ``capture_urls[shard]`` when shards are
    listed, else ``capture_host:capture_port`` for a single shard."""
    video = config.video
    if shards == 1 and not video.capture_urls:
        return video.capture_host, video.capture_port
    urls = video.shard_urls()
    if len(urls) != shards:
        raise CaptureStartError(
            f"--shard {shard}/{shards}: video.capture_urls lists {len(urls)} shard(s); "
            f"list one URL per shard"
        )
    parts = urlsplit(urls[shard])
    if parts.hostname is None or parts.port is None:
        raise CaptureStartError(f"video.capture_urls[{shard}] needs a host and a port")
    return parts.hostname, parts.port


def run_capture(config: AppConfig, shard: int = 0, shards: int = 1) -> int:
    configure_process()  # before cv2 opens anything (and before sources import cv2)
    from sqlalchemy.exc import SQLAlchemyError

    from dashboard.security.redact import install_log_redaction, redact
    from dashboard.storage.db import Database, StorageError
    from streams.capture.hub import CaptureHub
    from streams.capture.registry import Registry, load_cameras
    from streams.capture.server import CaptureServer

    install_log_redaction()
    secret = os.environ.get(config.video.capture_secret_env, "")
    if not secret:
        raise CaptureStartError(f"set {config.video.capture_secret_env} (the capture API secret)")
    host, port = bind_address(config, shard, shards)
    db = Database.from_url(config.database_url())
    try:
        registry = Registry(lambda: load_cameras(db, config.video), shard, shards)
    except (SQLAlchemyError, StorageError) as err:
        db.dispose()
        reason = redact(str(err).splitlines()[0])
        raise CaptureStartError(f"cannot read the cameras from the database: {reason}") from err
    hub = CaptureHub(registry, config.video)
    try:
        server = CaptureServer((host, port), hub, secret, config.video.capture_max_full_streams)
    except OSError as err:
        db.dispose()
        raise CaptureStartError(f"cannot listen on {host}:{port}: {err.strerror}") from err
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    hub.start()
    threading.Thread(target=server.serve_forever, name="capture-http", daemon=True).start()
    print(f"capture shard {shard}/{shards} on http://{host}:{port} READY", flush=True)
    try:
        _wait(stop)
    finally:
        server.shutdown()
        server.server_close()
        hub.close()
        db.dispose()
    return 0


def _wait(stop: threading.Event) -> None:
    parent = os.environ.get(PARENT_ENV)
    while not stop.wait(1.0):
        if parent and os.getppid() != int(parent):
            logger.info("capture: the parent process is gone; stopping")
            return
