"""The scheduled watchers (APScheduler 3.x ``BackgroundScheduler``), one acting per deployment.

Every server process (``serve``, the demo) starts a scheduler; before each job it takes or renews
the lease row ``scheduler_leases[name="watchers"]`` with one atomic conditional statement
(``UPDATE … WHERE holder = me OR expires_at <= now``, else ``INSERT … ON CONFLICT DO NOTHING``).
Only the holder runs the job; the others skip it and try again next time, so when the holder dies
another process takes over once the lease expired (``lease_seconds``). The lease is renewed by
every job and by its own job every third of the lease. Should two processes ever act at once (a
holder stalled past its lease), the watchers' unique keys still keep every item single; and as
the watchers derive what is due from the data, a restart or a takeover loses nothing.

Each run leaves a ``watcher_runs`` row (job, holder, start, end, items, error) for the health
view and the benchmarks.

The jobs are ``Watcher``s in one list, ``WatcherScheduler.watchers``: a new watcher is one entry
there (its name, when it runs, what it does); nothing else in this module changes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.clock import Clock
from dashboard.config import AppConfig
from dashboard.domain.permissions import UNLIMITED
from dashboard.reference import ReferenceData
from dashboard.services.patrol_days import refresh as refresh_patrol_days
from dashboard.services.rollups import missing_days
from dashboard.services.trend_briefing import due_briefing, file_name, folder, make_briefing
from dashboard.services.trend_rollups import refresh as refresh_trends
from dashboard.services.watch_common import Locator, WatchSettings
from dashboard.services.watchers import (
    MomentCache,
    run_deadline_watch,
    run_patrol_watch,
    run_rollups,
    run_village_watch,
)
from dashboard.storage.db import Database
from dashboard.storage.models import SchedulerLease, WatcherRun
from dashboard.storage.partitions import maintain
from layouts.trend_briefing import briefing_html

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

LEASE_NAME = "watchers"


@dataclass(frozen=True)
class Every:
    """Every ``seconds``, the first run at the start."""

    seconds: float


@dataclass(frozen=True)
class Nightly:
    """Daily at ``hour`` (the calendar's zone), and once at the start (to catch up)."""

    hour: int


class Watcher(Protocol):
    """One scheduled job. ``name`` is its ``watcher_runs.job`` and its id in the scheduler;
    ``alone`` runs it under a lock of its own (long reads that must not delay the others, which
    run one at a time per process: SQLite has one writer); ``run(now)`` returns how many items it
    raised or wrote."""

    @property
    def name(self) -> str: ...

    @property
    def when(self) -> Every | Nightly: ...

    @property
    def alone(self) -> bool: ...

    def run(self, now: datetime) -> int: ...


@dataclass(frozen=True)
class Job:
    """A ``Watcher`` made of a function."""

    name: str
    when: Every | Nightly
    run: Callable[[datetime], int]
    alone: bool = False


TRENDS_REFRESH_SECONDS = 300  # the trend roll-up follows the cases (the page refreshes too)
BRIEFING_HOUR = 7  # local: the monthly briefing on the first working day of the month


def make_holder() -> str:
    """``host:pid:uuid`` — unique per process even when pids are reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class Lease:
    """The deployment-wide lease in ``scheduler_leases``; ``acquire`` takes or renews it."""

    def __init__(self, db: Database, holder: str, seconds: float, name: str = LEASE_NAME) -> None:
        self.db, self.holder, self.name = db, holder, name
        self.ttl = timedelta(seconds=seconds)

    def acquire(self, now: datetime) -> bool:
        """Take the lease if it is free or expired, renew it if held; True when held now."""
        table = SchedulerLease.__table__
        values = {"holder": self.holder, "expires_at": now + self.ttl, "renewed_at": now}
        with self.db.transaction() as session:
            renewed = session.execute(
                update(table)
                .where(
                    table.c.name == self.name,
                    or_(table.c.holder == self.holder, table.c.expires_at <= now),
                )
                .values(**values)
                .returning(table.c.name)
            ).first()
            if renewed is not None:
                return True
            make = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
            taken = session.execute(
                make(table)
                .values(name=self.name, **values)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(table.c.name)
            ).first()
            return taken is not None

    def release(self, now: datetime) -> None:
        """Let another process take over at once (a clean stop)."""
        table = SchedulerLease.__table__
        with self.db.transaction() as session:
            session.execute(
                update(table)
                .where(table.c.name == self.name, table.c.holder == self.holder)
                .values(expires_at=now)
            )

    def current_holder(self) -> str | None:
        with self.db.read() as session:
            return session.scalar(
                select(SchedulerLease.holder).where(SchedulerLease.name == self.name)
            )


class WatcherScheduler:
    """The jobs of this process, acting only while it holds the lease."""

    def __init__(
        self,
        db: Database,
        reference: ReferenceData,
        config: AppConfig,
        clock: Clock,
        locate: Locator | None = None,
        holder: str | None = None,
    ) -> None:
        self.db, self.reference, self.config, self.clock = db, reference, config, clock
        self.locate = locate
        self.settings = WatchSettings.from_config(config, reference)
        sup = config.supervision
        self.lease = Lease(db, holder or make_holder(), sup.lease_seconds)
        self.cache = MomentCache()
        self._scheduler: BackgroundScheduler | None = None
        self.watchers: dict[str, Watcher] = {w.name: w for w in self._watchers()}
        self._watch_lock = threading.Lock()  # one watcher at a time per process ...
        self._locks = {w.name: threading.Lock() for w in self.watchers.values() if w.alone}

    def _watchers(self) -> tuple[Watcher, ...]:
        """The one list of this process's watchers, in start order."""
        db, ref, settings, sup = self.db, self.reference, self.settings, self.config.supervision
        return (
            Job(
                "deadline",  # reminders at the yellow light, supervision orders at the red one
                Every(sup.deadline_interval_seconds),
                lambda now: run_deadline_watch(db, ref, now, settings, self.cache).items,
            ),
            Job(
                "village",  # the call list of red villages
                Every(sup.village_interval_seconds),
                lambda now: run_village_watch(db, ref, now, settings).items,
            ),
            Job(
                "patrol",  # grid workers silent or outside their grid
                Every(sup.patrol_interval_seconds),
                lambda now: run_patrol_watch(db, ref, now, settings, self.locate).items,
            ),
            # ... the roll-up (long reads when it catches up on missing days) beside them
            Job("rollups", Nightly(sup.rollup_hour), self._rollups, alone=True),
            # day partitions of the position fixes ahead, and their retention (issue 16)
            Job(
                "partitions", Every(self.config.tracks.partition_interval_seconds), self._partitions
            ),
            # the leaders' trend roll-up follows the cases; the monthly briefing (issue 13)
            Job(
                "trends",
                Every(TRENDS_REFRESH_SECONDS),
                lambda now: refresh_trends(db, ref.calendar),
                alone=True,
            ),
            Job("briefing", Nightly(BRIEFING_HOUR), self._briefing, alone=True),
            # the grid workers' patrol per day for the rankings: yesterday, stale days back-filled
            Job(
                "patrol-days",
                Nightly(sup.rollup_hour),
                lambda now: refresh_patrol_days(
                    db, self.config.tracks, ref.calendar.tz, now, sup.rollup_catchup_days
                ),
                alone=True,
            ),
        )

    @property
    def holder(self) -> str:
        return self.lease.holder

    # --- the jobs -----------------------------------------------------------------------------

    def run_job(self, job: str) -> bool:
        """Run ``job`` now if this process holds (or takes) the lease; True when it ran."""
        watcher = self.watchers[job]
        with self._locks.get(job, self._watch_lock):
            now = self.clock.now()
            if not self.lease.acquire(now):
                return False
            items, error = 0, None
            try:
                items = watcher.run(now)
            except Exception as err:  # a failed run is recorded, the next one retries
                logger.exception("watcher %s failed", job)
                error = f"{type(err).__name__}: {err}"[:2000]
            self._record(job, now, items, error)
            return True

    def _rollups(self, now: datetime) -> int:
        """Yesterday's roll-up (the nightly job), plus any missing day of the catch-up window."""
        today = now.astimezone(self.reference.calendar.tz).date()
        back = max(1, self.config.supervision.rollup_catchup_days)
        days = set(missing_days(self.db, self.reference, today, back))
        days.add(today - timedelta(days=1))
        rows = sum(run_rollups(self.db, self.reference, day, now) for day in sorted(days))
        first, last = min(days), max(days)
        span = str(first) if first == last else f"{len(days)} days, {first} to {last}"
        logger.info("roll-ups: %s, %d rows", span, rows)
        return rows

    def _briefing(self, now: datetime) -> int:
        """The previous month's briefing of the whole deployment, on the first working day of
        the month (once: an existing file is kept)."""
        month = due_briefing(self.reference.calendar, now)
        if month is None:
            return 0
        data_dir, lang = self.config.data_dir(), self.config.ui.language
        if (folder(data_dir) / file_name(month, UNLIMITED, lang)).exists():
            return 0
        title = self.config.ui.title if lang == "zh" else ""
        make_briefing(
            self.db, self.reference, data_dir, month, now, UNLIMITED, briefing_html, lang, title
        )
        logger.info("monthly briefing of %s made", f"{month:%Y-%m}")
        return 1

    def _partitions(self, now: datetime) -> int:
        """Day partitions of position_fixes ahead, and the retention (issue 16)."""
        tracks = self.config.tracks
        done = maintain(self.db, now, tracks.partition_days_ahead, tracks.retention_days)
        return done.items

    def _record(self, job: str, started: datetime, items: int, error: str | None) -> None:
        try:
            with self.db.transaction() as session:
                session.add(
                    WatcherRun(
                        job=job,
                        holder=self.holder,
                        started_at=started,
                        finished_at=max(started, self.clock.now()),
                        items=items,
                        error=error,
                    )
                )
        except Exception:  # the record is health information, never fatal
            logger.exception("could not record the %s watcher run", job)

    def renew(self) -> None:
        try:
            self.lease.acquire(self.clock.now())
        except Exception:  # the database may be away; the next tick retries
            logger.warning("could not renew the scheduler lease", exc_info=True)

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        # APScheduler logs every run at INFO (several lines a minute); our runs are in watcher_runs.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        sup = self.config.supervision
        tz = self.reference.calendar.tz
        scheduler = BackgroundScheduler(
            timezone=tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        # APScheduler runs on the machine's time (it sleeps between runs); each run reads the
        # controlled clock (services.clock) for the rules.
        first = datetime.now(UTC)
        scheduler.add_job(
            self.renew, "interval", seconds=sup.lease_seconds / 3, next_run_time=first, id="lease"
        )
        for watcher in self.watchers.values():
            job, when = watcher.name, watcher.when
            if isinstance(when, Every):
                scheduler.add_job(
                    self.run_job,
                    "interval",
                    seconds=when.seconds,
                    args=(job,),
                    next_run_time=first,
                    id=job,
                )
                continue
            nightly = CronTrigger(hour=when.hour, minute=0, timezone=tz)
            scheduler.add_job(self.run_job, nightly, args=(job,), id=job)
            # The catch-up at start (the roll-up: missing days of the window, and yesterday).
            catchup = "catchup" if job == "rollups" else f"{job}-catchup"
            scheduler.add_job(self.run_job, args=(job,), next_run_time=first, id=catchup)
        scheduler.start()
        self._scheduler = scheduler
        logger.info("watchers scheduled (holder %s)", self.holder)

    def health(self) -> dict[str, Any]:
        """For /healthz: is this process's scheduler running (in memory, never blocks)."""
        scheduler = self._scheduler
        running = scheduler is not None and scheduler.running
        return {"ok": running, "holder": self.holder}

    def stop(self) -> None:
        if self._scheduler is None:
            return
        self._scheduler.shutdown(wait=True)
        self._scheduler = None
        try:
            self.lease.release(self.clock.now())
        except Exception:  # the lease expires on its own
            logger.warning("could not release the scheduler lease", exc_info=True)


def start_scheduler(services: Services) -> Callable[[], None] | None:
    """The start step (dashboard.container.Step) of the watchers of a server process (``serve``
    and the demo), if enabled."""
    if not services.config.supervision.enabled:
        return None
    scheduler = WatcherScheduler(
        services.db,
        services.reference,
        services.config,
        services.clock,
        locate=services.locator,
    )
    scheduler.start()
    services.scheduler = scheduler
    return scheduler.stop
