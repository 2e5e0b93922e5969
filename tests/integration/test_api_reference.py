"""GET /api/v1/villages, /villages.geojson and /categories."""

from __future__ import annotations

from dashboard.domain.roles import Role
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    case_body,
    lite_api_fixture,  # noqa: F401
)

TOWN_VILLAGES = 31  # the seeded town (枫桥镇)
KEYS = {
    "code", "name", "town", "town_name", "status", "open", "total", "open_ratio", "red_since",
    "contact_name", "contact_phone",
}  # fmt: skip


def test_villages_carry_the_rule_counts_and_light(api: Api) -> None:
    wall = api.token(Role.WALL)
    before = api.get("/api/v1/villages", headers=wall).json or []
    assert len(before) == TOWN_VILLAGES
    assert all(set(v) == KEYS and v["status"] == "ok" and v["total"] == 0 for v in before)
    assert [v["code"] for v in before] == sorted(v["code"] for v in before)

    reporter = api.token(Role.GRID_WORKER)
    for _ in range(5):  # min_cases = 5, all open: ratio 1.0 ≥ 0.8 → red
        response = api.post("/api/v1/cases", json=case_body(api), headers=reporter)
        assert response.status_code == 201
    village = api.grid(0).village_code
    after = {v["code"]: v for v in api.get("/api/v1/villages", headers=wall).json or []}
    assert after[village]["open"] == 5 and after[village]["total"] == 5
    assert after[village]["status"] == "red" and after[village]["open_ratio"] == 1.0
    assert after[village]["red_since"] == "2026-11-23T01:00:00+00:00"
    assert after[village]["contact_phone"]
    assert sum(v["total"] for v in after.values()) == 5


def test_an_area_token_lists_only_its_villages(lite_api: Api) -> None:
    api = lite_api
    village = api.grid(0).village_code
    listed = api.get("/api/v1/villages", headers=api.token(Role.WALL, area=village)).json
    assert [v["code"] for v in listed or []] == [village]


def test_the_geojson_layer_revalidates_with_its_etag(api: Api) -> None:
    wall = api.token(Role.WALL)
    first = api.get("/api/v1/villages.geojson", headers=wall)
    assert first.status_code == 200 and first.mimetype == "application/geo+json"
    layer = first.json or {}
    assert layer["type"] == "FeatureCollection" and len(layer["features"]) == TOWN_VILLAGES
    feature = layer["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert set(feature["properties"]) == KEYS and feature["id"] == feature["properties"]["code"]
    etag = first.headers["ETag"]

    same = api.get("/api/v1/villages.geojson", headers={**wall, "If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""

    api.post("/api/v1/cases", json=case_body(api), headers=api.token(Role.GRID_WORKER))
    changed = api.get("/api/v1/villages.geojson", headers={**wall, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_categories_are_the_tree_with_limits_and_departments(lite_api: Api) -> None:
    api = lite_api
    tree = api.get("/api/v1/categories", headers=api.token(Role.GRID_WORKER)).json or []
    assert len(tree) == 10 and sum(len(major["subs"]) for major in tree) == 42
    sub = next(s for major in tree for s in major["subs"] if s["code"] == "01002")
    assert sub["name"] == {"zh": "婚姻家庭纠纷", "en": "Marriage and family dispute"}
    assert (sub["limit"], sub["limit_unit"], sub["limit_amount"]) == ("5d", "working_days", 5)
    assert sub["department"]["code"] == "justice" and sub["department"]["name"]["zh"]
    assert sub["closure"]["zh"] and sub["closure"]["en"] and sub["difficulty"] == 2
    major = next(m for m in tree if m["code"] == "01")
    assert major["name"]["zh"] and major["name"]["en"]


def test_reference_needs_a_token(lite_api: Api) -> None:
    for path in ("/api/v1/villages", "/api/v1/villages.geojson", "/api/v1/categories"):
        response = lite_api.get(path)
        assert response.status_code == 401 and (response.json or {})["error"] == "unauthorized"
