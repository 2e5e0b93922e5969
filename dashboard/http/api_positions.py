"""``POST /api/v1/positions``: a batch of grid workers' position fixes.

Body: ``{"fixes": [{"worker": id, "lat", "lon", "time" (ISO 8601 with offset), "accuracy"}, …]}``,
at most 5,000 fixes (413 beyond). The whole batch is stored or none of it: a bad fix (422 naming
``fixes.<i>.<field>``), an unknown worker (422 naming the ids) or a worker the sender may not
report for (403) refuses the batch. Answer: 200 ``{"stored": n, "workers": k}``.

Who may send whose fixes: a ``grid_worker`` token is a phone, so it may only send the fixes of
the token's worker (``run.py token create phone-12 --role grid_worker --worker gw-00012``);
other roles with ``submit_positions`` (integration, commander, admin) send for any worker. A token
with an area sends only for workers of villages inside it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from dashboard.domain.permissions import Permission
from dashboard.domain.roles import Role
from dashboard.http.context import context, principal
from dashboard.http.errors import ApiError
from dashboard.http.schemas import PositionsIn, parse_json
from dashboard.security.web import require
from dashboard.services.positions import Fix

bp = Blueprint("positions", __name__)


@bp.post("/positions")
@require(Permission.SUBMIT_POSITIONS)
def submit_positions() -> ResponseReturnValue:
    ctx, who = context(), principal()
    batch = parse_json(PositionsIn, request.get_data())
    if who.role is Role.GRID_WORKER:
        me = who.worker_id or who.name  # a device token names its worker; a user is the worker
        others = sorted({f["worker"] for f in batch.fixes} - {me})
        if others:
            raise ApiError(
                403,
                "not_your_worker",
                f"a grid worker's phone sends only its own fixes ({me!r}), "
                f"not those of {', '.join(others[:20])}",
                "fixes",
            )
    fixes = [
        Fix(f["worker"], f["lon"], f["lat"], f["time"], f.get("accuracy")) for f in batch.fixes
    ]
    result = ctx.positions.submit(fixes, ctx.services.clock.now(), who.scope)
    return jsonify({"stored": result.stored, "workers": result.workers})
