"""Video-call signalling on the ``/field`` namespace (streams.field_calls), on SQLite and
PostgreSQL: only the command room calls, only workers of its area; a phone answers only a call to
its own worker; the offer reaches the phone; hang-up ends both sides; the call is logged and in
the case's trail. Flask-SocketIO's test clients carry the signed-in browsers' cookies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dashboard.accounts import create_user
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.services.cases import CaseReport
from dashboard.storage.models import CaseEvent, FieldCall, Grid, GridWorker
from tests.integration import test_security_support as support
from tests.integration.support import TOWN_NOW
from tests.integration.test_security_support import PASSWORD, SecureApp

_secure_apps, lite_secure, secure = support._secure_apps, support.lite_secure, support.secure
NS = "/field"


def _socket(app: SecureApp, username: str) -> Any:
    client, _ = app.signed_in(username)
    assert app.services.socketio is not None
    return app.services.socketio.test_client(app.app, namespace=NS, flask_test_client=client)


def _events(sock: Any, name: str) -> list[Any]:
    return [e["args"][0] for e in sock.get_received(NS) if e["name"] == name]


def _workers(app: SecureApp) -> tuple[GridWorker, GridWorker, GridWorker]:
    """Two workers of one village and one of another village (the seeded town has one town)."""
    with app.services.db.read() as session:
        rows = list(session.scalars(select(GridWorker).order_by(GridWorker.id)))
    first = rows[0]
    same = next(w for w in rows[1:] if w.village_code == first.village_code)
    other = next(w for w in rows if w.village_code != first.village_code)
    return first, same, other


def test_the_command_room_calls_and_the_phone_answers(secure: SecureApp) -> None:
    worker, neighbour, _ = _workers(secure)
    with secure.services.db.transaction() as session:
        create_user(session, "wu", Role.GRID_WORKER, PASSWORD, TOWN_NOW, worker_id=worker.id)
        create_user(session, "li", Role.GRID_WORKER, PASSWORD, TOWN_NOW, worker_id=neighbour.id)
        grid = session.get(Grid, worker.grid_code)
        assert grid is not None
        where = (grid.lon, grid.lat)
    secure.user("wang", Role.COMMANDER, display_name="王值班")
    report = CaseReport("10001", "需要视频确认", *where, Source.GRID_WORKER, "wu", Role.GRID_WORKER)
    case_id = secure.services.cases.report(report, []).id

    phone, other_phone, desk = _socket(secure, "wu"), _socket(secure, "li"), _socket(secure, "wang")
    assert phone.is_connected(NS) and other_phone.is_connected(NS) and desk.is_connected(NS)
    # A phone cannot call anyone.
    refused = phone.emit("call", {"worker_id": neighbour.id}, namespace=NS, callback=True)
    assert refused == {"ok": False, "error": "forbidden"}

    started = desk.emit(
        "call", {"worker_id": worker.id, "case_id": case_id}, namespace=NS, callback=True
    )
    assert started["ok"] is True and started["worker_name"] == worker.name
    call_id = started["call_id"]
    (ring,) = _events(phone, "ring")
    assert ring == {"call_id": call_id, "caller": "王值班", "case_id": case_id}
    assert _events(other_phone, "ring") == []  # only the called worker's phone rings

    # Another worker's phone can neither take the call nor speak in it.
    assert (
        other_phone.emit("answer", {"call_id": call_id}, namespace=NS, callback=True)["ok"] is False
    )
    offer = {"call_id": call_id, "data": {"sdp": {"type": "offer", "sdp": "v=0"}}}
    assert other_phone.emit("signal", offer, namespace=NS, callback=True)["ok"] is False

    assert phone.emit("answer", {"call_id": call_id}, namespace=NS, callback=True) == {"ok": True}
    assert _events(desk, "answered") == [{"call_id": call_id}]
    assert desk.emit("signal", offer, namespace=NS, callback=True) == {"ok": True}
    assert _events(phone, "signal") == [offer]

    assert desk.emit("hangup", {"call_id": call_id}, namespace=NS, callback=True) == {"ok": True}
    assert [h["call_id"] for h in _events(phone, "hangup")] == [call_id]
    for sock in (phone, other_phone, desk):
        sock.disconnect(NS)

    with secure.services.db.read() as session:
        row = session.get(FieldCall, call_id)
        assert row is not None
        assert (row.caller, row.worker_id, row.case_id, row.outcome, row.ended_by) == (
            "wang",
            worker.id,
            case_id,
            "ended",
            "wang",
        )
        assert row.answered_at is not None and row.ended_at is not None
        step = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "video_call")
        ).one()
    assert step.details["call_id"] == call_id and step.details["call_worker"] == worker.name
    assert step.from_status == step.to_status == "reported"


def test_no_call_outside_the_area_or_to_a_phone_that_is_off(lite_secure: SecureApp) -> None:
    worker, _, far = _workers(lite_secure)
    with lite_secure.services.db.transaction() as session:
        create_user(session, "wu", Role.GRID_WORKER, PASSWORD, TOWN_NOW, worker_id=worker.id)
    lite_secure.user("village-desk", Role.DISPATCHER, area_code=worker.village_code)
    lite_secure.user("qian", Role.DEPARTMENT)
    desk = _socket(lite_secure, "village-desk")
    outside = desk.emit("call", {"worker_id": far.id}, namespace=NS, callback=True)
    assert outside == {"ok": False, "error": "forbidden"}
    offline = desk.emit("call", {"worker_id": worker.id}, namespace=NS, callback=True)
    assert offline == {"ok": False, "error": "offline"}  # wu's phone is not connected
    bad = desk.emit("call", {"worker_id": ["x"]}, namespace=NS, callback=True)
    assert bad == {"ok": False, "error": "bad_request"}
    department = _socket(lite_secure, "qian")
    assert not department.is_connected(NS)  # neither a worker nor the command room
    desk.disconnect(NS)
    with lite_secure.services.db.read() as session:
        assert session.scalars(select(FieldCall)).all() == []
