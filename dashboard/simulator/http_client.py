"""The simulator's client for a server elsewhere: the public API over HTTP, standard library only.

``POST /api/v1/cases`` (with an ``Idempotency-Key``, so a resend after a timeout cannot create a
case twice), ``POST /api/v1/cases/{id}/actions``, result photos uploaded first as multipart to
``POST /api/v1/cases/{id}/attachments``, ``POST /api/v1/positions`` and ``GET /api/v1/villages``.
One keep-alive connection per thread. The token goes in the ``Authorization`` header only and
is never logged.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from dashboard.clock import SERVER_TIME_HEADER, iso
from dashboard.domain.status import OPEN_STATUSES, CaseStatus, Source
from dashboard.simulator.client import (
    Act,
    CaseRef,
    Fix,
    Forbidden,
    OpenCase,
    Refused,
    Report,
    SimClient,
    Unavailable,
    VillageInfo,
)
from dashboard.simulator.photos import photo_id, synthetic_jpeg

logger = logging.getLogger(__name__)

API = "/api/v1"
LIST_PAGE = 500  # the case list's largest page
# A reused keep-alive connection the server has closed fails like this before anything is sent.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class HttpClient(SimClient):
    def __init__(
        self, base_url: str, token: str, *, timeout: float = 15.0, photo_salt: str = ""
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        if not token.strip():
            raise ValueError("an API token is required")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._auth = f"Bearer {token.strip()}"
        self._timeout = timeout
        self._salt = photo_salt
        self._local = threading.local()
        self.photo_uploads = True  # False once the server turns out not to take them
        self.server_time: datetime | None = None  # the server's clock, from its last answer

    @property
    def origin(self) -> str:
        scheme = "https" if self._https else "http"
        port = f":{self._port}" if self._port else ""
        return f"{scheme}://{self._host}{port}{self._prefix}"

    # --- the API --------------------------------------------------------------------------

    def report(self, report: Report) -> CaseRef:
        body = _drop_empty(
            {
                "category": report.category,
                "description": report.description,
                "lat": report.lat,
                "lon": report.lon,
                "source": report.source.value,
                "reporter": report.reporter,
                "emergency": report.emergency,
                "occurred_at": iso(report.occurred_at),
            }
        )
        headers = {"Idempotency-Key": report.idempotency_key} if report.idempotency_key else {}
        return _ref(self._json("POST", f"{API}/cases", body, headers))

    def act(self, case_id: int, act: Act) -> CaseRef:
        attachments = self._photos(case_id, act.photos) if act.photos else []
        body = _drop_empty(
            {
                "action": act.action.value,
                "note": act.note,
                "reason": act.reason,
                "category": act.category,
                "department": act.department,
                "deadline": iso(act.deadline),
                "attachments": attachments,
                "satisfaction": act.satisfaction,
            }
        )
        return _ref(self._json("POST", f"{API}/cases/{case_id}/actions", body))

    def send_fixes(self, fixes: Sequence[Fix]) -> int:
        if not fixes:
            return 0
        body = {
            "fixes": [
                {
                    "worker": f.worker,
                    "lat": f.lat,
                    "lon": f.lon,
                    "time": f.at.isoformat(),
                    "accuracy": f.accuracy,
                }
                for f in fixes
            ]
        }
        answer = self._json("POST", f"{API}/positions", body)
        return int(answer.get("stored", len(fixes)))

    def open_cases(self) -> list[OpenCase]:
        """The open cases through the case list (``GET /cases?status=…``), page by page."""
        found: list[OpenCase] = []
        for status in sorted(s.value for s in OPEN_STATUSES):
            page = 1
            while True:
                query = urlencode({"status": status, "per_page": LIST_PAGE, "page": page})
                answer = self._json("GET", f"{API}/cases?{query}")
                rows = answer.get("cases", [])
                found.extend(_open_case(row) for row in rows)
                if len(rows) < LIST_PAGE:
                    break
                page += 1
        return sorted(found, key=lambda c: c.id)

    def villages(self) -> list[VillageInfo]:
        answer = self._json("GET", f"{API}/villages")
        rows = answer if isinstance(answer, list) else answer.get("villages", [])
        return [
            VillageInfo(str(v["code"]), str(v.get("status", "ok")), v.get("open_ratio"))
            for v in rows
        ]

    def _photos(self, case_id: int, count: int) -> list[str]:
        """Upload ``count`` result photos for the case; their ids for the action."""
        if not self.photo_uploads:
            return [photo_id(case_id, n, self._salt) for n in range(count)]
        boundary = uuid.uuid4().hex
        parts = b"".join(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                f'filename="case-{case_id}-{n}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            + synthetic_jpeg(case_id, n, self._salt)
            + b"\r\n"
            for n in range(count)
        )
        body = parts + f"--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        try:
            answer = self._call(
                "POST", f"{API}/cases/{case_id}/attachments", body, {"Content-Type": content_type}
            )
        except Refused as err:
            if err.code not in ("not_found", "method_not_allowed"):
                raise
            logger.warning("the server takes no photo uploads; sending photo ids only")
            self.photo_uploads = False
            return self._photos(case_id, count)
        return [str(i) for i in answer.get("attachments", [])]

    # --- transport ------------------------------------------------------------------------

    def _json(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        extra = {"Content-Type": "application/json"} if data is not None else {}
        return self._call(method, path, data, extra | (headers or {}))

    def _call(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> Any:
        headers = headers | {"Authorization": self._auth, "Accept": "application/json"}
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request(method, self._prefix + path, data, headers)
                response = conn.getresponse()
                payload = response.read()
                status, retry_after = response.status, response.getheader("Retry-After")
                self._note_server_time(response.getheader(SERVER_TIME_HEADER))
                break
            except _STALE as err:
                self._drop_connection()
                if reused and attempt == 1:
                    continue  # the server closed the idle connection: once more, on a new one
                raise Unavailable("unreachable", f"{self.origin}: {type(err).__name__}") from err
            except (OSError, http.client.HTTPException) as err:
                self._drop_connection()
                raise Unavailable("unreachable", f"{self.origin}: {type(err).__name__}") from err
        if 200 <= status < 300:
            return json.loads(payload) if payload else {}
        raise _error(status, payload, method, path, retry_after)

    def _note_server_time(self, value: str | None) -> None:
        if not value:
            return
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            logger.warning("the server sent an unreadable %s: %r", SERVER_TIME_HEADER, value[:40])
            return
        if at.tzinfo is not None:
            self.server_time = at

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = kind(self._host, self._port, timeout=self._timeout)
        self._local.conn = conn
        return conn, False

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        self._drop_connection()


def _error(
    status: int, payload: bytes, method: str, path: str, retry_after: str | None
) -> Exception:
    try:
        body = json.loads(payload)
        code, message = str(body.get("error", status)), str(body.get("message", ""))
    except (ValueError, AttributeError):
        code, message = f"http_{status}", payload[:200].decode("utf-8", "replace")
    message = f"{method} {path} → {status}: {message}"
    if status in (401, 403):
        return Forbidden(code, message)
    if status == 429 or status >= 500:
        wait = f" (retry after {retry_after} s)" if retry_after else ""
        return Unavailable(code, message + wait)
    return Refused(code, message)


def _drop_empty(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None and v != "" and v != []}


def _open_case(row: dict[str, Any]) -> OpenCase:
    deadline = row.get("deadline")
    return OpenCase(
        id=int(row["id"]),
        status=CaseStatus(row["status"]),
        source=Source(row["source"]),
        emergency=bool(row.get("emergency")),
        category=str(row["category"]),
        village=str(row.get("village", "")),
        grid=None,
        department=row.get("department"),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
    )


def _ref(body: Any) -> CaseRef:
    deadline = body.get("deadline")
    return CaseRef(
        id=int(body["id"]),
        status=CaseStatus(body["status"]),
        village=str(body.get("village", "")),
        grid=str(body.get("grid", "")),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
    )
