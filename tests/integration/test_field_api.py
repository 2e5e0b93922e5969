"""The field app's server side (/m, dashboard.http.field) on SQLite and PostgreSQL: a worker's
sign-in is bound to their worker record; they see the tasks of their own grid only (not of the
next grid of the same village) and their own reports only; a lost phone's sign-in ends at once;
the shell allows the phone's position and camera, nothing else does."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from dashboard.accounts import AccountError, create_user, set_active
from dashboard.domain.lifecycle import ActionRequest
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.security.audit import Actor
from dashboard.services.cases import CaseReport
from dashboard.storage.models import Grid, GridWorker, User
from tests.integration import test_security_support as support
from tests.integration.support import TOWN_NOW
from tests.integration.test_security_support import PASSWORD, SecureApp

_secure_apps, lite_secure, secure = support._secure_apps, support.lite_secure, support.secure


def _two_grids(app: SecureApp) -> tuple[GridWorker, Grid]:
    """A worker, and another grid of the same village."""
    with app.services.db.read() as session:
        village = session.scalar(
            select(Grid.village_code).group_by(Grid.village_code).having(func.count() > 1).limit(1)
        )
        grids = list(session.scalars(select(Grid).where(Grid.village_code == village)))
        worker = session.scalars(
            select(GridWorker).where(GridWorker.grid_code == grids[0].code).order_by(GridWorker.id)
        ).first()
    assert worker is not None
    return worker, grids[1]


def _public_case(app: SecureApp, lon: float, lat: float, status: Action) -> int:
    """A public report moved on to wait for its grid's worker (verify) or check."""
    cases = app.services.cases
    report = CaseReport(
        "10001", "群众反映：垃圾堆放", lon, lat, Source.PUBLIC, "app", Role.INTEGRATION
    )
    case_id = cases.report(report, []).id
    desk = ("op-li", Role.COMMANDER)
    cases.act(case_id, ActionRequest(Action.ACCEPT, *desk))
    cases.act(case_id, ActionRequest(Action.REQUEST_VERIFY, *desk))
    if status is Action.HANDLED:
        cases.act(case_id, ActionRequest(Action.VERIFY, *desk))
        for step in (Action.REGISTER, Action.DISPATCH, Action.START):
            cases.act(case_id, ActionRequest(step, *desk))
    return case_id


def test_a_worker_sees_their_own_grids_tasks_and_their_own_reports(secure: SecureApp) -> None:
    worker, other_grid = _two_grids(secure)
    with secure.services.db.transaction() as session:
        create_user(session, "wu", Role.GRID_WORKER, PASSWORD, TOWN_NOW, worker_id=worker.id)
        user = session.scalars(select(User).where(User.username == "wu")).one()
        assert (user.worker_id, user.area_code) == (worker.id, worker.village_code)
    with secure.services.db.read() as session:
        mine = session.get(Grid, worker.grid_code)
        assert mine is not None
        here = (mine.lon, mine.lat)
    verify = _public_case(secure, *here, Action.VERIFY)
    next_door = _public_case(secure, other_grid.lon, other_grid.lat, Action.VERIFY)
    client, csrf = secure.signed_in("wu")

    me = client.get("/m/api/me").get_json()
    assert (me["id"], me["grid"], me["village"]) == (
        worker.id,
        worker.grid_code,
        worker.village_code,
    )
    assert me["grid_geometry"]["type"] in ("Polygon", "MultiPolygon")
    tasks = client.get("/m/api/tasks").get_json()["tasks"]
    assert [(t["id"], t["kind"]) for t in tasks] == [(verify, "verify")]
    assert next_door not in [t["id"] for t in tasks]  # same village, another grid

    body = {
        "category": "10001",
        "description": "我上报的暴露垃圾",
        "lon": here[0],
        "lat": here[1],
        "source": "grid_worker",
    }
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "m-test-1"}
    first = client.post("/api/v1/cases", json=body, headers=headers)
    again = client.post("/api/v1/cases", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    reports = client.get("/m/api/reports").get_json()["reports"]
    assert [r["id"] for r in reports] == [first.get_json()["id"]]  # not the public ones
    assert reports[0]["trail"][0]["action"] == "report"

    fixes = {
        "fixes": [
            {
                "worker": worker.id,
                "lon": here[0],
                "lat": here[1],
                "time": TOWN_NOW.isoformat(),
                "accuracy": 6.5,
            }
        ]
    }
    assert (
        client.post("/api/v1/positions", json=fixes, headers={"X-CSRF-Token": csrf}).status_code
        == 200
    )
    assert client.get("/m/api/track").get_json()["track"] == [[here[0], here[1]]]
    someone_else = {"fixes": [{**fixes["fixes"][0], "worker": "W-not-me"}]}
    refused = client.post("/api/v1/positions", json=someone_else, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403


def test_a_lost_phones_sign_in_ends_when_the_user_is_locked(lite_secure: SecureApp) -> None:
    worker, _ = _two_grids(lite_secure)
    with lite_secure.services.db.transaction() as session:
        create_user(session, "wu", Role.GRID_WORKER, PASSWORD, TOWN_NOW, worker_id=worker.id)
    client, _ = lite_secure.signed_in("wu")
    assert client.get("/m/api/me").status_code == 200
    with lite_secure.services.db.transaction() as session:
        set_active(session, "wu", False, TOWN_NOW, Actor("admin", "admin"))
    assert client.get("/m/api/me").status_code == 401
    assert client.get("/m").status_code == 302  # back to the sign-in page


def test_only_a_grid_worker_is_bound_to_a_worker(lite_secure: SecureApp) -> None:
    worker, _ = _two_grids(lite_secure)
    with lite_secure.services.db.transaction() as session:
        with pytest.raises(AccountError, match="only for grid_worker"):
            create_user(session, "x", Role.COMMANDER, PASSWORD, TOWN_NOW, worker_id=worker.id)
        with pytest.raises(AccountError, match="no grid worker"):
            create_user(session, "y", Role.GRID_WORKER, PASSWORD, TOWN_NOW, worker_id="W-none")
    lite_secure.user("plain", Role.GRID_WORKER)  # an unbound worker sign-in gets no data
    client, _ = lite_secure.signed_in("plain")
    answer = client.get("/m/api/tasks")
    assert answer.status_code == 403 and answer.get_json()["error"] == "no_worker"


def test_the_shell_may_use_position_and_camera_and_carries_text_as_data(
    lite_secure: SecureApp,
) -> None:
    worker, _ = _two_grids(lite_secure)
    with lite_secure.services.db.transaction() as session:
        create_user(
            session,
            "wu",
            Role.GRID_WORKER,
            PASSWORD,
            TOWN_NOW,
            worker_id=worker.id,
            display_name="<b>吴</b>",
        )
    assert lite_secure.client().get("/m").status_code == 302  # sign in first
    client, _ = lite_secure.signed_in("wu")
    page = client.get("/m")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "geolocation=(self)" in page.headers["Permissions-Policy"]
    assert "camera=(self)" in page.headers["Permissions-Policy"]
    assert "<b>吴</b>" not in html and "&lt;b&gt;吴&lt;/b&gt;" in html
    boot = re.search(r'<script type="application/json" id="m-boot">(.*?)</script>', html, re.S)
    assert boot is not None
    data = json.loads(boot.group(1))
    assert data["texts"]["m.tab.sos"] == "一键报警" and data["config"]["lang"] == "zh"
    assert "geolocation=()" in lite_secure.client().get("/login").headers["Permissions-Policy"]
    lite_secure.user("leader", Role.LEADER)
    leader, _ = lite_secure.signed_in("leader")
    refused = leader.get("/m")
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert "只供网格员使用" in refused.get_data(as_text=True)
    sw = lite_secure.client().get("/m/sw.js")
    assert sw.status_code == 200 and sw.headers["Service-Worker-Allowed"] == "/m"
    manifest = lite_secure.client().get("/m/manifest.webmanifest?lang=en").get_json()
    assert manifest["start_url"] == "/m?lang=en" and manifest["display"] == "standalone"
