"""Secrets stay secret: security headers on every answer, no credential in any answer or log."""

from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dash
import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from dashboard.domain.roles import Role
from dashboard.security.redact import redact, redact_url
from dashboard.storage.models import Camera
from tests.integration import test_security_support as support
from tests.integration.test_security_matrix import SKIP_METHODS, _asset, _router_body, _url
from tests.integration.test_security_support import PASSWORD, SecureApp

_secure_apps, secure, lite_secure = support._secure_apps, support.secure, support.lite_secure

CAMERA_SECRET = "S3cret-cam-pw"
CAMERA_URL = f"rtsp://admin:{CAMERA_SECRET}@10.20.30.40:554/Streaming/Channels/101"


def test_every_answer_carries_the_security_headers(lite_secure: SecureApp) -> None:
    app = lite_secure
    app.user("boss", Role.ADMIN)
    client, _ = app.signed_in("boss")
    for path in ("/", "/login", "/api/v1/me", "/healthz", "/assets/base.css", "/nowhere"):
        response = client.get(path)
        headers = response.headers
        response.close()
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["X-Frame-Options"] == "DENY", path
        # No page reads the position (the field app /m alone does); the command room's roles
        # may use camera and microphone for a video call to a worker (issue 14).
        assert "geolocation=()" in headers["Permissions-Policy"], path
        assert "payment=()" in headers["Permissions-Policy"], path
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert "unsafe-eval" not in csp and "http:" not in csp.replace("ws://", ""), path
        assert "Strict-Transport-Security" not in headers, path  # plain http: no HSTS
    assert app.client().get("/401-please").status_code == 302  # strangers too get headers
    app.user("qian", Role.DEPARTMENT)
    department, _ = app.signed_in("qian")
    assert "camera=()" in department.get("/").headers["Permissions-Policy"]  # not a caller
    assert "camera=()" in app.client().get("/login").headers["Permissions-Policy"]
    assert "Content-Security-Policy" in app.client().get("/api/v1/me").headers


def test_the_csp_allows_exactly_dash_inline_scripts(lite_secure: SecureApp) -> None:
    """Every inline script of the page shell is allowed by hash; no 'unsafe-inline' scripts."""
    app = lite_secure
    app.user("boss", Role.ADMIN)
    client, _ = app.signed_in("boss")
    response = client.get("/")
    html = response.get_data(as_text=True)
    script_src = re.search(r"script-src ([^;]+)", response.headers["Content-Security-Policy"])
    assert script_src and "'unsafe-inline'" not in script_src.group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", html, re.S)
    executable = [body for attrs, body in inline if "application/json" not in attrs]
    assert executable, "expected Dash's renderer bootstrap script"
    for body in executable:
        if "alert(" in body and "Internet Explorer" in body:
            continue  # inside an IE conditional comment: never runs in a browser we support
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src.group(1), body[:80]
    ws = re.search(r"connect-src ([^;]+)", response.headers["Content-Security-Policy"])
    assert ws and "ws://localhost" in ws.group(1)


def test_a_forged_host_header_cannot_write_the_policy(lite_secure: SecureApp) -> None:
    response = lite_secure.client().get("/login", headers={"Host": "x; script-src *"})
    assert "script-src *" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("opening rtsp://admin:12345@10.0.0.8/stream failed", "12345"),
        ('"GET /wall?lang=en&token=gcc_abcDEF123456789 HTTP/1.1" 302', "gcc_abcDEF123456789"),
        ("Authorization: Bearer gcc_abcDEF123456789xyz", "gcc_abcDEF123456789xyz"),
        ("postgresql+psycopg://gcc:hunter22@db/gcc", "hunter22"),
        ("form password=hunter22&user=x", "hunter22"),
    ],
)
def test_redaction_removes_secrets(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_camera_urls_lose_their_credentials_for_display() -> None:
    assert redact_url(CAMERA_URL) == "rtsp://10.20.30.40:554/Streaming/Channels/101"
    assert redact_url("rtsp://[fe80::1]:554/x") == "rtsp://[fe80::1]:554/x"
    assert redact_url("synthetic:") == "synthetic:"


@contextmanager
def _camera_with_credentials(app: SecureApp) -> Iterator[str]:
    db = app.services.db
    with db.read() as session:
        camera = session.scalars(select(Camera).order_by(Camera.id)).first()
    assert camera is not None
    before = (camera.stream_url, camera.substream_url)
    with db.transaction() as session:
        session.execute(
            update(Camera)
            .where(Camera.id == camera.id)
            .values(stream_url=CAMERA_URL, substream_url=CAMERA_URL.replace("101", "102"))
        )
    try:
        yield camera.id
    finally:
        with db.transaction() as session:
            session.execute(
                update(Camera)
                .where(Camera.id == camera.id)
                .values(stream_url=before[0], substream_url=before[1])
            )


def test_a_camera_password_is_in_no_answer_page_or_log(
    secure: SecureApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Every GET route and every page, as an admin (who sees most), with a camera whose URL
    carries a password: the password is in no answer and no log line. Video endpoints join this
    test by themselves (their routes are enumerated; ``camera_id`` has a sample)."""
    app = secure
    caplog.set_level(logging.DEBUG)
    app.user("boss", Role.ADMIN)
    client, csrf = app.signed_in("boss")
    token = app.token(Role.ADMIN, "admin-script")
    bodies: list[str] = []
    with _camera_with_credentials(app) as camera_id, app.generous():
        package, asset = _asset(app, "boss")
        values = {"case": "1", "package": package, "asset": asset, "camera": camera_id}
        for rule in app.app.url_map.iter_rules():
            if (
                "GET" not in (rule.methods or set()) - SKIP_METHODS
                or rule.endpoint == "security.logout"
            ):
                continue
            url = _url(rule, values)
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                response = client.get(url, headers=headers)
                bodies.append(response.get_data().decode("utf-8", "replace"))  # some are binary
                response.close()
        for page in dash.page_registry.values():
            response = client.post(
                "/_dash-update-component",
                json=_router_body(page["path"]),
                headers=app.csrf_headers(csrf),
            )
            bodies.append(response.get_data(as_text=True))
        socketio = app.services.socketio
        live = socketio.test_client(app.app, namespace="/live", flask_test_client=client)
        bodies.append(repr(live.get_received("/live")))
        live.disconnect("/live")
    leaks = [b[:200] for b in bodies if CAMERA_SECRET in b]
    assert not leaks
    assert CAMERA_SECRET not in caplog.text


def test_no_password_token_or_cookie_reaches_the_logs(
    lite_secure: SecureApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Sign-ins (right and wrong), token calls (good, revoked, unknown) and a kiosk opening with
    ``?token=`` through a real HTTP server (whose access log prints every request line)."""
    app = lite_secure
    caplog.set_level(logging.DEBUG)
    app.user("op-li", Role.DISPATCHER)
    wrong = "Wrong-Passw0rd-xyz"
    secrets_seen = {PASSWORD, wrong}
    client = app.client()
    for password in (wrong, PASSWORD):
        csrf = re.search(
            r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
        )
        assert csrf
        form = {"username": "op-li", "password": password, "csrf_token": csrf.group(1)}
        client.post("/login", data=form)
    cookie = client.get_cookie("gcc_session")
    assert cookie is not None
    secrets_seen.add(cookie.value)
    device = app.token(Role.GRID_WORKER, "phone")
    wall = app.token(Role.WALL, "screen")
    secrets_seen |= {device, wall, "gcc_unknown-token-value-123"}
    for token in (device, "gcc_unknown-token-value-123"):
        app.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    server = make_server("127.0.0.1", 0, app.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", f"/wall?lang=en&token={wall}")
        assert conn.getresponse().status == 302
        conn.close()
    finally:
        server.shutdown()
        thread.join(10)
    assert "token=***" in caplog.text  # the access log line was written, without the token
    for secret in secrets_seen:
        assert secret not in caplog.text
