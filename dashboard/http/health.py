"""``GET /healthz``: is the database reachable, is the bus up. 200 when both are, else 503."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    services = current_app.extensions["gcc"]
    report = services.health()
    return jsonify(report), (200 if report["ok"] else 503)
