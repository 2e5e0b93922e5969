"""The demo's accounts, one per desk role: created once, scoped, password kept owner-only."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from werkzeug.security import check_password_hash

from dashboard.demo_accounts import DEMO_ACCOUNTS, PASSWORD_FILE, demo_password
from dashboard.demo_accounts import ensure_demo_accounts as ensure
from dashboard.domain.roles import Role
from dashboard.storage.db import Database
from dashboard.storage.models import User

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_the_password_is_generated_once_and_readable_by_the_owner_only(tmp_path: Path) -> None:
    first = demo_password(tmp_path / "var")
    assert len(first) >= 12
    assert demo_password(tmp_path / "var") == first
    mode = stat.S_IMODE((tmp_path / "var" / PASSWORD_FILE).stat().st_mode)
    assert mode == 0o600


def test_one_account_per_role_created_once(database: Database) -> None:
    with database.transaction() as session:
        created = ensure(session, "demo password 1", NOW, {"urban"})
    # The grid worker's account is bound to a worker: this database has none, so it waits.
    assert created == [a.username for a in DEMO_ACCOUNTS if a.role is not Role.GRID_WORKER]
    with database.transaction() as session:
        assert ensure(session, "another password", NOW, {"urban"}) == []  # never twice
        users = {u.username: u for u in session.scalars(select(User))}
        urban = users["demo-urban"]
        assert (urban.role, urban.department_code) == ("department", "urban")
        assert check_password_hash(urban.password_hash, "demo password 1")
        assert {u.role for u in users.values()} >= {"dispatcher", "supervisor", "leader", "wall"}


def test_a_department_missing_from_the_reference_data_is_skipped(database: Database) -> None:
    with database.transaction() as session:
        created = ensure(session, "demo password 1", NOW, {"police"})
    assert "demo-urban" not in created and "demo-supervisor" in created
