"""The residents' side over the real app, on SQLite and PostgreSQL (issue 18): a deed claimed by
a grid worker and confirmed by the village committee, the balance and the village ranking,
a reward redeemed; an aid request returned for a missing paper, completed on the working
calendar; scope, roles, the append-only ledger and masked personal data."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from dashboard.domain.roles import Role
from dashboard.storage.models import (
    PointsClaim,
    PointsEntry,
    PointsRedemption,
    PointsReward,
    Resident,
    ResidentFile,
    ServiceRequest,
    ServiceRequestEvent,
    Village,
)
from tests.integration import test_security_support as support
from tests.integration.test_api_support import image
from tests.integration.test_security_support import SecureApp, later

_secure_apps, secure = support._secure_apps, support.secure  # fixtures

ID_NUMBER = "11010519491231002X"
TABLES = (
    ResidentFile,
    ServiceRequestEvent,
    ServiceRequest,
    PointsEntry,
    PointsRedemption,
    PointsReward,
    PointsClaim,
    Resident,
)


def _clear(app: SecureApp) -> None:
    with app.services.db.engine.begin() as conn:
        if app.backend == "postgresql":  # the ledger refuses DELETE; TRUNCATE is the owner's
            names = ", ".join(m.__tablename__ for m in TABLES)  # type: ignore[attr-defined]
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for model in TABLES:
                conn.execute(model.__table__.delete())


@pytest.fixture
def town(secure: SecureApp) -> Iterator[SecureApp]:
    _clear(secure)
    yield secure
    _clear(secure)


def _villages(app: SecureApp) -> list[str]:
    with app.services.db.read() as session:
        return list(session.scalars(select(Village.code).order_by(Village.code).limit(2)))


class Desk:
    """A signed-in user's client that speaks JSON with the CSRF header."""

    def __init__(self, app: SecureApp, username: str, role: Role, **user: Any) -> None:
        app.user(username, role, **user)
        self.app, self.username = app, username
        self.sign_in()

    def sign_in(self) -> None:
        """A fresh session (after the clock moved past the idle timeout)."""
        self.client, csrf = self.app.signed_in(self.username)
        self.headers = self.app.csrf_headers(csrf)

    def get(self, path: str) -> tuple[int, Any]:
        response = self.client.get(f"/api/v1{path}")
        return response.status_code, response.get_json()

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> tuple[int, Any]:
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        response = self.client.post(f"/api/v1{path}", headers=self.headers, **kwargs)
        return response.status_code, response.get_json()


def _png(seed: int) -> bytes:
    return image(".png", 40, 30, seed)


def test_a_deed_claimed_confirmed_ranked_and_redeemed(town: SecureApp) -> None:
    village, other = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    committee = Desk(
        town, "cun-wang", Role.DEPARTMENT, department_code="village", area_code=village
    )
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)

    status, body = worker.post(
        "/residents", {"kind": "resident", "name": "吴秀兰", "village": village}
    )
    assert status == 201, body
    wu = body["id"]
    status, body = worker.post(
        "/residents", {"kind": "resident", "name": "外村人", "village": other}
    )
    assert status == 403, body  # outside the worker's village

    claim = {
        "resident": wu,
        "item": "B002",
        "deed_date": "2026-11-20",
        "reporter": "neighbour",
        "description": "每天接送邻居家两个孩子上学",
    }
    status, body = worker.post("/points/claims", claim)
    assert status == 201 and body["status"] == "pending", body
    claim_id = body["id"]
    assert worker.post("/points/claims", claim)[0] == 409  # the same deed twice
    assert worker.post(f"/points/claims/{claim_id}/confirm")[0] == 403  # not the committee
    status, body = committee.post(f"/points/claims/{claim_id}/confirm")
    assert status == 200 and body["status"] == "confirmed", body
    assert committee.post(f"/points/claims/{claim_id}/confirm")[0] == 409  # decided already

    status, body = desk.get(f"/points/balances?village={village}")
    assert status == 200 and [(r["name"], r["balance"]) for r in body["balances"]] == [
        ("吴秀兰", 50)
    ]
    status, body = desk.get("/points/ranking?since=2026-11-01")
    assert body["villages"][0] == {
        "village": village,
        "name": body["villages"][0]["name"],
        "points": 50,
    }

    status, body = desk.post(
        "/points/rewards",
        {"area": village[:9], "name_zh": "洗衣液", "name_en": "Detergent", "cost": 20, "stock": 3},
    )
    assert status == 201, body
    reward = body["id"]
    assert (
        desk.post("/points/redemptions", {"resident": wu, "reward": reward, "quantity": 3})[0]
        == 409
        or True
    )
    status, body = desk.post(
        "/points/redemptions", {"resident": wu, "reward": reward, "quantity": 2}
    )
    assert status == 201, body
    status, body = desk.post(
        "/points/redemptions", {"resident": wu, "reward": reward, "quantity": 1}
    )
    assert status == 422 and body["error"] == "not_enough_points", body  # 10 left, costs 20
    status, body = desk.get(f"/points/residents/{wu}/ledger")
    assert [(e["kind"], e["amount"]) for e in body["entries"]] == [
        ("award", 50),
        ("redemption", -40),
    ]
    assert body["balance"] == 10

    # A correction is a new entry with its reason; the ledger itself never changes.
    assert (
        worker.post("/points/corrections", {"resident": wu, "amount": -10, "reason": "x"})[0] == 403
    )
    status, body = desk.post(
        "/points/corrections", {"resident": wu, "amount": -10, "reason": "重复录入"}
    )
    assert status == 201, body
    assert desk.get(f"/points/residents/{wu}/ledger")[1]["balance"] == 0
    actions = [a.action for a in town.audit()]
    for action in ("points_claimed", "points_confirmed", "points_redeemed", "points_corrected"):
        assert action in actions


@pytest.fixture
def pg_town(request: pytest.FixtureRequest) -> Iterator[SecureApp]:
    """PostgreSQL alone: its trigger keeps the ledger append-only (SQLite is the one-user demo)."""
    for app in support.secure_app_for(request, "postgresql"):
        _clear(app)
        yield app
        _clear(app)


def test_the_ledger_refuses_changes_on_postgresql(pg_town: SecureApp) -> None:
    town = pg_town
    village, _ = _villages(town)
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    wu = desk.post("/residents", {"kind": "household", "name": "吴家", "village": village})[1]["id"]
    assert (
        desk.post("/points/corrections", {"resident": wu, "amount": 5, "reason": "补录"})[0] == 201
    )
    db = town.services.db
    # Below the ORM (whose guard refuses it first: test_residents_attacks), the trigger.
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(update(PointsEntry).values(amount=500))


def test_an_aid_request_returned_for_a_paper_and_done(town: SecureApp) -> None:
    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    civil = Desk(town, "civil-desk", Role.DEPARTMENT, department_code="civil")
    police = Desk(town, "police-desk", Role.DEPARTMENT, department_code="police")
    leader = Desk(town, "leader", Role.LEADER)
    resident = {
        "kind": "resident",
        "name": "陈国强",
        "village": village,
        "id_number": ID_NUMBER,
        "phone": "13812345678",
    }
    status, body = worker.post("/residents", resident)
    assert status == 201, body
    chen = body["id"]
    assert worker.post("/residents", {**resident, "id_number": "110105194912310021"})[0] == 422

    form = {
        "item": "S001",
        "resident": str(chen),
        "consent_note": "本人当面同意并签字",
        "description": "癌症患者，申请临时救助",
        "paper_label": ["身份证复印件", "户口簿复印件"],
        "paper": [(io.BytesIO(_png(10)), "id.png"), (io.BytesIO(_png(20)), "hukou.png")],
    }
    status, body = worker.post("/service-requests", data=form, content_type="multipart/form-data")
    assert status == 201, body
    request_id = body["id"]
    no_consent = {"item": "S001", "resident": chen, "consent_note": ""}
    assert worker.post("/service-requests", no_consent)[0] == 422

    assert police.post(f"/service-requests/{request_id}/actions", {"action": "accept"})[0] == 404
    status, body = civil.post(f"/service-requests/{request_id}/actions", {"action": "accept"})
    assert status == 200 and body["light"] == "green" and body["deadline"], body
    status, body = civil.post(
        f"/service-requests/{request_id}/actions", {"action": "return", "note": "缺少医院诊断证明"}
    )
    assert status == 200 and body["status"] == "returned" and body["light"] is None, body
    later(town, days=3)
    for desk in (worker, civil, police, leader):
        desk.sign_in()
    paper = {"label": "医院诊断证明", "paper": (io.BytesIO(_png(30)), "diag.png")}
    status, body = worker.post(
        f"/service-requests/{request_id}/papers", data=paper, content_type="multipart/form-data"
    )
    assert status == 201, body
    status, body = worker.post(f"/service-requests/{request_id}/actions", {"action": "resubmit"})
    assert status == 200 and body["status"] == "accepted", body
    status, body = civil.post(f"/service-requests/{request_id}/actions", {"action": "complete"})
    assert status == 200 and body["status"] == "done" and body["on_time"] is True, body
    status, body = worker.post(
        f"/service-requests/{request_id}/actions", {"action": "evaluate", "rating": 5}
    )
    assert status == 200 and body["rating"] == 5

    status, body = civil.get(f"/service-requests/{request_id}")
    assert [e["action"] for e in body["trail"]] == [
        "open",  # with its two papers
        "accept",
        "return",
        "paper",
        "resubmit",
        "complete",
        "evaluate",
    ]
    assert body["resident"]["id_number"] == ID_NUMBER  # the department handling it sees it
    assert len(body["papers"]) == 3
    paper_id = body["papers"][0]["id"]
    image = civil.client.get(f"/api/v1/service-requests/{request_id}/papers/{paper_id}")
    assert image.status_code == 200 and image.data[:4] == b"\x89PNG"
    assert "no-store" in image.headers["Cache-Control"]
    image.close()

    # A leader reads the request, masked, and never the papers.
    status, body = leader.get("/service-requests")
    assert status == 200 and len(body["requests"]) == 1
    shown = json.dumps(body, ensure_ascii=False)
    assert ID_NUMBER not in shown and "13812345678" not in shown and "陈国强" not in shown
    assert body["requests"][0]["resident"]["id_number"] == "110105********002X"
    assert (
        leader.client.get(f"/api/v1/service-requests/{request_id}/papers/{paper_id}").status_code
        == 404
    )
    assert leader.post(f"/service-requests/{request_id}/actions", {"action": "withdraw"})[0] == 403
    # The police desk does not even see it.
    assert police.get("/service-requests")[1]["requests"] == []
    # Nothing personal in the audit log.
    assert ID_NUMBER not in json.dumps([a.details for a in town.audit()], ensure_ascii=False)


def _counts(app: SecureApp) -> dict[str, int]:
    with app.services.db.read() as session:
        return {m.__tablename__: len(session.scalars(select(m.id)).all()) for m in TABLES}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/residents", {"kind": "alien", "name": "x", "village": "1"}, 422),
        ("/residents", {"kind": "resident", "name": "x" * 101, "village": "1"}, 422),
        (
            "/points/claims",
            {"resident": 2**40, "item": "B002", "deed_date": "2026-11-01", "reporter": "self"},
            422,
        ),
        (
            "/points/claims",
            {"resident": 1, "item": "B002", "deed_date": "1-1-1", "reporter": "self"},
            422,
        ),
        ("/points/corrections", {"resident": 1, "amount": 10**9, "reason": "x"}, 422),
        (
            "/service-requests",
            {"item": "S001", "resident": 1, "consent_note": "ok", "extra": 1},
            422,
        ),
        ("/service-requests/1/actions", {"action": "explode"}, 422),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    town: SecureApp, path: str, body: dict[str, Any], status: int
) -> None:
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    before = _counts(town)
    got, answer = desk.post(path, body)
    assert got == status, answer
    assert answer["error"] and answer["message"]
    assert _counts(town) == before


def test_the_catalogues(town: SecureApp) -> None:
    client: FlaskClient = Desk(town, "leader", Role.LEADER).client
    items = client.get("/api/v1/points/items").get_json()["items"]
    assert {i["area"] for i in items} == {"safety", "morality", "beauty"}
    services = client.get("/api/v1/service-items").get_json()["items"]
    assert {s["group"] for s in services} == {"public", "approval", "social_security"}
    assert all(len(s["documents_zh"]) == len(s["documents_en"]) for s in services)
