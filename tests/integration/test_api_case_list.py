"""GET /api/v1/cases and /api/v1/cases.csv through the real app: parameters, 422s, CSV, scope."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.security.sessions import SESSION_COOKIE
from dashboard.security.web import security_of
from dashboard.storage.models import Case
from tests.integration.support import TOWN_NOW, request
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    case_body,
    lite_api_fixture,  # noqa: F401
)


def _other_village_grid(api: Api) -> int:
    first = api.grid(0).village_code
    return next(i for i in range(1, 90) if api.grid(i).village_code != first)


def _cases(api: Api) -> list[int]:
    """Five cases: three in grid 0's village (one dispatched to urban and overdue, one with a
    formula-like address), two elsewhere (one dispatched to police)."""
    worker = api.token(Role.INTEGRATION, "hotline-list")  # reports in every village
    other = _other_village_grid(api)
    bodies = [
        case_body(api, 0, address='=HYPERLINK("http://x")', description="井盖缺失"),
        case_body(api, 0, description="-违章搭建", reporter="@张三"),
        case_body(api, 0, category="05003", description="垃圾暴露"),
        case_body(api, other, description="噪音扰民"),
        case_body(api, other, category="02002", description="治安隐患"),
    ]
    api.clock.set(TOWN_NOW - timedelta(days=3))
    ids = []
    for body in bodies:
        response = api.post("/api/v1/cases", json=body, headers=worker)
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    for case_id, department in ((ids[2], "urban"), (ids[4], "police")):
        for action in (Action.ACCEPT, Action.REGISTER, Action.DISPATCH):
            extra = {"department_code": department} if action is Action.DISPATCH else {}
            api.services.cases.act(case_id, request(action, **extra))
    api.clock.set(TOWN_NOW)
    return ids


def _get(api: Api, query: str, headers: dict[str, str]) -> dict[str, Any]:
    response = api.get(f"/api/v1/cases?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return dict(response.json or {})


def test_list_filters_sorts_and_pages(api: Api) -> None:
    ids = _cases(api)
    desk = api.token(Role.DISPATCHER)
    body = _get(api, "sort=id", desk)
    assert [c["id"] for c in body["cases"]] == ids and body["total"] == 5
    assert body["page"] == 1 and body["per_page"] == 50
    first = body["cases"][0]
    assert first["reported_at"] == (TOWN_NOW - timedelta(days=3)).isoformat().replace(
        "+08:00", "+00:00"
    ).replace("T09", "T01")
    assert _get(api, "overdue=true", desk)["total"] == 1  # 05003: 4 working hours, 3 days ago
    overdue = _get(api, "overdue=true", desk)["cases"][0]
    assert overdue["id"] == ids[2] and overdue["light"] == "red" and overdue["overdue_minutes"] > 0
    assert [c["id"] for c in _get(api, "text=违章", desk)["cases"]] == [ids[1]]
    assert _get(api, "category=05&status=open", desk)["total"] == 1
    assert _get(api, "department=police", desk)["cases"][0]["department_name"] == "派出所"
    assert _get(api, "department=police&lang=en", desk)["cases"][0]["department_name"] == (
        "Police Station"
    )
    paged = _get(api, "sort=-id&per_page=2&page=2", desk)
    assert [c["id"] for c in paged["cases"]] == [ids[2], ids[1]] and paged["total"] == 5
    # police: 3 working days from Friday 09:00 → Wednesday 09:00, 48 hours from now
    assert [c["id"] for c in _get(api, "due_within_hours=48", desk)["cases"]] == [ids[4]]
    assert _get(api, "due_within_hours=47.5", desk)["total"] == 0
    day = (TOWN_NOW - timedelta(days=3)).date().isoformat()
    assert _get(api, f"from={day}&to={day}", desk)["total"] == 5
    assert _get(api, f"to={(TOWN_NOW - timedelta(days=4)).date().isoformat()}", desk)["total"] == 0


def test_scope_limits_area_tokens_and_department_users(api: Api) -> None:
    ids = _cases(api)
    village = api.grid(0).village_code
    area = api.token(Role.DISPATCHER, "desk-village", area=village)
    assert [c["id"] for c in _get(api, "sort=id", area)["cases"]] == ids[:3]
    api.user("dept-urban", Role.DEPARTMENT, department_code="urban")
    issued = security_of(api.app).sessions.start("dept-urban", "127.0.0.1", "test")
    client = api.app.test_client()
    client.set_cookie(SESSION_COOKIE, issued.cookie)
    response = client.get("/api/v1/cases?sort=id")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [c["id"] for c in response.json["cases"]] == [ids[2]]
    csv_text = client.get("/api/v1/cases.csv").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))) == 2  # header + 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("per_page=501", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("sort=description", "sort"),
        ("status=lost", "status"),
        ("light=blue", "light"),
        ("overdue=maybe", "overdue"),
        ("due_within_hours=-1", "due_within_hours"),
        ("due_within_hours=nan", "due_within_hours"),
        ("from=2026-13-01", "from"),
        ("from=2026-11-01T00:00:00", "from"),
        ("from=2026-11-10&to=2026-11-01", "reported_to"),
        ("category=5", "category"),
        ("id=abc", "id"),
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters_answer_422_naming_the_field(lite_api: Api, query: str, field: str) -> None:
    desk = lite_api.token(Role.DISPATCHER)
    for path in ("/api/v1/cases", "/api/v1/cases.csv"):
        response = lite_api.get(f"{path}?{query}", headers=desk)
        assert response.status_code == 422, (path, query, response.get_data(as_text=True))
        assert response.json["field"] == field


def test_csv_has_a_bom_a_header_and_no_formula_cells(api: Api) -> None:
    ids = _cases(api)
    desk = api.token(Role.DISPATCHER)
    response = api.get("/api/v1/cases.csv?sort=id", headers=desk)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="cases-')
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads Chinese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "状态", "来源"] and len(rows) == 6
    assert [int(r[0]) for r in rows[1:]] == ids
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert rows[1][7] == '\'=HYPERLINK("http://x")'
    assert rows[2][6] == "'-违章搭建" and rows[2][14] == "'@张三"
    english = api.get("/api/v1/cases.csv?lang=en&overdue=true", headers=desk).get_data()
    lines = list(csv.reader(io.StringIO(english.decode("utf-8-sig"))))
    assert lines[0][:2] == ["No.", "Status"] and len(lines) == 2 and lines[1][17] == "Overdue"


def test_csv_streams_a_large_export(lite_api: Api) -> None:
    api = lite_api
    worker = api.token(Role.GRID_WORKER, "gw-bulk")
    response = api.post("/api/v1/cases", json=case_body(api), headers=worker)
    with api.services.db.transaction() as session:
        template = session.get(Case, response.json["id"])
        for i in range(1200):
            session.add(
                Case(
                    **{
                        c.name: getattr(template, c.name)
                        for c in Case.__table__.columns
                        if c.name not in ("id", "idempotency_key")
                    }
                    | {"description": f"批量 {i}"}
                )
            )
    desk = api.token(Role.DISPATCHER)
    response = api.client.get("/api/v1/cases.csv", headers=desk)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 3  # streamed in pieces, not built in memory first
    text = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1202
