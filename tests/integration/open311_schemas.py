"""JSON Schemas of the Open311 GeoReport v2 answers, written from the specification
(http://wiki.open311.org/GeoReport_v2 and mySociety's servicerequestupdates), not from the
server's code: every answer the tests get is validated against them (jsonschema_rs)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

_TEXT = {"type": "string"}
_MAYBE_TEXT = {"type": ["string", "null"]}
# w3c date-time with a zone: 2010-04-14T06:37:38-08:00 or …Z
_W3C = {
    "type": "string",
    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$",
}
_MAYBE_W3C = {"anyOf": [_W3C, {"type": "null"}]}


def _array_of(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": item, **extra}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


DISCOVERY = _object(
    {
        "changeset": _W3C,
        "contact": _TEXT,
        "key_service": _TEXT,
        "endpoints": _array_of(
            _object(
                {
                    "specification": _TEXT,
                    "url": {"type": "string", "pattern": "^https?://"},
                    "changeset": _W3C,
                    "type": {"enum": ["production", "test"]},
                    "formats": _array_of(_TEXT, minItems=1),
                }
            ),
            minItems=1,
        ),
    }
)

SERVICES = _array_of(
    _object(
        {
            "service_code": _TEXT,
            "service_name": _TEXT,
            "description": _MAYBE_TEXT,
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": _MAYBE_TEXT,
            "group": _MAYBE_TEXT,
        }
    ),
    minItems=1,
)

SERVICE_DEFINITION = _object(
    {
        "service_code": _TEXT,
        "attributes": _array_of(
            _object(
                {
                    "variable": {"type": "boolean"},
                    "code": _TEXT,
                    "datatype": {
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ]
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": _MAYBE_TEXT,
                    "order": {"type": "integer", "minimum": 1},
                    "description": _TEXT,
                },
                {"values": _array_of(_object({"key": _TEXT, "name": _TEXT}))},
            )
        ),
    }
)

CREATED = _array_of(
    {
        "type": "object",
        "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
        "properties": {
            "service_request_id": _TEXT,
            "token": _MAYBE_TEXT,
            "service_notice": _MAYBE_TEXT,
            "account_id": _MAYBE_TEXT,
        },
    },
    minItems=1,
    maxItems=1,
)

TOKENS = _array_of(_object({"service_request_id": _TEXT, "token": _TEXT}), minItems=1)

REQUESTS = _array_of(
    _object(
        {
            "service_request_id": _TEXT,
            "status": {"enum": ["open", "closed"]},
            "service_code": _TEXT,
            "requested_datetime": _W3C,
        },
        {
            "status_notes": _MAYBE_TEXT,
            "service_name": _MAYBE_TEXT,
            "description": _MAYBE_TEXT,
            "agency_responsible": _MAYBE_TEXT,
            "service_notice": _MAYBE_TEXT,
            "updated_datetime": _MAYBE_W3C,
            "expected_datetime": _MAYBE_W3C,
            "address": _MAYBE_TEXT,
            "address_id": _MAYBE_TEXT,
            "zipcode": _MAYBE_TEXT,
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "media_url": _MAYBE_TEXT,
        },
    )
)

UPDATES = _array_of(
    _object(
        {
            "update_id": _TEXT,
            "service_request_id": _TEXT,
            "status": {"enum": ["open", "closed"]},
            "updated_datetime": _W3C,
            "description": _TEXT,
        },
        {"media_url": _MAYBE_TEXT, "external_status_code": _MAYBE_TEXT},
    )
)

UPDATE_TAKEN = _array_of(_object({"update_id": _TEXT}), minItems=1, maxItems=1)

ERRORS = _array_of(
    _object({"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}}),
    minItems=1,
)

_VALIDATORS: dict[int, Any] = {}


def check(schema: dict[str, Any], value: Any) -> Any:
    """Validate ``value`` against ``schema`` (raises with every error listed); returns it."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS[id(schema)] = jsonschema_rs.validator_for(schema)
    errors = [str(e) for e in validator.iter_errors(value)]
    assert not errors, errors
    return value
