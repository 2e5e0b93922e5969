"""Shared by the watchers: their settings, their result, and the idempotent batch insert."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dashboard.config import AppConfig
from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT
from dashboard.domain.errors import DomainError
from dashboard.domain.regions import Location
from dashboard.domain.supervision import PatrolShift
from dashboard.domain.topics import TOPIC_SUPERVISION_BATCH
from dashboard.domain.village_status import VillageRule
from dashboard.i18n import normalise_lang, t
from dashboard.reference import ReferenceData
from dashboard.services.villages import rule_from_config
from dashboard.storage.models import OutboxEvent
from dashboard.storage.outbox import enqueue

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

BATCH = 5_000  # rows per transaction (insertmanyvalues batches them further)
FEW = 50  # up to this many outbox events per transaction are ORM rows (they wake the relay)
SYSTEM = "system"

Locator = Callable[[float, float], Location | None]


@dataclass(frozen=True)
class WatchSettings:
    """The rules' numbers, from the configuration (defaults: DOMAIN.md's)."""

    yellow_at: float = DEFAULT_YELLOW_AT
    village_rule: VillageRule = field(default_factory=VillageRule)
    shift: PatrolShift | None = None  # None: the default day shift in the calendar's zone
    silent: timedelta = timedelta(minutes=30)
    outside: timedelta = timedelta(minutes=20)
    language: str = "zh"

    @classmethod
    def from_config(cls, config: AppConfig, reference: ReferenceData) -> WatchSettings:
        sup = config.supervision
        shift = PatrolShift(
            sup.shift_start, sup.shift_end, sup.lunch_start, sup.lunch_end, reference.calendar.tz
        )
        return cls(
            yellow_at=config.rules.deadline.yellow_at,
            village_rule=rule_from_config(config.rules.village),
            shift=shift,
            silent=timedelta(minutes=sup.silent_minutes),
            outside=timedelta(minutes=sup.outside_minutes),
            language=config.ui.language,
        )

    def patrol_shift(self, calendar: WorkingCalendar) -> PatrolShift:
        if self.shift is not None:
            return self.shift
        return PatrolShift(time(8), time(18), time(12), time(13, 30), calendar.tz)

    @property
    def opinion(self) -> str:
        return t("watchers.opinion_default", normalise_lang(self.language))


@dataclass
class WatchResult:
    """What one run inserted (new rows) and changed (cleared / resolved rows)."""

    inserted: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return sum(self.inserted.values()) + sum(self.changed.values())


# --- helpers shared by the watchers -----------------------------------------------------------


def insert_new(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> list[Any]:
    """INSERT the rows, skipping those whose ``key`` exists; returns the inserted rows.

    One statement executed for many parameter sets: SQLAlchemy's "insertmanyvalues" sends it in
    multi-row batches and collects RETURNING, with the statement compiled (and cached) once.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(table).on_conflict_do_nothing(index_elements=list(key)).returning(*table.c)
    return list(session.connection().execute(stmt, list(rows)))


def enqueue_all(
    session: Session, topic: str, payloads: Sequence[dict[str, Any]], now: datetime
) -> None:
    """The outbox events for new items, in the caller's transaction.

    A few are one event each, through ``storage.outbox.enqueue`` (ORM rows: their commit wakes the
    relay at once). A catch-up of many (a first run at city scale raises ~150,000) is summarised
    instead: one ``supervision_batch`` event per village and department with the kind and the
    count, so screens refresh once per place rather than replaying every item; it is written as
    one bulk insert, which the relay's poll picks up within its idle interval.
    """
    if len(payloads) <= FEW:
        for payload in payloads:
            enqueue(session, topic, payload, now)
        return
    groups: dict[tuple[Any, Any, Any], int] = {}
    for p in payloads:
        key = (p.get("village"), p.get("town"), p.get("department"))
        groups[key] = groups.get(key, 0) + 1
    rows = [
        {
            "topic": TOPIC_SUPERVISION_BATCH,
            "payload": {
                "kind": topic,
                "count": count,
                "village": village,
                "town": town,
                "department": department,
            },
            "created_at": now,
        }
        for (village, town, department), count in groups.items()
    ]
    session.execute(insert(OutboxEvent), rows)


def isolated(
    items: Iterable[T], judge: Callable[[T], R | None], what: str, key: Callable[[T], Any]
) -> list[tuple[R, T]]:
    """``(judge(item), item)`` for each item judged not None. One bad row (a deadline in year
    9999 written before the bounds existed, a value that overflows) must not stop the watch for
    everyone: its failure is logged with its key and the item skipped; the others are served."""
    out: list[tuple[R, T]] = []
    for item in items:
        try:
            found = judge(item)
        except (DomainError, ArithmeticError, ValueError, TypeError) as err:
            logger.warning("%s: skipped %s (%s: %s)", what, key(item), type(err).__name__, err)
            continue
        if found is not None:
            out.append((found, item))
    return out


def batches(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
