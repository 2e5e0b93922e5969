"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of ``/api/v1`` and ``/open311/v2``.

Written here, operation by operation (the areas added later in their own modules:
openapi_leadership, openapi_tracks, openapi_residents, openapi_wall; the shorthands in
openapi_base); request bodies come from the pydantic models the views parse with (so a field
added there appears here). tests/integration/test_openapi.py keeps it
true: every Flask route of the two doors is described and nothing else, and real answers
validate against the schemas given for them; schemathesis fuzzes the doors from it.
Public: it describes the doors, not anything behind them.
"""

from __future__ import annotations

from copy import deepcopy

from flask import Blueprint, Flask, Response, jsonify
from pydantic import BaseModel

from dashboard.domain import open311 as o311
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.http import (
    api_camera_layouts,
    api_cameras,
    api_supervision_actions,
    openapi_leadership,
    openapi_residents,
    openapi_tracks,
    openapi_wall,
    schemas,
)
from dashboard.http.api_supervision import OrdersQuery
from dashboard.http.openapi_base import (
    ID,
    INT,
    MAYBE_STR,
    MAYBE_TIME,
    NAMES,
    OBJ,
    STR,
    TIME,
    J,
    Schema,
    body,
    body_schemas,
    house,
    json_ok,
    obj,
    path_param,
    query,
    ref,
)
from dashboard.security.web import public

PATH = "/api/v1/openapi.json"
bp = Blueprint("openapi", __name__)

CASE_RECORD = obj(
    {
        "id": INT,
        "status": {"enum": [s.value for s in CaseStatus]},
        "village": STR,
        "grid": STR,
        "town": STR,
        "category": STR,
        "deadline": MAYBE_TIME,
        "emergency": {"type": "boolean"},
    }
)

O311_REQUEST = obj(
    {
        "service_request_id": STR,
        "status": {"enum": ["open", "closed"]},
        "status_notes": STR,
        "service_name": STR,
        "service_code": STR,
        "description": STR,
        "agency_responsible": STR,
        "service_notice": STR,
        "requested_datetime": TIME,
        "updated_datetime": TIME,
        "expected_datetime": MAYBE_TIME,
        "address": STR,
        "address_id": STR,
        "zipcode": STR,
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "media_url": STR,
    }
)
O311_UPDATE = obj(
    {
        "update_id": STR,
        "service_request_id": STR,
        "status": {"enum": ["open", "closed"]},
        "external_status_code": {"enum": [s.value for s in CaseStatus]},
        "action": STR,
        "description": STR,
        "updated_datetime": TIME,
        "media_url": STR,
    }
)

COMPONENTS: dict[str, Schema] = {
    "Error": obj({"error": STR, "message": STR}, {"field": STR}),
    "CaseRecord": CASE_RECORD,
    "CaseCreated": {"allOf": [CASE_RECORD, obj({"attachments": {"type": "array", "items": STR}})]},
    "CaseDetail": {
        "allOf": [
            CASE_RECORD,
            obj(
                {
                    "source": {"enum": [s.value for s in Source]},
                    "description": STR,
                    "lon": {"type": "number"},
                    "lat": {"type": "number"},
                    "reported_at": TIME,
                    "open": {"type": "boolean"},
                    "light": {"enum": ["green", "yellow", "red", None]},
                    "attachments": {"type": "array", "items": STR},
                    "history": {
                        "type": "array",
                        "items": obj(
                            {
                                "action": STR,
                                "from": MAYBE_STR,
                                "to": STR,
                                "at": TIME,
                                "actor": STR,
                                "role": STR,
                            }
                        ),
                    },
                },
                {"category_name": NAMES, "department": MAYBE_STR},
            ),
        ]
    },
    "CasePage": obj(
        {
            "cases": {"type": "array", "items": OBJ},
            "total": INT,
            "page": INT,
            "per_page": INT,
        }
    ),
    "Attachments": obj({"attachments": {"type": "array", "items": STR}}),
    "Categories": {
        "type": "array",
        "items": obj({"code": STR, "name": NAMES, "subs": {"type": "array", "items": OBJ}}),
    },
    "Villages": {"type": "array", "items": obj({"code": STR})},
    "FeatureCollection": obj(
        {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}}
    ),
    "Me": obj(
        {
            "name": STR,
            "kind": {"enum": ["user", "token"]},
            "role": STR,
            "area_code": MAYBE_STR,
            "department_code": MAYBE_STR,
            "permissions": {"type": "array", "items": STR},
        }
    ),
    "Stored": obj({"stored": INT, "workers": INT}),
    "Audit": obj(
        {"items": {"type": "array", "items": OBJ}, "next_before": {"type": ["integer", "null"]}}
    ),
    "Orders": obj({"orders": {"type": "array"}, "limit": INT, "offset": INT}),
    "Calls": obj({"calls": {"type": "array"}, "at": TIME}),
    "Cameras": obj({"cameras": {"type": "array", "items": obj({"id": STR})}}),
    "Layouts": obj({"layouts": {"type": "array", "items": OBJ}}),
    "Layout": obj({"id": INT, "name": STR}),
    "Open311Errors": {
        "type": "array",
        "minItems": 1,
        "items": obj({"code": INT, "description": STR}),
    },
    "Open311Discovery": obj(
        {
            "changeset": TIME,
            "contact": STR,
            "key_service": STR,
            "endpoints": {"type": "array", "items": OBJ},
        }
    ),
    "Open311Services": {
        "type": "array",
        "items": obj(
            {
                "service_code": STR,
                "service_name": STR,
                "description": STR,
                "metadata": {"type": "boolean"},
                "type": {"enum": ["realtime", "batch", "blackbox"]},
                "keywords": STR,
                "group": STR,
            }
        ),
    },
    "Open311ServiceDefinition": obj(
        {"service_code": STR, "attributes": {"type": "array", "items": OBJ}}
    ),
    "Open311Requests": {"type": "array", "items": O311_REQUEST},
    "Open311Created": {
        "type": "array",
        "items": obj(
            {
                "service_request_id": STR,
                "token": STR,
                "service_notice": STR,
                "account_id": MAYBE_STR,
            }
        ),
    },
    "Open311Tokens": {
        "type": "array",
        "items": obj({"service_request_id": STR, "token": STR}),
    },
    "Open311Updates": {"type": "array", "items": O311_UPDATE},
    "Open311UpdateTaken": {"type": "array", "items": obj({"update_id": STR})},
}

_BODY_MODELS: dict[str, type[BaseModel]] = {
    "CaseIn": schemas.CaseIn,
    "ActionIn": schemas.ActionIn,
    "PositionsIn": schemas.PositionsIn,
    "CallLogIn": api_supervision_actions.CallLogIn,
    "SnoozeIn": api_supervision_actions.SnoozeIn,
    "ReplyIn": api_supervision_actions.ReplyIn,
    "CloseIn": api_supervision_actions.CloseIn,
    "LayoutIn": api_camera_layouts.LayoutIn,
    "EvidenceIn": api_cameras.EvidenceIn,
}


# --- operations --------------------------------------------------------------------------------


_CASE_QUERY = [
    query("id", description="a case id"),
    query("text"),
    query("place", description="a county, town, village or grid code"),
    query("category"),
    query("status"),
    query("town"),
    query("department"),
    query("light", {"enum": ["green", "yellow", "red", "none"]}),
    query("overdue", {"enum": ["true", "false"]}),
    query("due_within_hours"),
    query("emergency", {"enum": ["true", "false"]}),
    query("from", description="a local date or an ISO 8601 time with its offset"),
    query("to"),
    query("sort"),
    query("page", {"type": "integer", "minimum": 1}),
    query("per_page", {"type": "integer", "minimum": 1, "maximum": 200}),
    query("lang", {"enum": ["zh", "en"]}),
]


def _api_paths() -> dict[str, dict[str, Schema]]:
    binary = {"description": "the file", "content": {"image/jpeg": {"schema": {}}}}
    orders_query = [
        query(name, OrdersQuery.model_json_schema()["properties"][name])
        for name in OrdersQuery.model_fields
    ]
    return {
        "/api/v1/cases": {
            "post": house(
                "Report a case (JSON, or multipart with photos); Idempotency-Key makes it safe "
                "to retry",
                {
                    "201": json_ok(ref("CaseCreated"), "Created"),
                    "200": json_ok(ref("CaseCreated"), "An Idempotency-Key retry"),
                },
                requestBody=body("CaseIn"),
                parameters=[
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[!-~]{1,64}$"},
                    }
                ],
            ),
            "get": house(
                "Search cases (scoped)", {"200": json_ok(ref("CasePage"))}, parameters=_CASE_QUERY
            ),
        },
        "/api/v1/cases.csv": {
            "get": house(
                "The matching cases as CSV",
                {"200": {"description": "CSV", "content": {"text/csv": {"schema": STR}}}},
                parameters=_CASE_QUERY,
            )
        },
        "/api/v1/cases/{case_id}": {
            "get": house(
                "A case with its history",
                {"200": json_ok(ref("CaseDetail"))},
                parameters=[path_param("case_id", ID)],
            )
        },
        "/api/v1/cases/{case_id}/actions": {
            "post": house(
                f"One step of the lifecycle ({', '.join(a.value for a in Action)})",
                {"200": json_ok(ref("CaseRecord"))},
                parameters=[path_param("case_id", ID)],
                requestBody=body("ActionIn"),
            )
        },
        "/api/v1/cases/{case_id}/attachments": {
            "post": house(
                "Photos for a later step (multipart, field photos)",
                {"201": json_ok(ref("Attachments"), "Stored")},
                parameters=[path_param("case_id", ID)],
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "photos": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    }
                                },
                            }
                        }
                    },
                },
            )
        },
        "/api/v1/cases/{case_id}/evidence": {
            "post": house(
                "A camera's current frame as a case photo",
                {"201": json_ok(OBJ, "Stored")},
                parameters=[path_param("case_id", ID)],
                requestBody=body("EvidenceIn"),
            )
        },
        "/api/v1/attachments/{attachment_id}": {
            "get": house(
                "A photo (access-controlled)",
                {"200": binary},
                parameters=[
                    path_param("attachment_id", {"type": "string", "pattern": "^[0-9a-f]{64}$"})
                ],
            )
        },
        "/api/v1/categories": {
            "get": house("The category tree", {"200": json_ok(ref("Categories"))})
        },
        "/api/v1/villages": {"get": house("Villages (scoped)", {"200": json_ok(ref("Villages"))})},
        "/api/v1/villages.geojson": {
            "get": house(
                "Villages with their boundaries",
                {
                    "200": {
                        "description": "GeoJSON",
                        "content": {"application/geo+json": {"schema": ref("FeatureCollection")}},
                    }
                },
            )
        },
        "/api/v1/positions": {
            "post": house(
                "A batch of position fixes",
                {"200": json_ok(ref("Stored"))},
                requestBody=body("PositionsIn"),
            )
        },
        "/api/v1/me": {
            "get": house("Who the server takes the caller to be", {"200": json_ok(ref("Me"))})
        },
        "/api/v1/audit": {
            "get": house(
                "The audit log (admins)",
                {"200": json_ok(ref("Audit"))},
                parameters=[
                    query("actor"),
                    query("action"),
                    query("target"),
                    query("since", TIME),
                    query("until", TIME),
                    query("before", {"type": "integer", "minimum": 1}),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                ],
            )
        },
        "/api/v1/supervision/orders": {
            "get": house(
                "Supervision orders", {"200": json_ok(ref("Orders"))}, parameters=orders_query
            )
        },
        "/api/v1/supervision/calls": {
            "get": house("The call list of red villages", {"200": json_ok(ref("Calls"))})
        },
        "/api/v1/supervision/calls/{entry_id}/log": {
            "post": house(
                "Log a call",
                {"200": json_ok(OBJ)},
                parameters=[path_param("entry_id", ID)],
                requestBody=body("CallLogIn"),
            )
        },
        "/api/v1/supervision/calls/{entry_id}/snooze": {
            "post": house(
                "Snooze an entry with a reason",
                {"200": json_ok(OBJ)},
                parameters=[path_param("entry_id", ID)],
                requestBody=body("SnoozeIn"),
            )
        },
        "/api/v1/supervision/orders/{order_id}/reply": {
            "post": house(
                "A department's reply",
                {"200": json_ok(OBJ)},
                parameters=[path_param("order_id", ID)],
                requestBody=body("ReplyIn"),
            )
        },
        "/api/v1/supervision/orders/{order_id}/close": {
            "post": house(
                "Close an order",
                {"200": json_ok(OBJ)},
                parameters=[path_param("order_id", ID)],
                requestBody=body("CloseIn"),
            )
        },
        "/api/v1/cameras": {
            "get": house(
                "Cameras with their live status (scoped)",
                {"200": json_ok(ref("Cameras"))},
                parameters=[
                    query("near", description="lon,lat"),
                    query("case"),
                    query("village"),
                    query("radius_m"),
                ],
            )
        },
        "/api/v1/cameras/{camera_id}/snapshot.jpg": {
            "get": house(
                "A camera's latest frame",
                {"200": binary},
                parameters=[path_param("camera_id"), query("quality", {"enum": ["full", "tile"]})],
            )
        },
        "/api/v1/camera-layouts": {
            "get": house("Saved video-wall layouts", {"200": json_ok(ref("Layouts"))}),
            "post": house(
                "Save a layout",
                {"201": json_ok(ref("Layout"), "Created")},
                requestBody=body("LayoutIn"),
            ),
        },
        "/api/v1/camera-layouts/{layout_id}": {
            "put": house(
                "Change a layout",
                {"200": json_ok(ref("Layout"))},
                parameters=[path_param("layout_id", ID)],
                requestBody=body("LayoutIn"),
            ),
            "delete": house(
                "Delete a layout",
                {"204": {"description": "Deleted"}},
                parameters=[path_param("layout_id", ID)],
            ),
        },
        "/video/cameras/{camera_id}/live.mjpg": {
            "get": house(
                "A camera at full size (MJPEG)",
                {
                    "200": {
                        "description": "multipart/x-mixed-replace",
                        "content": {"multipart/x-mixed-replace": {"schema": {}}},
                    }
                },
                parameters=[path_param("camera_id")],
            )
        },
        PATH: {"get": house("This description", {"200": json_ok(OBJ)}, security=[])},
    }


# --- the Open311 door --------------------------------------------------------------------------

_FORMATS = ("json", "xml")
_O311_KEY: list[dict[str, list[str]]] = [{"open311Key": []}, {"bearer": []}]


def _open311(
    summary: str,
    schema: str,
    fmt: str,
    *,
    status: str = "200",
    parameters: list[Schema] | None = None,
    form: Schema | None = None,
    keyed: bool = True,
) -> Schema:
    media = J if fmt == "json" else "text/xml"
    content = {media: {"schema": ref(schema)}} if fmt == "json" else {media: {"schema": STR}}
    errors = {J: {"schema": ref("Open311Errors")}} if fmt == "json" else {media: {"schema": STR}}
    operation: Schema = {
        "summary": summary,
        "tags": ["open311"],
        "parameters": [query("jurisdiction_id", description="a county code"), *(parameters or [])],
        "responses": {
            status: {"description": "OK", "content": content},
            "default": {"description": "[{code, description}]", "content": errors},
        },
        "security": _O311_KEY if keyed else [],
    }
    if form is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": form}},
        }
    return operation


_PAGE_PARAMS = [
    query("page", {"type": "integer", "minimum": 1, "maximum": o311.MAX_PAGE}),
    query("page_size", {"type": "integer", "minimum": 1, "maximum": o311.MAX_PAGE_SIZE}),
]
_W3C = {"type": "string", "format": "date-time"}
REQUEST_FORM = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        "api_key": STR,
        "service_code": {"type": "string", "pattern": "^[0-9]{5}$"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address_string": {"type": "string", "maxLength": 200},
        "address_id": {"type": "string", "maxLength": 20, "description": "a grid code"},
        "description": {"type": "string", "maxLength": 2000},
        "email": {"type": "string", "maxLength": 100},
        "device_id": {"type": "string", "maxLength": 100},
        "account_id": {"type": "string", "maxLength": 100},
        "first_name": {"type": "string", "maxLength": 40},
        "last_name": {"type": "string", "maxLength": 40},
        "phone": {"type": "string", "pattern": "^[0-9+\\- ]{0,20}$"},
        "media_url": {"type": "string", "maxLength": o311.MAX_MEDIA_URL, "format": "uri"},
        "attribute[emergency]": {"enum": ["true", "false"]},
        "attribute[occurred_at]": _W3C,
    },
}
UPDATE_FORM = {
    "type": "object",
    "required": ["service_request_id", "update_id", "status", "updated_datetime"],
    "properties": {
        "api_key": STR,
        "service_request_id": {"type": "string", "pattern": "^[0-9]{1,9}$"},
        "update_id": {"type": "string", "maxLength": 64},
        "status": {"enum": ["open", "closed"]},
        "updated_datetime": _W3C,
        "description": {"type": "string", "maxLength": 2000},
        "media_url": {"type": "string", "maxLength": o311.MAX_MEDIA_URL},
        "satisfaction": {"enum": ["1", "2", "3", "4", "5"]},
    },
}


def _open311_paths() -> dict[str, dict[str, Schema]]:
    paths: dict[str, dict[str, Schema]] = {}
    root = "/open311/v2"
    for fmt in _FORMATS:
        paths[f"{root}/discovery.{fmt}"] = {
            "get": _open311("Discovery", "Open311Discovery", fmt, keyed=False)
        }
        paths[f"{root}/services.{fmt}"] = {
            "get": _open311(
                "Services: the 小类 of the category tree", "Open311Services", fmt, keyed=False
            )
        }
        paths[f"{root}/services/{{service_code}}.{fmt}"] = {
            "get": _open311(
                "A service definition",
                "Open311ServiceDefinition",
                fmt,
                keyed=False,
                parameters=[path_param("service_code")],
            )
        }
        paths[f"{root}/requests.{fmt}"] = {
            "post": _open311(
                "Report a request (an integration key; its source)",
                "Open311Created",
                fmt,
                status="201",
                form=REQUEST_FORM,
            ),
            "get": _open311(
                "Requests (the standard filters, paging)",
                "Open311Requests",
                fmt,
                parameters=[
                    query("service_request_id", description="comma-separated ids"),
                    query("service_code", description="comma-separated codes"),
                    query("start_date", _W3C),
                    query("end_date", _W3C),
                    query("status", {"enum": ["open", "closed", "open,closed"]}),
                    *_PAGE_PARAMS,
                ],
            ),
        }
        paths[f"{root}/requests/{{service_request_id}}.{fmt}"] = {
            "get": _open311(
                "One request", "Open311Requests", fmt, parameters=[path_param("service_request_id")]
            )
        }
        paths[f"{root}/tokens/{{token}}.{fmt}"] = {
            "get": _open311(
                "A token's request", "Open311Tokens", fmt, parameters=[path_param("token")]
            )
        }
        paths[f"{root}/servicerequestupdates.{fmt}"] = {
            "get": _open311(
                "Every step of the requests (mySociety's servicerequestupdates)",
                "Open311Updates",
                fmt,
                parameters=[query("start_date", _W3C), query("end_date", _W3C), *_PAGE_PARAMS],
            ),
            "post": _open311(
                "An update from the integration (a satisfaction rating evaluates a closed case)",
                "Open311UpdateTaken",
                fmt,
                status="201",
                form=UPDATE_FORM,
            ),
        }
    return paths


# --- the areas added later (issues 13, 15, 16, 18), each in its own module -------------------

_AREAS = (openapi_leadership, openapi_tracks, openapi_residents, openapi_wall)


def _area_paths() -> dict[str, dict[str, Schema]]:
    return {path: ops for area in _AREAS for path, ops in area.paths().items()}


def _area_schemas() -> dict[str, Schema]:
    found: dict[str, Schema] = {}
    for area in _AREAS:
        for name, schema in (*area.COMPONENTS.items(), *body_schemas(area.BODY_MODELS).items()):
            if found.setdefault(name, deepcopy(schema)) != schema or name in COMPONENTS:
                raise ValueError(f"OpenAPI: two schemas named {name}")  # a programming error
    return found


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "网格化社会治理综合指挥中心 · Grid Governance Command Center",
            "version": "1",
            "description": "The house API (/api/v1: bearer tokens, errors {error, message, "
            "field}) and the Open311 GeoReport v2 door (/open311/v2: integration keys, JSON or "
            "XML by suffix, errors [{code, description}]). docs/integrations.md.",
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": "api"}, {"name": "open311"}],
        "security": [{"bearer": []}],
        "paths": {**_api_paths(), **_area_paths(), **_open311_paths()},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "open311Key": {"type": "apiKey", "in": "query", "name": "api_key"},
            },
            "schemas": {
                **deepcopy(COMPONENTS),
                **body_schemas(_BODY_MODELS),
                **_area_schemas(),
            },
        },
    }


@bp.get(PATH)
@public
def openapi() -> Response:
    return jsonify(document())


def register_openapi(server: Flask) -> None:
    server.register_blueprint(bp)
