"""JSON errors for the API: ``{"error": code, "message": …, "field": …}`` with the right status."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue


class ApiError(Exception):
    """Raised anywhere in an API view; the blueprint's handler turns it into the JSON answer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def response(self) -> ResponseReturnValue:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return jsonify(body), self.status, self.headers
