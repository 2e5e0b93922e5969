"""The OpenAPI 3.1 description (/api/v1/openapi.json) stays true: it names exactly the Flask
routes of /api/v1, /video and /open311/v2 (each method), and real answers of the running app
validate against the schemas it gives for them (both backends)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs

from dashboard.domain.roles import Role
from dashboard.http.openapi import PATH
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
