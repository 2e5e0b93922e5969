"""The building blocks of the OpenAPI description (dashboard/http/openapi.py and its areas,
openapi_*.py): schema shorthands, parameters, the house answer and error format, and request
bodies taken from the pydantic models the views parse with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

J = "application/json"
Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
DATE: Schema = {"type": "string", "format": "date"}
MAYBE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
MAYBE_STR: Schema = {"type": ["string", "null"]}
MAYBE_INT: Schema = {"type": ["integer", "null"]}
MAYBE_NUM: Schema = {"type": ["number", "null"]}
OBJ: Schema = {"type": "object"}
NAMES: Schema = {
    "type": "object",
    "required": ["zh", "en"],
    "properties": {"zh": STR, "en": STR},
}
ID: Schema = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def query(
    name: str, schema: Schema | None = None, description: str = "", required: bool = False
) -> Schema:
    param: Schema = {"name": name, "in": "query", "required": required, "schema": schema or STR}
    if description:
        param["description"] = description
    return param


def path_param(name: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema or STR}


def json_ok(schema: Schema, description: str = "OK") -> Schema:
    return {"description": description, "content": {J: {"schema": schema}}}


def house(summary: str, ok: dict[str, Schema], **extra: Any) -> Schema:
    """An operation of /api/v1: its answers, and every error in the house format."""
    responses = dict(ok)
    responses["default"] = json_ok(ref("Error"), "An error: {error, message, field}")
    return {"summary": summary, "tags": ["api"], "responses": responses, **extra}


def body(name: str) -> Schema:
    return {"required": True, "content": {J: {"schema": ref(name)}}}


def body_schemas(models: dict[str, type[BaseModel]]) -> dict[str, Schema]:
    """The JSON Schemas of request bodies, by component name (with their sub-models)."""
    found: dict[str, Schema] = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub, definition in schema.pop("$defs", {}).items():
            found[sub] = definition
        found[name] = schema
    return found
