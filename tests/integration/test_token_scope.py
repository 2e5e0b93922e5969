"""Tokens carry the scope of their role (issue 11 High 2 and Medium 10): a department token sees
and acts only on its department's dispatched cases; a phone belongs to one worker and their
village; an integration names its area or says it serves everything; exports need a desk role;
the search and the export have their own rate limit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dashboard.accounts import AccountError, create_token, hash_token
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.storage.models import ApiToken, GridWorker
from tests.integration import test_security_support as support
from tests.integration.support import TOWN_NOW, request
from tests.integration.test_api_support import (
    Api,
    apps_fixture,  # noqa: F401 - the fixtures lite_api and the apps it shares
    case_body,
    lite_api_fixture,  # noqa: F401
)
from tests.integration.test_security_support import SecureApp

_secure_apps, lite_secure = support._secure_apps, support.lite_secure


@pytest.mark.parametrize(
    ("role", "scope", "reason"),
    [
        (Role.DEPARTMENT, {}, "--department"),
        (Role.GRID_WORKER, {}, "--worker"),
        (Role.INTEGRATION, {}, "--all-areas"),
        (Role.DEPARTMENT, {"department_code": "nope"}, "no department"),
        (Role.GRID_WORKER, {"worker_id": "gw-nobody"}, "no grid worker"),
        (Role.COMMANDER, {"department_code": "justice"}, "only for department"),
        (Role.WALL, {"worker_id": "gw-0001"}, "only for grid worker"),
    ],
)
def test_a_token_without_its_roles_scope_is_not_issued(
    lite_api: Api, role: Role, scope: dict[str, Any], reason: str
) -> None:
    with lite_api.services.db.transaction() as session, pytest.raises(AccountError) as refused:
        create_token(session, "device", role, TOWN_NOW, **scope)
    assert reason in str(refused.value)
    assert lite_api.counts() == {k: 0 for k in lite_api.counts()}


def _case(api: Api, grid: int, department: str | None) -> int:
    """A case reported in ``grid``; dispatched to ``department`` when one is given."""
    feed = api.token(Role.INTEGRATION, "hotline")
    case_id = int(api.post("/api/v1/cases", json=case_body(api, grid), headers=feed).json["id"])
    if department:
        for action in (Action.ACCEPT, Action.REGISTER, Action.DISPATCH):
            extra = {"department_code": department} if action is Action.DISPATCH else {}
            api.services.cases.act(case_id, request(action, **extra))
    return case_id


def test_a_department_token_sees_and_starts_only_its_dispatched_cases(lite_api: Api) -> None:
    api = lite_api
    mine, theirs, undispatched = (
        _case(api, 0, "justice"),
        _case(api, 0, "police"),
        _case(api, 0, None),
    )
    token = api.token(Role.DEPARTMENT, "dept-justice-tablet", department_code="justice")
    listed = [c["id"] for c in api.get("/api/v1/cases", headers=token).json["cases"]]
    assert listed == [mine]
    for other in (theirs, undispatched):
        assert api.get(f"/api/v1/cases/{other}", headers=token).status_code == 404
        started = api.post(
            f"/api/v1/cases/{other}/actions", json={"action": "start"}, headers=token
        )
        assert started.status_code == 404
    assert api.services.cases.get(theirs).status == "dispatched"
    ok = api.post(f"/api/v1/cases/{mine}/actions", json={"action": "start"}, headers=token)
    assert ok.status_code == 200 and ok.json["status"] == "handling"


def _other_village_grid(api: Api) -> int:
    first = api.grid(0).village_code
    return next(i for i in range(1, 90) if api.grid(i).village_code != first)


def test_a_phone_token_belongs_to_its_worker_and_village(lite_api: Api) -> None:
    api = lite_api
    with api.services.db.read() as session:
        me = session.scalars(
            select(GridWorker).where(GridWorker.village_code == api.grid(0).village_code)
        ).first()
        other = session.scalars(select(GridWorker).where(GridWorker.id != me.id)).first()
    assert me is not None and other is not None
    phone = api.token(Role.GRID_WORKER, "phone-1", worker_id=me.id)
    elsewhere = _other_village_grid(api)
    # Reports only in its village; sees only its village's cases; checks nowhere else.
    outside = api.post("/api/v1/cases", json=case_body(api, elsewhere), headers=phone)
    assert outside.status_code == 403 and outside.json["error"] == "outside_scope"
    far = _case(api, elsewhere, None)
    assert api.get(f"/api/v1/cases/{far}", headers=phone).status_code == 404
    assert api.post("/api/v1/cases", json=case_body(api, 0), headers=phone).status_code == 201
    assert far not in [c["id"] for c in api.get("/api/v1/cases", headers=phone).json["cases"]]
    # Sends only its own worker's fixes.
    fix = {"worker": other.id, "lat": 29.7, "lon": 120.2, "time": TOWN_NOW.isoformat()}
    sent = api.post("/api/v1/positions", json={"fixes": [fix]}, headers=phone)
    assert sent.status_code == 403 and sent.json["error"] == "not_your_worker"


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.INTEGRATION, Role.WALL])
def test_exports_need_a_desk_role(lite_api: Api, role: Role) -> None:
    _case(lite_api, 0, "justice")
    denied = lite_api.get("/api/v1/cases.csv", headers=lite_api.token(role, f"{role}-x"))
    assert denied.status_code == 403 and denied.json["error"] == "forbidden"
    desk = lite_api.get("/api/v1/cases.csv", headers=lite_api.token(Role.DISPATCHER, "desk"))
    assert desk.status_code == 200 and desk.data.count(b"\r\n") == 2  # header and one case


def test_a_token_issued_before_scopes_existed_is_refused(lite_api: Api) -> None:
    """Migration 0005 leaves old department and phone tokens without a scope: refused."""
    for role in (Role.DEPARTMENT, Role.GRID_WORKER):
        secret = f"gcc_legacy-{role.value}"
        with lite_api.services.db.transaction() as session:
            session.add(
                ApiToken(
                    name=f"old-{role.value}",
                    role=role.value,
                    token_hash=hash_token(secret),
                    prefix=secret[:12],
                    created_at=TOWN_NOW,
                )
            )
        response = lite_api.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401
        assert "re-issue" in response.json["message"]


def test_search_and_export_have_their_own_rate_limit(lite_secure: SecureApp) -> None:
    """Default limits: three exports at once, then 429 with Retry-After; the search's own
    bucket is untouched by the exports."""
    headers = {"Authorization": f"Bearer {lite_secure.token(Role.COMMANDER, 'desk-script')}"}
    client = lite_secure.client()
    answers = [client.get("/api/v1/cases.csv", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    other = {"Authorization": f"Bearer {lite_secure.token(Role.DISPATCHER, 'desk-2')}"}
    assert client.get("/api/v1/cases.csv", headers=other).status_code == 200
