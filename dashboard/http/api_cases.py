"""Cases over HTTP: report one (JSON or multipart with photos), read it, act on it, its photos.

Thin glue: parse the request, check who may see the case (scope), call CaseService, shape the
answer. A case outside the caller's area or department answers 404 like a missing one, so its
existence does not leak. Times are ISO 8601 with their offset (UTC as stored).

``POST /cases`` answers 201 ``{id, status, village, grid, town, category, deadline, emergency,
attachments}`` with ``Location``. With an ``Idempotency-Key`` header (1-64 printable ASCII
characters) a retry answers **200** with the same body and ``Location``: the status tells the
client the case existed already, the body is the first answer, no second case is written; the
same key with a different report is refused (422 ``idempotency_key_reused``). Keys
are per caller (token or user), so one device's key can neither collide with another's nor
reveal its case. A token with an area reports only inside it (403 ``outside_scope``).

Photos are added to a case with ``POST /cases/{id}/attachments`` (multipart, field ``photos``)
and referenced by id in an action's ``attachments``; ``GET /attachments/{id}`` serves one.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify, request, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.clock import iso
from dashboard.domain.case_light import case_light
from dashboard.domain.lifecycle import ActionRequest
from dashboard.domain.permissions import Permission
from dashboard.http.context import PREFIX, ApiContext, context, principal
from dashboard.http.errors import ApiError
from dashboard.http.schemas import ActionIn, CaseIn, parse_fields, parse_json
from dashboard.security.principal import Principal
from dashboard.security.scoping import case_visible, ensure_may_change
from dashboard.security.web import require
from dashboard.services.cases import CaseNotFound, CaseRecord, CaseReport
from dashboard.services.photos import (
    Photo,
    attach_photos,
    case_attachment_ids,
    foreign_attachments,
)
from dashboard.storage.models import Attachment, Case, Village

bp = Blueprint("cases", __name__)

MAX_PHOTOS = 10  # per request
_KEY = re.compile(r"[\x21-\x7e]{1,64}")  # printable ASCII, no spaces
_SHA256 = re.compile(r"[0-9a-f]{64}")


@bp.post("/cases")
@require(Permission.REPORT_CASE)
def report_case() -> ResponseReturnValue:
    ctx, who = context(), principal()
    fields, photos = _case_input(ctx)
    _check_report_area(ctx, who, fields)
    report = CaseReport(
        category_code=fields.category,
        description=fields.description,
        lon=fields.lon,
        lat=fields.lat,
        source=fields.source,
        actor=who.name,
        role=who.role,
        reporter=fields.reporter,
        emergency=fields.emergency,
        occurred_at=fields.occurred_at,
        address=fields.address,
        idempotency_key=_idempotency_key(who),
    )
    record = ctx.services.cases.report(report, photos)
    if record.created:
        attachments = list(dict.fromkeys(p.sha256 for p in photos))
    else:  # a retry: answer exactly what the first request got
        with ctx.services.db.read() as session:
            attachments = case_attachment_ids(session, record.id)
    body = _record_body(record) | {"attachments": attachments}
    location = {"Location": f"{PREFIX}/cases/{record.id}"}
    return jsonify(body), (201 if record.created else 200), location


@bp.get("/cases/<int:case_id>")
@require(Permission.VIEW_CASES)
def get_case(case_id: int) -> ResponseReturnValue:
    ctx, who = context(), principal()
    with ctx.services.db.read() as session:
        row = _visible_case(session, case_id, who)
        village_name = session.scalar(select(Village.name).where(Village.code == row.village_code))
        attachments = case_attachment_ids(session, case_id)
    record = ctx.services.cases.get(case_id)
    return jsonify(_detail(ctx, row, record, village_name or "", attachments))


@bp.post("/cases/<int:case_id>/actions")
@require(Permission.CHANGE_CASES)
def act_on_case(case_id: int) -> ResponseReturnValue:
    ctx, who = context(), principal()
    body = parse_json(ActionIn, request.get_data())
    if not who.can_act(body.action):
        raise ApiError(403, "forbidden", f"the role {who.role} may not {body.action} a case")
    if body.department and ctx.services.reference.department(body.department) is None:
        raise ApiError(
            422, "unknown_department", f"there is no department {body.department!r}", "department"
        )
    with ctx.services.db.read() as session:
        _changeable_case(session, case_id, who)
        foreign = foreign_attachments(session, case_id, body.attachments)
    if foreign:
        raise ApiError(
            422,
            "unknown_attachment",
            f"not photos of case {case_id}: {', '.join(foreign)}; upload them to "
            f"{PREFIX}/cases/{case_id}/attachments first",
            "attachments",
        )
    action = ActionRequest(
        action=body.action,
        actor=who.name,
        role=who.role,
        note=body.note,
        reason=body.reason,
        category_code=body.category,
        department_code=body.department,
        deadline=body.deadline,
        attachments=tuple(dict.fromkeys(body.attachments)),
        satisfaction=body.satisfaction,
        report_rating=body.report_rating,
    )
    return jsonify(_record_body(ctx.services.cases.act(case_id, action)))


@bp.post("/cases/<int:case_id>/attachments")
@require(Permission.CHANGE_CASES)
def add_photos(case_id: int) -> ResponseReturnValue:
    """Photos for a later step (the department's result, the on-site check); 201 with ids."""
    ctx, who = context(), principal()
    if request.mimetype != "multipart/form-data":
        raise ApiError(422, "photos_required", "send the photos as multipart/form-data", "photos")
    photos = _photos(ctx)
    if not photos:
        raise ApiError(422, "photos_required", "attach one or more files as 'photos'", "photos")
    with ctx.services.db.transaction() as session:
        row = _changeable_case(session, case_id, who)
        if not row.open:
            raise ApiError(409, "case_finished", f"case {case_id} is {row.status}; no new photos")
        ids = attach_photos(session, case_id, photos, who.name, ctx.services.clock.now())
    return jsonify({"attachments": ids}), 201


@bp.get("/attachments/<attachment_id>")
@require(Permission.VIEW_CASES)
def get_attachment(attachment_id: str) -> ResponseReturnValue:
    ctx, who = context(), principal()
    missing = CaseNotFound("attachment_not_found", f"there is no attachment {attachment_id}")
    if not _SHA256.fullmatch(attachment_id):
        raise missing
    with ctx.services.db.read() as session:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise missing
        _visible_case(session, row.case_id, who)
    path = ctx.photos.path_for(row.id, row.content_type)
    if not path.is_file():
        raise missing
    response = send_file(path, mimetype=row.content_type, max_age=0, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Content-addressed, so it never changes; private because it is access-controlled.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


# --- helpers -----------------------------------------------------------------------------------


def _case_input(ctx: ApiContext) -> tuple[CaseIn, list[Photo]]:
    if request.mimetype != "multipart/form-data":
        return parse_json(CaseIn, request.get_data()), []
    unknown = sorted(set(request.files) - {"photos"})
    if unknown:
        raise ApiError(422, "invalid_field", "files go in the field 'photos'", unknown[0])
    fields = parse_fields(CaseIn, request.form.to_dict())
    return fields, _photos(ctx)


def _photos(ctx: ApiContext) -> list[Photo]:
    # An empty file input of a browser form arrives as a part without a file name: skip it.
    uploads = [f for f in request.files.getlist("photos") if f.filename]
    if len(uploads) > MAX_PHOTOS:
        raise ApiError(413, "too_many_photos", f"at most {MAX_PHOTOS} photos per request", "photos")
    return [ctx.photos.inspect(f.read(), f.filename or "") for f in uploads]


def _idempotency_key(who: Principal) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise ApiError(
            400, "bad_idempotency_key", "Idempotency-Key: 1-64 printable ASCII characters"
        )
    # Per caller: one client's key can neither collide with nor reveal another client's case.
    return f"{who.kind}:{who.id}:{key}"


def _check_report_area(ctx: ApiContext, who: Principal, fields: CaseIn) -> None:
    if who.scope.area_code is None:
        return
    where = ctx.services.locator(fields.lon, fields.lat)
    if where is not None and not who.scope.allows_place(where.village_code):
        raise ApiError(
            403, "outside_scope", f"the place is outside your area {who.scope.area_code}", "lat"
        )


def _visible_case(session: Session, case_id: int, who: Principal) -> Case:
    """The case row, or CaseNotFound when it is missing or outside the caller's scope."""
    row = session.get(Case, case_id)
    if row is None or not case_visible(who, row):
        raise CaseNotFound("case_not_found", f"there is no case {case_id}")
    return row


def _changeable_case(session: Session, case_id: int, who: Principal) -> Case:
    """The case row when ``who`` may change it (``scoping.may_change_case``): 404 when it is
    missing or outside the scope, 403 when the role only reads."""
    row = _visible_case(session, case_id, who)
    ensure_may_change(who, row)
    return row


def _record_body(record: CaseRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "status": record.status,
        "village": record.village_code,
        "grid": record.grid_code,
        "town": record.town_code,
        "category": record.category_code,
        "deadline": iso(record.deadline),
        "emergency": record.emergency,
    }


def _detail(
    ctx: ApiContext, row: Case, record: CaseRecord, village_name: str, attachments: list[str]
) -> dict[str, Any]:
    reference = ctx.services.reference
    sub = reference.categories.get(record.category_code)
    department = reference.department(row.department_code) if row.department_code else None
    return _record_body(record) | {
        "source": row.source,
        "reported_category": row.reported_category,
        "category_name": {"zh": sub.name_zh, "en": sub.name_en},
        "description": row.description,
        "address": row.address,
        "reporter": row.reporter,
        "lon": row.lon,
        "lat": row.lat,
        "village_name": village_name,
        "department": row.department_code,
        "department_name": (
            {"zh": department.name_zh, "en": department.name_en} if department else None
        ),
        "reported_at": iso(row.reported_at),
        "occurred_at": iso(row.occurred_at),
        "open": row.open,
        "light": _light(ctx, row),
        "attachments": attachments,
        "history": record.history,
    }


def _light(ctx: ApiContext, row: Case) -> str | None:
    """The deadline light of an open, registered case; its clock stops while suspended."""
    services = ctx.services
    light = case_light(
        row.registered_at,
        row.deadline,
        row.suspended_at,
        row.open,
        services.clock.now(),
        services.reference.calendar,
        services.config.rules.deadline.yellow_at,
    )
    return None if light is None else light.value
