"""Request bodies of the intake API as strict pydantic models, and the one way to parse them.

Unknown keys are refused (a typo such as ``lng`` must not silently drop the longitude); every
error names the field by its path (``fixes.12.lat``). JSON bodies are parsed and validated in one
pass by pydantic-core (``model_validate_json``), which matters for 5,000-fix position batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NotRequired, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, with_config
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from dashboard.domain.status import Action, Source
from dashboard.domain.text import InvalidText, check_text
from dashboard.http.errors import ApiError

MAX_FIXES = 5_000  # per POST /api/v1/positions; more is 413
MAX_TEXT = 4_000  # notes and reasons; the description's own limit is the domain's (2,000)

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Rating = Annotated[int, Field(ge=1, le=5, strict=True)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CaseIn(_Body):
    """``POST /api/v1/cases``: JSON, or the fields of a multipart form beside the photos."""

    category: str = Field(min_length=1, max_length=10, description="小类 code, e.g. 01002")
    description: str = Field(max_length=MAX_TEXT, description="What was found")
    lat: Latitude
    lon: Longitude
    source: Source
    reporter: str = Field("", max_length=100)
    # Strict: JSON true/false only ("yes" raised an alarm); a form's "true"/"false" are mapped
    # to booleans by parse_fields.
    emergency: bool = Field(False, strict=True)
    occurred_at: AwareDatetime | None = None
    address: str = Field("", max_length=200)


class ActionIn(_Body):
    """``POST /api/v1/cases/{id}/actions``: one step of the case state machine."""

    action: Action
    note: str = Field("", max_length=MAX_TEXT)
    reason: str | None = Field(None, max_length=MAX_TEXT)
    category: str | None = Field(None, min_length=1, max_length=10)
    department: str | None = Field(None, min_length=1, max_length=20)
    deadline: AwareDatetime | None = None
    attachments: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20
    )
    satisfaction: Rating | None = None
    report_rating: Rating | None = None


@with_config(ConfigDict(extra="forbid", str_strip_whitespace=True))
class FixIn(TypedDict):
    """One position fix. A TypedDict, not a model: 5,000 of them validate in half the time."""

    worker: Annotated[str, Field(min_length=1, max_length=40)]
    lat: Latitude
    lon: Longitude
    time: AwareDatetime
    accuracy: NotRequired[Annotated[float | None, Field(ge=0, le=100_000, allow_inf_nan=False)]]


class PositionsIn(_Body):
    """``POST /api/v1/positions``: a batch of fixes, stored together or not at all."""

    fixes: list[FixIn] = Field(min_length=1, max_length=MAX_FIXES)


M = TypeVar("M", bound=BaseModel)


def parse_json(model: type[M], raw: bytes) -> M:
    """Parse and validate a JSON body: 400 when it is not a JSON object, 422 for a bad field
    (a control character in any text included: dashboard.domain.text)."""
    try:
        parsed = model.model_validate_json(raw or b"")
    except ValidationError as err:
        raise _as_api_error(err, model) from None
    _refuse_control_characters(parsed, "")
    return parsed


def parse_fields(model: type[M], fields: Mapping[str, Any]) -> M:
    """Validate form fields (strings; empty ones count as absent)."""
    values = {k: _form_value(model, k, v) for k, v in fields.items() if v != ""}
    try:
        parsed = model.model_validate(values)
    except ValidationError as err:
        raise _as_api_error(err, model) from None
    _refuse_control_characters(parsed, "")
    return parsed


_FORM_BOOLEANS = {"true": True, "false": False}


def _form_value(model: type[BaseModel], name: str, value: Any) -> Any:
    """A form field as the model's strict type takes it: only "true"/"false" are booleans."""
    field = model.model_fields.get(name)
    if field is not None and field.annotation is bool and isinstance(value, str):
        return _FORM_BOOLEANS.get(value, value)
    return value


def _refuse_control_characters(value: Any, path: str) -> None:
    """Walk a parsed body (models, dicts, lists) and refuse the first text with a control
    character, naming its path (``fixes.3.worker``): 422 ``control_character``."""
    if isinstance(value, str):
        try:
            check_text(value, path or "body")
        except InvalidText as err:
            raise ApiError(422, err.code, err.message, err.field) from None
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _refuse_control_characters(getattr(value, name), _join(path, name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_control_characters(str(key), path)
            _refuse_control_characters(item, _join(path, str(key)))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _refuse_control_characters(item, _join(path, str(i)))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _as_api_error(err: ValidationError, model: type[BaseModel]) -> ApiError:
    first: ErrorDetails = err.errors(include_url=False)[0]
    kind, loc = first["type"], first["loc"]
    if kind == "json_invalid":
        return ApiError(400, "malformed_json", f"the body is not valid JSON: {first['msg']}")
    if not loc and kind in ("model_type", "model_attributes_type", "dict_type"):
        return ApiError(400, "not_an_object", "the body must be a JSON object")
    field = ".".join(str(part) for part in loc)
    if model is PositionsIn and loc == ("fixes",) and kind == "too_long":
        return ApiError(413, "too_many_fixes", f"at most {MAX_FIXES:,} fixes per request", field)
    message = first["msg"]
    if kind == "extra_forbidden":
        message = "unknown field (check the spelling)"
    return ApiError(422, "invalid_field", f"{field}: {message}", field or None)
