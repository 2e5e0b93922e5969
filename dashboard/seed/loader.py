"""Write a generated demo data set into the database: region, people, cameras, history.

Bulk inserts through SQLAlchemy Core in batches (thousands of rows per statement), so the city
scale (~2,200 villages, ~8,000 grids, ~26,000 workers, hundreds of thousands of cases) loads in
minutes on SQLite and PostgreSQL alike. Progress is reported through a callback (tqdm in the CLI).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from dashboard.domain.regions import Region, polygon_to_geojson
from dashboard.domain.village_status import VillageRule
from dashboard.reference import ReferenceData
from dashboard.seed.aftermath import (
    CaseSpan,
    case_span,
    replay_lights,
    write_call_list,
    write_deadline_items,
    write_lights,
)
from dashboard.seed.cameras import CameraSeed, generate_cameras
from dashboard.seed.geography import generate_region
from dashboard.seed.history import HistoryContext, SeededCase, generate_history
from dashboard.seed.people import WorkerSeed, generate_workers
from dashboard.seed.residents import seed_residents
from dashboard.services.villages import refresh_villages
from dashboard.services.watch_common import WatchSettings
from dashboard.storage.db import Database
from dashboard.storage.models import (
    Attachment,
    Camera,
    Case,
    CaseEvent,
    County,
    Department,
    Grid,
    GridWorker,
    OutboxEvent,
    PositionFix,
    SchemaInfo,
    Town,
    Village,
    WorkerPosition,
)

logger = logging.getLogger(__name__)

BATCH = 5_000
Progress = Callable[[str, int | None], Callable[[int], None]]  # (stage, total) -> advance(n)


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class SeedReport:
    scale: str
    seed: int
    days: int
    counts: dict[str, int]


def _no_progress(stage: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _geo(polygon: Any) -> str:
    return json.dumps(polygon_to_geojson(polygon), separators=(",", ":"))


def is_seeded(db: Database) -> bool:
    with db.read() as session:
        return (session.scalar(select(func.count()).select_from(Village)) or 0) > 0


def clear(db: Database) -> None:
    _clear_residents(db)
    with db.transaction() as session:
        # The audit log is append-only and outlives data sets; positions refer to workers.
        for model in (
            OutboxEvent,
            PositionFix,
            WorkerPosition,
            Attachment,
            CaseEvent,
            Case,
            Camera,
            GridWorker,
            Grid,
            Village,
            Town,
            County,
            Department,
            SchemaInfo,
        ):
            session.execute(delete(model))


_RESIDENT_TABLES = (
    "resident_files",
    "service_request_events",
    "service_requests",
    "points_ledger",
    "points_redemptions",
    "points_rewards",
    "points_claims",
    "residents",
)


def _clear_residents(db: Database) -> None:
    """The residents of the old data set go with its villages; the points ledger refuses
    DELETE on PostgreSQL (append-only), so the data set's owner empties it with TRUNCATE."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(_RESIDENT_TABLES)} RESTART IDENTITY"))
        else:
            for name in _RESIDENT_TABLES:
                conn.execute(text(f"DELETE FROM {name}"))


def seed(
    db: Database,
    reference: ReferenceData,
    rule: VillageRule,
    *,
    scale: str,
    seed: int,
    days: int,
    now: datetime,
    force: bool = False,
    progress: Progress = _no_progress,
) -> SeedReport:
    if is_seeded(db):
        if not force:
            raise SeedError("the database holds a data set already; use --force to replace it")
        clear(db)
    region = _region(scale, seed, progress)
    workers = generate_workers(region, seed)
    cameras = generate_cameras(region, seed)
    with db.transaction() as session:
        _write_reference(session, reference)
        _write_region(session, region, progress)
        _write_people(session, workers, cameras)
    ctx = HistoryContext(
        region, workers, reference.categories, reference.departments, reference.calendar
    )
    past = _Past()
    cases = _write_history(
        db, ctx, scale=scale, seed=seed, days=days, now=now, progress=progress, past=past
    )
    with db.transaction() as session:
        past.write(session, ctx, rule, reference, now, seed)
        residents = seed_residents(
            session,
            region,
            reference.points_items,
            reference.service_items,
            reference.calendar,
            now,
            seed,
        )
        refresh_villages(session, rule, now)  # a no-op when the replay was right
        session.execute(delete(OutboxEvent))  # the seeded past is not news for the screens
        for key, value in {
            "scale": scale,
            "seed": str(seed),
            "days": str(days),
            "region": region.name,
            "seeded_at": now.isoformat(),
        }.items():
            session.merge(SchemaInfo(key=key, value=value))
    # Fresh statistics for the query planner after a bulk load: without them SQLite scans every
    # open case to count one village's emergencies (single-village refresh, which every case
    # write runs: p50 21.5 ms before, 2.4 ms after at city scale; docs/benchmarks.md).
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    counts = {
        "counties": len(region.counties),
        "towns": len(region.towns),
        "villages": len(region.villages),
        "grids": len(region.grids),
        "workers": len(workers),
        "cameras": len(cameras),
        "cases": cases,
    }
    logger.info("seeded %s (%s): %s; residents' side: %s", region.name, scale, counts, residents)
    return SeedReport(scale, seed, days, counts)


class _Past:
    """What the aftermath of the history needs (dashboard.seed.aftermath), kept while the
    cases stream into the database: the spans of the last days' cases and the open cases."""

    def __init__(self) -> None:
        self.spans: list[CaseSpan] = []
        self.open: list[SeededCase] = []

    def keep(self, chunk: list[SeededCase], now: datetime) -> None:
        horizon = now - timedelta(days=3)
        for case in chunk:
            span = case_span(case)
            if span.closed_at is None or span.closed_at >= horizon:
                self.spans.append(span)
            if case.row["open"]:
                self.open.append(case)

    def write(
        self,
        session: Session,
        ctx: HistoryContext,
        rule: VillageRule,
        reference: ReferenceData,
        now: datetime,
        seed: int,
    ) -> None:
        villages = {v.code: v for v in ctx.region.villages}
        states, episodes = replay_lights(self.spans, villages, rule, now)
        write_lights(session, states)
        write_call_list(session, episodes, villages, rule, now, seed)
        watch = WatchSettings()  # the default light and opinion (the watchers catch up the rest)
        write_deadline_items(
            session, self.open, reference.calendar, watch.yellow_at, watch.opinion, now
        )


def _region(scale: str, seed: int, progress: Progress) -> Region:
    from dashboard.seed.geography import load_shaoxing

    src = load_shaoxing()
    total = len(src.villages) if scale == "city" else None
    return generate_region(scale, seed, progress=progress("region", total), source=src)  # type: ignore[arg-type]


def _write_reference(session: Session, reference: ReferenceData) -> None:
    session.execute(
        insert(Department),
        [
            {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "kind": d.kind.value}
            for d in reference.departments
        ],
    )


def _write_region(session: Session, region: Region, progress: Progress) -> None:
    session.execute(
        insert(County),
        [{"code": c.code, "name": c.name, "geometry": _geo(c.polygon)} for c in region.counties],
    )
    session.execute(
        insert(Town),
        [
            {
                "code": t.code,
                "name": t.name,
                "county_code": t.county_code,
                "geometry": _geo(t.polygon),
                "lon": t.centroid[0],
                "lat": t.centroid[1],
            }
            for t in region.towns
        ],
    )
    session.execute(
        insert(Village),
        [
            {
                "code": v.code,
                "name": v.short_name,
                "town_code": v.town_code,
                "kind": v.kind,
                "geometry": _geo(v.polygon),
                "lon": v.centroid[0],
                "lat": v.centroid[1],
                "contact_name": v.contact_name,
                "contact_phone": v.contact_phone,
                "status": "ok",
                "red_reasons": "",
            }
            for v in region.villages
        ],
    )
    advance = progress("grids", len(region.grids))
    for chunk in _batches(
        {
            "code": g.code,
            "village_code": g.village_code,
            "households": g.households,
            "geometry": _geo(g.polygon),
            "lon": g.centroid[0],
            "lat": g.centroid[1],
        }
        for g in region.grids
    ):
        session.execute(insert(Grid.__table__), chunk)
        advance(len(chunk))


def _write_people(session: Session, workers: list[WorkerSeed], cameras: list[CameraSeed]) -> None:
    for chunk in _batches(
        {
            "id": w.id,
            "name": w.name,
            "phone": w.phone,
            "role": w.role.value,
            "grid_code": w.grid_code,
            "village_code": w.village_code,
            "home_lon": w.home_lon,
            "home_lat": w.home_lat,
            "active": True,
        }
        for w in workers
    ):
        session.execute(insert(GridWorker.__table__), chunk)
    session.execute(
        insert(Camera),
        [
            {
                "id": c.id,
                "name": c.name,
                "lon": c.lon,
                "lat": c.lat,
                "village_code": c.village_code,
                "kind": c.kind,
                "stream_url": "synthetic:",
                "substream_url": None,
            }
            for c in cameras
        ],
    )


def _write_history(
    db: Database,
    ctx: HistoryContext,
    *,
    scale: str,
    seed: int,
    days: int,
    now: datetime,
    progress: Progress,
    past: _Past,
) -> int:
    advance = progress("cases", None)
    count = 0
    cases = generate_history(ctx, scale=scale, seed=seed, days=days, now=now)
    while chunk := list(islice(cases, BATCH)):
        with db.transaction() as session:
            for row in (c.row for c in chunk):
                row["updated_at"] = row.get("updated_at") or row["reported_at"]
            session.execute(insert(Case.__table__), [c.row for c in chunk])
            session.execute(insert(CaseEvent.__table__), [e for c in chunk for e in c.events])
        past.keep(chunk, now)
        count += len(chunk)
        advance(len(chunk))
    if db.dialect == "postgresql" and count:
        with db.transaction() as session:  # ids were given explicitly: move the sequence past them
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('cases', 'id'),"
                    " (SELECT max(id) FROM cases))"
                )
            )
    return count
