"""The audit log: append-only (in code and, on PostgreSQL, in the database), case actions written
in the same transaction as the step, camera views, and the admins' reader."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.security import audit
from dashboard.security.audit import Actor, AppendOnlyViolation
from dashboard.security.principal import Principal
from dashboard.services.cases import CaseReport
from dashboard.storage.models import AuditEntry, CaseEvent, Grid
from tests.integration import test_security_support as support
from tests.integration.test_security_support import SecureApp

_secure_apps, secure, lite_secure = support._secure_apps, support.secure, support.lite_secure

ROOT = Actor("cli:root", "admin", "")


def _write(app: SecureApp, n: int, action: str = "probe") -> None:
    for i in range(n):
        audit.write(app.services.db, ROOT, action, app.clock.now(), f"thing:{i}", n=i)


def test_the_orm_refuses_to_change_or_delete_audit_rows(secure: SecureApp) -> None:
    _write(secure, 1)
    db = secure.services.db
    with pytest.raises(AppendOnlyViolation), db.transaction() as session:
        row = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert row is not None
        row.actor = "someone else"
    with pytest.raises(AppendOnlyViolation), db.transaction() as session:
        row = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        session.delete(row)
    for statement in (update(AuditEntry).values(actor="x"), delete(AuditEntry)):
        with pytest.raises(AppendOnlyViolation), db.transaction() as session:
            session.execute(statement)
    assert [e.actor for e in secure.audit("probe")] == ["cli:root"]


def test_postgresql_itself_refuses_update_and_delete(secure: SecureApp) -> None:
    _write(secure, 1)
    db = secure.services.db
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        if db.dialect != "postgresql":
            continue  # SQLite (the embedded demo) relies on the code-level guard
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    assert len(secure.audit("probe")) == 1


def _case(app: SecureApp) -> int:
    with app.services.db.read() as session:
        grid = session.scalars(select(Grid).order_by(Grid.code)).first()
    assert grid is not None
    report = CaseReport(
        "01002", "dispute", grid.lon, grid.lat, Source.GRID_WORKER, "gw-1", Role.GRID_WORKER
    )
    return app.services.cases.report(report).id


def _step(case_id: int, at: datetime) -> CaseEvent:
    return CaseEvent(
        case_id=case_id,
        action="accept",
        from_status="reported",
        to_status="accepted",
        at=at,
        actor="op-li",
        role="dispatcher",
    )


def _case_entries(app: SecureApp) -> list[tuple[str, str, str, str, dict[str, object]]]:
    return [
        (e.actor, e.role, e.action, e.target, e.details)
        for e in app.audit()
        if e.action.startswith("case.")
    ]


def test_every_case_step_is_in_the_audit_log_in_its_transaction(secure: SecureApp) -> None:
    """Whatever writes a case step (the case service, a migration, a repair script), the step's
    audit entry is written by the same flush."""
    case_id = _case(secure)
    reported = ("gw-1", "grid_worker", "case.report", f"case:{case_id}")
    assert [e[:4] for e in _case_entries(secure)] == [reported]
    with secure.services.db.transaction() as session:
        session.add(_step(case_id, secure.clock.now()))
    accepted = _case_entries(secure)[-1]
    assert accepted[:4] == ("op-li", "dispatcher", "case.accept", f"case:{case_id}")
    assert accepted[4] == {"from": "reported", "to": "accepted"}


def test_a_rolled_back_step_leaves_no_audit_entry(secure: SecureApp) -> None:
    case_id = _case(secure)
    before = _case_entries(secure)
    with pytest.raises(RuntimeError), secure.services.db.transaction() as session:
        session.add(_step(case_id, secure.clock.now()))
        session.flush()  # the audit row is written here ...
        raise RuntimeError("the step fails after the flush")  # ... and rolled back with it
    assert _case_entries(secure) == before


def test_case_service_steps_reach_the_audit_log(lite_secure: SecureApp) -> None:
    from dashboard.domain.lifecycle import ActionRequest

    case_id = _case(lite_secure)
    lite_secure.services.cases.act(case_id, ActionRequest(Action.ACCEPT, "op-li", Role.DISPATCHER))
    assert [e[2] for e in _case_entries(lite_secure)] == ["case.report", "case.accept"]


def test_camera_views_are_recorded(secure: SecureApp) -> None:
    viewer = Principal("sup-chen", Role.SUPERVISOR, "user", 1)
    with secure.services.db.transaction() as session:
        audit.record_camera_view(session, viewer.actor("10.1.2.3"), "cam-0007", secure.clock.now())
        audit.record_camera_view(
            session, viewer.actor("10.1.2.3"), "cam-0007", secure.clock.now(), kind="snapshot"
        )
    rows = [(e.actor, e.action, e.target, e.ip) for e in secure.audit() if "camera" in e.action]
    assert rows == [
        ("sup-chen", "camera_view", "camera:cam-0007", "10.1.2.3"),
        ("sup-chen", "camera_snapshot", "camera:cam-0007", "10.1.2.3"),
    ]


def test_admins_read_the_log_paged_and_filtered(secure: SecureApp) -> None:
    probe = f"probe-{uuid.uuid4().hex[:8]}"  # the log keeps earlier tests' rows
    _write(secure, 5, probe)
    _write(secure, 2, probe + "-other")
    secure.user("boss", Role.ADMIN)
    client, _ = secure.signed_in("boss")
    first = client.get(f"/api/v1/audit?action={probe}&limit=3").get_json()
    assert [i["target"] for i in first["items"]] == ["thing:4", "thing:3", "thing:2"]
    second = client.get(f"/api/v1/audit?action={probe}&limit=3&before={first['next_before']}")
    body = second.get_json()
    assert [i["target"] for i in body["items"]] == ["thing:1", "thing:0"]
    assert body["next_before"] is None
    assert len(client.get(f"/api/v1/audit?action={probe}-*").get_json()["items"]) == 2
    since = (secure.clock.now() + timedelta(seconds=1)).isoformat()
    later_only = {"since": since, "action": probe}
    assert client.get("/api/v1/audit", query_string=later_only).get_json()["items"] == []
    page = client.get(f"/admin/audit?action={probe}")
    assert page.status_code == 200 and "thing:4" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("until=2026-11-23T09:00:00", "until"),  # no time zone
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("before=-1", "before"),
    ],
)
def test_bad_audit_queries_name_the_parameter(
    lite_secure: SecureApp, query: str, field: str
) -> None:
    lite_secure.user("boss", Role.ADMIN)
    client, _ = lite_secure.signed_in("boss")
    response = client.get(f"/api/v1/audit?{query}")
    assert response.status_code == 422 and response.get_json()["field"] == field


def test_the_audit_page_escapes_what_it_shows(lite_secure: SecureApp) -> None:
    audit.write(
        lite_secure.services.db,
        Actor("<script>alert(1)</script>", "admin"),
        "probe",
        lite_secure.clock.now(),
        "<img src=x onerror=alert(2)>",
    )
    lite_secure.user("boss", Role.ADMIN)
    client, _ = lite_secure.signed_in("boss")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
