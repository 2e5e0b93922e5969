"""What every API endpoint module shares: the prefix, the per-app context, the caller, the JSON
error body and the control-character check (``dashboard/http/api.py`` mounts the endpoints and
installs these; the endpoint modules import them from here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from flask import current_app, request

from dashboard.container import Services
from dashboard.domain.text import InvalidText, check_text
from dashboard.http.errors import ApiError
from dashboard.security.principal import Principal
from dashboard.security.web import require_principal
from dashboard.services.photos import PhotoStore
from dashboard.services.positions import PositionService
from dashboard.services.tracks import DeviceRegistry, OsmandIntake

PREFIX = "/api/v1"


@dataclass(frozen=True)
class ApiContext:
    """What the API views share per app (the Services of the composition root plus their own)."""

    services: Services
    photos: PhotoStore
    positions: PositionService
    devices: DeviceRegistry  # trackers bound to workers (issue 16)
    osmand: OsmandIntake


def context() -> ApiContext:
    return cast(ApiContext, current_app.extensions["gcc_api"])


def principal() -> Principal:
    """The caller of a view guarded by ``require`` (so never None here)."""
    return require_principal()


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return body


def refuse_control_characters() -> None:
    """Query parameters, path parameters and form fields of every API request: a control
    character (a NUL) is a 422 before any view reads them (dashboard.domain.text; JSON bodies:
    schemas)."""
    fields = [*request.args.items(multi=True)]
    fields += [(k, v) for k, v in (request.view_args or {}).items() if isinstance(v, str)]
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields += request.form.items(multi=True)
    for name, value in fields:
        try:
            check_text(name, "parameter name")
            check_text(value, name)
        except InvalidText as err:
            raise ApiError(422, err.code, err.message, err.field) from None
