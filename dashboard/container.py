"""The container: every long-lived part of one process, typed, and the order they stop in.

It sits below every edge (HTTP, pages, callbacks, streams): it imports only the core, storage
and the services at run time, the edges' types only for the type checker. ``build_services``
(dashboard.wiring) fills the parts every process has; the edges' parts start later, each as a
*step* ``(services) -> stop | None`` passed to ``Services.start``: ``create_app`` starts the
live Socket.IO server, the video namespace and the socket guard, ``serve`` the outbox relay and
the scheduler, the demo its simulator and capture child first. ``stop()`` runs the stops in the
reverse order of their starts; ``close()`` stops and then closes the bus and the database.

A new part: a typed field here (``None`` until its step runs, when not every process has it),
a step that builds it, sets the field and returns how to stop it, and one line in the start list
of the process that runs it (docs/architecture.md, "The container").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dashboard.clock import Clock
from dashboard.config import AppConfig
from dashboard.health import Check, HealthProbe
from dashboard.reference import ReferenceData
from dashboard.services.cases import CaseService
from dashboard.services.photos import PhotoStore
from dashboard.services.points import PointsService
from dashboard.services.regions import RegionLocator
from dashboard.services.service_requests import ServiceRequests
from dashboard.storage.db import Database

if TYPE_CHECKING:
    from flask_socketio import SocketIO

    from dashboard.http.stream_limits import FullViewLimits
    from dashboard.scheduler import WatcherScheduler
    from dashboard.security.principal import Principal
    from dashboard.storage.bus import EventBus
    from streams.capture.client import CaptureClient
    from streams.relay import OutboxRelay

logger = logging.getLogger(__name__)

Stop = Callable[[], None]
"""Stops one started part (threads joined, connections closed); called once."""

Step = Callable[["Services"], Stop | None]
"""Starts one part: builds it, puts it in its field, returns how to stop it (None: nothing)."""

SocketAuthenticator = Callable[[Any], "Principal | None"]
"""``(auth) -> Principal | None`` inside a Socket.IO handshake (dashboard.security.sockets)."""

SnapshotProvider = Callable[["Principal", bool], Mapping[str, Any]]  # (principal, with positions)
"""``(principal) -> data`` of the live wall's snapshot (callbacks.wall.wall_snapshot_for)."""


@dataclass
class Services:
    # Every process (dashboard.wiring.build_services).
    config: AppConfig
    clock: Clock
    db: Database
    bus: EventBus
    reference: ReferenceData
    locator: RegionLocator
    cases: CaseService
    photos: PhotoStore  # case photos on disk: the API and the case pages share it
    relay: OutboxRelay  # publishes the outbox on the bus; runs from start_relay (serve)
    full_views: FullViewLimits  # full-size camera streams open per viewer and in all
    # A server process (create_app), in start order.
    authenticate_socket: SocketAuthenticator | None = None  # install_security
    wall_snapshot: SnapshotProvider | None = None  # the wall page
    socketio: SocketIO | None = None  # start_live
    capture: CaptureClient | None = None  # start_video, unless a test put its own first
    scheduler: WatcherScheduler | None = None  # start_scheduler (serve, when enabled)
    _stops: list[tuple[str, Stop]] = field(default_factory=list, repr=False)
    _probe: HealthProbe | None = field(default=None, repr=False)

    # The residents' side (issue 18): built on first use from the parts above.
    @cached_property
    def points(self) -> PointsService:
        reference = self.reference
        return PointsService(self.db, self.clock, reference.points_items, reference.calendar)

    @cached_property
    def service_requests(self) -> ServiceRequests:
        reference, rules = self.reference, self.config.rules
        return ServiceRequests(
            self.db,
            self.clock,
            reference.service_items,
            reference.calendar,
            rules.deadline.yellow_at,
        )

    @cached_property
    def papers(self) -> PhotoStore:
        """Photographed papers of service requests (ID card copies): apart from case photos,
        served only to who handles the request."""
        photos = self.photos
        return PhotoStore(
            self.config.data_dir() / "papers", photos.max_bytes, photos.max_pixels, photos.budget
        )

    def start(self, *steps: Step) -> None:
        """Run the steps in order; each one's stop joins the stop list."""
        for step in steps:
            stop = step(self)
            if stop is not None:
                self._stops.append((_name(step), stop))

    def stop(self) -> None:
        """Stop every started part, the last started first. A failing stop is logged and the
        others still run (the process is going down either way)."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception:
                logger.exception("stopping %s failed", name)

    def started(self) -> list[str]:
        """The names of the running steps, in start order (for logs and tests)."""
        return [name for name, _ in self._stops]

    def close(self) -> None:
        self.stop()
        self.bus.close()
        self.db.dispose()

    def health(self) -> dict[str, Any]:
        """Readiness and the state of each part, within a bounded time (dashboard.health)."""
        if self._probe is None:
            timeout = self.config.health.check_timeout_seconds
            self._probe = HealthProbe(self.health_checks, timeout)
        return self._probe.report()

    def health_checks(self) -> dict[str, Check]:
        """The parts running in this process: the database and bus always, capture and the
        scheduler when this process uses them."""
        checks: dict[str, Check] = {"database": self.db.ping, "bus": self.bus.health}
        if self.capture is not None:
            checks["capture"] = self.capture.health
        if self.scheduler is not None:
            checks["scheduler"] = self.scheduler.health
        return checks


def _name(step: Step) -> str:
    func = getattr(step, "func", step)  # a functools.partial names its function
    return str(getattr(func, "__name__", repr(step)))
