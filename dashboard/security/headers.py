"""Security headers on every response, with a Content-Security-Policy that Dash 4.4 works with.

What Dash 4.4 needs, measured in headless Chromium (console read for CSP violations) on a Dash
page with scatter, bar, scattergl and scattermap figures, and on the real status and wall pages
(tests/e2e/test_security_browser.py fails on any CSP message in the console):

- scripts: ``'self'`` plus the SHA-256 of each inline script. Dash's index page has one inline
  script that runs (``var renderer = new DashRenderer();``) and every inline clientside callback
  is one more; ``Dash.csp_hashes()`` lists them. Hashes rather than a nonce: the index page is
  the same for everyone, so no per-request template work. Dash pages registers a clientside
  callback on the first request, so the hashes are recomputed whenever Dash's list of inline
  scripts grows. The ``_dash-config`` block is ``type="application/json"``: not executed, so CSP
  does not apply to it. No ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts: all four
  trace types above (including WebGL ``scattergl`` and MapLibre ``scattermap``) drew without them.
- styles: ``'unsafe-inline'`` is required: without it dash-renderer and dcc components log
  "Applying inline style violates … style-src" (they and Plotly inject style elements). Styles
  cannot run code, so this is the accepted trade.
- ``worker-src 'self' blob:``: required by map traces: without ``blob:`` MapLibre (inside
  plotly.min.js) is refused "Creating a worker from 'blob:…'".
- ``img-src 'self' data: blob:`` for map sprites and Leaflet's icons; ``font-src`` adds ``data:``.
- ``connect-src 'self'`` plus ``ws://host`` and ``wss://host`` of the page's own host: the
  callbacks and Socket.IO's websocket. No other origin anywhere: the command room is offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from flask import Flask, Response, request

STATIC: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
HSTS = "max-age=31536000; includeSubDomains"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


class ScriptHashes:
    """Dash's inline-script hashes, recomputed only when its list of inline scripts changes."""

    def __init__(self, source: Callable[[], Sequence[str]], size: Callable[[], int]) -> None:
        self._source = source
        self._size = size
        self._seen = -1
        self._hashes: tuple[str, ...] = ()

    def get(self) -> tuple[str, ...]:
        size = self._size()
        if size != self._seen:
            self._hashes = tuple(self._source())
            self._seen = self._size()
        return self._hashes


def content_security_policy(host: str, script_hashes: Sequence[str]) -> str:
    # The Host header is the client's to choose: a malformed one gets no websocket origin rather
    # than a chance to write its own directives into the policy.
    sockets = [f"ws://{host}", f"wss://{host}"] if _HOST.match(host) else []
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *sockets],
        "worker-src": ["'self'", "blob:"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def init_headers(server: Flask, hashes: ScriptHashes | None = None) -> None:
    @server.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in STATIC.items():
            response.headers.setdefault(name, value)
        inline = hashes.get() if hashes is not None else ()
        response.headers["Content-Security-Policy"] = content_security_policy(request.host, inline)
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response


def dash_script_hashes(app: object) -> ScriptHashes:
    """The hash source for a Dash app (``Dash.csp_hashes`` and its inline-script lists)."""
    from dash import _callback

    def size() -> int:
        own = getattr(app, "_inline_scripts", [])
        return len(own) + len(_callback.GLOBAL_INLINE_SCRIPTS)

    return ScriptHashes(app.csp_hashes, size)  # type: ignore[attr-defined]
