"""The wall's snapshot: everything the big screen shows at connect time, as plain JSON data.

The live server (streams/socket.py) sends it as the ``data`` of a ``snapshot`` event on every
(re)connect and ``resync``; the wall page renders its first paint from the same dict. It is a
handful of grouped queries over indexed columns (no query per case, village or department), and
every query is narrowed to the principal's scope (area prefix and, for a department user, its
department).

Periods: "today" starts at local midnight; the source, category and trend panels cover the 24
hours ending with the current hour; closure rates cover the last 30 days (the national
definitions of dashboard.domain.metrics, counted in SQL: see ``_closure``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.metrics import (
    ClosureCounts,
    closure_rate,
    on_time_closure_rate,
    on_time_handling_rate,
)
from dashboard.domain.permissions import Scope
from dashboard.domain.status import CaseStatus
from dashboard.domain.topics import TOPIC_ALARM_ACK
from dashboard.storage.models import Case, OutboxEvent, Town, Village, WorkerPosition
from dashboard.storage.scoping import case_scope, in_area

FEED_SIZE = 30
TOP_CATEGORIES = 8
TREND_HOURS = 24
RATE_DAYS = 30
PATROL_WINDOW = timedelta(minutes=10)  # a worker with a fix this recent counts as on patrol
ALARM_WINDOW = timedelta(hours=24)  # older open emergencies are the desk's business, not a siren
_VOIDED = CaseStatus.VOIDED.value
_SUSPENDED = CaseStatus.SUSPENDED.value
_HOUR = timedelta(hours=1)


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when else None


def _count(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_expr(session: Session, column: Any) -> Any:
    """The UTC hour a timestamp falls in, as the dialect can say it (grouping key)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)  # SQLite stores naive UTC text


def _as_utc(value: Any) -> datetime:
    """A timestamp from a grouped or computed column (SQLite gives text, PostgreSQL naive UTC
    after ``timezone('UTC', …)`` or aware values)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _today(
    session: Session, scope: list[ColumnElement[bool]], now: datetime, day_start: datetime
) -> tuple[int, int]:
    """Today's counts (two index range scans)."""
    reported = session.scalar(
        select(func.count()).where(Case.reported_at >= day_start, Case.reported_at <= now, *scope)
    )
    closed = session.scalar(
        select(func.count()).where(
            Case.closed_at >= day_start, Case.closed_at <= now, Case.status != _VOIDED, *scope
        )
    )
    return int(reported or 0), int(closed or 0)


def _closure(
    session: Session, scope: list[ColumnElement[bool]], now: datetime, open_overdue: int
) -> ClosureCounts:
    """closed / closed on time in [now − 30 d, now) and open overdue at now, as metrics defines
    them (tests/unit/test_wall_layout.py checks the result against the pure aggregator)."""
    start = now - timedelta(days=RATE_DAYS)
    closed, on_time = session.execute(
        select(
            func.count(),
            _count(or_(Case.deadline.is_(None), Case.closed_at <= Case.deadline)),
        ).where(Case.closed_at >= start, Case.closed_at < now, Case.status != _VOIDED, *scope)
    ).one()
    return ClosureCounts(closed=int(closed), closed_on_time=int(on_time), open_overdue=open_overdue)


def _open_by_department(
    session: Session, scope: list[ColumnElement[bool]], now: datetime
) -> tuple[dict[str | None, tuple[int, int, int]], datetime | None]:
    """Per department: open, open overdue, and overdue still unhandled after dispatch (the
    metrics' definitions at ``now``); and the next deadline still to pass."""
    overdue = and_(Case.deadline <= now, Case.status != _SUSPENDED, Case.registered_at.is_not(None))
    unhandled = and_(overdue, Case.dispatch_count > 0, Case.handled_at.is_(None))
    running = and_(Case.deadline >= now, Case.status != _SUSPENDED)
    rows = session.execute(
        select(
            Case.department_code,
            func.count(),
            _count(overdue),
            _count(unhandled),
            func.min(case((running, Case.deadline))),
        )
        .where(Case.open.is_(True), *scope)
        .group_by(Case.department_code)
    ).all()
    upcoming = [_as_utc(r[4]) for r in rows if r[4] is not None]
    counts = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    return counts, min(upcoming) if upcoming else None


def _handled_by_department(
    session: Session, scope: list[ColumnElement[bool]], since: datetime, now: datetime
) -> dict[str | None, tuple[int, int]]:
    """Handled in [since, now) per department, and of those handled by their deadline."""
    rows = session.execute(
        select(
            Case.department_code,
            func.count(),
            _count(or_(Case.deadline.is_(None), Case.handled_at <= Case.deadline)),
        )
        .where(Case.handled_at >= since, Case.handled_at < now, Case.status != _VOIDED, *scope)
        .group_by(Case.department_code)
    ).all()
    return {code: (int(n), int(on_time)) for code, n, on_time in rows}


def _departments(
    open_: dict[str | None, tuple[int, int, int]], handled: dict[str | None, tuple[int, int]]
) -> list[dict[str, Any]]:
    """One row per department with cases, busiest first."""
    rows = []
    for code in {c for c in (*open_, *handled) if c is not None}:
        n_open, n_overdue, n_unhandled = open_.get(code, (0, 0, 0))
        n_handled, n_on_time = handled.get(code, (0, 0))
        counts = ClosureCounts(
            handled=n_handled, handled_on_time=n_on_time, unhandled_overdue=n_unhandled
        )
        rows.append(
            {
                "code": code,
                "open": n_open,
                "overdue": n_overdue,
                "handled": n_handled,
                "on_time_rate": on_time_handling_rate(counts),
            }
        )
    return sorted(rows, key=lambda r: (-r["open"], -r["handled"], r["code"]))


def _recent_groups(
    session: Session, scope: list[ColumnElement[bool]], start: datetime, now: datetime
) -> tuple[dict[str, int], dict[str, int], list[int]]:
    """Reported in the trend window, grouped by source, category and hour in one query."""
    hour = _hour_expr(session, Case.reported_at)
    category = func.coalesce(Case.category_code, Case.reported_category)
    rows = session.execute(
        select(Case.source, category, hour, func.count())
        .where(Case.reported_at >= start, Case.reported_at <= now, *scope)
        .group_by(Case.source, category, hour)
    ).all()
    sources: dict[str, int] = {}
    categories: dict[str, int] = {}
    trend = [0] * TREND_HOURS
    for source, code, bucket, n in rows:
        sources[source] = sources.get(source, 0) + int(n)
        categories[code] = categories.get(code, 0) + int(n)
        index = int((_as_utc(bucket) - start) / _HOUR)
        if 0 <= index < TREND_HOURS:
            trend[index] += int(n)
    return sources, categories, trend


def _closed_trend(
    session: Session, scope: list[ColumnElement[bool]], start: datetime, now: datetime
) -> list[int]:
    hour = _hour_expr(session, Case.closed_at)
    rows = session.execute(
        select(hour, func.count())
        .where(Case.closed_at >= start, Case.closed_at <= now, Case.status != _VOIDED, *scope)
        .group_by(hour)
    ).all()
    trend = [0] * TREND_HOURS
    for bucket, n in rows:
        index = int((_as_utc(bucket) - start) / _HOUR)
        if 0 <= index < TREND_HOURS:
            trend[index] += int(n)
    return trend


def _villages(session: Session, scope: Scope) -> list[dict[str, Any]]:
    query = select(
        Village.code,
        Village.name,
        Village.status,
        Village.open_ratio,
        Village.red_since,
        Village.red_reasons,
    ).order_by(Village.code)
    query = query.where(*in_area(Village.code, scope.area_code))
    return [
        {
            "code": code,
            "name": name,
            "status": status,
            "open_ratio": ratio,
            "red_since": _iso(since),
            "reasons": [r for r in reasons.split(",") if r],
        }
        for code, name, status, ratio, since, reasons in session.execute(query)
    ]


_FEED_COLUMNS = (
    Case.id,
    Case.status,
    Case.source,
    Case.emergency,
    Case.category_code,
    Case.reported_category,
    Case.village_code,
    Case.lon,
    Case.lat,
    Case.reported_at,
    Case.deadline,
    Case.department_code,
    Case.open,
)


def _feed_item(row: Any) -> dict[str, Any]:
    """The fields of dashboard.services.cases.case_payload that the wall draws."""
    return {
        "id": row.id,
        "status": row.status,
        "source": row.source,
        "emergency": bool(row.emergency),
        "category": row.category_code or row.reported_category,
        "village": row.village_code,
        "lon": row.lon,
        "lat": row.lat,
        "reported_at": _iso(row.reported_at),
        "deadline": _iso(row.deadline),
        "department": row.department_code,
        "open": bool(row.open),
    }


def _feed(session: Session, scope: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(*_FEED_COLUMNS)
        .where(*scope)
        .order_by(Case.reported_at.desc(), Case.id.desc())
        .limit(FEED_SIZE)
    ).all()
    return [_feed_item(r) for r in rows]


def acknowledged(session: Session, case_ids: Sequence[int]) -> set[int]:
    """Which of ``case_ids`` have an ``alarm_ack`` event (the server writes one per ack).

    The relay keeps published outbox rows for a day (streams.relay.KEEP_PUBLISHED); an ack is
    younger than its case, and cases older than ALARM_WINDOW (24 h) never alarm, so no ack this
    needs is pruned while it matters."""
    if not case_ids:
        return set()
    wanted = set(case_ids)
    payloads = session.scalars(
        select(OutboxEvent.payload).where(OutboxEvent.topic == TOPIC_ALARM_ACK)
    ).all()
    return {int(p["case_id"]) for p in payloads if int(p.get("case_id", -1)) in wanted}


def _alarms(
    session: Session,
    scope: list[ColumnElement[bool]],
    now: datetime,
    since: datetime | None,
) -> list[dict[str, Any]]:
    """Open, unacknowledged emergencies reported in the last ALARM_WINDOW and, when ``since``
    is given, not before it: only alarms raised while this server runs ring; an emergency of
    the seeded history, or one from before a restart, is history (the feed and the case list
    still show it)."""
    cutoff = now - ALARM_WINDOW if since is None else max(now - ALARM_WINDOW, since)
    rows = session.execute(
        select(*_FEED_COLUMNS, Case.description)
        .where(
            Case.emergency.is_(True),
            Case.open.is_(True),
            Case.reported_at >= cutoff,
            *scope,
        )
        .order_by(Case.reported_at.desc())
        .limit(20)
    ).all()
    done = acknowledged(session, [r.id for r in rows])
    return [
        {"case_id": r.id, **_feed_item(r), "description": r.description}
        for r in rows
        if r.id not in done
    ]


def _positions(session: Session, scope: Scope, now: datetime) -> list[list[Any]]:
    query = select(
        WorkerPosition.worker_id, WorkerPosition.lon, WorkerPosition.lat, WorkerPosition.at
    ).where(WorkerPosition.at >= now - PATROL_WINDOW)
    # A grid code is its village code plus three digits, so the area prefix applies.
    query = query.where(*in_area(WorkerPosition.grid_code, scope.area_code))
    return [[w, lon, lat, _iso(at)] for w, lon, lat, at in session.execute(query)]


def narrowed(scope: Scope, area: str | None) -> Scope | None:
    """``scope`` narrowed to ``area`` (a county, town or village code); None when the area is
    outside the scope. No area: the scope as it is."""
    if not area:
        return scope
    if not scope.allows_place(area):
        return None
    return Scope(area_code=area, department_code=scope.department_code)


def _level(villages: Sequence[dict[str, Any]]) -> str:
    """The wall's level from the places it shows: one town, one county, or more (a city)."""
    if len({v["code"][:9] for v in villages}) <= 1:
        return "town"
    return "county" if len({v["code"][:6] for v in villages}) <= 1 else "city"


def _units(session: Session, villages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Above a town, the map's units are the towns: how many villages each has, how many red."""
    counts: dict[str, list[int]] = {}
    for v in villages:
        tally = counts.setdefault(v["code"][:9], [0, 0])
        tally[0] += 1
        tally[1] += v["status"] == "red"
    names = dict(session.execute(select(Town.code, Town.name).where(Town.code.in_(counts))).all())
    return [
        {"code": code, "name": names.get(code, code), "villages": n, "red": red}
        for code, (n, red) in sorted(counts.items())
    ]


def with_level(session: Session, data: dict[str, Any], area: str | None) -> dict[str, Any]:
    """The snapshot with the wall's level: ``area`` (the code it shows, "" for everything),
    ``level`` (town, county, city) and, above a town, ``units`` (the towns)."""
    level = _level(data["villages"])
    units = [] if level == "town" else _units(session, data["villages"])
    return {**data, "area": area or "", "level": level, "units": units}


def wall_snapshot(
    session: Session,
    scope: Scope,
    now: datetime,
    tz: ZoneInfo,
    alarms_since: datetime | None = None,
    *,
    with_positions: bool = True,
) -> dict[str, Any]:
    """Everything the wall shows, for ``scope`` at ``now`` (``tz``: the command room's zone);
    alarms only for emergencies reported since ``alarms_since`` (the server's start). Without
    positions, ``positions`` is empty and the on-patrol KPI is left for the caller."""
    cases = case_scope(scope)
    local = now.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    trend_start = _hour_start(now) - (TREND_HOURS - 1) * _HOUR
    reported_today, closed_today = _today(session, cases, now, day_start)
    by_department, next_deadline = _open_by_department(session, cases, now)
    overdue = sum(o for _, o, _ in by_department.values())
    closure = _closure(session, cases, now, overdue)
    handled = _handled_by_department(session, cases, now - timedelta(days=RATE_DAYS), now)
    sources, categories, reported_trend = _recent_groups(session, cases, trend_start, now)
    villages = _villages(session, scope)
    positions = _positions(session, scope, now) if with_positions else []
    return {
        "now": _iso(now),
        "day_start": _iso(day_start),
        "day_end": _iso(day_end),
        "next_deadline": _iso(next_deadline),
        "kpis": {
            "reported_today": reported_today,
            "closed_today": closed_today,
            "open": sum(n for n, _, _ in by_department.values()),
            "overdue_now": overdue,
            "closure_rate": closure_rate(closure),
            "on_time_rate": on_time_closure_rate(closure),
            "red_villages": sum(1 for v in villages if v["status"] == "red"),
            "on_patrol": len(positions),
        },
        "sources": sources,
        "categories": [
            {"code": code, "count": n}
            for code, n in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))[
                :TOP_CATEGORIES
            ]
        ],
        "trend": {
            "start": _iso(trend_start),
            "reported": reported_trend,
            "closed": _closed_trend(session, cases, trend_start, now),
        },
        "departments": _departments(by_department, handled),
        "villages": villages,
        "feed": _feed(session, cases),
        "alarms": _alarms(session, cases, now, alarms_since),
        "positions": positions,
        "patrol_window_s": int(PATROL_WINDOW.total_seconds()),
    }


def _age_seconds(session: Session, column: Any, now: datetime) -> Any:
    """Seconds from ``column`` to ``now``, computed by the database (no row is parsed here)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", literal(now) - column)
    stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return (func.julianday(stamp) - func.julianday(column)) * 86400.0


def position_columns(session: Session, scope: Scope, now: datetime) -> dict[str, list[Any]]:
    """The workers on patrol as columns for the wire: ids, longitude and latitude in 1e-5 degrees
    (about a metre), the fix's age in seconds at ``now`` — a city's 26,709 fixes are ~1.1 MB this
    way against ~2 MB as ``[id, lon, lat, iso time]`` rows, and come straight from the database
    (~0.1 s instead of ~1.2 s through parsed rows)."""
    age = _age_seconds(session, WorkerPosition.at, now)
    query = select(
        WorkerPosition.worker_id,
        func.round(WorkerPosition.lon * 1e5),
        func.round(WorkerPosition.lat * 1e5),
        age,
    ).where(WorkerPosition.at >= now - PATROL_WINDOW)
    query = query.where(*in_area(WorkerPosition.grid_code, scope.area_code))
    rows = session.connection().execute(query).all()
    return {
        "ids": [r[0] for r in rows],
        "lon": [int(r[1]) for r in rows],
        "lat": [int(r[2]) for r in rows],
        "age": [max(0, round(float(r[3]))) for r in rows],
    }


def wall_view(
    session: Session,
    scope: Scope,
    now: datetime,
    tz: ZoneInfo,
    alarms_since: datetime | None = None,
    *,
    positions: bool = True,
) -> dict[str, Any]:
    """What the wall's screen receives: the snapshot with its level, positions as columns.
    Without ``positions`` (a refresh: the screen keeps the positions it streams) neither the
    ``positions`` key nor the on-patrol KPI is there."""
    data = wall_snapshot(session, scope, now, tz, alarms_since, with_positions=False)
    data = with_level(session, data, scope.area_code)
    if not positions:
        del data["positions"]
        del data["kpis"]["on_patrol"]
        return data
    data["positions"] = position_columns(session, scope, now)
    data["kpis"]["on_patrol"] = len(data["positions"]["ids"])
    return data
