"""What the seeded history left behind besides the cases: village lights, the call list and its
log, the reminders and supervision orders of the cases still open.

A fresh demo must open on a town in mid-story (docs/demo.md): a village red for a few hours and
already on the supervisors' call list, a call or two logged to its contact person, the
reminders and orders of the late cases. So the seed replays the village rule over the last two
days of its history (``replay_lights``: the same pure rule the server runs, every ten minutes,
on each case's open interval), instead of computing the lights once at ``now`` (which made every
red village "red since the seed ran" and kept the call list empty for ``call_after`` hours).

The reminders and orders of the open cases are written as the watchers would have raised them,
at their moments, except the most recent reminder and the most recent order (``LEFT_FOR_WATCHERS``):
the watchers raise those in their first run after the start, so a visitor sees both appear in
the first minute at any hour (deadlines run on the working calendar, so at night or at a weekend
no new one would fall due for hours).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.regions import Village as RegionVillage
from dashboard.domain.status import OPEN_STATUSES, CaseStatus
from dashboard.domain.supervision import (
    DueItem,
    WatchedCase,
    order_due,
    reminder_due,
)
from dashboard.domain.village_status import (
    INITIAL,
    VillageCounts,
    VillageRule,
    VillageState,
    changed,
    village_status,
)
from dashboard.seed.history import SeededCase
from dashboard.services.watch_common import SYSTEM
from dashboard.storage.models import (
    CallListEntry,
    CallLogEntry,
    Reminder,
    SupervisionOrder,
    Village,
)

REPLAY_STEP = timedelta(minutes=10)
LEFT_FOR_WATCHERS = 1  # of each kind: the newest reminder and the newest order
SUPERVISOR = "督查室王丽"  # who phoned the red villages in the seeded past
CALL_NOTES = (
    ("reached", "已联系网格长，正在现场协调处置"),
    ("promised", "网格长答复今天下班前处置到位"),
)
_OPEN = frozenset(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True, slots=True)
class CaseSpan:
    """When a seeded case was open: ``closed_at`` is None while it still is."""

    id: int
    village: str
    reported_at: datetime
    closed_at: datetime | None
    voided: bool
    emergency: bool
    deadline: datetime | None

    def open_at(self, t: datetime) -> bool:
        return self.reported_at <= t and (self.closed_at is None or self.closed_at > t)


def case_span(case: SeededCase) -> CaseSpan:
    row = case.row
    closed_at = next((e["at"] for e in case.events if e["to_status"] not in _OPEN), None)
    return CaseSpan(
        id=row["id"],
        village=row["village_code"],
        reported_at=row["reported_at"],
        closed_at=closed_at,
        voided=row["status"] == CaseStatus.VOIDED.value,
        emergency=bool(row["emergency"]),
        deadline=row["deadline"],
    )


@dataclass(frozen=True, slots=True)
class Episode:
    """One village's red episode during the replay (``until`` None: still red at ``now``)."""

    village: str
    since: datetime
    until: datetime | None


def _counts(spans: Iterable[CaseSpan], t: datetime, rule: VillageRule) -> dict[str, VillageCounts]:
    acc: dict[str, list[int]] = {}
    start = rule.window_start(t)
    for s in spans:
        if s.reported_at > t:
            continue
        c = acc.setdefault(s.village, [0, 0, 0, 0])
        is_open = s.open_at(t)
        if start <= s.reported_at and not s.voided:
            c[0] += 1
            c[1] += is_open
        c[2] += is_open and s.emergency
        c[3] += is_open and s.deadline is not None and s.deadline < t
    return {code: VillageCounts(*c) for code, c in acc.items()}


def replay_lights(
    spans: Sequence[CaseSpan], villages: Iterable[str], rule: VillageRule, now: datetime
) -> tuple[dict[str, VillageState], list[Episode]]:
    """Every village's light at ``now`` and the red episodes of the last two windows, from the
    village rule applied every ``REPLAY_STEP`` (then once at ``now`` exactly)."""
    states = dict.fromkeys(villages, INITIAL)
    opened: dict[str, datetime] = {}
    episodes: list[Episode] = []
    recent = [s for s in spans if s.closed_at is None or s.closed_at >= now - 3 * rule.window]
    t = now - 2 * rule.window
    while True:
        counts = _counts(recent, t, rule)
        for code, before in states.items():
            after = village_status(before, counts.get(code, VillageCounts(0, 0)), t, rule)
            if changed(before, after):
                if after.is_red and not before.is_red:
                    opened[code] = t
                elif before.is_red and not after.is_red:
                    episodes.append(Episode(code, opened.pop(code), t))
            states[code] = after
        if t >= now:
            break
        t = min(t + REPLAY_STEP, now)
    episodes.extend(Episode(code, since, None) for code, since in opened.items())
    return states, sorted(episodes, key=lambda e: e.since)


def write_lights(session: Session, states: dict[str, VillageState]) -> None:
    """Store the replayed lights (status_changed_at: when the current red episode began)."""
    for code, state in states.items():
        session.execute(
            update(Village)
            .where(Village.code == code)
            .values(
                status=state.status.value,
                red_since=state.red_since,
                red_reasons=",".join(sorted(r.value for r in state.reasons)),
                open_ratio=state.open_ratio,
                status_changed_at=state.red_since,
            )
        )


def write_call_list(
    session: Session,
    episodes: Sequence[Episode],
    villages: dict[str, RegionVillage],
    rule: VillageRule,
    now: datetime,
    seed: int,
) -> int:
    """Call-list entries of the episodes that lasted ``call_after``, each with a call to the
    village's contact person soon after it was listed; the number of entries."""
    rng = random.Random(f"calls:{seed}")
    written = 0
    for ep in episodes:
        listed = ep.since + rule.call_after
        if listed > (ep.until or now):
            continue
        called = listed + timedelta(minutes=rng.uniform(8, 40))
        call = called <= (ep.until or now)
        entry_id = session.execute(
            insert(CallListEntry)
            .values(
                village_code=ep.village,
                red_since=ep.since,
                listed_at=listed,
                status="open" if ep.until is None else "resolved",
                resolved_at=ep.until,
                last_call_at=called if call else None,
            )
            .returning(CallListEntry.id)
        ).scalar_one()
        written += 1
        if call:
            village = villages[ep.village]
            outcome, note = rng.choice(CALL_NOTES)
            session.execute(
                insert(CallLogEntry).values(
                    entry_id=entry_id,
                    village_code=ep.village,
                    at=called,
                    kind="call",
                    caller=SUPERVISOR,
                    callee=village.contact_name,
                    phone=village.contact_phone,
                    outcome=outcome,
                    note=note,
                )
            )
    return written


def _watched(cases: Iterable[SeededCase]) -> list[tuple[WatchedCase, dict[str, Any]]]:
    return [
        (
            WatchedCase(
                c.row["id"],
                c.row["status"],
                c.row["registered_at"],
                c.row["deadline"],
                c.row["suspended_at"],
            ),
            c.row,
        )
        for c in cases
        if c.row["open"]
    ]


def _newest_left(items: list[tuple[DueItem, dict[str, Any]]]) -> list[tuple[DueItem, Any]]:
    items.sort(key=lambda pair: (pair[0].due_at, pair[0].case_id))
    return items[: max(0, len(items) - LEFT_FOR_WATCHERS)]


def write_deadline_items(
    session: Session,
    open_cases: Iterable[SeededCase],
    calendar: WorkingCalendar,
    yellow_at: float,
    opinion: str,
    now: datetime,
) -> tuple[int, int]:
    """The reminders and orders of the open cases, raised at their moments, but the newest of
    each (left for the watchers); the numbers written."""
    reminders, orders = [], []
    for case, row in _watched(open_cases):
        if (item := reminder_due(case, now, calendar, yellow_at)) is not None:
            reminders.append((item, row))
        if (item := order_due(case, now)) is not None:
            orders.append((item, row))
    reminder_rows = [
        {**_key(item, row), "raised_at": item.due_at} for item, row in _newest_left(reminders)
    ]
    order_rows = [
        {
            **_key(item, row),
            "issued_at": item.due_at,
            "supervisor": SYSTEM,
            "opinion": opinion,
            "status": "open",
        }
        for item, row in _newest_left(orders)
    ]
    if reminder_rows:
        session.execute(insert(Reminder), reminder_rows)
    if order_rows:
        session.execute(insert(SupervisionOrder), order_rows)
    return len(reminder_rows), len(order_rows)


def _key(item: DueItem, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": item.case_id,
        "stage": item.stage,
        "deadline": item.deadline,
        "due_at": item.due_at,
        "department_code": row["department_code"],
        "town_code": row["town_code"],
    }
