"""The composition root: the one place that builds and wires every part.

Nothing connects to anything at import time. ``build_services(config)`` opens the database and
the bus and loads reference data; ``create_app(services)`` builds the Flask server and the Dash
pages on top of them. Tests build the same objects with their own config.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from dash import Dash, html, page_container
from flask import Flask

from dashboard.clock import Clock, SystemClock
from dashboard.config import AppConfig
from dashboard.reference import ReferenceData, load_reference
from dashboard.services.cases import CaseService
from dashboard.services.regions import RegionLocator
from dashboard.services.villages import rule_from_config
from dashboard.storage.db import Database
from streams.bus import EventBus, InMemoryBus

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
        database = self.db.ping()
        bus = self.bus.health()
        return {"ok": bool(database["ok"] and bus["ok"]), "database": database, "bus": bus}

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
        config.database_url(), echo=config.database.echo, pool_size=config.database.pool_size
    )
    reference = load_reference(config, clock.now())
    locator = RegionLocator(db)
    cases = CaseService(db, reference, locator, clock, rule_from_config(config.rules.village))
    return Services(config, clock, db, make_bus(config), reference, locator, cases)


def create_app(services: Services) -> Flask:
    from callbacks.status import register_status_page
    from dashboard.http.health import bp as health_bp

    server = Flask("dashboard")
    server.extensions["gcc"] = services
    server.register_blueprint(health_bp)
    app = Dash(
        "dashboard",
        server=server,
        title=services.config.ui.title,
        assets_folder=str(_assets()),
        update_title=None,
        serve_locally=True,  # the command room has no internet
        use_pages=True,
        pages_folder="",  # pages are registered explicitly below, never discovered
    )
    register_status_page(services)
    app.layout = html.Div(page_container, className="app")
    return server


def _assets() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent / "assets"
