"""``run.py serve``: checks the deployment, then runs the production server (gunicorn).

The master process has migrated the database (dashboard.commands.dispatch); it closes its own
container before forking, and every worker builds a fresh one (``_worker_app``): the pages, the
live sockets, the outbox relay and the scheduler (one of all processes acts: its lease).
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import Any

from dashboard.config import AppConfig
from dashboard.container import Services

logger = logging.getLogger(__name__)


def deployment_problems(config: AppConfig) -> list[str]:
    """What keeps ``server.workers`` processes from serving together (empty: fine)."""
    problems = []
    if config.tracks.osmand_port == config.server.port:
        problems.append(
            "[tracks] osmand_port is the web port: give the OsmAnd door a port of its own "
            "(0: only /osmand on the web port)"
        )
    if config.server.workers == 1:
        return problems
    if config.bus.backend != "redis":
        problems.append(
            'several workers need [bus] backend = "redis" (the screens\' events and the '
            "Socket.IO message queue cross processes through Redis)"
        )
    if config.database_url().startswith("sqlite"):
        problems.append(
            "several workers need PostgreSQL (GCC_DATABASE_URL): the embedded SQLite database "
            "serves one process"
        )
    return problems


def serve_production(services: Services, secret_key: str) -> int:
    config = services.config
    problems = deployment_problems(config)
    if problems:
        for problem in problems:
            print(f"error: {problem}; or run with --workers 1", file=sys.stderr)
        return 2
    services.close()  # nothing opened here crosses the fork

    def build() -> tuple[Any, Services]:
        return _worker_app(config, secret_key)

    from dashboard.http.production import ProductionServer  # gunicorn: only when serving

    cfg = config.server
    print(
        f"指挥中心已启动 command center on {'https' if cfg.tls_files() else 'http'}://"
        f"{cfg.host}:{cfg.port}/ "
        f"(gunicorn, {cfg.workers} worker(s) × {cfg.threads} threads)",
        flush=True,
    )
    ProductionServer(config, build).run()
    return 0


def _worker_app(config: AppConfig, secret_key: str) -> tuple[Any, Services]:
    from dashboard.app import create_app
    from dashboard.reference import warn_calendar_gap
    from dashboard.scheduler import start_scheduler
    from dashboard.wiring import build_services, start_relay, start_webhooks

    services = build_services(config)
    # the pages, the live sockets, the socket guard; the OsmAnd port is the master's listener
    server = create_app(services, osmand_thread=False)
    server.secret_key = secret_key
    warn_calendar_gap(config, services.reference, services.clock.now())
    gc.collect()
    gc.freeze()  # as in the built-in server: long-lived objects out of the collector's view
    services.start(start_relay, start_webhooks, start_scheduler)
    return server, services
