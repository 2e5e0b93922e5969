"""``CaptureClient``: how web processes talk to the capture service (its shards).

Plain HTTP/1.1 over ``http.client`` with one keep-alive connection per thread and shard. A camera
belongs to shard ``shard_of(id, len(shard_urls))``; ``frames()`` long-polls the shards owning the
wanted cameras in parallel threads and returns as soon as one of them has something (a slower
shard's answer is kept for the next call). Failures become ``CaptureUnavailable``,
``CameraOffline`` or ``UnknownCamera`` with messages naming shards and camera ids, never URLs.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from dashboard.config import VideoConfig
from streams.capture import shard_of
from streams.capture.errors import CameraOffline, CaptureBusy, CaptureUnavailable, UnknownCamera
from streams.capture.records import Frame, RecordError, decode_frames

__all__ = [
    "CameraOffline",
    "CameraStatus",
    "CaptureBusy",
    "CaptureClient",
    "CaptureUnavailable",
    "Frame",
    "UnknownCamera",
]

SECRET_HEADER = "X-Capture-Secret"
_HTTP_ERRORS = (OSError, http.client.HTTPException)
STRAGGLER_GRACE_S = 0.05  # after one shard answered with frames, how long to wait for others


@dataclass(frozen=True)
class CameraStatus:
    id: str
    state: str  # idle | starting | online | reconnecting | offline
    fps: float
    age: float | None  # seconds since the newest frame
    viewers: int
    decoding: str  # none | keyframes | substream | full
    width: int = 0
    height: int = 0
    reason: str = ""  # why offline (URL-free), e.g. "no new frame for 4 s"


@dataclass(frozen=True)
class _Shard:
    index: int
    host: str
    port: int


class CaptureClient:
    def __init__(self, shard_urls: list[str], secret: str, timeout: float = 5.0) -> None:
        if not shard_urls:
            raise ValueError("at least one capture shard URL is needed")
        self._shards = [_parse(i, url) for i, url in enumerate(shard_urls)]
        self._secret, self._timeout = secret, timeout
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(
            max_workers=2 * len(self._shards), thread_name_prefix="capture-client"
        )
        self._pending: dict[int, tuple[frozenset[str], Future[list[Frame]]]] = {}
        self._pending_lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()  # every thread's, to close them

    @classmethod
    def from_config(
        cls, video: VideoConfig, environ: Mapping[str, str] | None = None
    ) -> CaptureClient:
        env = os.environ if environ is None else environ
        return cls(video.shard_urls(), env.get(video.capture_secret_env, ""))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._pending_lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            conn.close()

    def shard_for(self, camera_id: str) -> int:
        return shard_of(camera_id, len(self._shards))

    # --- the API ---------------------------------------------------------------------------

    def status(self) -> list[CameraStatus]:
        """Every camera of every reachable shard (a shard that is down contributes none)."""
        futures = [self._pool.submit(self._status, s) for s in self._shards]
        merged: list[CameraStatus] = []
        for future in futures:
            try:
                merged.extend(future.result())
            except CaptureUnavailable:
                continue
        return merged

    def health(self) -> dict[str, Any]:
        """For /healthz: how many shards answer, and how many cameras are online."""
        futures = [self._pool.submit(self._status, s) for s in self._shards]
        reachable, online = 0, 0
        for future in futures:
            try:
                cameras = future.result()
            except CaptureUnavailable:
                continue
            reachable += 1
            online += sum(1 for c in cameras if c.state == "online")
        shards = len(self._shards)
        return {
            "ok": reachable == shards,
            "shards": shards,
            "reachable": reachable,
            "online": online,
        }

    def frames(
        self, wanted: Mapping[str, int], quality: str = "tile", wait: float = 2.0
    ) -> list[Frame]:
        """Frames newer than ``wanted[id]`` (a seq; 0 = any), waiting up to ``wait`` s."""
        by_shard: dict[int, dict[str, int]] = {}
        for camera_id, seq in wanted.items():
            by_shard.setdefault(self.shard_for(camera_id), {})[camera_id] = seq
        if not by_shard:
            return []
        if len(by_shard) == 1:
            ((index, part),) = by_shard.items()
            return self._frames(self._shards[index], part, quality, wait)
        return self._fan_out(by_shard, wanted, quality, wait)

    def snapshot(self, camera_id: str, quality: str = "full") -> Frame:
        shard = self._shards[self.shard_for(camera_id)]
        path = f"/v1/cameras/{quote(camera_id, safe='')}/snapshot.jpg?quality={quality}"
        status, headers, body = self._get(shard, path, self._timeout + 5.0)
        if status == 200:
            return Frame(
                camera_id,
                int(headers.get("x-frame-seq", "0")),
                datetime.fromtimestamp(float(headers.get("x-frame-at", "0")), UTC),
                int(headers.get("x-frame-width", "0")),
                int(headers.get("x-frame-height", "0")),
                body,
            )
        raise _error(status, body, shard, camera_id)

    def mjpeg(self, camera_id: str) -> Iterator[bytes]:
        """The full-size MJPEG body (``multipart/x-mixed-replace; boundary=frame``) in chunks;
        its own connection, closed when the iterator is closed or dropped."""
        shard = self._shards[self.shard_for(camera_id)]
        conn = http.client.HTTPConnection(shard.host, shard.port, timeout=self._timeout + 10)
        try:
            conn.request("GET", f"/v1/cameras/{quote(camera_id, safe='')}/live.mjpg",
                         headers={SECRET_HEADER: self._secret})  # fmt: skip
            response = conn.getresponse()
        except _HTTP_ERRORS as err:
            conn.close()
            raise CaptureUnavailable(f"capture shard {shard.index} unavailable") from err
        if response.status != 200:
            body = response.read()
            conn.close()
            raise _error(response.status, body, shard, camera_id)
        return _chunks(conn, response)

    # --- internals -------------------------------------------------------------------------

    def _status(self, shard: _Shard) -> list[CameraStatus]:
        status, _, body = self._get(shard, "/v1/status", self._timeout)
        if status != 200:
            raise _error(status, body, shard, "")
        fields = CameraStatus.__dataclass_fields__
        return [
            CameraStatus(**{k: v for k, v in c.items() if k in fields})
            for c in json.loads(body)["cameras"]
        ]

    def _frames(
        self, shard: _Shard, wanted: Mapping[str, int], quality: str, wait_s: float
    ) -> list[Frame]:
        ids = ",".join(quote(i, safe="") for i in wanted)
        after = ",".join(f"{quote(i, safe='')}:{s}" for i, s in wanted.items() if s)
        path = f"/v1/frames?ids={ids}&after={after}&quality={quality}&wait={wait_s:g}"
        status, _, body = self._get(shard, path, wait_s + self._timeout)
        if status != 200:
            raise _error(status, body, shard, "")
        try:
            return decode_frames(body)
        except RecordError as err:
            raise CaptureUnavailable(f"capture shard {shard.index} sent a bad answer") from err

    def _fan_out(
        self,
        by_shard: dict[int, dict[str, int]],
        wanted: Mapping[str, int],
        quality: str,
        wait_s: float,
    ) -> list[Frame]:
        futures = {index: self._request(index, part, quality, wait_s)
                   for index, part in by_shard.items()}  # fmt: skip
        frames: list[Frame] = []
        failed = 0
        remaining = set(futures.values())
        timeout: float | None = wait_s + self._timeout
        while remaining:
            done, remaining = wait(remaining, timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:
                break
            for future in done:
                try:
                    frames.extend(future.result())
                except (CaptureUnavailable, UnknownCamera, CameraOffline):
                    failed += 1
            if frames:
                timeout = STRAGGLER_GRACE_S
        with self._pending_lock:
            for index, future in futures.items():
                if future.done():
                    self._pending.pop(index, None)
        fresh = [f for f in frames if f.seq > wanted.get(f.camera_id, 0)]
        if not fresh and failed == len(futures):
            raise CaptureUnavailable("no capture shard answered")
        return fresh

    def _request(
        self, index: int, part: dict[str, int], quality: str, wait_s: float
    ) -> Future[list[Frame]]:
        """Reuse a still-running long-poll for the same cameras, else start one."""
        key = frozenset(part) | {f"quality={quality}"}
        with self._pending_lock:
            pending = self._pending.get(index)
            if pending is not None and pending[0] == key and not pending[1].done():
                return pending[1]
            future = self._pool.submit(self._frames, self._shards[index], part, quality, wait_s)
            self._pending[index] = (key, future)
            return future

    def _get(self, shard: _Shard, path: str, timeout: float) -> tuple[int, Any, bytes]:
        """One GET on this thread's keep-alive connection to ``shard`` (one retry when a kept
        connection turned out to be closed)."""
        for attempt in (1, 2):
            conn = self._connection(shard, timeout)
            try:
                conn.request("GET", path, headers={SECRET_HEADER: self._secret})
                response = conn.getresponse()
                body = response.read()
                headers = {k.lower(): v for k, v in response.getheaders()}
                if response.will_close:
                    self._drop(shard)
                return response.status, headers, body
            except _HTTP_ERRORS as err:
                self._drop(shard)
                retry = attempt == 1 and isinstance(
                    err, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                )
                if not retry:
                    raise CaptureUnavailable(f"capture shard {shard.index} unavailable") from err
        raise CaptureUnavailable(f"capture shard {shard.index} unavailable")

    def _connection(self, shard: _Shard, timeout: float) -> http.client.HTTPConnection:
        conns: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("c", {})
        conn = conns.get(shard.index)
        if conn is None:
            conn = http.client.HTTPConnection(shard.host, shard.port, timeout=timeout)
            conns[shard.index] = conn
            with self._pending_lock:
                self._open.add(conn)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop(self, shard: _Shard) -> None:
        conns: dict[int, http.client.HTTPConnection] = self._local.__dict__.get("c", {})
        conn = conns.pop(shard.index, None)
        if conn is not None:
            conn.close()
            with self._pending_lock:
                self._open.discard(conn)


def _parse(index: int, url: str) -> _Shard:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"capture shard {index}: expected http://host:port")
    return _Shard(index, parts.hostname, parts.port or 80)


def _error(status: int, body: bytes, shard: _Shard, camera_id: str) -> Exception:
    try:
        code = json.loads(body).get("error", "")
    except (ValueError, AttributeError):
        code = ""
    if status == 404 and code == "unknown_camera":
        return UnknownCamera(f"unknown camera {camera_id}")
    if status == 429 and code == "too_many_streams":
        return CaptureBusy(f"capture shard {shard.index}: too many full-size streams")
    if status == 503 and code == "camera_offline":
        return CameraOffline(f"camera {camera_id} is offline")
    if status in (401, 403):
        return CaptureUnavailable(f"capture shard {shard.index} refused the shared secret")
    return CaptureUnavailable(f"capture shard {shard.index} answered {status}")


def _chunks(
    conn: http.client.HTTPConnection, response: http.client.HTTPResponse
) -> Iterator[bytes]:
    try:
        while True:
            chunk = response.read1(65536)
            if not chunk:
                return
            yield chunk
    except _HTTP_ERRORS:
        return
    finally:
        conn.close()
