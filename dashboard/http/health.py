"""Health probes (the contract is in dashboard.health and docs/security.md).

``/healthz/live``: the process answers (200, touches nothing). ``/healthz/ready`` and
``/healthz``: 200 when the database answers, else 503; the body has the state of every part
(database, bus, capture, scheduler) and ``status`` ok / degraded / down. Always within about
``health.check_timeout_seconds``, whatever hangs.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/healthz/live")
def live() -> ResponseReturnValue:
    return jsonify({"ok": True}), 200


@bp.get("/healthz")
@bp.get("/healthz/ready")
def healthz() -> ResponseReturnValue:
    report = current_app.extensions["gcc"].health()
    return jsonify(report), (200 if report["ready"] else 503)
