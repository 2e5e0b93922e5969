"""The OpenAPI description of the patrol tracks (issue 16, dashboard/http/api_tracks.py): a
worker's track and patrol summary, an area's patrol, everyone at a moment, the geofence."""

from __future__ import annotations

from pydantic import BaseModel

from dashboard.domain.time_bounds import MAX_TRACK_SPAN
from dashboard.http.openapi_base import (
    BOOL,
    INT,
    MAYBE_NUM,
    MAYBE_STR,
    NUM,
    STR,
    TIME,
    Schema,
    array,
    house,
    json_ok,
    obj,
    path_param,
    query,
    ref,
)

_EPISODE = obj({"start": TIME, "end": TIME, "seconds": INT})
_WORKER = {
    "worker": STR,
    "name": STR,
    "grid": STR,
    "village": STR,
    "fixes": INT,
    "flagged": INT,
    "household_coverage": MAYBE_NUM,
    "distance_m": NUM,
    "patrol_s": INT,
    "moving_s": INT,
    "stopped_s": INT,
    "inside_s": INT,
    "outside_s": INT,
    "inside_share": MAYBE_NUM,
}

COMPONENTS: dict[str, Schema] = {
    "Track": obj(
        {
            "worker": STR,
            "fixes": array(
                obj(
                    {
                        "at": TIME,
                        "lat": NUM,
                        "lon": NUM,
                        "accuracy": MAYBE_NUM,
                        "speed": MAYBE_NUM,
                        "valid": BOOL,
                        "flags": array(STR),
                    }
                )
            ),
        }
    ),
    "WorkerPatrol": obj(
        {
            "from": TIME,
            "to": TIME,
            **_WORKER,
            "stops": array(
                obj({"start": TIME, "end": TIME, "lon": NUM, "lat": NUM, "seconds": INT})
            ),
            "silent": array(_EPISODE),
            "outside": array(_EPISODE),
        }
    ),
    "AreaPatrol": obj(
        {
            "area": STR,
            "from": TIME,
            "to": TIME,
            "totals": obj({"workers": INT, "distance_m": NUM, "patrol_s": INT, "inside_s": INT}),
            "workers": array(
                obj({**_WORKER, "stops_count": INT, "silent_count": INT, "outside_count": INT})
            ),
        }
    ),
    "Moment": obj(
        {
            "at": TIME,
            "area": MAYBE_STR,
            "workers": array(
                obj({"worker": STR, "name": STR, "grid": STR, "at": TIME, "lon": NUM, "lat": NUM})
            ),
        }
    ),
    "Geofence": obj(
        {
            "area": STR,
            "at": TIME,
            "inside": array(
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
            ),
        }
    ),
}

BODY_MODELS: dict[str, type[BaseModel]] = {}

_DAYS = MAX_TRACK_SPAN.days
_WORKER_ID = path_param("worker_id", {"type": "string", "minLength": 1, "maxLength": 40})
_SPAN = [
    query("from", TIME, "ISO 8601 with its offset", required=True),
    query("to", TIME, f"after from, at most {_DAYS} days (7 for an area)", required=True),
]
_AREA = {"type": "string", "pattern": "^[0-9]{1,15}$"}


def paths() -> dict[str, dict[str, Schema]]:
    return {
        "/api/v1/workers/{worker_id}/track": {
            "get": house(
                "A worker's fixes in time order, filtered ones with valid: false and their "
                "flags (a grid worker: only their own; a heavy request)",
                {"200": json_ok(ref("Track"))},
                parameters=[_WORKER_ID, *_SPAN],
            )
        },
        "/api/v1/workers/{worker_id}/track.pdf": {
            "get": house(
                "The printable track map of a worker over a range: the map with the stops' "
                "times, the summary, the stops and cases (A4 PDF; 503 without a renderer; a "
                "heavy request)",
                {
                    "200": {
                        "description": "PDF",
                        "content": {"application/pdf": {"schema": {"type": "string"}}},
                    }
                },
                parameters=[
                    _WORKER_ID,
                    *_SPAN,
                    query("lang", {"enum": ["zh", "en"]}, "the page's language (default zh)"),
                ],
            )
        },
        "/api/v1/workers/{worker_id}/patrol": {
            "get": house(
                "A worker's patrol summary: distance, time on patrol, stops, silent and "
                "out-of-grid episodes, coverage (a heavy request)",
                {"200": json_ok(ref("WorkerPatrol"))},
                parameters=[_WORKER_ID, *_SPAN],
            )
        },
        "/api/v1/patrol": {
            "get": house(
                "The patrol summary per worker of a grid, village or town (view_positions; "
                "a heavy request)",
                {"200": json_ok(ref("AreaPatrol"))},
                parameters=[query("area", _AREA, "a region code", required=True), *_SPAN],
            )
        },
        "/api/v1/tracks/moment": {
            "get": house(
                "Everyone's last valid position at one moment (view_positions; a heavy request)",
                {"200": json_ok(ref("Moment"))},
                parameters=[
                    query("at", TIME, "ISO 8601 with its offset", required=True),
                    query("area", _AREA, "a region code (default: the caller's area)"),
                ],
            )
        },
        "/api/v1/geofence": {
            "get": house(
                "Who is inside a grid or village now, since when (view_positions; a heavy request)",
                {"200": json_ok(ref("Geofence"))},
                parameters=[
                    query(
                        "area",
                        {"type": "string", "pattern": "^([0-9]{12}|[0-9]{15})$"},
                        "a village (12 digits) or grid (15 digits) code",
                        required=True,
                    )
                ],
            )
        },
    }
