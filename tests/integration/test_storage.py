"""The storage layer on both backends: aware UTC times, migrations, indexes, the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Index, UniqueConstraint, inspect, select, text
from sqlalchemy.exc import StatementError

from dashboard.domain.lifecycle import IllegalTransition
from dashboard.domain.status import Action
from dashboard.storage.db import Database
from dashboard.storage.migrate import MIGRATIONS, current_revision, upgrade
from dashboard.storage.models import ApiToken, Base, CaseEvent
from dashboard.storage.partitions import is_partition
from tests.integration.support import (
    HEAD,
    TOWN_NOW,
    Town,
    act,
    make_report,
)

CST = timezone(timedelta(hours=8))


def _token(name: str, created_at: datetime, expires_at: datetime | None = None) -> ApiToken:
    return ApiToken(
        name=name,
        role="wall",
        token_hash=name.ljust(64, "0"),
        prefix="gcc_test",
        created_at=created_at,
        expires_at=expires_at,
    )


# --- UtcDateTime --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=CST), id="shanghai"),
        pytest.param(datetime(2026, 3, 8, 23, 59, 59, 999999, tzinfo=UTC), id="utc"),
        pytest.param(datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-5))), id="-5"),
    ],
)
def test_utc_datetime_round_trips_as_aware_utc(database: Database, written: datetime) -> None:
    with database.transaction() as session:
        session.add(_token("t1", written, expires_at=None))

    with database.read() as session:
        token = session.scalars(select(ApiToken)).one()
        stored = session.execute(text("SELECT created_at FROM api_tokens")).scalar_one()
    assert token.created_at == written  # the same instant …
    assert token.created_at.tzinfo is UTC  # … handed back in UTC, whatever zone went in
    assert token.created_at.replace(tzinfo=None) == written.astimezone(UTC).replace(tzinfo=None)
    assert token.expires_at is None
    # What the backend holds is UTC too (SQLite: naive UTC text; PostgreSQL: timestamptz).
    if database.dialect == "sqlite":
        assert str(stored).startswith(written.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))
    else:
        assert stored == written


def test_utc_datetime_compares_in_sql_across_zones(database: Database) -> None:
    """Filters compare instants: 09:00 in Shanghai is before 02:00 UTC the same day."""
    with database.transaction() as session:
        session.add(_token("early", datetime(2026, 11, 23, 9, 0, tzinfo=CST)))  # 01:00 UTC
        session.add(_token("late", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)))
    boundary = datetime(2026, 11, 23, 9, 30, tzinfo=CST)  # 01:30 UTC
    with database.read() as session:
        names = session.scalars(select(ApiToken.name).where(ApiToken.created_at < boundary))
        assert list(names) == ["early"]


def test_utc_datetime_refuses_naive_datetimes(database: Database) -> None:
    naive = datetime(2026, 11, 23, 9, 0)
    with (
        pytest.raises(StatementError, match="naive datetime") as raised,
        database.transaction() as session,
    ):
        session.add(_token("naive", naive))
    assert isinstance(raised.value.orig, ValueError)
    with database.read() as session:
        assert session.scalars(select(ApiToken)).all() == []


# --- migrations ---------------------------------------------------------------------------


def test_the_migrations_form_one_line_starting_at_0001() -> None:
    revisions = list(ScriptDirectory(str(MIGRATIONS)).walk_revisions())
    assert revisions[-1].revision == "0001" and revisions[-1].down_revision is None
    assert revisions[0].revision == HEAD  # one head: no forgotten branch


def test_upgrade_is_idempotent(database: Database) -> None:
    assert current_revision(database.engine) == HEAD
    tables = set(inspect(database.engine).get_table_names())

    upgrade(database.engine)
    upgrade(database.engine)

    assert current_revision(database.engine) == HEAD
    assert set(inspect(database.engine).get_table_names()) == tables
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_upgrade_of_an_empty_sqlite_file(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert current_revision(db.engine) is None
        upgrade(db.engine)
        assert current_revision(db.engine) == HEAD
        assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


def test_models_match_the_migration(database: Database) -> None:
    """Autogenerate finds nothing to do: the migrated schema is exactly what models.py says."""

    def modelled(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        # The day partitions of position_fixes on PostgreSQL are tables of their own that the
        # models do not declare (dashboard.storage.partitions).
        table = obj if kind == "table" else getattr(obj, "table", None)
        return not (table is not None and is_partition(str(table.name)))

    with database.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": modelled}
        context = MigrationContext.configure(conn, opts=opts)
        diff: list[Any] = compare_metadata(context, Base.metadata)
    assert diff == []


def _expected_indexes() -> dict[str, dict[str, tuple[str, ...]]]:
    """table → index name → columns, for every index the models declare (incl. index=True)."""
    expected: dict[str, dict[str, tuple[str, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        expected[table.name] = {
            str(index.name): tuple(c.name for c in index.columns)
            for index in table.indexes
            if isinstance(index, Index)
        }
    return expected


def test_indexes_named_in_the_models_exist(database: Database) -> None:
    expected = _expected_indexes()
    # The ones written by hand for the wall, the village rule and the outbox relay.
    assert expected["cases"]["ix_cases_village_reported"] == ("village_code", "reported_at")
    assert expected["cases"]["ix_cases_open_deadline"] == ("open", "deadline")
    assert expected["outbox"]["ix_outbox_unpublished"] == ("published_at", "id")
    assert expected["case_events"]["ix_case_events_case_id"] == ("case_id",)

    inspector = inspect(database.engine)
    for table, indexes in expected.items():
        actual = {ix["name"]: tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
        for name, columns in indexes.items():
            assert actual.get(name) == columns, f"{table}.{name}: {actual.get(name)}"


def test_unique_constraints_exist(database: Database) -> None:
    inspector = inspect(database.engine)
    for table in Base.metadata.sorted_tables:
        declared = {
            tuple(c.name for c in uc.columns)
            for uc in table.constraints
            if isinstance(uc, UniqueConstraint)
        }
        present = {tuple(uc["column_names"]) for uc in inspector.get_unique_constraints(table.name)}
        assert declared <= present, table.name
    assert ("idempotency_key",) in {
        tuple(uc["column_names"]) for uc in inspector.get_unique_constraints("cases")
    }


# --- the audit trail ----------------------------------------------------------------------


def _trail(town: Town) -> list[tuple[Any, ...]]:
    with town.db.read() as session:
        rows = session.scalars(select(CaseEvent).order_by(CaseEvent.id))
        return [
            (e.id, e.case_id, e.action, e.from_status, e.to_status, e.at, e.actor, e.role, e.note)
            for e in rows
        ]


def test_the_audit_trail_only_grows(town: Town) -> None:
    """Each step appends one entry and leaves every earlier entry exactly as it was."""
    first = town.cases.report(make_report(town)).id
    second = town.cases.report(make_report(town, grid_index=7)).id
    trail = _trail(town)
    steps = [
        (first, Action.ACCEPT),
        (second, Action.ACCEPT),
        (first, Action.REGISTER),
        (second, Action.VOID),
        (first, Action.DISPATCH),
    ]
    for i, (case_id, action) in enumerate(steps, start=1):
        act(town, case_id, action, TOWN_NOW + timedelta(minutes=i))
        grown = _trail(town)
        assert grown[: len(trail)] == trail
        assert len(grown) == len(trail) + 1
        assert grown[-1][1:3] == (case_id, action.value)
        assert grown[-1][0] > trail[-1][0]  # ids only go up
        trail = grown

    # A refused step adds nothing and changes nothing.
    with pytest.raises(IllegalTransition):
        act(town, second, Action.ACCEPT, TOWN_NOW + timedelta(hours=1))
    assert _trail(town) == trail
