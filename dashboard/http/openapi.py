"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of ``/api/v1`` and ``/open311/v2``.

Written here, operation by operation; request bodies come from the pydantic models the views
parse with (so a field added there appears here). tests/integration/test_openapi.py keeps it
true: every Flask route of the two doors is described and nothing else, and real answers
validate against the schemas given for them; schemathesis fuzzes the doors from it.
Public: it describes the doors, not anything behind them.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from flask import Blueprint, Flask, Response, jsonify
from pydantic import BaseModel

from dashboard.domain import open311 as o311
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.http import api_camera_layouts, api_cameras, api_supervision_actions, schemas
from dashboard.http.api_supervision import OrdersQuery
from dashboard.security.web import public

PATH = "/api/v1/openapi.json"
bp = Blueprint("openapi", __name__)

J = "application/json"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


_STR: Schema = {"type": "string"}
_INT: Schema = {"type": "integer"}
_TIME: Schema = {"type": "string", "format": "date-time"}
_MAYBE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
_MAYBE_STR: Schema = {"type": ["string", "null"]}
_OBJ: Schema = {"type": "object"}
_NAMES: Schema = {
    "type": "object",
    "required": ["zh", "en"],
    "properties": {"zh": _STR, "en": _STR},
}


def _object(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


CASE_RECORD = _object(
    {
        "id": _INT,
        "status": {"enum": [s.value for s in CaseStatus]},
        "village": _STR,
        "grid": _STR,
        "town": _STR,
        "category": _STR,
        "deadline": _MAYBE_TIME,
        "emergency": {"type": "boolean"},
    }
)

O311_REQUEST = _object(
    {
        "service_request_id": _STR,
        "status": {"enum": ["open", "closed"]},
        "status_notes": _STR,
        "service_name": _STR,
        "service_code": _STR,
        "description": _STR,
        "agency_responsible": _STR,
        "service_notice": _STR,
        "requested_datetime": _TIME,
        "updated_datetime": _TIME,
        "expected_datetime": _MAYBE_TIME,
        "address": _STR,
        "address_id": _STR,
        "zipcode": _STR,
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "media_url": _STR,
    }
)
O311_UPDATE = _object(
    {
        "update_id": _STR,
        "service_request_id": _STR,
        "status": {"enum": ["open", "closed"]},
        "external_status_code": {"enum": [s.value for s in CaseStatus]},
        "action": _STR,
        "description": _STR,
        "updated_datetime": _TIME,
        "media_url": _STR,
    }
)

COMPONENTS: dict[str, Schema] = {
    "Error": _object({"error": _STR, "message": _STR}, {"field": _STR}),
    "CaseRecord": CASE_RECORD,
    "CaseCreated": {
        "allOf": [CASE_RECORD, _object({"attachments": {"type": "array", "items": _STR}})]
    },
    "CaseDetail": {
        "allOf": [
            CASE_RECORD,
            _object(
                {
                    "source": {"enum": [s.value for s in Source]},
                    "description": _STR,
                    "lon": {"type": "number"},
                    "lat": {"type": "number"},
                    "reported_at": _TIME,
                    "open": {"type": "boolean"},
                    "light": {"enum": ["green", "yellow", "red", None]},
                    "attachments": {"type": "array", "items": _STR},
                    "history": {
                        "type": "array",
                        "items": _object(
                            {
                                "action": _STR,
                                "from": _MAYBE_STR,
                                "to": _STR,
                                "at": _TIME,
                                "actor": _STR,
                                "role": _STR,
                            }
                        ),
                    },
                },
                {"category_name": _NAMES, "department": _MAYBE_STR},
            ),
        ]
    },
    "CasePage": _object(
        {
            "cases": {"type": "array", "items": _OBJ},
            "total": _INT,
            "page": _INT,
            "per_page": _INT,
        }
    ),
    "Attachments": _object({"attachments": {"type": "array", "items": _STR}}),
    "Categories": {
        "type": "array",
        "items": _object({"code": _STR, "name": _NAMES, "subs": {"type": "array", "items": _OBJ}}),
    },
    "Villages": {"type": "array", "items": _object({"code": _STR})},
    "FeatureCollection": _object(
        {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}}
    ),
    "Me": _object(
        {
            "name": _STR,
            "kind": {"enum": ["user", "token"]},
            "role": _STR,
            "area_code": _MAYBE_STR,
            "department_code": _MAYBE_STR,
            "permissions": {"type": "array", "items": _STR},
        }
    ),
    "Stored": _object({"stored": _INT, "workers": _INT}),
    "Audit": _object(
        {"items": {"type": "array", "items": _OBJ}, "next_before": {"type": ["integer", "null"]}}
    ),
    "Orders": _object({"orders": {"type": "array"}, "limit": _INT, "offset": _INT}),
    "Calls": _object({"calls": {"type": "array"}, "at": _TIME}),
    "Cameras": _object({"cameras": {"type": "array", "items": _object({"id": _STR})}}),
    "Layouts": _object({"layouts": {"type": "array", "items": _OBJ}}),
    "Layout": _object({"id": _INT, "name": _STR}),
    "Open311Errors": {
        "type": "array",
        "minItems": 1,
        "items": _object({"code": _INT, "description": _STR}),
    },
    "Open311Discovery": _object(
        {
            "changeset": _TIME,
            "contact": _STR,
            "key_service": _STR,
            "endpoints": {"type": "array", "items": _OBJ},
        }
    ),
    "Open311Services": {
        "type": "array",
        "items": _object(
            {
                "service_code": _STR,
                "service_name": _STR,
                "description": _STR,
                "metadata": {"type": "boolean"},
                "type": {"enum": ["realtime", "batch", "blackbox"]},
                "keywords": _STR,
                "group": _STR,
            }
        ),
    },
    "Open311ServiceDefinition": _object(
        {"service_code": _STR, "attributes": {"type": "array", "items": _OBJ}}
    ),
    "Open311Requests": {"type": "array", "items": O311_REQUEST},
    "Open311Created": {
        "type": "array",
        "items": _object(
            {
                "service_request_id": _STR,
                "token": _STR,
                "service_notice": _STR,
                "account_id": _MAYBE_STR,
            }
        ),
    },
    "Open311Tokens": {
        "type": "array",
        "items": _object({"service_request_id": _STR, "token": _STR}),
    },
    "Open311Updates": {"type": "array", "items": O311_UPDATE},
    "Open311UpdateTaken": {"type": "array", "items": _object({"update_id": _STR})},
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


def _body_schemas() -> dict[str, Schema]:
    found: dict[str, Schema] = {}
    for name, model in _BODY_MODELS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub, definition in schema.pop("$defs", {}).items():
            found[sub] = definition
        found[name] = schema
    return found


# --- operations --------------------------------------------------------------------------------


def _q(name: str, schema: Schema | None = None, description: str = "") -> Schema:
    param: Schema = {"name": name, "in": "query", "required": False, "schema": schema or _STR}
    if description:
        param["description"] = description
    return param


def _p(name: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema or _STR}


_ID = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def _json(schema: Schema, description: str = "OK") -> Schema:
    return {"description": description, "content": {J: {"schema": schema}}}


def _house(summary: str, ok: dict[str, Schema], **extra: Any) -> Schema:
    responses = dict(ok)
    responses["default"] = _json(_ref("Error"), "An error: {error, message, field}")
    return {"summary": summary, "tags": ["api"], "responses": responses, **extra}


def _body(name: str) -> Schema:
    return {"required": True, "content": {J: {"schema": _ref(name)}}}


_CASE_QUERY = [
    _q("id", description="a case id"),
    _q("text"),
    _q("place", description="a county, town, village or grid code"),
    _q("category"),
    _q("status"),
    _q("town"),
    _q("department"),
    _q("light", {"enum": ["green", "yellow", "red", "none"]}),
    _q("overdue", {"enum": ["true", "false"]}),
    _q("due_within_hours"),
    _q("emergency", {"enum": ["true", "false"]}),
    _q("from", description="a local date or an ISO 8601 time with its offset"),
    _q("to"),
    _q("sort"),
    _q("page", {"type": "integer", "minimum": 1}),
    _q("per_page", {"type": "integer", "minimum": 1, "maximum": 200}),
    _q("lang", {"enum": ["zh", "en"]}),
]


def _api_paths() -> dict[str, dict[str, Schema]]:
    binary = {"description": "the file", "content": {"image/jpeg": {"schema": {}}}}
    orders_query = [
        _q(name, OrdersQuery.model_json_schema()["properties"][name])
        for name in OrdersQuery.model_fields
    ]
    return {
        "/api/v1/cases": {
            "post": _house(
                "Report a case (JSON, or multipart with photos); Idempotency-Key makes it safe "
                "to retry",
                {
                    "201": _json(_ref("CaseCreated"), "Created"),
                    "200": _json(_ref("CaseCreated"), "An Idempotency-Key retry"),
                },
                requestBody=_body("CaseIn"),
                parameters=[
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[!-~]{1,64}$"},
                    }
                ],
            ),
            "get": _house(
                "Search cases (scoped)", {"200": _json(_ref("CasePage"))}, parameters=_CASE_QUERY
            ),
        },
        "/api/v1/cases.csv": {
            "get": _house(
                "The matching cases as CSV",
                {"200": {"description": "CSV", "content": {"text/csv": {"schema": _STR}}}},
                parameters=_CASE_QUERY,
            )
        },
        "/api/v1/cases/{case_id}": {
            "get": _house(
                "A case with its history",
                {"200": _json(_ref("CaseDetail"))},
                parameters=[_p("case_id", _ID)],
            )
        },
        "/api/v1/cases/{case_id}/actions": {
            "post": _house(
                f"One step of the lifecycle ({', '.join(a.value for a in Action)})",
                {"200": _json(_ref("CaseRecord"))},
                parameters=[_p("case_id", _ID)],
                requestBody=_body("ActionIn"),
            )
        },
        "/api/v1/cases/{case_id}/attachments": {
            "post": _house(
                "Photos for a later step (multipart, field photos)",
                {"201": _json(_ref("Attachments"), "Stored")},
                parameters=[_p("case_id", _ID)],
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
            "post": _house(
                "A camera's current frame as a case photo",
                {"201": _json(_OBJ, "Stored")},
                parameters=[_p("case_id", _ID)],
                requestBody=_body("EvidenceIn"),
            )
        },
        "/api/v1/attachments/{attachment_id}": {
            "get": _house(
                "A photo (access-controlled)",
                {"200": binary},
                parameters=[_p("attachment_id", {"type": "string", "pattern": "^[0-9a-f]{64}$"})],
            )
        },
        "/api/v1/categories": {
            "get": _house("The category tree", {"200": _json(_ref("Categories"))})
        },
        "/api/v1/villages": {"get": _house("Villages (scoped)", {"200": _json(_ref("Villages"))})},
        "/api/v1/villages.geojson": {
            "get": _house(
                "Villages with their boundaries",
                {
                    "200": {
                        "description": "GeoJSON",
                        "content": {"application/geo+json": {"schema": _ref("FeatureCollection")}},
                    }
                },
            )
        },
        "/api/v1/positions": {
            "post": _house(
                "A batch of position fixes",
                {"200": _json(_ref("Stored"))},
                requestBody=_body("PositionsIn"),
            )
        },
        "/api/v1/me": {
            "get": _house("Who the server takes the caller to be", {"200": _json(_ref("Me"))})
        },
        "/api/v1/audit": {
            "get": _house(
                "The audit log (admins)",
                {"200": _json(_ref("Audit"))},
                parameters=[
                    _q("actor"),
                    _q("action"),
                    _q("target"),
                    _q("since", _TIME),
                    _q("until", _TIME),
                    _q("before", {"type": "integer", "minimum": 1}),
                    _q("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                ],
            )
        },
        "/api/v1/supervision/orders": {
            "get": _house(
                "Supervision orders", {"200": _json(_ref("Orders"))}, parameters=orders_query
            )
        },
        "/api/v1/supervision/calls": {
            "get": _house("The call list of red villages", {"200": _json(_ref("Calls"))})
        },
        "/api/v1/supervision/calls/{entry_id}/log": {
            "post": _house(
                "Log a call",
                {"200": _json(_OBJ)},
                parameters=[_p("entry_id", _ID)],
                requestBody=_body("CallLogIn"),
            )
        },
        "/api/v1/supervision/calls/{entry_id}/snooze": {
            "post": _house(
                "Snooze an entry with a reason",
                {"200": _json(_OBJ)},
                parameters=[_p("entry_id", _ID)],
                requestBody=_body("SnoozeIn"),
            )
        },
        "/api/v1/supervision/orders/{order_id}/reply": {
            "post": _house(
                "A department's reply",
                {"200": _json(_OBJ)},
                parameters=[_p("order_id", _ID)],
                requestBody=_body("ReplyIn"),
            )
        },
        "/api/v1/supervision/orders/{order_id}/close": {
            "post": _house(
                "Close an order",
                {"200": _json(_OBJ)},
                parameters=[_p("order_id", _ID)],
                requestBody=_body("CloseIn"),
            )
        },
        "/api/v1/cameras": {
            "get": _house(
                "Cameras with their live status (scoped)",
                {"200": _json(_ref("Cameras"))},
                parameters=[
                    _q("near", description="lon,lat"),
                    _q("case"),
                    _q("village"),
                    _q("radius_m"),
                ],
            )
        },
        "/api/v1/cameras/{camera_id}/snapshot.jpg": {
            "get": _house(
                "A camera's latest frame",
                {"200": binary},
                parameters=[_p("camera_id"), _q("quality", {"enum": ["full", "tile"]})],
            )
        },
        "/api/v1/camera-layouts": {
            "get": _house("Saved video-wall layouts", {"200": _json(_ref("Layouts"))}),
            "post": _house(
                "Save a layout",
                {"201": _json(_ref("Layout"), "Created")},
                requestBody=_body("LayoutIn"),
            ),
        },
        "/api/v1/camera-layouts/{layout_id}": {
            "put": _house(
                "Change a layout",
                {"200": _json(_ref("Layout"))},
                parameters=[_p("layout_id", _ID)],
                requestBody=_body("LayoutIn"),
            ),
            "delete": _house(
                "Delete a layout",
                {"204": {"description": "Deleted"}},
                parameters=[_p("layout_id", _ID)],
            ),
        },
        "/video/cameras/{camera_id}/live.mjpg": {
            "get": _house(
                "A camera at full size (MJPEG)",
                {
                    "200": {
                        "description": "multipart/x-mixed-replace",
                        "content": {"multipart/x-mixed-replace": {"schema": {}}},
                    }
                },
                parameters=[_p("camera_id")],
            )
        },
        PATH: {"get": _house("This description", {"200": _json(_OBJ)}, security=[])},
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
    content = {media: {"schema": _ref(schema)}} if fmt == "json" else {media: {"schema": _STR}}
    errors = {J: {"schema": _ref("Open311Errors")}} if fmt == "json" else {media: {"schema": _STR}}
    operation: Schema = {
        "summary": summary,
        "tags": ["open311"],
        "parameters": [_q("jurisdiction_id", description="a county code"), *(parameters or [])],
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
    _q("page", {"type": "integer", "minimum": 1, "maximum": o311.MAX_PAGE}),
    _q("page_size", {"type": "integer", "minimum": 1, "maximum": o311.MAX_PAGE_SIZE}),
]
_W3C = {"type": "string", "format": "date-time"}
REQUEST_FORM = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        "api_key": _STR,
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
        "api_key": _STR,
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
                parameters=[_p("service_code")],
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
                    _q("service_request_id", description="comma-separated ids"),
                    _q("service_code", description="comma-separated codes"),
                    _q("start_date", _W3C),
                    _q("end_date", _W3C),
                    _q("status", {"enum": ["open", "closed", "open,closed"]}),
                    *_PAGE_PARAMS,
                ],
            ),
        }
        paths[f"{root}/requests/{{service_request_id}}.{fmt}"] = {
            "get": _open311(
                "One request", "Open311Requests", fmt, parameters=[_p("service_request_id")]
            )
        }
        paths[f"{root}/tokens/{{token}}.{fmt}"] = {
            "get": _open311("A token's request", "Open311Tokens", fmt, parameters=[_p("token")])
        }
        paths[f"{root}/servicerequestupdates.{fmt}"] = {
            "get": _open311(
                "Every step of the requests (mySociety's servicerequestupdates)",
                "Open311Updates",
                fmt,
                parameters=[_q("start_date", _W3C), _q("end_date", _W3C), *_PAGE_PARAMS],
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
        "paths": {**_api_paths(), **_open311_paths()},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "open311Key": {"type": "apiKey", "in": "query", "name": "api_key"},
            },
            "schemas": {**deepcopy(COMPONENTS), **_body_schemas()},
        },
    }


@bp.get(PATH)
@public
def openapi() -> Response:
    return jsonify(document())


def register_openapi(server: Flask) -> None:
    server.register_blueprint(bp)
