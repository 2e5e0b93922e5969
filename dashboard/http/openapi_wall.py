"""The OpenAPI description of the live wall's drill-down (issue 15, dashboard/http/api_wall.py):
the towns and villages of an area as GeoJSON, and the wall's snapshot of that area."""

from __future__ import annotations

from pydantic import BaseModel

from dashboard.http.openapi_base import (
    INT,
    MAYBE_NUM,
    MAYBE_TIME,
    OBJ,
    STR,
    TIME,
    Schema,
    array,
    house,
    json_ok,
    obj,
    query,
    ref,
)

_GEOJSON = "application/geo+json"


def _features(properties: Schema) -> Schema:
    feature = obj(
        {"type": {"const": "Feature"}, "id": STR, "geometry": OBJ, "properties": properties}
    )
    return obj({"type": {"const": "FeatureCollection"}, "features": array(feature)})


COMPONENTS: dict[str, Schema] = {
    "WallTowns": _features(obj({"code": STR, "name": STR})),
    "WallVillages": _features(
        obj(
            {"code": STR, "name": STR, "town": STR, "status": STR, "open": INT, "total": INT},
            {"town_name": STR, "open_ratio": MAYBE_NUM, "red_since": MAYBE_TIME},
        )
    ),
    "WallSnapshot": obj(
        {
            "now": TIME,
            "day_start": TIME,
            "day_end": TIME,
            "next_deadline": MAYBE_TIME,
            "kpis": obj(
                {
                    "reported_today": INT,
                    "closed_today": INT,
                    "open": INT,
                    "overdue_now": INT,
                    "closure_rate": MAYBE_NUM,
                    "on_time_rate": MAYBE_NUM,
                    "red_villages": INT,
                    "on_patrol": INT,
                }
            ),
            "sources": {"type": "object", "additionalProperties": INT},
            "categories": array(obj({"code": STR, "count": INT})),
            "trend": obj({"start": TIME, "reported": array(INT), "closed": array(INT)}),
            "departments": array(obj({"code": STR})),
            "villages": array(obj({"code": STR, "name": STR, "status": STR})),
            "feed": array(OBJ),
            "alarms": array(OBJ),
            "positions": obj(
                {"ids": array(STR), "lon": array(INT), "lat": array(INT), "age": array(INT)}
            ),
            "patrol_window_s": INT,
            "area": STR,
            "level": {"enum": ["town", "county", "city"]},
            "units": array(obj({"code": STR, "name": STR, "villages": INT, "red": INT})),
        }
    ),
}

_INSIDE = array(
    obj(
        {
            "worker": STR,
            "name": STR,
            "grid": STR,
            "since": TIME,
            "last_fix": TIME,
            "dwell_s": INT,
        }
    )
)
COMPONENTS["WallGeofence"] = obj(
    {
        "at": TIME,
        "grid": obj({"code": STR, "name": STR, "inside": _INSIDE}),
        "village": obj({"code": STR, "name": STR, "inside": _INSIDE}),
    }
)

BODY_MODELS: dict[str, type[BaseModel]] = {}

_AREA = query(
    "area",
    {"type": "string", "pattern": "^([0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$"},
    "a code of 4, 6, 9 or 12 digits inside the caller's area (default: the caller's area)",
)
_NOT_MODIFIED = {"description": "Not modified (If-None-Match matched the ETag)"}


def _layer(summary: str, schema: str) -> Schema:
    return house(
        summary,
        {
            "200": {"description": "GeoJSON", "content": {_GEOJSON: {"schema": ref(schema)}}},
            "304": _NOT_MODIFIED,
        },
        parameters=[_AREA],
    )


def paths() -> dict[str, dict[str, Schema]]:
    return {
        "/api/v1/wall/towns.geojson": {
            "get": _layer("The towns of an area, geometry and names (with an ETag)", "WallTowns")
        },
        "/api/v1/wall/villages.geojson": {
            "get": _layer(
                "The villages of an area with their status (with an ETag)", "WallVillages"
            )
        },
        "/api/v1/wall/geofence": {
            "get": house(
                "A click on the wall's map: the grid and the village at a point, who is inside "
                "each now and their dwell (view_positions; a heavy request; 404 outside the "
                "caller's grids)",
                {"200": json_ok(ref("WallGeofence"))},
                parameters=[
                    query(
                        "lon",
                        {"type": "number", "minimum": -180, "maximum": 180},
                        "WGS-84",
                        required=True,
                    ),
                    query(
                        "lat",
                        {"type": "number", "minimum": -90, "maximum": 90},
                        "WGS-84",
                        required=True,
                    ),
                    query(
                        "lang",
                        {"type": "string", "enum": ["zh", "en"]},
                        "the grid's name in this language (default: the configured one)",
                    ),
                ],
            )
        },
        "/api/v1/wall/snapshot": {
            "get": house(
                "The wall's snapshot of an area, without alarms (a heavy request)",
                {"200": json_ok(ref("WallSnapshot"))},
                parameters=[_AREA],
            )
        },
    }
