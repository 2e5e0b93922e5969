"""The wall's drill-down over HTTP (/api/v1/wall/…) and gzip for text answers."""

from __future__ import annotations

import gzip
import json

from dashboard.domain.roles import Role
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    lite_api_fixture,  # noqa: F401
)

GZIP = {"Accept-Encoding": "gzip, deflate"}


def test_a_towns_layer_and_a_towns_villages_gzip_compressed_with_an_etag(lite_api: Api) -> None:
    api = lite_api
    wall = {**api.token(Role.WALL), **GZIP}
    town = api.grid(0).village_code[:9]
    towns = api.get("/api/v1/wall/towns.geojson", headers=wall)
    assert towns.status_code == 200 and towns.headers["Content-Encoding"] == "gzip"
    layer = json.loads(gzip.decompress(towns.data))
    assert [f["properties"]["code"] for f in layer["features"]] == [town]
    assert layer["features"][0]["properties"]["name"]  # the town's name
    villages = api.get(f"/api/v1/wall/villages.geojson?area={town}", headers=wall)
    features = json.loads(gzip.decompress(villages.data))["features"]
    assert len(features) == 31 and all(f["id"].startswith(town) for f in features)
    again = api.get(
        f"/api/v1/wall/villages.geojson?area={town}",
        headers={**wall, "If-None-Match": villages.headers["ETag"]},
    )
    assert again.status_code == 304
    plain = api.get("/api/v1/wall/towns.geojson", headers=api.token(Role.WALL))
    assert "Content-Encoding" not in plain.headers and json.loads(plain.data) == layer
    # The client's weights count: gzip refused by q=0 or by identity alone stays plain.
    for refusal in ("gzip;q=0, deflate", "identity", "*;q=0, identity"):
        asked = {**api.token(Role.WALL), "Accept-Encoding": refusal}
        answer = api.get("/api/v1/wall/towns.geojson", headers=asked)
        assert "Content-Encoding" not in answer.headers, refusal
        assert json.loads(answer.data) == layer


def test_a_drilled_snapshot_is_the_areas_and_stays_in_scope(lite_api: Api) -> None:
    api = lite_api
    village = api.grid(0).village_code
    wall = api.token(Role.WALL)
    data = api.get(f"/api/v1/wall/snapshot?area={village[:9]}", headers=wall).json or {}
    assert data["level"] == "town" and data["area"] == village[:9]
    assert data["alarms"] == []  # the banner stays the wall's own
    assert set(data["positions"]) == {"ids", "lon", "lat", "age"}
    one = api.get(f"/api/v1/wall/snapshot?area={village}", headers=wall).json or {}
    assert [v["code"] for v in one["villages"]] == [village]
    # A screen limited to one village cannot widen to its town, nor ask for nonsense.
    narrow = api.token(Role.WALL, area=village)
    assert api.get(f"/api/v1/wall/snapshot?area={village[:9]}", headers=narrow).status_code == 404
    assert api.get("/api/v1/wall/towns.geojson?area=33x681", headers=wall).status_code == 400
    assert api.get("/api/v1/wall/snapshot?area=33068", headers=wall).status_code == 400
    refused = api.get("/api/v1/wall/snapshot", headers=api.token(Role.GRID_WORKER))
    assert refused.status_code == 403
