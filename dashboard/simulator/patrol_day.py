"""A recorded patrol day: the simulator's walkers (dashboard.simulator.patrol) run over a past
day at once, their fixes stored through the positions service with the GPS filters — for the
replay page's demo data, its browser test and the track benchmarks.

``python -m dashboard.simulator.patrol_day --config PATH [--day YYYY-MM-DD] [--workers N]``
records a day for the first N workers of the configured database (default: yesterday, 40).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dashboard.config import SimulatorConfig, load_config
from dashboard.services.positions import Fix, PositionService
from dashboard.simulator.patrol import Patrol, Shift
from dashboard.simulator.world import World, world_from_db
from dashboard.storage.bus import InMemoryBus
from dashboard.storage.db import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")


def day_fixes(
    world: World,
    worker_ids: Sequence[str],
    day: date,
    cfg: SimulatorConfig,
    seed: int,
    tz: ZoneInfo = SHANGHAI,
) -> list[Fix]:
    """Every fix the chosen workers' phones send on ``day`` (the shift, local time)."""
    shift = Shift.from_config(cfg, tz)
    chosen = [w for w in world.workers if w.id in set(worker_ids)]
    start = datetime.combine(day, time(0, 0), tz)
    patrol = Patrol(world, chosen, shift, cfg, seed, start)
    return [
        Fix(f.worker, f.lon, f.lat, f.at, f.accuracy) for f in patrol.due(start + timedelta(days=1))
    ]


def record_day(db: Database, day: date, workers: int, seed: int = 7) -> int:
    """Store a patrol day of the first ``workers`` workers; the number of fixes stored."""
    from dashboard.services.regions import RegionLocator

    world = world_from_db(db)
    ids = [w.id for w in world.workers[:workers]]
    fixes = day_fixes(world, ids, day, SimulatorConfig(), seed)
    service = PositionService(db, InMemoryBus(), RegionLocator(db))
    now = datetime.combine(day + timedelta(days=1), time(0, 0), SHANGHAI)
    for i in range(0, len(fixes), 5000):
        service.store(fixes[i : i + 5000], now)
    return len(fixes)


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--config", required=True)
    p.add_argument("--day", type=date.fromisoformat)
    p.add_argument("--workers", type=int, default=40)
    args = p.parse_args(argv)
    config = load_config(args.config)
    db = Database.from_url(config.database_url())
    day = args.day or (datetime.now(SHANGHAI).date() - timedelta(days=1))
    print(f"{record_day(db, day, args.workers)} fixes stored for {day}")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
