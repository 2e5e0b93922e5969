"""The trend roll-ups, maintained from the cases by per-case deltas.

Sums over the cases of one local day and a few dimensions (models in dashboard.storage.models,
migration 0013), each but the last with a month twin (``…_months``: the same sums per local
month, so a long period reads its whole months there and only the days around them):

* ``trend_rollups`` — day × village × category × department × source: the additive figures of
  dashboard.domain.trend_figures (``day_parts``, which evaluates ``metrics.case_tally`` — the
  rule of ``closure_counts`` — per case and day, so the definitions cannot drift);
* ``trend_daily`` (× village × department), ``trend_categories`` (× village × category ×
  department), ``trend_sources`` (× village × department × source) — the same figures summed
  over fewer dimensions: a query reads the narrowest one holding what it groups and filters by;
* ``trend_hours`` — reports per day × village × department × weekday × hour (the matrix);
* ``trend_cells`` — reports per day × village × department × map cell (the density map);
* ``trend_series`` — reports per day × village × department × 大类 (the new-case trend), with
  a week twin ``trend_series_weeks`` (a long period's weekly trend) instead of a month one;
* ``trend_overdue`` — per day × village × category × department × source, the cases with a
  closing time that were open and overdue at that day's 00:00 (``overdue_days``): the state at
  a past period's cutoff without reading the cases.

A case's *contribution* (``_add_case``) is what it adds to the per-case tables (the narrower
ones and the months are projections of them). ``trend_marks`` keeps, per case, the facts it was
last rolled up with. ``refresh(db, calendar)`` reads the cases written since the last refresh
(``updated_at`` at or after the stored position less ``OVERLAP``, for transactions that
committed late, or an id above the highest one seen), subtracts the contribution of their
marked facts, adds the contribution of their new ones, and applies the net change to every
table as additions (``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``), removing the
rows it brought to zero. Its cost follows the number of changed cases, not the days they touch;
running it twice changes nothing. The first refresh builds everything in one pass over the
cases (``rebuild``: the sums in memory, written with COPY on PostgreSQL). The trends service
refreshes before it reads (a no-op costs two index look-ups), the scheduler every few minutes.

Cases are never deleted in production; a case deleted by hand (or a database restored from a
backup), or a change of the working calendar, needs ``rebuild``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.metrics import CaseFacts
from dashboard.domain.trend_figures import (
    ADDITIVE,
    WorkingTimer,
    day_parts,
    overdue_days,
    report_spot,
)
from dashboard.services.metrics import facts_of
from dashboard.storage.db import Database
from dashboard.storage.models import (
    Case,
    TrendCategory,
    TrendCategoryMonth,
    TrendCell,
    TrendCellMonth,
    TrendDaily,
    TrendDailyMonth,
    TrendHour,
    TrendHourMonth,
    TrendMark,
    TrendOverdue,
    TrendRollup,
    TrendRollupMonth,
    TrendSeries,
    TrendSeriesWeek,
    TrendSource,
    TrendSourceMonth,
    TrendState,
)

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
STATE = "cases"
_BATCH = 5000
_LOCK = threading.Lock()  # one refresh at a time in a process (PostgreSQL: an advisory lock too)
_ADVISORY_KEY = 0x7452454E44  # "tREND"

COLUMNS = (
    Case.id,
    Case.status,
    Case.reported_at,
    Case.registered_at,
    Case.deadline,
    Case.handled_at,
    Case.closed_at,
    Case.department_code,
    Case.category_code,
    Case.reported_category,
    Case.source,
    Case.reporter,
    Case.rework_count,
    Case.extension_count,
    Case.dispatch_count,
    Case.return_count,
    Case.village_code,
    Case.emergency,
    Case.lon,
    Case.lat,
    Case.updated_at,
)


@dataclass(frozen=True)
class Spec:
    """One roll-up: its table, key columns (the first is the day), summed columns, and the
    tables of its twins (the same sums per local month ``YYYY-MM`` or week), if it has them."""

    model: Any
    keys: tuple[str, ...]
    values: tuple[str, ...]
    months: Any = None
    weeks: Any = None  # the week twin (``day`` = the week's Monday), if it has one


_FINE_KEYS = ("day", "village_code", "category_code", "department_code", "source")
FINE = Spec(TrendRollup, _FINE_KEYS, ADDITIVE, TrendRollupMonth)
HOURS = Spec(
    TrendHour, ("day", "village_code", "department_code", "weekday", "hour"), ("reported",),
    TrendHourMonth,
)  # fmt: skip
CELLS = Spec(
    TrendCell, ("day", "village_code", "department_code", "cell_x", "cell_y"), ("reported",),
    TrendCellMonth,
)  # fmt: skip
OVERDUE = Spec(TrendOverdue, _FINE_KEYS, ("open_overdue", "unhandled_overdue", "reworks"))
SERIES = Spec(
    TrendSeries, ("day", "village_code", "department_code", "major_code"), ("reported",),
    weeks=TrendSeriesWeek,
)  # fmt: skip
# What a case contributes to, computed per case (in this order in ``Sums``) …
COMPUTED = (FINE, HOURS, CELLS, OVERDUE, SERIES)
# … and the narrower roll-ups, sums of FINE over fewer dimensions (narrowest first).
DAILY = Spec(TrendDaily, ("day", "village_code", "department_code"), ADDITIVE, TrendDailyMonth)
SOURCES = Spec(
    TrendSource, ("day", "village_code", "department_code", "source"), ADDITIVE, TrendSourceMonth
)
CATEGORIES = Spec(
    TrendCategory, ("day", "village_code", "category_code", "department_code"), ADDITIVE,
    TrendCategoryMonth,
)  # fmt: skip
NARROWER = (DAILY, SOURCES, CATEGORIES)
SPECS = (*COMPUTED, *NARROWER)

Sums = tuple[dict[tuple[Any, ...], list[int]], ...]  # one per COMPUTED spec, in its order
Table = tuple[Any, Spec, dict[tuple[Any, ...], list[int]]]  # a model, its spec, its sums


def tables() -> list[Any]:
    """Every roll-up table's model (days, months, weeks)."""
    return [m for spec in SPECS for m in (spec.model, spec.months, spec.weeks) if m is not None]


def _project(
    table: dict[tuple[Any, ...], list[int]], positions: Sequence[int], time: str = "day"
) -> dict[tuple[Any, ...], list[int]]:
    """``table`` summed onto the keys at ``positions``, the day cut to its ``time``: ``day``
    (kept), ``month`` (``YYYY-MM``) or ``week`` (its Monday)."""
    result: dict[tuple[Any, ...], list[int]] = {}
    for key, values in table.items():
        new = tuple(key[i] for i in positions)
        if time == "month":
            new = (new[0][:7], *new[1:])
        elif time == "week":
            new = (monday(new[0]), *new[1:])
        _acc(result, new, values, 1)
    return result


@lru_cache(maxsize=8192)
def monday(day: str) -> str:
    """The Monday of the week of the local day ``YYYY-MM-DD``, as ``YYYY-MM-DD``."""
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def _all_tables(sums: Sums) -> list[Table]:
    """The sums of every table, from the per-case sums: the narrower roll-ups and the month
    twins are projections."""
    found: list[Table] = []
    by_spec = dict(zip(COMPUTED, sums, strict=True))
    for spec in SPECS:
        source = by_spec.get(spec, by_spec[FINE])
        table = _project(source, [FINE.keys.index(k) for k in spec.keys]) if (
            spec in NARROWER
        ) else source  # fmt: skip
        found.append((spec.model, spec, table))
        every = range(len(spec.keys))
        if spec.months is not None:
            found.append((spec.months, spec, _project(table, every, "month")))
        if spec.weeks is not None:
            found.append((spec.weeks, spec, _project(table, every, "week")))
    return found


@dataclass(frozen=True, slots=True)
class TrendCase:
    """One case as the roll-ups see it: the metrics' facts and the roll-ups' dimensions."""

    id: int
    facts: CaseFacts
    category: str  # the registered category, else the reported one
    emergency: bool
    updated_at: datetime
    lon: float
    lat: float


def trend_case(row: Any) -> TrendCase:
    facts = facts_of(row)
    category = row.category_code or row.reported_category or ""
    return TrendCase(
        row.id,
        facts,
        category,
        bool(row.emergency),
        row.updated_at,
        float(row.lon),
        float(row.lat),
    )


# --- a case's contribution ---------------------------------------------------------------------


def _sums() -> Sums:
    return tuple({} for _ in COMPUTED)


def _acc(table: dict[tuple[Any, ...], list[int]], key: tuple[Any, ...], values: Sequence[int],
         sign: int) -> None:  # fmt: skip
    acc = table.get(key)
    if acc is None:
        table[key] = [sign * v for v in values]
    else:
        for i, v in enumerate(values):
            acc[i] += sign * v


def _add_case(
    sums: Sums, case: TrendCase, calendar: WorkingCalendar, timer: WorkingTimer, sign: int = 1
) -> None:
    """Add (``sign`` 1) or take away (-1) the contribution of ``case`` to every table."""
    f = case.facts
    village, department, category = f.village_code or "", f.department_code or "", case.category
    fine, hours, cells, overdue, series = sums
    for day, part in day_parts(f, case.emergency, calendar, timer).items():
        values = [getattr(part, n) for n in ADDITIVE]
        _acc(fine, (day.isoformat(), village, category, department, f.source), values, sign)
    day, weekday, hour, x, y = report_spot(f.reported_at, case.lon, case.lat, calendar.tz)
    d = day.isoformat()
    _acc(hours, (d, village, department, weekday, hour), (1,), sign)
    _acc(cells, (d, village, department, x, y), (1,), sign)
    _acc(series, (d, village, department, category[:2]), (1,), sign)
    for day, state in overdue_days(f, calendar.tz).items():
        key = (day.isoformat(), village, category, department, f.source)
        _acc(overdue, key, (state.open_overdue, state.unhandled_overdue, state.reworks), sign)


# --- the marks: the facts a case was rolled up with --------------------------------------------

_MARKED = (
    "status",
    "reported_at",
    "registered_at",
    "deadline",
    "handled_at",
    "closed_at",
    "department_code",
    "category_code",
    "reported_category",
    "source",
    "rework_count",
    "extension_count",
    "dispatch_count",
    "return_count",
    "village_code",
    "emergency",
    "lon",
    "lat",
)
_TIMES = {"reported_at", "registered_at", "deadline", "handled_at", "closed_at"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_PLAN = [([c.key for c in COLUMNS].index(n), n in _TIMES) for n in _MARKED]
_US = timedelta(microseconds=1)


def encode(row: Any) -> str:
    """The marked facts of a case row (``COLUMNS``), as compact JSON (times in UTC
    microseconds)."""
    values = [
        None if (v := row[i]) is None else (v - _EPOCH) // _US if is_time else v
        for i, is_time in _PLAN
    ]
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def decode(case_id: int, text_: str) -> TrendCase:
    values = json.loads(text_)
    fields: dict[str, Any] = {"id": case_id, "reporter": "", "updated_at": _EPOCH}
    for name, value in zip(_MARKED, values, strict=True):
        if name in _TIMES and value is not None:
            value = _EPOCH + timedelta(microseconds=value)
        fields[name] = value
    return trend_case(SimpleNamespace(**fields))


# --- writing -----------------------------------------------------------------------------------


def _copy(session: Session, db: Database, model: Any, names: Sequence[str],
          rows: Iterable[Sequence[Any]], table_name: str | None = None) -> None:  # fmt: skip
    """Bulk insert: COPY (text format, written in large chunks) on PostgreSQL, batched INSERTs
    elsewhere. Values are strings and integers, never None."""
    if db.dialect == "postgresql":
        dbapi: Any = session.connection().connection.dbapi_connection
        name = table_name or model.__tablename__
        statement = f"COPY {name} ({', '.join(names)}) FROM STDIN"
        with dbapi.cursor() as cursor, cursor.copy(statement) as cp:
            chunk: list[str] = []
            tabs = len(names) - 1
            for row in rows:
                line = "\t".join(map(str, row))
                if line.count("\t") != tabs or "\\" in line or "\n" in line or "\r" in line:
                    line = "\t".join(map(_copy_text, row))  # rare: escape value by value
                chunk.append(line)
                if len(chunk) >= _BATCH * 4:
                    cp.write("\n".join(chunk) + "\n")
                    chunk = []
            if chunk:
                cp.write("\n".join(chunk) + "\n")
        return
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(names, row, strict=True)))
        if len(batch) >= _BATCH:
            session.execute(insert(model), batch)
            batch = []
    if batch:
        session.execute(insert(model), batch)


def _copy_text(value: Any) -> str:
    """A value in COPY's text format (backslash, tab and line ends escaped)."""
    text_ = str(value)
    if "\\" in text_ or "\t" in text_ or "\n" in text_ or "\r" in text_:
        text_ = text_.replace("\\", "\\\\").replace("\t", "\\t")
        text_ = text_.replace("\n", "\\n").replace("\r", "\\r")
    return text_


def _derive(session: Session, db: Database, sums: Sums) -> None:
    """The tables that are sums of others, written by the database from the tables just
    copied (set-based: ``INSERT … SELECT … GROUP BY``): the narrower roll-ups from
    ``trend_rollups``, then every month twin from its day table. The week twin of the series
    is projected here (its Monday is a calendar rule)."""
    for spec in NARROWER:
        keys, values = ", ".join(spec.keys), ", ".join(spec.values)
        sums_ = ", ".join(f"sum({v})" for v in spec.values)
        session.execute(
            text(
                f"INSERT INTO {spec.model.__tablename__} ({keys}, {values}) "
                f"SELECT {keys}, {sums_} FROM {FINE.model.__tablename__} GROUP BY {keys}"
            )
        )
    for spec in SPECS:
        if spec.months is None:
            continue
        rest = ", ".join(spec.keys[1:])
        values = ", ".join(spec.values)
        sums_ = ", ".join(f"sum({v})" for v in spec.values)
        session.execute(
            text(
                f"INSERT INTO {spec.months.__tablename__} (day, {rest}, {values}) "
                f"SELECT substr(day, 1, 7), {rest}, {sums_} FROM {spec.model.__tablename__} "
                f"GROUP BY substr(day, 1, 7), {rest}"
            )
        )
    series = sums[COMPUTED.index(SERIES)]
    weeks = _project(series, range(len(SERIES.keys)), "week")
    _copy(session, db, SERIES.weeks, (*SERIES.keys, *SERIES.values), _table_rows(weeks))


def _table_rows(table: dict[tuple[Any, ...], list[int]]) -> Iterator[tuple[Any, ...]]:
    for key, values in table.items():
        if any(values):
            yield (*key, *values)


def _add_rows(
    session: Session, db: Database, model: Any, spec: Spec, rows: list[dict[str, Any]]
) -> None:
    """Add ``rows`` to the table: a new key is inserted, an existing one summed into."""
    if not rows:
        return
    ins: Any = pg_insert(model) if db.dialect == "postgresql" else sqlite_insert(model)
    statement = ins.on_conflict_do_update(
        index_elements=list(spec.keys),
        set_={v: getattr(model, v) + getattr(ins.excluded, v) for v in spec.values},
    )
    for i in range(0, len(rows), _BATCH):
        session.execute(statement, rows[i : i + _BATCH])


def _lock(session: Session, db: Database) -> None:
    if db.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})


# --- build and refresh -------------------------------------------------------------------------


def rebuild(db: Database, calendar: WorkingCalendar) -> int:
    """Build every roll-up from the cases (the first refresh, or after cases were deleted);
    returns the number of cases read."""
    with _LOCK, db.transaction() as session:
        _lock(session, db)
        return _rebuild(session, db, calendar)


def _rebuild(session: Session, db: Database, calendar: WorkingCalendar) -> int:
    for model in (*tables(), TrendMark, TrendState):
        session.execute(delete(model))
    rows = session.execute(select(*COLUMNS).execution_options(yield_per=_BATCH))
    sums = _sums()
    timer = WorkingTimer(calendar)
    seen, top = 0, 0
    newest: datetime | None = None
    marks: list[tuple[int, str]] = []
    for row in rows:
        case = trend_case(row)
        _add_case(sums, case, calendar, timer)
        marks.append((case.id, encode(row)))
        seen += 1
        top = max(top, case.id)
        if newest is None or case.updated_at > newest:
            newest = case.updated_at
    for spec, table in zip(COMPUTED, sums, strict=True):
        _copy(session, db, spec.model, (*spec.keys, *spec.values), _table_rows(table))
    _derive(session, db, sums)
    _copy(session, db, TrendMark, ("case_id", "facts"), marks)
    if db.dialect == "postgresql":  # fresh statistics: the planner must see the new rows
        for model in tables():
            session.execute(text(f"ANALYZE {model.__tablename__}"))
    session.add(TrendState(name=STATE, updated_at=newest, max_id=top))
    logger.info("trend roll-ups rebuilt: %d cases, %d rows", seen, len(sums[0]))
    return seen


def refresh(db: Database, calendar: WorkingCalendar) -> int:
    """Bring the roll-ups up to date with the cases; returns the number of changed cases read."""
    with db.read() as session:
        if _up_to_date(session):
            return 0  # nothing written since: two index look-ups, no lock
    with _LOCK, db.transaction() as session:
        _lock(session, db)
        state = session.get(TrendState, STATE)
        if state is None:
            return _rebuild(session, db, calendar)
        newest_id, newest_at = _newest(session)
        changed_filter = [Case.id > state.max_id]
        if state.updated_at is not None:
            changed_filter.append(Case.updated_at >= state.updated_at - OVERLAP)
        changed = list(session.execute(select(*COLUMNS).where(or_(*changed_filter))))
        if not changed:
            state.max_id, state.updated_at = newest_id, newest_at
            return 0
        ids = [r.id for r in changed]
        sums = _sums()
        timer = WorkingTimer(calendar)
        for chunk in _chunks(ids):
            for case_id, marked in session.execute(
                select(TrendMark.case_id, TrendMark.facts).where(TrendMark.case_id.in_(chunk))
            ):
                _add_case(sums, decode(case_id, marked), calendar, timer, -1)
        for row in changed:
            _add_case(sums, trend_case(row), calendar, timer, 1)
        _apply(session, db, sums)
        for chunk in _chunks(ids):
            session.execute(delete(TrendMark).where(TrendMark.case_id.in_(chunk)))
        _copy(session, db, TrendMark, ("case_id", "facts"), ((r.id, encode(r)) for r in changed))
        newest = max(r.updated_at for r in changed)
        if state.updated_at is None or newest > state.updated_at:
            state.updated_at = newest
        state.max_id = max(state.max_id, *ids)
        return len(changed)


def _apply(session: Session, db: Database, sums: Sums) -> None:
    """Add the net changes to the tables; remove the rows they brought to zero (only a key
    whose every change is a decrease can have reached zero: the sums are never negative).
    PostgreSQL: the changes are copied into a temporary table and applied by two statements
    per table; elsewhere row by row (executemany)."""
    for model, spec, table in _all_tables(sums):
        names = (*spec.keys, *spec.values)
        if db.dialect == "postgresql":
            _apply_set_based(session, db, model, spec, table)
            continue
        rows = [dict(zip(names, (*k, *v), strict=True)) for k, v in table.items() if any(v)]
        _add_rows(session, db, model, spec, rows)
        emptied = [dict(zip(spec.keys, k, strict=True)) for k, v in table.items()
                   if any(v) and max(v) <= 0]  # fmt: skip
        if emptied:
            table_ = model.__table__
            statement = delete(table_).where(
                *(table_.c[k] == bindparam(f"k_{k}") for k in spec.keys),
                *(table_.c[v] == 0 for v in spec.values),
            )
            keyed = [{f"k_{k}": v for k, v in row.items()} for row in emptied]
            for i in range(0, len(keyed), _BATCH):  # Core: executemany of a DELETE
                session.connection().execute(statement, keyed[i : i + _BATCH])


def _apply_set_based(
    session: Session, db: Database, model: Any, spec: Spec, table: dict[tuple[Any, ...], list[int]]
) -> None:
    changes = [(*k, *v) for k, v in table.items() if any(v)]
    if not changes:
        return
    name, delta = model.__tablename__, f"delta_{model.__tablename__}"
    names = (*spec.keys, *spec.values)
    columns = ", ".join(names)
    session.execute(text(f"CREATE TEMPORARY TABLE {delta} (LIKE {name}) ON COMMIT DROP"))
    _copy(session, db, model, names, changes, delta)
    added = ", ".join(f"{v} = {name}.{v} + excluded.{v}" for v in spec.values)
    session.execute(
        text(
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {delta} "
            f"ON CONFLICT ({', '.join(spec.keys)}) DO UPDATE SET {added}"
        )
    )
    same = " AND ".join(f"t.{k} = d.{k}" for k in spec.keys)
    zero = " AND ".join(f"t.{v} = 0" for v in spec.values)
    session.execute(text(f"DELETE FROM {name} t USING {delta} d WHERE {same} AND {zero}"))
    session.execute(text(f"DROP TABLE {delta}"))


def _newest(session: Session) -> tuple[int, datetime | None]:
    newest_id, newest_at = session.execute(
        select(func.max(Case.id), func.max(Case.updated_at))
    ).one()
    return int(newest_id or 0), newest_at


def _up_to_date(session: Session) -> bool:
    state = session.get(TrendState, STATE)
    return state is not None and _newest(session) == (state.max_id, state.updated_at)


def _chunks(ids: list[int], size: int = 900) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def rolled_up_cases(db: Database) -> int:
    """How many cases the roll-up has marked (for the status of the roll-up)."""
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(TrendMark)) or 0)
