"""The OpenAPI 3.1 description (/api/v1/openapi.json) stays true: it names exactly the Flask
routes of /api/v1, /video and /open311/v2 (each method), and real answers of the running app
validate against the schemas it gives for them (both backends)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs

from dashboard.domain.roles import Role
from dashboard.http.openapi import PATH
from tests.integration.support import TOWN_NOW
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401
    apps_fixture,  # noqa: F401
    case_body,
    lite_api_fixture,  # noqa: F401
)

DOORS = ("/api/v1", "/open311/v2", "/video/")
_VAR = re.compile(r"<(?:[^:<>]+:)?([a-z_]+)>")
_ANY = re.compile(r"<any\(([^)]*)\):[a-z_]+>")


def _route_paths(rule: str) -> list[str]:
    """A Flask rule as the OpenAPI paths it stands for (``.<any(json, xml):fmt>`` is two)."""
    choices = _ANY.search(rule)
    rules = (
        [rule[: choices.start()] + c.strip() + rule[choices.end() :] for c in choices[1].split(",")]
        if choices
        else [rule]
    )
    return [_VAR.sub(r"{\1}", r) for r in rules]


def test_the_description_names_every_route_and_nothing_else(lite_api: Api) -> None:
    document = lite_api.get(PATH).get_json()
    routes = set()
    for rule in lite_api.app.url_map.iter_rules():
        if not rule.rule.startswith(DOORS) or rule.endpoint.endswith("no_route"):
            continue
        for path in _route_paths(rule.rule):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((method.lower(), path))
    described = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert described == routes, {"undescribed": routes - described, "gone": described - routes}
    assert document["openapi"] == "3.1.0"
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{([a-z_]+)}", path)), (method, path)
            assert "default" in op["responses"], (method, path)


class Contract:
    """Validate answers against the description's schema for their path, method and status."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def check(self, method: str, path: str, response: Any) -> Any:
        op = self.document["paths"][path][method]
        status = str(response.status_code)
        declared = op["responses"].get(status) or op["responses"]["default"]
        media = response.mimetype
        content = declared["content"]
        assert media in content, (path, status, media, list(content))
        body = response.get_json() if media.endswith("json") else response.get_data(as_text=True)
        schema = {**content[media]["schema"], "components": self.document["components"]}
        errors = [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(body)]
        assert not errors, (method, path, status, errors[:3])
        return body


def test_real_answers_match_the_description(api: Api) -> None:
    contract = Contract(api.get(PATH).get_json())
    admin = api.token(Role.ADMIN, "root-token")
    phone = api.token(Role.GRID_WORKER)
    key = api.token(Role.INTEGRATION, "hotline", source="hotline")
    created = api.post("/api/v1/cases", json=case_body(api), headers=phone)
    case = contract.check("post", "/api/v1/cases", created)
    case_id = case["id"]
    contract.check(
        "get", "/api/v1/cases/{case_id}", api.get(f"/api/v1/cases/{case_id}", headers=admin)
    )
    contract.check("get", "/api/v1/cases/{case_id}", api.get("/api/v1/cases/99999", headers=admin))
    acted = api.post(f"/api/v1/cases/{case_id}/actions", json={"action": "accept"}, headers=admin)
    contract.check("post", "/api/v1/cases/{case_id}/actions", acted)
    refused = api.post(f"/api/v1/cases/{case_id}/actions", json={"action": "close"}, headers=admin)
    assert refused.status_code == 409
    contract.check("post", "/api/v1/cases/{case_id}/actions", refused)
    for path in (
        "/api/v1/cases",
        "/api/v1/categories",
        "/api/v1/villages",
        "/api/v1/villages.geojson",
        "/api/v1/me",
        "/api/v1/audit",
        "/api/v1/supervision/orders",
        "/api/v1/supervision/calls",
        "/api/v1/camera-layouts",
    ):
        answer = api.get(path, headers=admin)
        assert answer.status_code == 200, (path, answer.data[:200])
        contract.check("get", path, answer)
    contract.check("get", "/api/v1/cases", api.get("/api/v1/cases?light=purple", headers=admin))
    auth = {"Authorization": key["Authorization"]}
    grid = api.grid(0)
    form = {"service_code": "01002", "lat": grid.lat, "long": grid.lon, "description": "垃圾"}
    for fmt in ("json", "xml"):
        root = "/open311/v2"
        contract.check("get", f"{root}/discovery.{fmt}", api.get(f"{root}/discovery.{fmt}"))
        contract.check("get", f"{root}/services.{fmt}", api.get(f"{root}/services.{fmt}"))
        contract.check(
            "get",
            f"{root}/services/{{service_code}}.{fmt}",
            api.get(f"{root}/services/01002.{fmt}"),
        )
        made = api.post(f"{root}/requests.{fmt}", data=form, headers=auth)
        contract.check("post", f"{root}/requests.{fmt}", made)
        contract.check(
            "get", f"{root}/requests.{fmt}", api.get(f"{root}/requests.{fmt}", headers=auth)
        )
        contract.check(
            "get",
            f"{root}/requests/{{service_request_id}}.{fmt}",
            api.get(f"{root}/requests/{case_id}.{fmt}", headers=auth),
        )
        contract.check(
            "get",
            f"{root}/servicerequestupdates.{fmt}",
            api.get(f"{root}/servicerequestupdates.{fmt}", headers=auth),
        )
        contract.check(
            "get",
            f"{root}/requests.{fmt}",
            api.get(f"{root}/requests.{fmt}?status=x", headers=auth),
        )
    contract.check("get", PATH, api.get(PATH))


def test_real_answers_of_the_later_areas_match_the_description(api: Api) -> None:
    """Campaigns, rankings and rising problems, tracks, residents and points, the wall: answers
    with rows in them (the fuzzer mostly sees empty lists and refusals)."""
    contract = Contract(api.get(PATH).get_json())
    admin = api.token(Role.ADMIN, "root-token")
    village = api.grid(0).village_code
    town = village[:9]

    def call(method: str, path: str, template: str | None = None, **kwargs: Any) -> Any:
        answer = api.request(method.upper(), path, headers=admin, **kwargs)
        assert answer.status_code < 300, (path, answer.status_code, answer.data[:300])
        return contract.check(method, template or path, answer)

    for path in ("/api/v1/points/items", "/api/v1/service-items", "/api/v1/trends/rising"):
        call("get", path)
    resident = call(
        "post",
        "/api/v1/residents",
        json={"kind": "resident", "name": "张三", "village": village, "phone": "13800000000"},
    )["id"]
    item = call("get", "/api/v1/points/items")["items"][0]["code"]
    call(
        "post",
        "/api/v1/points/claims",
        json={"resident": resident, "item": item, "deed_date": "2026-11-01", "reporter": "self"},
    )
    call(
        "post",
        "/api/v1/points/corrections",
        json={"resident": resident, "amount": 30, "reason": "补录"},
    )
    reward = call(
        "post",
        "/api/v1/points/rewards",
        json={"area": village, "name_zh": "大米", "name_en": "Rice", "cost": 10, "stock": 5},
    )["id"]
    call("post", "/api/v1/points/redemptions", json={"resident": resident, "reward": reward})
    for path in ("balances", "ranking", "claims", "rewards", f"residents/{resident}/ledger"):
        template = "/api/v1/points/residents/{resident_id}/ledger" if "ledger" in path else None
        call("get", f"/api/v1/points/{path}", template)
    service = call("get", "/api/v1/service-items")["items"][0]["code"]
    opened = call(
        "post",
        "/api/v1/service-requests",
        json={"item": service, "resident": resident, "consent_note": "本人同意"},
    )["id"]
    call("get", "/api/v1/service-requests")
    call("get", f"/api/v1/service-requests/{opened}", "/api/v1/service-requests/{request_id}")
    call(
        "post",
        f"/api/v1/service-requests/{opened}/actions",
        "/api/v1/service-requests/{request_id}/actions",
        json={"action": "accept"},
    )
    spec = {
        "name": "护河",
        "categories": ["01002"],
        "area": town,
        "start": "2026-10-01",
        "end": "2026-10-31",
    }
    campaign = call("post", "/api/v1/campaigns", json=spec)["id"]
    one = "/api/v1/campaigns/{campaign_id}"
    call("get", "/api/v1/campaigns")
    call("put", f"/api/v1/campaigns/{campaign}", one, json={**spec, "note": "扩大"})
    call("get", f"/api/v1/campaigns/{campaign}/effect", one + "/effect")
    call("get", "/api/v1/rankings")
    worker = api.workers(1)[0].id
    fixes = [
        {
            "worker": worker,
            "lat": api.grid(0).lat,
            "lon": api.grid(0).lon,
            "time": TOWN_NOW.replace(hour=8, minute=m).isoformat(),
        }
        for m in (0, 5, 10)
    ]
    call("post", "/api/v1/positions", json={"fixes": fixes})
    span = {"from": TOWN_NOW.replace(hour=0).isoformat(), "to": TOWN_NOW.isoformat()}
    call(
        "get",
        f"/api/v1/workers/{worker}/track",
        "/api/v1/workers/{worker_id}/track",
        query_string=span,
    )
    call(
        "get",
        f"/api/v1/workers/{worker}/patrol",
        "/api/v1/workers/{worker_id}/patrol",
        query_string=span,
    )
    call("get", "/api/v1/patrol", query_string={**span, "area": town})
    call("get", "/api/v1/tracks/moment", query_string={"at": TOWN_NOW.isoformat()})
    call("get", "/api/v1/geofence", query_string={"area": village})
    call("get", "/api/v1/wall/snapshot")
    call("get", "/api/v1/wall/towns.geojson")
    call("get", "/api/v1/wall/villages.geojson", query_string={"area": town})
    # The trends without Chromium (the PNG and the PDF: tests/integration/test_trend_exports.py).
    autumn = {"from": "2026-10-01", "to": "2026-10-31"}
    call("get", "/api/v1/trends/summary", query_string={**autumn, "town": town})
    call(
        "get",
        "/api/v1/trends/tables/places.csv",
        "/api/v1/trends/tables/{name}.csv",
        query_string={**autumn, "kind": "month", "lang": "en"},
    )
    call("get", "/api/v1/trends/briefings")
    deleted = api.request("DELETE", f"/api/v1/campaigns/{campaign}", headers=admin)
    assert deleted.status_code == 204 and not deleted.data
    assert "content" not in contract.document["paths"][one]["delete"]["responses"]["204"]
