"""Village status: aggregate the counts with GROUP BY, apply the pure rule, store what changed.

``refresh_villages`` runs inside the caller's transaction, so a case change and the village
light it causes are committed (and published through the outbox) together.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session, load_only

from dashboard.config import VillageRuleConfig
from dashboard.domain.status import CaseStatus
from dashboard.domain.topics import TOPIC_VILLAGE
from dashboard.domain.village_status import (
    INITIAL,
    RedReason,
    VillageCounts,
    VillageLight,
    VillageRule,
    VillageState,
    changed,
    recompute_all,
)
from dashboard.storage.models import Case, Village
from dashboard.storage.outbox import enqueue

_VOIDED = CaseStatus.VOIDED.value
_SUSPENDED = CaseStatus.SUSPENDED.value


def rule_from_config(cfg: VillageRuleConfig) -> VillageRule:
    return VillageRule(
        window=timedelta(hours=cfg.window_hours),
        min_cases=cfg.min_cases,
        enter_ratio=cfg.enter_ratio,
        leave_ratio=cfg.leave_ratio,
        call_after=timedelta(hours=cfg.call_after_hours),
        red_on_open_emergency=cfg.red_on_open_emergency,
        red_on_overdue=cfg.red_on_overdue,
    )


@dataclass(frozen=True)
class VillageChange:
    code: str
    before: VillageState
    after: VillageState


def _state(row: Village) -> VillageState:
    if row.status != VillageLight.RED.value:
        return VillageState(VillageLight.OK, None, frozenset(), row.open_ratio)
    reasons = frozenset(RedReason(r) for r in row.red_reasons.split(",") if r)
    if not reasons or row.red_since is None:  # a row written by hand: treat as fresh
        return INITIAL
    return VillageState(VillageLight.RED, row.red_since, reasons, row.open_ratio)


_CountStatements = tuple[Select[str, int, int], Select[str, int], Select[str, int]]


def _count_statements(scoped: bool) -> _CountStatements:
    """The three grouped count queries, built once: a report runs them inside its transaction,
    and building them anew each time (coercions, cache keys) cost about as much as running them.
    Parameters: ``start``, ``now`` and, when ``scoped``, ``codes`` (expanding)."""
    scope = [Case.village_code.in_(bindparam("codes", expanding=True))] if scoped else []
    now: BindParameter[datetime] = bindparam("now")
    start: BindParameter[datetime] = bindparam("start")
    window = (
        select(Case.village_code, func.count(), func.sum(cast(Case.open, Integer)))
        .where(Case.reported_at >= start, Case.reported_at <= now, Case.status != _VOIDED, *scope)
        .group_by(Case.village_code)
    )
    emergencies = (
        select(Case.village_code, func.count())
        .where(Case.open.is_(True), Case.emergency.is_(True), *scope)
        .group_by(Case.village_code)
    )
    overdue = (
        select(Case.village_code, func.count())
        .where(and_(Case.open.is_(True), Case.deadline <= now, Case.status != _SUSPENDED), *scope)
        .group_by(Case.village_code)
    )
    return window, emergencies, overdue


_COUNTS = {scoped: _count_statements(scoped) for scoped in (False, True)}
_WINDOW, _EMERGENCIES, _OVERDUE = "w", "e", "o"


def _one_statement(statements: _CountStatements) -> Any:
    """The three grouped counts as one UNION ALL (one round trip, one execution's overhead):
    rows ``(kind, village, count, open)``, ``open`` only for the window's rows."""
    window, emergencies, overdue = statements
    return union_all(
        window.add_columns(literal(_WINDOW).label("kind")),
        emergencies.add_columns(literal(0).label("open"), literal(_EMERGENCIES).label("kind")),
        overdue.add_columns(literal(0).label("open"), literal(_OVERDUE).label("kind")),
    )


_COUNTS_SOME = _one_statement(_COUNTS[True])  # a report's few villages: one statement


def count_villages(
    session: Session, rule: VillageRule, now: datetime, codes: Collection[str] | None = None
) -> dict[str, VillageCounts]:
    """Counts per village in three grouped queries (window, open emergencies, open overdue)."""
    params: dict[str, Any] = {"now": now, "start": rule.window_start(now)}
    window: list[tuple[str, int, int | None]] = []
    emergencies: dict[str, int] = {}
    overdue: dict[str, int] = {}
    if codes is not None:
        params["codes"] = list(codes)
        for code, n, open_, kind in session.execute(_COUNTS_SOME, params):
            if kind == _WINDOW:
                window.append((code, n, open_))
            else:
                (emergencies if kind == _EMERGENCIES else overdue)[code] = n
    else:
        window_q, emergencies_q, overdue_q = _COUNTS[False]
        window = [(c, n, o) for c, n, o in session.execute(window_q, params)]
        emergencies = {c: n for c, n in session.execute(emergencies_q, params)}
        overdue = {c: n for c, n in session.execute(overdue_q, params)}
    counts: dict[str, VillageCounts] = {}
    for code in set(emergencies) | set(overdue) | {row[0] for row in window}:
        counts[code] = VillageCounts(0, 0, int(emergencies.get(code, 0)), int(overdue.get(code, 0)))
    for code, total, open_ in window:
        c = counts[code]
        counts[code] = VillageCounts(
            int(total), int(open_ or 0), c.open_emergencies, c.open_overdue
        )
    return counts


# The columns the rule and the village payload use (not the polygon, parsed for nothing).
_LOCK_ALL = (
    select(Village)
    .options(
        load_only(
            Village.name,
            Village.status,
            Village.red_since,
            Village.red_reasons,
            Village.open_ratio,
            Village.status_changed_at,
        )
    )
    .with_for_update(key_share=True)
)
_LOCK_SOME = _LOCK_ALL.where(Village.code.in_(bindparam("codes", expanding=True)))


def refresh_villages(
    session: Session, rule: VillageRule, now: datetime, codes: Collection[str] | None = None
) -> list[VillageChange]:
    """Recompute the villages in ``codes`` (all when None); store and announce the changes."""
    # Lock the village rows before counting, so two transactions reporting into the same
    # village cannot both count without the other's case (PostgreSQL; SQLite writes are
    # serialised anyway). FOR NO KEY UPDATE: the cases' foreign keys already hold KEY SHARE
    # locks on these rows, which a plain FOR UPDATE would deadlock against.
    if codes is None:
        rows = {row.code: row for row in session.scalars(_LOCK_ALL)}
    else:
        rows = {row.code: row for row in session.scalars(_LOCK_SOME, {"codes": list(codes)})}
    previous = {code: _state(row) for code, row in rows.items()}
    counts = count_villages(session, rule, now, codes)
    counts = {code: c for code, c in counts.items() if code in rows}
    after = recompute_all(previous, counts, now, rule)
    changes: list[VillageChange] = []
    for code, state in after.items():
        row = rows[code]
        before = previous[code]
        if state == before and row.open_ratio == state.open_ratio:
            continue
        row.open_ratio = state.open_ratio
        if not changed(before, state):
            continue
        row.status = state.status.value
        row.red_since = state.red_since
        row.red_reasons = ",".join(sorted(r.value for r in state.reasons))
        row.status_changed_at = now
        changes.append(VillageChange(code, before, state))
        enqueue(session, TOPIC_VILLAGE, village_payload(row), now)
    return changes


def village_payload(row: Village) -> dict[str, object]:
    return {
        "code": row.code,
        "name": row.name,
        "status": row.status,
        "red_since": row.red_since.isoformat() if row.red_since else None,
        "reasons": [r for r in row.red_reasons.split(",") if r],
        "open_ratio": row.open_ratio,
    }
