"""The residents' side attacked as a hostile or careless user would (issue 18 hardening), on
SQLite and PostgreSQL: scope escapes by role and by guessed ids, the points' abuse rules (a deed
far in the past, two claims or two redemptions at once), the append-only ledger held by the
service itself, and bounds of every input. Each table is one test; what already held is kept so
by the same tables."""

from __future__ import annotations

import io
import json
import struct
import threading
import zlib
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.security.audit import Actor, AppendOnlyViolation
from dashboard.services.residents import Clerk
from dashboard.storage.models import PointsEntry, PointsReward
from tests.integration import test_security_support as support
from tests.integration.test_residents_api import TABLES, Desk, _png, _villages, pg_town, town
from tests.integration.test_security_support import SecureApp

_secure_apps, secure, _town, _pg = support._secure_apps, support.secure, town, pg_town  # fixtures

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


def _counts(app: SecureApp) -> dict[str, int]:
    with app.services.db.read() as session:
        return {m.__tablename__: len(session.scalars(select(m.id)).all()) for m in TABLES}  # type: ignore[attr-defined]


def _post(
    who: Desk,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> tuple[int, Any]:
    """``Desk.post`` with extra headers (an Idempotency-Key)."""
    if body is not None:
        kw["data"], kw["content_type"] = json.dumps(body), "application/json"
    response = who.client.post(f"/api/v1{path}", headers={**who.headers, **(headers or {})}, **kw)
    return response.status_code, response.get_json()


def _id_number(n: int) -> str:
    """A valid ID number (GB 11643 check digit); ``n`` = 2 gives ID_NUMBER."""
    base = f"110105194912310{n:02d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return base + "10X98765432"[sum(int(d) * w for d, w in zip(base, weights, strict=True)) % 11]


def _resident(desk: Desk, village: str, kind: str = "resident", n: int = 2) -> int:
    status, body = desk.post(
        "/residents",
        {
            "kind": kind,
            "name": "吴秀兰",
            "village": village,
            "id_number": _id_number(n),
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


# --- scope escapes and read-only roles ---------------------------------------------------------


def test_no_role_writes_or_reads_outside_its_scope(town: SecureApp) -> None:
    """A grid worker of one village, a department that is not the village committee, a
    leader, a supervisor and the wall's token, each trying what is not theirs, by guessed ids."""
    village, other = _villages(town)
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    police = Desk(town, "police-desk", Role.DEPARTMENT, department_code="police")
    civil = Desk(town, "civil-desk", Role.DEPARTMENT, department_code="civil")
    leader = Desk(town, "leader-he", Role.LEADER)
    supervisor = Desk(town, "sup-qian", Role.SUPERVISOR)
    here, there = _resident(desk, village), _resident(desk, other, n=3)
    claim = {"item": "B002", "deed_date": "2026-11-20", "reporter": "neighbour"}
    status, body = desk.post("/points/claims", {"resident": there, **claim})
    assert status == 201, body
    claim_there = body["id"]
    assert (
        desk.post("/points/corrections", {"resident": there, "amount": 100, "reason": "补录"})[0]
        == 201
    )
    status, body = desk.post(
        "/points/rewards",
        {"area": other[:9], "name_zh": "洗衣液", "name_en": "Detergent", "cost": 10, "stock": 5},
    )
    reward = body["id"]
    status, body = desk.post(
        "/service-requests", {"item": "P001", "resident": there, "consent_note": "本人同意"}
    )
    assert status == 201, body
    police_request = body["id"]
    before = _counts(town)

    committee = Desk(
        town, "cun-wang", Role.DEPARTMENT, department_code="village", area_code=village
    )
    writes: list[tuple[Desk, str, dict[str, Any]]] = [
        (desk, f"/points/claims/{claim_there}/confirm", {}),  # its own claim
        (desk, f"/points/claims/{claim_there}/reject", {"note": "自己退回"}),
        (committee, f"/points/claims/{claim_there}/confirm", {}),  # another village's
        (worker, "/points/claims", {"resident": there, **claim, "deed_date": "2026-11-21"}),
        (worker, "/service-requests", {"item": "S001", "resident": there, "consent_note": "同意"}),
        (worker, f"/service-requests/{police_request}/actions", {"action": "withdraw"}),
        (worker, f"/points/claims/{claim_there}/reject", {"note": "不对"}),
        (civil, f"/service-requests/{police_request}/actions", {"action": "accept"}),
        (civil, f"/service-requests/{police_request}/actions", {"action": "refuse", "note": "x"}),
        (police, "/residents", {"kind": "resident", "name": "某人", "village": village}),
        (police, "/points/claims", {"resident": here, **claim}),
        (police, "/points/redemptions", {"resident": there, "reward": reward}),
        (police, f"/points/claims/{claim_there}/confirm", {}),
        (leader, "/residents", {"kind": "resident", "name": "某人", "village": village}),
        (leader, "/points/claims", {"resident": here, **claim}),
        (leader, f"/points/claims/{claim_there}/confirm", {}),
        (leader, f"/points/claims/{claim_there}/reject", {"note": "不对"}),
        (leader, "/points/corrections", {"resident": there, "amount": 5, "reason": "x"}),
        (leader, "/points/redemptions", {"resident": there, "reward": reward}),
        (
            leader,
            "/points/rewards",
            {"area": other[:9], "name_zh": "a", "name_en": "a", "cost": 1, "stock": 1},
        ),
        (leader, "/service-requests", {"item": "S001", "resident": here, "consent_note": "同意"}),
        (leader, f"/service-requests/{police_request}/actions", {"action": "accept"}),
        (supervisor, "/points/claims", {"resident": here, **claim}),
        (supervisor, f"/points/claims/{claim_there}/confirm", {}),
        (supervisor, f"/service-requests/{police_request}/actions", {"action": "complete"}),
    ]
    for who, path, body in writes:
        status, answer = who.post(path, body)
        assert status in (403, 404), (who.username, path, status, answer)
        assert answer["error"] and answer["message"], answer

    wall = {"Authorization": f"Bearer {town.token(Role.WALL)}"}
    client = town.app.test_client()
    for path in ("/residents", "/points/claims", "/points/redemptions", "/service-requests"):
        assert client.post(f"/api/v1{path}", json={}, headers=wall).status_code == 403
    for path in ("/points/balances", "/points/claims", "/service-requests", "/points/rewards"):
        assert client.get(f"/api/v1{path}", headers=wall).status_code == 403

    reads = [
        f"/points/residents/{there}/ledger",
        f"/service-requests/{police_request}",
        f"/service-requests/{police_request}/papers/1",
    ]
    for path in reads:
        assert worker.get(path)[0] == 404, path
    assert worker.get(f"/points/balances?village={other}")[1]["balances"] == []
    assert [c["resident"] for c in worker.get("/points/claims")[1]["claims"]] == []
    assert civil.get(f"/service-requests/{police_request}")[0] == 404
    assert _counts(town) == before


def test_personal_data_is_masked_for_who_does_not_handle_it(town: SecureApp) -> None:
    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    police = Desk(town, "police-desk", Role.DEPARTMENT, department_code="police")
    wu = _resident(worker, village)
    status, body = worker.post(
        "/service-requests", {"item": "P001", "resident": wu, "consent_note": "本人同意"}
    )
    assert status == 201, body
    request_id = body["id"]
    shown = police.get(f"/service-requests/{request_id}")[1]["resident"]
    assert (shown["id_number"], shown["phone"]) == (ID_NUMBER, PHONE)  # its department
    for who in (Desk(town, "leader-he", Role.LEADER), Desk(town, "sup-qian", Role.SUPERVISOR)):
        for path in (f"/service-requests/{request_id}", "/service-requests"):
            status, answer = who.get(path)
            assert status == 200, answer
            text = json.dumps(answer, ensure_ascii=False)
            assert ID_NUMBER not in text and PHONE not in text and "吴秀兰" not in text, path
            assert ID_NUMBER[:6] in text  # masked, not dropped
        assert who.get(f"/points/residents/{wu}/ledger")[0] == 200
    # Nothing personal in the audit trail, nor in an error message about a bad number.
    trail = json.dumps([(a.action, a.target, a.details) for a in town.audit()], ensure_ascii=False)
    assert ID_NUMBER not in trail and PHONE not in trail
    wrong = ID_NUMBER[:-1] + "1"
    status, answer = worker.post(
        "/residents", {"kind": "resident", "name": "张三", "village": village, "id_number": wrong}
    )
    assert status == 422 and wrong not in json.dumps(answer), answer
    status, answer = worker.post(
        "/residents",
        {"kind": "resident", "name": "张三", "village": village, "id_number": wrong + "123"},
    )
    assert status == 422 and wrong not in json.dumps(answer), answer


# --- abuse of the points rules -----------------------------------------------------------------


_DEEDS = [
    ("1900-01-01", "deed_too_old"),  # a cap per month, claimed month by month back a century
    ("2026-08-24", "deed_too_old"),  # 91 days before the town's today (2026-11-23)
    ("9999-12-31", "deed_in_future"),
    ("2026-02-30", "invalid"),
    ("2026-11-20 08:00:00+99:00", "invalid"),
]


def test_deed_dates_are_bounded(town: SecureApp) -> None:
    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    wu = _resident(worker, village)
    before = _counts(town)
    for deed, code in _DEEDS:
        claim = {"resident": wu, "item": "B002", "deed_date": deed, "reporter": "self"}
        got, answer = worker.post("/points/claims", claim)
        assert got == 422 and code in (answer["error"], "invalid"), (deed, answer)
    assert _counts(town) == before
    claim = {"resident": wu, "item": "B002", "deed_date": "2026-08-25", "reporter": "self"}
    assert worker.post("/points/claims", claim)[0] == 201  # 90 days: still in time


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each answer or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            answers[n] = calls[n]()
        except Exception as err:
            answers[n] = err

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_a_balance_and_a_cap_hold_against_requests_at_once(town: SecureApp) -> None:
    """Desks at once: redemptions of different rewards each worth the whole balance,
    corrections each taking it all, claims of one item on different days past its cap, one
    claim confirmed twice."""
    village, _ = _villages(town)
    points = town.services.points
    desk = Clerk(Actor("desk-zhao", Role.DISPATCHER.value), Scope())
    others = [Clerk(Actor(f"desk-{n}", Role.DISPATCHER.value), Scope()) for n in range(4)]
    wu = points.add_resident(desk, kind="resident", name="吴秀兰", village_code=village)
    points.correct(desk, wu, 30, "补录")
    rewards = [
        points.add_reward(
            desk, area_code=village[:9], name_zh=f"奖品{n}", name_en=f"R{n}", cost=30, stock=5
        )
        for n in range(4)
    ]
    _at_once([partial(points.redeem, c, wu, r, 1) for c, r in zip(others, rewards, strict=True)])
    _at_once([partial(points.correct, c, wu, -30, "冲正") for c in others])
    assert sum(e["amount"] for e in points.ledger(Scope(), wu)) == 0  # never below zero
    with town.services.db.read() as session:
        assert sum(r.stock for r in session.scalars(select(PointsReward))) >= 4 * 5 - 1
    # The last one in stock, wanted by two residents at once: one gets it.
    last = points.add_reward(
        desk, area_code=village[:9], name_zh="最后一件", name_en="Last", cost=1, stock=1
    )
    rich = [
        points.add_resident(desk, kind="resident", name="甲", village_code=village) for _ in "ab"
    ]
    for resident in rich:
        points.correct(desk, resident, 10, "补录")
    answers = _at_once(
        [partial(points.redeem, c, r, last, 1) for c, r in zip(others[:2], rich, strict=True)]
    )
    assert len([a for a in answers if isinstance(a, int)]) == 1, answers
    with town.services.db.read() as session:
        assert session.get(PointsReward, last).stock == 0  # type: ignore[union-attr]

    days = [date(2026, 11, d) for d in (2, 3, 4, 5)]  # B002 counts twice a month
    _at_once(
        [
            partial(points.claim, c, resident_id=wu, item_code="B002", deed_date=d, reporter="self")
            for c, d in zip(others, days, strict=True)
        ]
    )
    claims = points.claims(Scope())
    assert len(claims) == 2
    answers = _at_once([partial(points.confirm, c, claims[0]["id"]) for c in others[:2]])
    assert len([a for a in answers if isinstance(a, int)]) == 1, answers  # confirmed once
    assert [e["kind"] for e in points.ledger(Scope(), wu)].count("award") == 1


def _bomb() -> bytes:
    """A PNG that says 60000×60000 pixels in a few hundred bytes (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 60_001 * 8, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# --- bounds of every input ---------------------------------------------------------------------


def test_every_input_is_bounded_and_a_refusal_changes_nothing(town: SecureApp) -> None:
    village, _ = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    wu = _resident(worker, village)
    claim = {"resident": wu, "item": "B002", "deed_date": "2026-11-20", "reporter": "self"}
    status, body = _post(worker, "/points/claims", claim, headers={"Idempotency-Key": "k-1"})
    assert status == 201, body
    status, body = worker.post(
        "/service-requests", {"item": "P001", "resident": wu, "consent_note": "本人同意"}
    )
    assert status == 201, body
    request_id = body["id"]
    before = _counts(town)
    png = _png(1)
    form = {k: str(v) for k, v in claim.items()} | {"deed_date": "2026-11-21"}

    def files(*parts: tuple[str, bytes, str]) -> dict[str, Any]:
        data: dict[str, Any] = dict(form)
        for field, content, name in parts:
            data.setdefault(field, []).append((io.BytesIO(content), name))
        return {"data": data, "content_type": "multipart/form-data"}

    attempts: list[tuple[Desk, str, dict[str, Any] | None, dict[str, Any], int]] = [
        (worker, "/residents", {"kind": "resident", "name": "", "village": village}, {}, 422),
        (
            worker,
            "/residents",
            {"kind": "resident", "name": "x\u0000y", "village": village},
            {},
            422,
        ),
        (worker, "/residents", {"kind": "resident", "name": " " * 5, "village": village}, {}, 422),
        (worker, "/residents", {"kind": "resident", "name": "x", "village": "9" * 21}, {}, 422),
        (
            worker,
            "/residents",
            {"kind": "resident", "name": "x", "village": village, "phone": "1" * 21},
            {},
            422,
        ),
        (worker, "/points/claims", {**claim, "description": "长" * 501}, {}, 422),
        (worker, "/points/claims", {**claim, "item": " b002"}, {}, 422),
        (worker, "/points/claims", {**claim, "item": "b002"}, {}, 422),
        (worker, "/points/claims", {**claim, "reporter": "SELF"}, {}, 422),
        (worker, "/points/claims", {**claim, "resident": 0}, {}, 422),
        (worker, "/points/claims", {**claim, "resident": -1}, {}, 422),
        (worker, "/points/claims", {**claim, "resident": "1e3"}, {}, 422),
        # the same key for another deed; a key too long or not printable
        (
            worker,
            "/points/claims",
            {**claim, "deed_date": "2026-11-19"},
            {"headers": {"Idempotency-Key": "k-1"}},
            422,
        ),
        (worker, "/points/claims", claim, {"headers": {"Idempotency-Key": "k" * 65}}, 400),
        (worker, "/points/claims", claim, {"headers": {"Idempotency-Key": "ключ"}}, 400),
        (worker, "/points/claims", None, files(("evidence", b"not an image at all", "a.jpg")), 422),
        (
            worker,
            "/points/claims",
            None,
            files(*[("evidence", _png(n), f"{n}.png") for n in range(6)]),
            422,
        ),
        (worker, "/points/claims", None, files(("evidence", png[:40], "cut.png")), 422),
        (worker, "/points/claims", None, files(("evidence", _bomb(), "bomb.png")), 422),
        (
            worker,
            "/service-requests",
            {"item": "P001", "resident": wu, "consent_note": ""},
            {},
            422,
        ),
        (
            worker,
            "/service-requests",
            {"item": "P001", "resident": wu, "consent_note": "x" * 201},
            {},
            422,
        ),
        (
            worker,
            "/service-requests",
            {"item": "Z999", "resident": wu, "consent_note": "同意"},
            {},
            422,
        ),
        (
            worker,
            f"/service-requests/{request_id}/actions",
            {"action": "evaluate", "rating": 6},
            {},
            422,
        ),
        (
            worker,
            f"/service-requests/{request_id}/actions",
            {"action": "withdraw", "note": "x" * 501},
            {},
            422,
        ),
        (
            worker,
            f"/service-requests/{request_id}/papers",
            None,
            {
                "data": {"label": "身份证", "paper": (io.BytesIO(b"%PDF-1.4"), "a.pdf")},
                "content_type": "multipart/form-data",
            },
            422,
        ),
        (
            worker,
            f"/service-requests/{request_id}/papers",
            None,
            {
                "data": {"label": "x" * 101, "paper": (io.BytesIO(png), "a.png")},
                "content_type": "multipart/form-data",
            },
            422,
        ),
        (desk, "/points/corrections", {"resident": wu, "amount": 0, "reason": "x"}, {}, 422),
        (desk, "/points/corrections", {"resident": wu, "amount": -1, "reason": "x"}, {}, 422),
        (desk, "/points/corrections", {"resident": wu, "amount": 5, "reason": " "}, {}, 422),
        (
            desk,
            "/points/rewards",
            {"area": village, "name_zh": "a", "name_en": "a", "cost": 0, "stock": 1},
            {},
            422,
        ),
        (
            desk,
            "/points/rewards",
            {"area": village, "name_zh": "a", "name_en": "a", "cost": 1, "stock": -1},
            {},
            422,
        ),
        (desk, "/points/redemptions", {"resident": wu, "reward": 1, "quantity": 0}, {}, 422),
        (desk, "/points/redemptions", {"resident": wu, "reward": 1, "quantity": 101}, {}, 422),
        (desk, "/points/claims/99999/confirm", {}, {}, 404),
        (desk, "/points/claims/99999/reject", {"note": "x"}, {}, 404),
    ]
    for who, path, body, extra, expected in attempts:
        got, answer = _post(who, path, body, **extra)
        assert got == expected, (path, body, got, answer)
        assert answer["error"] and answer["message"], answer
    for path in (
        "/points/claims?status=all",
        "/service-requests?status=x",
        "/points/balances?village=abc",
        "/points/ranking?since=2026-13-01",
    ):
        assert desk.get(path)[0] == 422, path
    assert _counts(town) == before


def test_one_person_is_entered_once(town: SecureApp) -> None:
    """The same ID number twice would make two records of one person, and the same deed could
    then be claimed once per record."""
    village, other = _villages(town)
    worker = Desk(town, "gw-li", Role.GRID_WORKER, area_code=village)
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    _resident(worker, village)
    before = _counts(town)
    for who, where, number in ((worker, village, ID_NUMBER), (desk, other, ID_NUMBER.lower())):
        status, answer = who.post(
            "/residents",
            {"kind": "resident", "name": "吴 秀兰", "village": where, "id_number": number},
        )
        assert status == 409 and answer["error"] == "duplicate_resident", answer
        assert ID_NUMBER not in json.dumps(answer).upper()
    assert _counts(town) == before
    status, answer = worker.post(  # a household has no ID number: entered as before
        "/residents", {"kind": "household", "name": "吴家", "village": village}
    )
    assert status == 201, answer


def test_guessed_and_huge_ids_answer_not_found(town: SecureApp) -> None:
    desk = Desk(town, "desk-zhao", Role.DISPATCHER)
    huge = 2**63  # beyond every integer column: a clear 404, not a database error
    for n in (1, 2, 2**31, huge, 10**30):
        for path in (
            f"/points/residents/{n}/ledger",
            f"/service-requests/{n}",
            f"/service-requests/{n}/papers/{n}",
            f"/points/claims/{n}/evidence/{n}",
        ):
            status, answer = desk.get(path)
            assert status == 404 and answer["error"], (path, status, answer)
        for path, body in (
            (f"/points/claims/{n}/confirm", {}),
            (f"/points/claims/{n}/reject", {"note": "x"}),
            (f"/service-requests/{n}/actions", {"action": "accept"}),
        ):
            status, answer = desk.post(path, body)
            assert status == 404 and answer["error"], (path, status, answer)


def test_one_person_entered_twice_at_once_is_one_record(town: SecureApp) -> None:
    village, _ = _villages(town)
    points = town.services.points
    desks = [Clerk(Actor(f"desk-{n}", Role.DISPATCHER.value), Scope()) for n in range(3)]
    answers = _at_once(
        [
            partial(
                points.add_resident,
                c,
                kind="resident",
                name="吴秀兰",
                village_code=village,
                id_number=_id_number(7),
            )
            for c in desks
        ]
    )
    assert len([a for a in answers if isinstance(a, int)]) == 1, answers


def test_two_steps_of_one_request_at_once_are_one(town: SecureApp) -> None:
    """Two hands take the same step at once (the department's desk and the shift lead accept,
    the worker and the shift lead withdraw): one of them, never both."""
    village, _ = _villages(town)
    requests, points = town.services.service_requests, town.services.points
    worker = Clerk(Actor("gw-li", Role.GRID_WORKER.value), Scope(village))
    police = Clerk(Actor("police-desk", Role.DEPARTMENT.value), Scope(None, "police"))
    lead = Clerk(Actor("lead-sun", Role.COMMANDER.value), Scope())
    wu = points.add_resident(worker, kind="resident", name="吴秀兰", village_code=village)
    for first, second, action in ((police, lead, "accept"), (worker, lead, "withdraw")) * 2:
        opened = requests.open(worker, item_code="P001", resident_id=wu, consent_note="本人同意")
        answers = _at_once(
            [
                partial(requests.step, first, opened.id, action),
                partial(requests.step, second, opened.id, action),
            ]
        )
        assert len([a for a in answers if isinstance(a, dict)]) == 1, answers
        trail = requests.get(worker, opened.id)["trail"]
        assert [e["action"] for e in trail] == ["open", action], trail
