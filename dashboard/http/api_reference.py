"""Reference data over HTTP: villages with their light, the village map layer, the categories.

``/villages`` and ``/villages.geojson`` carry the same properties per village: the stored light
of the village rule (status, red_since, open_ratio) and the rule's rolling-window counts (open,
total), from ``count_villages``' grouped queries, never a query per village. The GeoJSON is the
wall's base layer, loaded once and then recoloured by ``village`` deltas: it answers with a strong
ETag over its bytes (geometry and status together) so a reload costs a 304.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.categories import SubCategory
from dashboard.domain.permissions import Permission, Scope
from dashboard.http.context import ApiContext, context, principal
from dashboard.security.web import require
from dashboard.services.villages import count_villages
from dashboard.storage.models import Town, Village
from dashboard.storage.scoping import in_area

bp = Blueprint("reference", __name__)

_COLUMNS = (
    Village.code,
    Village.name,
    Village.town_code,
    Town.name.label("town_name"),
    Village.status,
    Village.red_since,
    Village.open_ratio,
    Village.contact_name,
    Village.contact_phone,
)


@bp.get("/villages")
@require(Permission.VIEW_REFERENCE)
def villages() -> ResponseReturnValue:
    ctx = context()
    with ctx.services.db.read() as session:
        return jsonify([props for props, _ in _villages(ctx, session, principal().scope)])


@bp.get("/villages.geojson")
@require(Permission.VIEW_REFERENCE)
def villages_geojson() -> ResponseReturnValue:
    ctx = context()
    with ctx.services.db.read() as session:
        rows = _villages(ctx, session, principal().scope, with_geometry=True)
    # The stored geometry is already GeoJSON text: splice it in rather than parse and re-dump
    # ~2,000 polygons per request.
    features = ",".join(
        f'{{"type":"Feature","id":{json.dumps(props["code"])},"geometry":{geometry},'
        f'"properties":{json.dumps(props, ensure_ascii=False, separators=(",", ":"))}}}'
        for props, geometry in rows
    )
    body = f'{{"type":"FeatureCollection","features":[{features}]}}'.encode()
    response = Response(body, mimetype="application/geo+json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache"  # always revalidate: lights change
    return response.make_conditional(request)


@bp.get("/categories")
@require(Permission.VIEW_REFERENCE)
def categories() -> ResponseReturnValue:
    reference = context().services.reference
    names = {d.code: {"zh": d.name_zh, "en": d.name_en} for d in reference.departments}
    tree = [
        {
            "code": major.code,
            "name": {"zh": major.name_zh, "en": major.name_en},
            "subs": [_sub(sub, names) for sub in major.subs],
        }
        for major in reference.categories.majors
    ]
    return jsonify(tree)


def _sub(sub: SubCategory, department_names: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "code": sub.code,
        "name": {"zh": sub.name_zh, "en": sub.name_en},
        "limit": str(sub.limit),
        "limit_unit": sub.limit.unit.value,
        "limit_amount": sub.limit.amount,
        "closure": {"zh": sub.closure_zh, "en": sub.closure_en},
        "department": {
            "code": sub.default_department,
            "name": department_names.get(sub.default_department),
        },
        "difficulty": sub.difficulty,
    }


def _villages(
    ctx: ApiContext, session: Session, scope: Scope, *, with_geometry: bool = False
) -> list[tuple[dict[str, Any], str]]:
    """(properties, geometry text or "") per village the scope allows, in code order."""
    columns = (*_COLUMNS, Village.geometry) if with_geometry else _COLUMNS
    query = select(*columns).join(Town, Town.code == Village.town_code).order_by(Village.code)
    query = query.where(*in_area(Village.code, scope.area_code))
    rows = session.execute(query).all()
    services = ctx.services
    codes = [row.code for row in rows] if scope.area_code else None
    counts = count_villages(session, services.cases.village_rule, services.clock.now(), codes)
    result: list[tuple[dict[str, Any], str]] = []
    for row in rows:
        c = counts.get(row.code)
        props = {
            "code": row.code,
            "name": row.name,
            "town": row.town_code,
            "town_name": row.town_name,
            "status": row.status,
            "open": c.window_open if c else 0,
            "total": c.window_total if c else 0,
            "open_ratio": row.open_ratio,
            "red_since": row.red_since.isoformat() if row.red_since else None,
            "contact_name": row.contact_name,
            "contact_phone": row.contact_phone,
        }
        result.append((props, row.geometry if with_geometry else ""))
    return result
