"""The camera registry of a capture process: ids and stream URLs, never shown to anyone.

Cameras come from the ``cameras`` table (id, name, stream_url, substream_url) and from optional
``[[video.cameras]]`` entries of config.toml (which win on the same id). URLs may hold
``${ENV_NAME}`` placeholders — credentials live in the environment, not in the database or the
file — and are resolved only when a stream is opened (``resolve``), so a resolved URL exists only
inside the reader that uses it. A placeholder inside ``user:password@`` is percent-encoded. A
``cameras`` row whose URL holds a clear password is skipped (logged by id), as the file refuses it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select

from dashboard.config import VideoConfig, has_clear_password
from dashboard.storage.db import Database
from dashboard.storage.models import Camera
from streams.capture import shard_of
from streams.capture.errors import MissingCredential

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^/]*@)?(.*)$", re.DOTALL)
RELOAD_MIN_INTERVAL_S = 5.0  # an unknown id reloads the registry at most this often


@dataclass(frozen=True)
class CameraEntry:
    id: str
    name: str
    stream_url: str  # may hold ${ENV} placeholders; never logged, never returned
    substream_url: str | None = None

    @property
    def synthetic(self) -> bool:
        return self.stream_url.startswith("synthetic:")

    def __repr__(self) -> str:  # keeps URLs out of tracebacks and debug logs
        return f"CameraEntry(id={self.id!r}, name={self.name!r})"


def placeholders(url: str) -> list[str]:
    return _PLACEHOLDER.findall(url)


def resolve(url: str, environ: Mapping[str, str] | None = None) -> str:
    """``url`` with every ``${NAME}`` replaced from the environment (read now, not earlier)."""
    env = os.environ if environ is None else environ
    missing = [name for name in placeholders(url) if name not in env]
    if missing:
        raise MissingCredential(f"environment variable {missing[0]} is not set")

    def fill(text: str, encode: bool) -> str:
        return _PLACEHOLDER.sub(
            lambda m: quote(env[m.group(1)], safe="") if encode else env[m.group(1)], text
        )

    m = _USERINFO.match(url)
    if m is None or m.group(2) is None:
        return fill(url, encode=False)
    return m.group(1) + fill(m.group(2)[:-1], encode=True) + "@" + fill(m.group(3), encode=False)


def load_cameras(db: Database | None, video: VideoConfig) -> dict[str, CameraEntry]:
    """Every camera of the deployment: the database's, then the configuration file's."""
    cameras: dict[str, CameraEntry] = {}
    if db is not None:
        with db.read() as session:
            rows = session.execute(
                select(Camera.id, Camera.name, Camera.stream_url, Camera.substream_url)
            )
            for cid, name, url, sub in rows:
                if any(has_clear_password(u or "") for u in (url, sub)):
                    # As the configuration file refuses it: credentials belong in the
                    # environment. The URL itself is never logged.
                    logger.error(
                        "camera %s skipped: its stream URL in the cameras table holds a clear "
                        "password; write it as a ${ENV_NAME} placeholder",
                        cid,
                    )
                    continue
                cameras[cid] = CameraEntry(cid, name, url or "synthetic:", sub or None)
    for c in video.cameras:
        cameras[c.id] = CameraEntry(c.id, c.name or c.id, c.stream_url, c.substream_url or None)
    return cameras


class Registry:
    """The cameras of one shard; reloaded when asked for an id it does not know (rate-limited)."""

    def __init__(
        self,
        loader: Callable[[], dict[str, CameraEntry]],
        shard: int = 0,
        shards: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader, self._shard, self._shards, self._clock = loader, shard, shards, clock
        self._lock = threading.Lock()
        self._cameras: dict[str, CameraEntry] = {}
        self._loaded_at = float("-inf")
        self.reload()

    def reload(self) -> None:
        everything = self._loader()
        mine = {k: v for k, v in everything.items() if shard_of(k, self._shards) == self._shard}
        with self._lock:
            changed = mine.keys() != self._cameras.keys()
            self._cameras, self._loaded_at = mine, self._clock()
        n = self._shards
        if changed:
            logger.info("registry: %d camera(s) on shard %d/%d", len(mine), self._shard, n)

    def get(self, camera_id: str) -> CameraEntry | None:
        with self._lock:
            entry = self._cameras.get(camera_id)
            stale = self._clock() - self._loaded_at >= RELOAD_MIN_INTERVAL_S
        if entry is None and stale and shard_of(camera_id, self._shards) == self._shard:
            try:
                self.reload()
            except Exception:  # the database may be briefly away: keep the known cameras
                logger.warning("registry: reload failed", exc_info=True)
            with self._lock:
                entry = self._cameras.get(camera_id)
        return entry

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._cameras)
