"""Starting the simulator: inside the demo server, or against a server elsewhere.

``start_in_process(services)`` is what ``python run.py`` (the demo) calls: a background thread
acting through the app's own services on the region in its database. ``run_remote(...)`` is
``python run.py simulate --url … --token …``: the same simulation through the public API, on the
demo region regenerated from its scale and seed and cut to the villages the server holds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from dashboard.clock import Clock, FollowingClock, SystemClock
from dashboard.config import AppConfig
from dashboard.reference import load_reference
from dashboard.seed.rhythm import REPORTS_PER_DAY
from dashboard.simulator.client import ClientError
from dashboard.simulator.http_client import HttpClient
from dashboard.simulator.inprocess import InProcessClient
from dashboard.simulator.runner import Simulator, SimulatorThread
from dashboard.simulator.world import WorldError, world_from_db, world_from_seed
from dashboard.storage.db import Database
from dashboard.storage.models import SchemaInfo

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)


def seeded_scale(db: Database) -> str | None:
    """The scale the database was seeded with (``schema_info``), if it says."""
    with db.read() as session:
        value = session.scalar(select(SchemaInfo.value).where(SchemaInfo.key == "scale"))
    return value if value in REPORTS_PER_DAY else None


def demo_simulator(services: Services) -> Simulator:
    config = services.config
    cfg = config.simulator
    scale = seeded_scale(services.db) or config.demo.scale
    return Simulator(
        InProcessClient(services),
        world_from_db(services.db),
        services.reference,
        services.clock,
        seed=config.demo.seed if cfg.seed is None else cfg.seed,
        config=cfg,
        per_day=REPORTS_PER_DAY[scale],
    )


def start_in_process(services: Services) -> SimulatorThread | None:
    """The demo's simulator thread, or None (logged) when the database holds no region."""
    try:
        simulator = demo_simulator(services)
    except WorldError as err:
        logger.warning("simulator not started: %s", err)
        return None
    return SimulatorThread(simulator).start()


@dataclass(frozen=True)
class RemoteRun:
    url: str
    token: str
    scale: str
    seed: int
    duration_s: float | None = None  # None: until interrupted
    burst: int | None = None  # push this many reports as fast as possible, then stop
    threads: int = 1


def run_remote(run: RemoteRun, config: AppConfig, stop: threading.Event | None = None) -> int:
    """``run.py simulate``: 0 when it ran, 2 when it could not start (the reason printed)."""
    try:
        client = HttpClient(run.url, run.token)
        villages = {v.code for v in client.villages()}
    except ValueError as err:
        print(f"error: {err}")
        return 2
    except ClientError as err:
        print(f"error: cannot read the villages of {client.origin}: {err}")
        return 2
    try:
        world = world_from_seed(run.scale, run.seed).restrict_to(villages)
    except WorldError:
        print(
            f"error: the server holds none of the villages of the {run.scale} demo region with "
            f"seed {run.seed}; pass the --scale and --seed the server was seeded with"
        )
        return 2
    clock = server_clock(client)
    simulator = Simulator(
        client,
        world,
        load_reference(config),
        clock,
        seed=run.seed,
        config=config.simulator,
        per_day=REPORTS_PER_DAY[run.scale],
    )
    print(
        f"simulating {len(world.villages)} villages, {len(simulator.patrol.walkers)} workers "
        f"on patrol, against {client.origin} (Ctrl-C stops)"
    )
    if run.burst:
        result = simulator.burst(run.burst, threads=run.threads)
        print(
            f"burst: {result.created}/{result.sent} created, {result.refused} refused, "
            f"{result.failed} failed in {result.seconds:.1f} s ({result.per_second:.1f}/s)"
        )
        return 0 if result.created else 1
    return _loop(simulator, run.duration_s, stop or threading.Event())


def server_clock(client: HttpClient) -> Clock:
    """The clock of the server the simulator drives (two processes, one clock); this machine's
    own clock only for a server too old to say its time."""
    if client.server_time is None:
        logger.warning("%s does not say its time; using this machine's clock", client.origin)
        return SystemClock()
    return FollowingClock(client.server_time)


def _loop(simulator: Simulator, duration_s: float | None, stop: threading.Event) -> int:
    timer = threading.Timer(duration_s or 0, stop.set)
    timer.daemon = True
    if duration_s is not None:
        timer.start()
    worker = threading.Thread(target=simulator.run, args=(stop,), name="simulator")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        worker.join()
    timer.cancel()
    print(f"simulator: {simulator.stats.summary()}")
    if simulator.fatal:
        print(f"error: {simulator.fatal}")
        return 1
    return 0
