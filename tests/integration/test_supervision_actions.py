"""Supervisors' actions on both databases: log a call, snooze, reply to and close an order.

Each action writes its change, an audit row and an outbox event together; a refused one writes
nothing. The HTTP layer is checked on the real app (SQLite): roles, CSRF, a department replying
only to its own orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.security.audit import Actor
from dashboard.services import supervision_actions as sa
from dashboard.storage.db import Database
from dashboard.storage.models import (
    AuditEntry,
    CallListEntry,
    CallLogEntry,
    OutboxEvent,
    Reminder,
    SupervisionOrder,
)
from tests.integration import test_security_support as support
from tests.integration.support import TOWN_NOW, Town, make_report, walk
from tests.integration.test_security_support import SecureApp

_secure_apps, lite_secure = support._secure_apps, support.lite_secure  # fixtures

SUP = Actor("sup-chen", "supervisor", "127.0.0.1")
DEPT = Actor("dept-zhao", "department", "127.0.0.1")


def _clear(db: Database) -> None:
    with db.transaction() as session:
        for model in (CallLogEntry, CallListEntry, SupervisionOrder, Reminder):
            session.execute(delete(model))


@pytest.fixture
def sup(town: Town) -> Iterator[Town]:
    _clear(town.db)
    yield town
    _clear(town.db)


def _entry(db: Database, village: str) -> int:
    with db.transaction() as session:
        row = CallListEntry(
            village_code=village,
            red_since=TOWN_NOW - timedelta(hours=3),
            listed_at=TOWN_NOW - timedelta(hours=1),
            status="open",
        )
        session.add(row)
        session.flush()
        return row.id


def _order(town: Town) -> tuple[int, str]:
    """An open order on a dispatched case; returns (order id, target department)."""
    record = town.cases.report(make_report(town))
    walk(town, record.id, (Action.ACCEPT, Action.REGISTER, Action.DISPATCH))
    case = town.case(record.id)
    assert case.department_code and case.deadline
    with town.db.transaction() as session:
        row = SupervisionOrder(
            case_id=case.id,
            stage="dispatched",
            deadline=case.deadline,
            due_at=case.deadline,
            issued_at=TOWN_NOW,
            supervisor="system",
            department_code=case.department_code,
            town_code=case.town_code,
            opinion="已超期，请立即处置并回复",
        )
        session.add(row)
        session.flush()
        return row.id, case.department_code


def _counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (CallLogEntry, AuditEntry, OutboxEvent)
        }


def _last_outbox(db: Database, topic: str) -> dict[str, Any]:
    with db.read() as session:
        row = session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id.desc())
        ).first()
        assert row is not None, f"no {topic} event"
        return dict(row.payload)


def _audit(db: Database, action: str, target: str) -> list[AuditEntry]:
    with db.read() as session:
        query = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.target == target)
        return list(session.scalars(query))


def test_logging_a_call_records_who_called_whom_with_audit_and_event(sup: Town) -> None:
    village = sup.grid(0).village_code
    entry_id = _entry(sup.db, village)
    contact = sup.village(village)
    payload = sa.log_call(sup.db, entry_id, SUP, None, None, "no_answer", " 再打 ", TOWN_NOW)
    with sup.db.read() as session:
        call = session.scalars(select(CallLogEntry)).one()
        entry = session.get(CallListEntry, entry_id)
        history = sa.call_history(session, Scope())
    assert (call.caller, call.callee, call.phone) == (
        "sup-chen",
        contact.contact_name,
        contact.contact_phone,
    )
    assert (call.kind, call.outcome, call.note, call.at) == ("call", "no_answer", "再打", TOWN_NOW)
    assert entry is not None and entry.last_call_at == TOWN_NOW and entry.status == "open"
    assert history[0]["caller"] == "sup-chen" and history[0]["village_name"] == contact.name
    assert payload["last_call"] == {
        "at": TOWN_NOW.isoformat(),
        "caller": "sup-chen",
        "outcome": "no_answer",
    }
    event = _last_outbox(sup.db, "call_list")
    assert (
        event["id"] == entry_id
        and event["village"] == village
        and event["town"] == contact.town_code
    )
    assert [a.actor for a in _audit(sup.db, "call_logged", f"call_list:{entry_id}")] == ["sup-chen"]


def test_a_snooze_takes_the_entry_off_until_the_time_and_keeps_the_reason(sup: Town) -> None:
    entry_id = _entry(sup.db, sup.grid(0).village_code)
    until = TOWN_NOW + timedelta(hours=4)
    payload = sa.snooze(sup.db, entry_id, SUP, until, "村支书在开会，下午回电", TOWN_NOW)
    assert payload["status"] == "snoozed" and payload["snoozed_until"] == until.isoformat()
    with sup.db.read() as session:
        entry = session.get(CallListEntry, entry_id)
        log = session.scalars(select(CallLogEntry)).one()
    assert entry is not None and (entry.status, entry.snoozed_until) == ("snoozed", until)
    assert (log.kind, log.note, log.snooze_until) == ("snooze", "村支书在开会，下午回电", until)
    assert _audit(sup.db, "call_snoozed", f"call_list:{entry_id}")
    assert _last_outbox(sup.db, "call_list")["status"] == "snoozed"
    # A call after the snooze ran out puts the entry back on the list.
    later = until + timedelta(minutes=1)
    assert sa.log_call(sup.db, entry_id, SUP, None, None, "reached", "", later)["status"] == "open"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"outcome": "maybe"}, "unknown_outcome"),
        ({"outcome": "other", "note": "  "}, "note_required"),
        ({"outcome": "reached", "note": "x" * 2001}, "note_too_long"),
    ],
)
def test_a_bad_call_changes_nothing(sup: Town, kwargs: dict[str, Any], code: str) -> None:
    entry_id = _entry(sup.db, sup.grid(0).village_code)
    before = _counts(sup.db)
    args = {"note": ""} | kwargs
    with pytest.raises(sa.SupervisionError) as err:
        sa.log_call(sup.db, entry_id, SUP, None, None, args["outcome"], args["note"], TOWN_NOW)
    assert err.value.code == code and err.value.status == 422
    assert _counts(sup.db) == before


@pytest.mark.parametrize(
    ("until", "reason", "code"),
    [
        (TOWN_NOW - timedelta(minutes=1), "开会", "until_in_past"),
        (TOWN_NOW + timedelta(days=8), "开会", "until_too_far"),
        (TOWN_NOW + timedelta(hours=1), " ", "reason_required"),
        (TOWN_NOW.replace(tzinfo=None) + timedelta(hours=1), "开会", "naive_time"),
    ],
)
def test_a_bad_snooze_changes_nothing(sup: Town, until: Any, reason: str, code: str) -> None:
    entry_id = _entry(sup.db, sup.grid(0).village_code)
    before = _counts(sup.db)
    with pytest.raises(sa.SupervisionError) as err:
        sa.snooze(sup.db, entry_id, SUP, until, reason, TOWN_NOW)
    assert err.value.code == code
    assert _counts(sup.db) == before
    with sup.db.read() as session:
        entry = session.get(CallListEntry, entry_id)
        assert entry is not None and entry.status == "open" and entry.snoozed_until is None


def test_entries_outside_the_area_or_resolved_are_refused(sup: Town) -> None:
    village = sup.grid(0).village_code
    entry_id = _entry(sup.db, village)
    before = _counts(sup.db)
    elsewhere = Scope(area_code="999999")
    with pytest.raises(sa.SupervisionError) as err:
        sa.log_call(sup.db, entry_id, SUP, None, None, "reached", "", TOWN_NOW, scope=elsewhere)
    assert (err.value.status, err.value.code) == (404, "entry_not_found")
    with pytest.raises(sa.SupervisionError) as err:
        sa.snooze(sup.db, 10**6, SUP, TOWN_NOW + timedelta(hours=1), "r", TOWN_NOW)
    assert err.value.status == 404
    assert _counts(sup.db) == before
    sa.resolve_call(sup.db, entry_id, SUP, "村里已处理", TOWN_NOW)
    with pytest.raises(sa.SupervisionError) as err:
        sa.log_call(sup.db, entry_id, SUP, None, None, "reached", "", TOWN_NOW)
    assert (err.value.status, err.value.code) == (409, "entry_resolved")


def test_the_target_department_replies_and_the_supervisor_closes(sup: Town) -> None:
    order_id, dept = _order(sup)
    own = Scope(department_code=dept)
    payload = sa.reply_order(sup.db, order_id, DEPT, "已派人到现场，明日完成", TOWN_NOW, scope=own)
    assert (payload["status"], payload["reply"], payload["action"]) == (
        "replied",
        "已派人到现场，明日完成",
        "reply",
    )
    assert payload["village"] == sup.grid(0).village_code and payload["department"] == dept
    assert _last_outbox(sup.db, "supervision_order")["status"] == "replied"
    assert _audit(sup.db, "order_replied", f"supervision_order:{order_id}")[0].actor == "dept-zhao"
    closed = sa.close_order(sup.db, order_id, SUP, TOWN_NOW + timedelta(hours=1), note="回复满意")
    assert closed["status"] == "closed" and closed["closed_by"] == "sup-chen"
    with sup.db.read() as session:
        order = session.get(SupervisionOrder, order_id)
    assert order is not None and (order.replied_by, order.closed_by) == ("dept-zhao", "sup-chen")
    assert _audit(sup.db, "order_closed", f"supervision_order:{order_id}")[0].details == {
        "note": "回复满意"
    }
    before = _counts(sup.db)
    for attempt in (
        lambda: sa.close_order(sup.db, order_id, SUP, TOWN_NOW),
        lambda: sa.reply_order(sup.db, order_id, DEPT, "再回复", TOWN_NOW, scope=own),
    ):
        with pytest.raises(sa.SupervisionError) as err:
            attempt()
        assert (err.value.status, err.value.code) == (409, "order_closed")
    assert _counts(sup.db) == before


def test_a_department_cannot_reply_to_another_departments_order(sup: Town) -> None:
    order_id, dept = _order(sup)
    other = next(d.code for d in sup.reference.departments if d.code != dept)
    before = _counts(sup.db)
    with pytest.raises(sa.SupervisionError) as err:
        sa.reply_order(
            sup.db, order_id, DEPT, "不是我们的", TOWN_NOW, scope=Scope(department_code=other)
        )
    assert (err.value.status, err.value.code) == (404, "order_not_found")
    with pytest.raises(sa.SupervisionError) as err:
        sa.reply_order(sup.db, order_id, DEPT, "   ", TOWN_NOW, scope=Scope(department_code=dept))
    assert err.value.code == "reply_required"
    assert _counts(sup.db) == before
    with sup.db.read() as session:
        order = session.get(SupervisionOrder, order_id)
        assert order is not None and order.status == "open" and order.reply is None


# --- over HTTP (the real app on SQLite) ---------------------------------------------------------


@pytest.fixture
def web(lite_secure: SecureApp) -> Iterator[SecureApp]:
    _clear(lite_secure.services.db)
    yield lite_secure
    _clear(lite_secure.services.db)


def _web_order(app: SecureApp) -> tuple[int, str]:
    services = app.services
    town = Town(
        services.db,
        services.reference,
        services.cases.village_rule,
        services.locator,
        app.clock,
        services.cases,
    )
    return _order(town)


def test_the_endpoints_act_for_supervisors_and_check_csrf(web: SecureApp) -> None:
    web.user("sup-web", Role.SUPERVISOR)
    client, csrf = web.signed_in("sup-web")
    with web.services.db.read() as session:
        from dashboard.storage.models import Grid

        village = session.scalars(select(Grid.village_code).order_by(Grid.code)).first()
    entry_id = _entry(web.services.db, str(village))
    url = f"/api/v1/supervision/calls/{entry_id}/log"
    assert client.post(url, json={"outcome": "reached"}).status_code == 403  # no CSRF header
    answer = client.post(url, json={"outcome": "reached"}, headers=web.csrf_headers(csrf))
    assert answer.status_code == 200 and answer.get_json()["last_call"]["caller"] == "sup-web"
    bad = client.post(url, json={"outcome": "reached", "phne": "1"}, headers=web.csrf_headers(csrf))
    assert bad.status_code == 422 and bad.get_json()["field"] == "phne"
    snooze = f"/api/v1/supervision/calls/{entry_id}/snooze"
    past = {"until": (TOWN_NOW - timedelta(hours=1)).isoformat(), "reason": "开会"}
    refused = client.post(snooze, json=past, headers=web.csrf_headers(csrf))
    assert refused.status_code == 422 and refused.get_json()["error"] == "until_in_past"
    ok = {"until": (TOWN_NOW + timedelta(hours=1)).isoformat(), "reason": "开会"}
    assert (
        client.post(snooze, json=ok, headers=web.csrf_headers(csrf)).get_json()["status"]
        == "snoozed"
    )
    assert [
        a.action for a in web.audit() if a.actor == "sup-web" and a.action.startswith("call_")
    ] == [
        "call_logged",
        "call_snoozed",
    ]


def test_department_users_reply_to_their_own_orders_only(web: SecureApp) -> None:
    order_id, dept = _web_order(web)
    other = next(c for c in support.department_codes(web.services) if c != dept)
    web.user("dept-own", Role.DEPARTMENT, department_code=dept)
    web.user("dept-other", Role.DEPARTMENT, department_code=other)
    url = f"/api/v1/supervision/orders/{order_id}/reply"
    foreign, csrf = web.signed_in("dept-other")
    answer = foreign.post(url, json={"reply": "不是我们的"}, headers=web.csrf_headers(csrf))
    assert answer.status_code == 404
    own, csrf = web.signed_in("dept-own")
    answer = own.post(url, json={"reply": "已处理"}, headers=web.csrf_headers(csrf))
    assert answer.status_code == 200 and answer.get_json()["replied_by"] == "dept-own"
    close = own.post(
        f"/api/v1/supervision/orders/{order_id}/close", json={}, headers=web.csrf_headers(csrf)
    )
    assert close.status_code == 403  # closing is the supervisor's
    web.user("sup-close", Role.SUPERVISOR)
    client, csrf = web.signed_in("sup-close")
    close = client.post(
        f"/api/v1/supervision/orders/{order_id}/close", headers=web.csrf_headers(csrf)
    )
    assert close.status_code == 200 and close.get_json()["status"] == "closed"
