"""What the grid worker's phone sends for residents (issue 18), on SQLite and PostgreSQL: a
claim with its evidence photo and a service request with its papers, each with the phone's
Idempotency-Key (a retry answers the first, never a second row; the same key for another body
is refused); a returned request says what is missing and takes the paper once when the phone
sends it twice; the list of requests costs the same number of queries for 1 or 12 requests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.security.principal import Actor
from dashboard.services.residents import Clerk
from dashboard.storage.models import PointsClaim, ResidentFile, ServiceRequest
from tests.integration import test_security_support as support
from tests.integration.test_residents_api import Desk, _clear, _png, _villages
from tests.integration.test_security_support import SecureApp, later

_secure_apps, secure = support._secure_apps, support.secure  # fixtures
TZ = ZoneInfo("Asia/Shanghai")  # the demo calendar's


@pytest.fixture
def town(secure: SecureApp) -> Iterator[SecureApp]:
    _clear(secure)
    yield secure
    _clear(secure)


def _keyed(desk: Desk, path: str, key: str, data: dict[str, Any]) -> tuple[int, Any]:
    """A multipart POST with the phone's Idempotency-Key."""
    response = desk.client.post(
        f"/api/v1{path}",
        data=data,
        content_type="multipart/form-data",
        headers={**desk.headers, "Idempotency-Key": key},
    )
    return response.status_code, response.get_json()


def _count(app: SecureApp, model: Any, *where: Any) -> int:
    with app.services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_claim_with_evidence_sent_twice_is_one_claim(town: SecureApp) -> None:
    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    other = Desk(town, "gw-wu", Role.GRID_WORKER, area_code=village)
    wu = worker.post("/residents", {"kind": "resident", "name": "吴秀兰", "village": village})[1]
    form = {
        "resident": str(wu["id"]),
        "item": "B002",
        "deed_date": "2026-11-20",
        "reporter": "worker",
        "description": "每天接送邻居家孩子上学",
    }

    def send(desk: Desk, key: str, **changed: str) -> tuple[int, Any]:
        data = {**form, **changed, "evidence": (io.BytesIO(_png(7)), "deed.png")}
        return _keyed(desk, "/points/claims", key, data)

    status, first = send(worker, "m-claim-1")
    assert status == 201, first
    status, again = send(worker, "m-claim-1")
    assert (status, again["id"]) == (200, first["id"])  # the retry: the first claim
    assert _count(town, PointsClaim) == 1
    assert _count(town, ResidentFile, ResidentFile.claim_id == first["id"]) == 1
    status, body = send(worker, "m-claim-1", item="A001")
    assert status == 422 and body["error"] == "idempotency_key_reused", body
    status, body = send(other, "m-claim-1")  # another phone's key is its own: the deed rule
    assert status == 409 and body["error"] == "duplicate_deed", body

    claims = worker.get("/points/claims?status=pending")[1]["claims"]
    assert [c["evidence"] for c in claims] != [[]]
    file_id = claims[0]["evidence"][0]
    photo = worker.client.get(f"/api/v1/points/claims/{first['id']}/evidence/{file_id}")
    assert photo.status_code == 200 and "no-store" in photo.headers["Cache-Control"]
    photo.close()
    too_many = {**form, "evidence": [(io.BytesIO(_png(n)), f"{n}.png") for n in range(6)]}
    status, body = worker.post("/points/claims", data=too_many, content_type="multipart/form-data")
    assert status == 422 and _count(town, PointsClaim) == 1, body


def test_a_request_from_the_phone_returned_then_completed(town: SecureApp) -> None:
    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    civil = Desk(town, "civil-desk", Role.DEPARTMENT, department_code="civil")
    chen = worker.post("/residents", {"kind": "resident", "name": "陈国强", "village": village})
    form = {
        "item": "S001",
        "resident": str(chen[1]["id"]),
        "consent_note": "本人当面同意",
        "paper_label": ["身份证"],
    }

    def open_it() -> tuple[int, Any]:
        data = {**form, "paper": [(io.BytesIO(_png(11)), "id.png")]}
        return _keyed(worker, "/service-requests", "m-aid-1", data)

    status, first = open_it()
    assert status == 201, first
    status, again = open_it()
    assert (status, again["id"]) == (200, first["id"])
    assert _count(town, ServiceRequest) == 1
    number = first["id"]

    civil.post(f"/service-requests/{number}/actions", {"action": "accept"})
    civil.post(f"/service-requests/{number}/actions", {"action": "return", "note": "缺户口簿"})
    mine = worker.get("/service-requests")[1]["requests"]
    assert [(r["status"], r["missing"], r["papers"]) for r in mine] == [("returned", "缺户口簿", 1)]
    for _ in range(2):  # the phone sends the paper twice (the first answer was lost)
        status, body = worker.post(
            f"/service-requests/{number}/papers",
            data={"label": "户口簿", "paper": (io.BytesIO(_png(12)), "hukou.png")},
            content_type="multipart/form-data",
        )
        assert status == 201, body
    assert _count(town, ResidentFile, ResidentFile.request_id == number) == 2
    status, body = worker.post(f"/service-requests/{number}/actions", {"action": "resubmit"})
    assert status == 200 and body["status"] == "accepted" and body["missing"] == "", body
    status, body = civil.post(f"/service-requests/{number}/actions", {"action": "complete"})
    assert status == 200 and body["status"] == "done", body


def test_the_list_of_requests_reads_in_a_constant_number_of_queries(town: SecureApp) -> None:
    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    people = [
        worker.post("/residents", {"kind": "resident", "name": f"居民{n}", "village": village})[1][
            "id"
        ]
        for n in range(12)
    ]
    clerk = Clerk(Actor("commander-li", Role.COMMANDER.value), Scope())
    requests = town.services.service_requests
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(str(args[2]))

    def queries() -> int:
        counted.clear()
        event.listen(town.services.db.engine, "before_cursor_execute", count)
        try:
            listed = requests.list(clerk)
        finally:
            event.remove(town.services.db.engine, "before_cursor_execute", count)
        assert all(r["resident"]["name"] for r in listed)
        return len([q for q in counted if q.lstrip().upper().startswith("SELECT")])

    body = {"item": "S001", "consent_note": "当面同意"}
    worker.post("/service-requests", {**body, "resident": people[0]})
    one = queries()
    for person in people[1:]:
        worker.post("/service-requests", {**body, "resident": person})
    assert len(requests.list(clerk)) == 12
    assert queries() == one == 1


def test_the_leaders_figures_per_town_and_village(town: SecureApp) -> None:
    from dashboard.read.resident_views import residents_by_town, residents_by_village

    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    civil = Desk(town, "civil-desk", Role.DEPARTMENT, department_code="civil")
    start = town.clock.now()
    wu = worker.post("/residents", {"kind": "resident", "name": "吴秀兰", "village": village})
    day = start.date().isoformat()
    for item in ("B002", "A001"):
        claim = {"resident": wu[1]["id"], "item": item, "deed_date": day, "reporter": "self"}
        status, body = worker.post("/points/claims", claim)
        assert status == 201, body
        if item == "B002":
            assert desk.post(f"/points/claims/{body['id']}/confirm")[0] == 200
    # The wall's small panel: this month's first villages, names and points only.
    wall = Desk(town, "wall-1", Role.WALL)
    status, body = wall.get("/points/top-villages?limit=3")
    assert status == 200 and body["villages"][0] == {
        "village": village,
        "name": body["villages"][0]["name"],
        "points": 50,
    }, body
    assert body["since"] == town.clock.now().astimezone(TZ).date().replace(day=1).isoformat()
    assert worker.get("/points/top-villages")[0] == 403  # a phone is no wall
    assert wall.get("/points/top-villages?limit=99")[0] == 422
    opened = []
    for _ in range(3):
        body = {"item": "S001", "resident": wu[1]["id"], "consent_note": "当面同意"}
        opened.append(worker.post("/service-requests", body)[1]["id"])
    for number in opened[:2]:
        assert civil.post(f"/service-requests/{number}/actions", {"action": "accept"})[0] == 200
    assert civil.post(f"/service-requests/{opened[0]}/actions", {"action": "complete"})[0] == 200
    late_days = town.services.reference.service_items.item("S001").limit_days * 2 + 10
    later(town, days=late_days)  # the second one is done late
    civil.sign_in()
    assert civil.post(f"/service-requests/{opened[1]}/actions", {"action": "complete"})[0] == 200

    until = town.clock.now() + timedelta(minutes=1)
    with town.services.db.read() as session:
        towns = residents_by_town(session, None, start - timedelta(days=1), until, "合计")
        villages = residents_by_village(session, village[:9], start, until, "合计")
        before = residents_by_town(session, None, start - timedelta(days=9), start, "合计")
    mine = next(r for r in towns.towns if village.startswith(r.town))
    figures = (mine.claims, mine.confirmed, mine.points, mine.requests, mine.done, mine.on_time)
    assert figures == (2, 1, 50, 3, 2, 1)
    assert (mine.open_now, mine.on_time_share) == (1, 0.5)
    assert towns.total.claims == 2 and towns.total.points == 50
    row = next(r for r in villages.towns if r.town == village)
    assert (row.claims, row.requests, row.done) == (2, 3, 2)
    assert before.total.claims == 0 and before.total.done == 0  # another period: nothing
