"""The composition root of a server: the Flask server, the Dash pages and the live sockets.

``dashboard.wiring.build_services(config)`` fills the container (dashboard.container) with the
parts every process has; ``create_app(services)`` builds the Flask server on top of them: the
security layer and the HTTP API, the pages in ``PAGES``, then the live parts as start steps
(stopped in reverse by ``services.stop()``). Tests build the same objects with their own config.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from dash import Dash, html, page_container
from flask import Flask

from callbacks.case_list import register_case_list_page
from callbacks.case_workspace import register_case_workspace_page
from callbacks.department import register_department_page
from callbacks.frame_pages import register_frame_pages
from callbacks.status import register_status_page
from callbacks.supervision import register_supervision_page
from callbacks.trend_briefings import register_trend_briefings_page
from callbacks.trends import register_trends_page
from callbacks.video import register_video_page
from callbacks.wall import register_wall_page, wall_snapshot_for
from dashboard.container import Services
from dashboard.http.api import register_api
from dashboard.http.health import bp as health_bp
from dashboard.http.not_found import install_not_found
from dashboard.http.unavailable import install_unavailable
from dashboard.security.sessions import CSRF_COOKIE, CSRF_HEADER
from dashboard.security.setup import install_headers, install_security
from dashboard.security.sockets import make_socket_authenticator
from streams.socket import start_live
from streams.socket_guard import start_socket_guard
from streams.video_socket import start_video

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "assets"

# The pages, in registration order ("not found" last: it catches every other path).
PAGES = (
    register_status_page,  # /
    register_wall_page,  # /wall
    register_video_page,  # /video
    register_case_workspace_page,  # /cases/<case_id>
    register_case_list_page,  # /cases (search, CSV)
    register_department_page,  # /department
    register_supervision_page,  # /supervision
    register_trends_page,  # /trends (leaders)
    register_trend_briefings_page,  # /trends/briefings
    register_frame_pages,  # /field and "not found"
)


def create_app(services: Services) -> Flask:
    server = Flask("dashboard")
    server.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024  # photos; larger bodies get 413
    server.extensions["gcc"] = services
    security = install_security(server, services)  # principal, CSRF, sign-in, audit, limits
    services.authenticate_socket = make_socket_authenticator(security)  # /live and /video
    install_unavailable(server)  # a database away: 503 with Retry-After, never a 500
    server.register_blueprint(health_bp)
    register_api(server, services)
    app = Dash(
        "dashboard",
        server=server,  # type: ignore[arg-type]  # Dash's hint omits the Flask it documents
        title=services.config.ui.title,
        assets_folder=str(ASSETS),
        update_title=None,  # type: ignore[arg-type]  # None (no "Updating…") is documented
        serve_locally=True,  # the command room has no internet
        use_pages=True,
        pages_folder="",  # pages are registered explicitly below, never discovered
        csrf_token_name=CSRF_COOKIE,  # dash-renderer echoes this cookie in every request ...
        csrf_header_name=CSRF_HEADER,  # ... in this header (dashboard.security.web checks it)
        # Page layouts are built per request behind page_guard (the validation layout is only
        # its placeholder), so dash-renderer's check of callback ids against that layout would
        # log "ID not found in layout" for every page's callbacks on every page.
        suppress_callback_exceptions=True,
    )
    install_headers(server, app)  # CSP with the hashes of Dash's inline scripts
    install_not_found(server)  # unknown /_dash-component-suites paths: 404, not a 500
    for register_page in PAGES:
        register_page(services)
    app.layout = html.Div(page_container, className="app")
    services.wall_snapshot = wall_snapshot_for(services)  # the live wall's snapshot data
    services.start(
        partial(start_live, server),  # Socket.IO on this server, /live: the hub on the bus
        start_video,  # /video: the capture client, frame fan-out, status poller
        start_socket_guard,  # sockets that do not authenticate in time: closed
    )
    return server
