"""The capture service's internal HTTP API (see /work/notes/video-contract.md; not for browsers).

``GET /v1/status``, ``GET /v1/frames`` (long-poll, binary frame records), ``GET
/v1/cameras/<id>/snapshot.jpg`` and ``GET /v1/cameras/<id>/live.mjpg``. Every request must carry
the shared secret in ``X-Capture-Secret`` (compared in constant time): 401 otherwise. Errors are
small JSON bodies naming camera ids at most — never a URL. One thread per connection
(``ThreadingHTTPServer``); waiting requests sleep on the hub's condition variable.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
from contextlib import closing
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from streams.capture.errors import CameraOffline, CaptureBusy, UnknownCamera
from streams.capture.hub import FULL, QUALITIES, TILE, CaptureHub
from streams.capture.records import encode_frames

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Capture-Secret"
BOUNDARY = "frame"
MAX_IDS = 1000
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_CAMERA_PATH = re.compile(r"^/v1/cameras/([^/]+)/(snapshot\.jpg|live\.mjpg)$")


class BadRequest(Exception):
    pass


class CaptureServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], hub: CaptureHub, secret: str, max_full_streams: int = 64
    ) -> None:
        if not secret:
            raise ValueError("the capture service needs a shared secret")
        self.hub, self.secret = hub, secret.encode("utf-8")
        # Full-size streams of all web processes together: each holds a thread and keeps a
        # full-resolution decoder busy (the web processes cap each viewer; this caps the shard).
        self.full_streams = threading.BoundedSemaphore(max_full_streams)
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: CaptureServer
    protocol_version = "HTTP/1.1"
    server_version = "gcc-capture"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        if not self._authorized():
            self._json(HTTPStatus.UNAUTHORIZED, {"error": "unauthorized"})
            return
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            self._route(parts.path, query)
        except BadRequest as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "bad_request", "message": str(err)})
        except UnknownCamera:
            self._json(HTTPStatus.NOT_FOUND, {"error": "unknown_camera"})
        except CameraOffline:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "camera_offline"})
        except CaptureBusy:
            self._json(HTTPStatus.TOO_MANY_REQUESTS, {"error": "too_many_streams"})
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _authorized(self) -> bool:
        given = self.headers.get(SECRET_HEADER, "").encode("utf-8")
        return hmac.compare_digest(given, self.server.secret)

    def _route(self, path: str, query: dict[str, str]) -> None:
        if path == "/v1/status":
            self._json(HTTPStatus.OK, {"cameras": self.server.hub.status()})
            return
        if path == "/v1/frames":
            self._frames(query)
            return
        m = _CAMERA_PATH.match(path)
        if m is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not_found"})
            return
        camera_id = _camera_id(unquote(m.group(1)))
        if m.group(2) == "live.mjpg":
            self._mjpeg(camera_id)
        else:
            frame = self.server.hub.snapshot(camera_id, _quality(query.get("quality", FULL)))
            headers = {
                "X-Frame-Seq": str(frame.seq), "X-Frame-At": repr(frame.at.timestamp()),
                "X-Frame-Width": str(frame.width), "X-Frame-Height": str(frame.height),
            }  # fmt: skip
            self._send(HTTPStatus.OK, "image/jpeg", frame.jpeg, headers)

    def _frames(self, query: dict[str, str]) -> None:
        ids = [_camera_id(i) for i in query.get("ids", "").split(",") if i]
        if not ids or len(ids) > MAX_IDS:
            raise BadRequest(f"ids: give 1 to {MAX_IDS} camera ids")
        after = _after(query.get("after", ""))
        try:
            wait = float(query.get("wait", "2.0"))
        except ValueError as err:
            raise BadRequest("wait: a number of seconds") from err
        hub = self.server.hub
        unknown = [i for i in ids if not hub.known(i)]
        known = [i for i in dict.fromkeys(ids) if i not in unknown]
        frames = hub.wait_frames(known, after, _quality(query.get("quality", TILE)), wait)
        extra = {"X-Unknown-Cameras": ",".join(unknown)} if unknown else {}
        self._send(HTTPStatus.OK, "application/octet-stream", encode_frames(frames), extra)

    def _mjpeg(self, camera_id: str) -> None:
        hub = self.server.hub
        if not hub.known(camera_id):
            raise UnknownCamera(camera_id)
        if not self.server.full_streams.acquire(blocking=False):
            logger.warning("camera %s: full-size stream refused: the shard's cap", camera_id)
            raise CaptureBusy(camera_id)
        try:
            self._mjpeg_body(camera_id)
        finally:
            self.server.full_streams.release()

    def _mjpeg_body(self, camera_id: str) -> None:
        hub = self.server.hub
        # A first full-size frame before any header: an offline camera answers 503 at once
        # (within the snapshot wait) instead of an empty stream that never sends a part.
        hub.snapshot(camera_id, FULL)
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        with closing(hub.stream(camera_id)) as frames:
            for frame in frames:
                self.wfile.write(mjpeg_part(frame.jpeg, frame.at.timestamp()))
                self.wfile.flush()

    def _json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        self._send(status, "application/json", data)

    def _send(
        self, status: HTTPStatus, ctype: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


def mjpeg_part(jpeg: bytes, at: float) -> bytes:
    """One part of the MJPEG body; ``X-Frame-At`` is the capture time (seconds since the
    epoch), which browsers ignore and latency measurements use."""
    head = (
        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Frame-At: {at!r}\r\n\r\n"
    )
    return head.encode("ascii") + jpeg + b"\r\n"


def _camera_id(text: str) -> str:
    if not _ID.match(text):
        raise BadRequest("camera ids are 1-40 letters, digits, - _ .")
    return text


def _quality(text: str) -> str:
    if text not in QUALITIES:
        raise BadRequest(f"quality: one of {', '.join(QUALITIES)}")
    return text


def _after(text: str) -> dict[str, int]:
    after: dict[str, int] = {}
    for item in filter(None, text.split(",")):
        camera_id, _, seq = item.rpartition(":")
        try:
            after[_camera_id(camera_id)] = int(seq)
        except ValueError as err:
            raise BadRequest("after: id:seq pairs separated by commas") from err
    return after
