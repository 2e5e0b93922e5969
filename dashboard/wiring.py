"""Filling the container: ``build_services(config)`` and the start steps of a server process.

Nothing connects to anything at import time. ``build_services`` opens the database and the bus,
loads reference data and builds the parts every process has (the CLI's ``token``, ``user``,
``db`` and ``seed`` commands use only these). A server then starts its parts as steps
(dashboard.container.Step), in this order, and stops them in the reverse one:

- ``create_app`` (dashboard.app): ``start_live``, ``start_video``, ``start_socket_guard``;
- the demo first: ``start_simulator``, ``start_capture_child``;
- right before serving: ``start_relay``, ``start_webhooks``, ``start_scheduler`` (the demo and
  ``serve --dev`` in dashboard.commands; ``serve`` in each gunicorn worker, dashboard.launch).
"""

from __future__ import annotations

from dashboard.clock import Clock, SystemClock
from dashboard.config import AppConfig
from dashboard.container import Services, Stop
from dashboard.http.stream_limits import FullViewLimits
from dashboard.reference import load_reference
from dashboard.services.briefing_sections import register as register_briefing_sections
from dashboard.services.cases import CaseService
from dashboard.services.photos import DecodeBudget, PhotoStore
from dashboard.services.regions import RegionLocator
from dashboard.services.villages import rule_from_config
from dashboard.services.webhook_sender import WebhookDispatcher, WebhookSender
from dashboard.services.webhooks import enqueue_step
from dashboard.storage.bus import EventBus, InMemoryBus
from dashboard.storage.db import Database
from dashboard.storage.outbox import wake_on_outbox_commit
from dashboard.storage.timeouts import Timeouts
from streams.relay import OutboxRelay

_MIB = 1024 * 1024


def make_bus(config: AppConfig) -> EventBus:
    if config.bus.backend == "redis":
        from streams.redis_bus import RedisBus  # redis-py only when configured

        return RedisBus(config.bus.redis_url, config.bus.channel)
    return InMemoryBus()


def make_photos(config: AppConfig) -> PhotoStore:
    security = config.security
    return PhotoStore(
        config.data_dir() / "photos",
        max_bytes=int(security.max_photo_mb * _MIB),
        max_pixels=int(security.max_photo_megapixels * 1_000_000),
        budget=DecodeBudget(int(security.max_decode_mb * _MIB)),
    )


def build_services(config: AppConfig, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    db = Database.from_url(
        config.database_url(),
        echo=config.database.echo,
        pool_size=config.database.pool_size,
        timeouts=Timeouts.from_config(config.database),
    )
    reference = load_reference(config)
    locator = RegionLocator(db)
    cases = CaseService(db, reference, locator, clock, rule_from_config(config.rules.village))
    cases.observers.append(enqueue_step)  # webhook deliveries, in each step's transaction
    bus = make_bus(config)
    relay = OutboxRelay(db, bus, clock)
    # The relay runs only in a server (start_relay), but every commit that adds outbox rows
    # wakes it, whichever process made it.
    wake_on_outbox_commit(db.sessions, relay.notify)
    video = config.video
    full_views = FullViewLimits(video.max_full_views_per_viewer, video.max_full_views)
    photos = make_photos(config)
    register_briefing_sections(db, reference, clock)  # the briefing's leadership sections
    return Services(config, clock, db, bus, reference, locator, cases, photos, relay, full_views)


def start_relay(services: Services) -> Stop:
    """Publish the outbox on the bus while the server runs."""
    services.relay.start()
    return services.relay.stop


def start_webhooks(services: Services) -> Stop:
    """Send the webhook deliveries (docs/integrations.md) while the server runs."""
    cfg = services.config.integrations
    sender = WebhookSender(services.db, services.clock, cfg)
    dispatcher = WebhookDispatcher(sender, cfg.webhook_poll_seconds)
    dispatcher.start()
    return dispatcher.stop


def start_simulator(services: Services) -> Stop | None:
    """The demo's simulated field workers (off with ``--no-simulator``)."""
    if not services.config.demo.simulator:
        return None
    from dashboard.simulator.launch import start_in_process  # the demo only

    simulator = start_in_process(services)
    return simulator.stop if simulator is not None else None


def start_capture_child(services: Services, config_path: str | None = None) -> Stop | None:
    """The demo's camera reader, a ``run.py capture`` child with the same ``--config``; it puts
    the capture secret in this process's environment for start_video's client."""
    from streams.capture.launch import start_capture_child as launch  # the demo only

    child = launch(services.config, config_path)
    return child.stop if child is not None else None
