"""The composition root: the one place that builds and wires every part.

Nothing connects to anything at import time. ``build_services(config)`` opens the database and
the bus and loads reference data; ``create_app(services)`` builds the Flask server and the Dash
pages on top of them. Tests build the same objects with their own config.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from dashboard.clock import Clock, SystemClock
from dashboard.config import AppConfig
from dashboard.health import Check, HealthProbe
from dashboard.reference import ReferenceData, load_reference
from dashboard.services.cases import CaseService
from dashboard.services.regions import RegionLocator
from dashboard.services.villages import rule_from_config
from dashboard.storage.db import Database
from dashboard.storage.timeouts import Timeouts
from streams.bus import EventBus, InMemoryBus
from streams.relay import OutboxRelay, wake_on_outbox_commit

logger = logging.getLogger(__name__)


@dataclass
class Services:
    config: AppConfig
    clock: Clock
    db: Database
    bus: EventBus
    reference: ReferenceData
    locator: RegionLocator
    cases: CaseService
    extras: dict[str, Any] = field(default_factory=dict)

    def health(self) -> dict[str, Any]:
        """Readiness and the state of each part, within a bounded time (dashboard.health)."""
        probe = self.extras.get("health")
        if probe is None:
            probe = self.extras["health"] = HealthProbe(
                self.health_checks, self.config.health.check_timeout_seconds
            )
        return probe.report()  # type: ignore[no-any-return]

    def health_checks(self) -> dict[str, Check]:
        """The parts running in this process: the database and bus always, capture and the
        scheduler when this process uses them."""
        checks: dict[str, Check] = {"database": self.db.ping, "bus": self.bus.health}
        capture = self.extras.get("capture")
        if capture is not None:
            checks["capture"] = capture.health
        scheduler = self.extras.get("scheduler")
        if scheduler is not None:
            checks["scheduler"] = scheduler.health
        return checks

    def close(self) -> None:
        self.bus.close()
        self.db.dispose()


def make_bus(config: AppConfig) -> EventBus:
    if config.bus.backend == "redis":
        from streams.redis_bus import RedisBus

        return RedisBus(config.bus.redis_url, config.bus.channel)
    return InMemoryBus()


def build_services(config: AppConfig, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    db = Database.from_url(
        config.database_url(),
        echo=config.database.echo,
        pool_size=config.database.pool_size,
        timeouts=Timeouts.from_config(config.database),
    )
    reference = load_reference(config, clock.now())
    locator = RegionLocator(db)
    cases = CaseService(db, reference, locator, clock, rule_from_config(config.rules.village))
    services = Services(config, clock, db, make_bus(config), reference, locator, cases)
    # The outbox relay (started by `serve`): woken by every commit that adds outbox rows.
    relay = OutboxRelay(db, services.bus, clock)
    wake_on_outbox_commit(db.sessions, relay.notify)
    services.extras["relay"] = relay
    return services


def create_app(services: Services) -> Flask:
    # Dash is imported here, not at the top: CLI commands that never serve pages (token,
    # user, db, seed) build services only and should not pay for it.
    from dash import Dash, html, page_container

    from callbacks.status import register_status_page
    from dashboard.http.api import register_api
    from dashboard.http.health import bp as health_bp
    from dashboard.http.unavailable import install_unavailable
    from dashboard.security.sessions import CSRF_COOKIE, CSRF_HEADER
    from dashboard.security.setup import install_headers, install_security

    server = Flask("dashboard")
    server.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024  # photos; larger bodies get 413
    server.extensions["gcc"] = services
    install_security(server, services)  # principal, CSRF, sign-in pages, audit, rate limits
    install_unavailable(server)  # a database away: 503 with Retry-After, never a 500
    server.register_blueprint(health_bp)
    register_api(server, services)
    app = Dash(
        "dashboard",
        server=server,
        title=services.config.ui.title,
        assets_folder=str(_assets()),
        update_title=None,
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
    from dashboard.http.not_found import install_not_found

    install_not_found(server)  # unknown /_dash-component-suites paths: 404, not a 500
    register_status_page(services)
    from callbacks.wall import register_wall_page, wall_snapshot_for  # the wall (/wall)

    register_wall_page(services)
    services.extras["wall_snapshot"] = wall_snapshot_for(services)  # the live snapshot's data
    from callbacks.video import register_video_page  # the video wall (/video)

    register_video_page(services)
    from callbacks.case_workspace import register_case_workspace_page  # /cases/<case_id>

    register_case_workspace_page(services)
    from callbacks.case_list import register_case_list_page  # /cases (search, CSV)
    from callbacks.department import register_department_page  # /department

    register_case_list_page(services)
    register_department_page(services)
    from callbacks.supervision import register_supervision_page  # /supervision

    register_supervision_page(services)
    from callbacks.frame_pages import register_frame_pages  # /field and "not found"

    register_frame_pages(services)
    app.layout = html.Div(page_container, className="app")
    from streams.socket import init_socketio  # the live wall's websocket (namespace /live)

    services.extras["socketio"] = init_socketio(server, services)
    from streams.capture.client import CaptureClient  # the video wall: capture service ...
    from streams.video_socket import init_video  # ... and its namespace /video

    services.extras.setdefault("capture", CaptureClient.from_config(services.config.video))
    init_video(services.extras["socketio"], services)
    from streams import protocol, video_socket
    from streams.socket_guard import SocketGatekeeper  # unauthenticated sockets: closed

    namespaces = (protocol.NAMESPACE, video_socket.NAMESPACE)
    grace = services.config.security.socket_auth_seconds
    gatekeeper = SocketGatekeeper(services.extras["socketio"].server, namespaces, grace)
    services.extras["socket_guard_stop"] = gatekeeper.start()
    return server


def _assets() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent / "assets"
