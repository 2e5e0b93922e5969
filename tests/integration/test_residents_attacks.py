"""The residents' side attacked as a hostile or careless user would (issue 18 hardening), on
SQLite and PostgreSQL: scope escapes by role and by guessed ids, the points' abuse rules (a deed
far in the past, two claims or two redemptions at once), the append-only ledger held by the
service itself, and bounds of every input. Each table is one test; what already held is kept so
by the same tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from dashboard.domain.roles import Role
from dashboard.security.audit import AppendOnlyViolation
from dashboard.storage.models import PointsEntry
from tests.integration import test_security_support as support
from tests.integration.test_residents_api import TABLES, Desk, _villages, town
from tests.integration.test_security_support import SecureApp

_secure_apps, secure, _town = support._secure_apps, support.secure, town  # fixtures

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


def _counts(app: SecureApp) -> dict[str, int]:
    with app.services.db.read() as session:
        return {m.__tablename__: len(session.scalars(select(m.id)).all()) for m in TABLES}  # type: ignore[attr-defined]


def _resident(desk: Desk, village: str, kind: str = "resident") -> int:
    status, body = desk.post(
        "/residents",
        {
            "kind": kind,
            "name": "吴秀兰",
            "village": village,
            "id_number": ID_NUMBER,
            "phone": PHONE,
        },
    )
    assert status == 201, body
    return int(body["id"])


# --- the ledger: append-only in the service, on SQLite too ------------------------------------


_CHANGES: list[Callable[[Any, PointsEntry], Any]] = [
    lambda s, e: setattr(e, "amount", 500),
    lambda s, e: s.delete(e),
    lambda s, e: s.execute(update(PointsEntry).values(amount=500)),
    lambda s, e: s.execute(delete(PointsEntry)),
]


def test_the_ledger_refuses_edits_in_the_service(town: SecureApp) -> None:
    village, _ = _villages(town)
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    wu = _resident(desk, village)
    assert (
        desk.post("/points/corrections", {"resident": wu, "amount": 5, "reason": "补录"})[0] == 201
    )
    db = town.services.db
    for change in _CHANGES:  # ORM update and delete, bulk update and delete
        with pytest.raises(AppendOnlyViolation, match="append-only"), db.transaction() as session:
            change(session, session.scalars(select(PointsEntry)).one())
            session.flush()
    assert desk.get(f"/points/residents/{wu}/ledger")[1]["balance"] == 5
