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
from callbacks.leadership import register_leadership_pages
from callbacks.residents import register_residents_page
from callbacks.status import register_status_page
from callbacks.supervision import register_supervision_page
from callbacks.tracks import register_tracks_page
from callbacks.trend_briefings import register_trend_briefings_page
from callbacks.trends import register_trends_page
from callbacks.video import register_video_page
from callbacks.wall import register_wall_page, wall_snapshot_for
from dashboard.container import Services
from dashboard.http.admin import bp as admin_bp
from dashboard.http.api import register_api
from dashboard.http.compression import install_compression
from dashboard.http.field import register_field_app
from dashboard.http.health import bp as health_bp
from dashboard.http.not_found import install_not_found
from dashboard.http.open311 import register_open311
from dashboard.http.openapi import register_openapi
from dashboard.http.osmand import start_osmand_port
from dashboard.http.unavailable import install_unavailable
from dashboard.security.audit_page import bp as audit_page_bp
from dashboard.security.devices_page import bp as devices_page_bp
from dashboard.security.pages import bp as sign_in_bp
from dashboard.security.sessions import CSRF_COOKIE, CSRF_HEADER
from dashboard.security.setup import install_headers, install_security
from dashboard.security.sockets import make_socket_authenticator
from dashboard.security.webhooks_page import bp as webhooks_page_bp
from streams.field_socket import start_field_socket
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
    register_tracks_page,  # /tracks (patrol track replay)
    register_residents_page,  # /residents (points and services, issue 18)
    register_leadership_pages,  # /trends/rising, /trends/campaigns, /trends/rankings
    register_trends_page,  # /trends (leaders)
    register_trend_briefings_page,  # /trends/briefings
    register_frame_pages,  # /field and "not found"
)


def create_app(services: Services, *, osmand_thread: bool = True) -> Flask:
    """``osmand_thread``: serve ``[tracks] osmand_port`` from this process (the built-in
    server); the production server binds it in its master and passes False."""
    server = Flask("dashboard")
    server.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024  # photos; larger bodies get 413
    server.extensions["gcc"] = services
    security = install_security(server, services)  # principal, CSRF, sign-in, audit, limits
    services.authenticate_socket = make_socket_authenticator(security)  # /live and /video
    # /login, /admin, /admin/audit, /admin/devices (trackers, issue 16), /admin/webhooks (17)
    for blueprint in (sign_in_bp, admin_bp, audit_page_bp, devices_page_bp, webhooks_page_bp):
        server.register_blueprint(blueprint)
    install_unavailable(server)  # a database away: 503 with Retry-After, never a 500
    install_compression(server)  # gzip for pages, scripts, JSON and GeoJSON
    server.register_blueprint(health_bp)
    register_api(server, services)
    register_field_app(server)  # /m: the grid workers' phone app (issue 14)
    register_open311(server, services)  # /open311/v2/ (issue 17)
    register_openapi(server)  # /api/v1/openapi.json (issue 17)
    app = Dash(
        "dashboard",
        server=server,  # type: ignore[arg-type]  # Dash's hint omits the Flask it documents
        title=services.config.ui.title,
        assets_folder=str(ASSETS),
        assets_path_ignore=["field"],  # the phone app's own scripts: only /m loads them
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
        start_field_socket,  # /field: the phones' tasks and the video calls (issue 14)
        start_socket_guard,  # sockets that do not authenticate in time: closed
        # [tracks] osmand_port: OsmAnd at / on its own port (gunicorn: in its master)
        *([partial(start_osmand_port, server)] if osmand_thread else []),
    )
    return server
