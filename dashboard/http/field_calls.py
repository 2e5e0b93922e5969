"""The command room's side of a video call to a grid worker (streams.field_calls signals it).

- ``GET /m/api/call-texts``: the call dialog's words in the user's language and the ICE servers
  (``[field]`` STUN/TURN), for ``assets/field_call.js`` on the desk pages and the wall.
- ``GET /m/api/case-reporter/{case_id}``: the grid worker who reported a case (``"call the
  reporter"``), for a principal who may call and may see the case; ``worker_id`` null when no worker
  reported it.
- ``POST /m/api/calls/{call_id}/still`` (multipart ``photos``: one JPEG): a still from the call
  saved as evidence on the case the call was started from — a case photo and an ``evidence`` step
  in its trail naming the call. Only the caller, while the case is open.
- ``GET /m/api/calls``: the call log (who called whom, when, how long), newest first.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from dashboard.container import Services
from dashboard.domain.permissions import Permission
from dashboard.http.errors import ApiError
from dashboard.i18n import normalise_lang, t
from dashboard.i18n.field import ENTRIES as FIELD_TEXTS
from dashboard.security.principal import Principal
from dashboard.security.scoping import case_visible, may_change_case
from dashboard.security.web import require, require_principal
from dashboard.services.camera_evidence import EVIDENCE_ACTION
from dashboard.services.field import CALLING_ROLES
from dashboard.services.photos import attach_photos
from dashboard.storage.models import Case, CaseEvent, FieldCall, GridWorker, User

bp = Blueprint("field_calls", __name__, url_prefix="/m/api")

MAX_LOG = 200


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> ResponseReturnValue:
    return err.response()


def _services() -> Services:
    return current_app.extensions["gcc"]  # type: ignore[no-any-return]


def _caller() -> Principal:
    who = require_principal()
    if who.role not in CALLING_ROLES:
        raise ApiError(403, "forbidden", "only the command room starts video calls")
    return who


@bp.get("/call-texts")
@require(Permission.VIEW_REFERENCE)
def call_texts() -> ResponseReturnValue:
    services = _services()
    lang = normalise_lang(request.args.get("lang"), services.config.ui.language)
    texts = {k: t(k, lang) for k in FIELD_TEXTS if k.startswith("call.")}
    who = require_principal()
    return jsonify(
        {
            "texts": texts,
            "ice_servers": services.config.field.ice_servers(),
            "may_call": who.role in CALLING_ROLES,
        }
    )


@bp.get("/case-reporter/<int:case_id>")
@require(Permission.VIEW_CASES)
def case_reporter(case_id: int) -> ResponseReturnValue:
    who = _caller()
    with _services().db.read() as session:
        case = session.get(Case, case_id)
        if case is None or not case_visible(who, case):
            raise ApiError(404, "case_not_found", f"there is no case {case_id}")
        actor = session.scalar(
            select(CaseEvent.actor).where(
                CaseEvent.case_id == case_id, CaseEvent.action == "report"
            )
        )
        worker = session.get(GridWorker, actor) if actor else None
        if worker is None and actor:
            bound = session.scalar(select(User.worker_id).where(User.username == actor))
            worker = session.get(GridWorker, bound) if bound else None
        if worker is None or not who.scope.allows_place(worker.village_code):
            # Not an error: there is no one to call (a hotline or camera case).
            return jsonify({"worker_id": None, "name": None, "case_id": case_id})
        return jsonify({"worker_id": worker.id, "name": worker.name, "case_id": case_id})


@bp.post("/calls/<int:call_id>/still")
@require(Permission.VIEW_CASES)
def save_still(call_id: int) -> ResponseReturnValue:
    who = _caller()
    services = _services()
    uploads = [f for f in request.files.getlist("photos") if f.filename]
    if len(uploads) != 1:
        raise ApiError(422, "photos_required", "send one still as 'photos'", "photos")
    photo = services.photos.inspect(uploads[0].read(), uploads[0].filename or "still.jpg")
    now = services.clock.now()
    with services.db.transaction() as session:
        call = session.get(FieldCall, call_id)
        if call is None or call.caller != who.name or call.case_id is None:
            raise ApiError(404, "call_not_found", f"there is no call {call_id} of yours on a case")
        case = session.get(Case, call.case_id)
        if case is None or not case_visible(who, case):
            raise ApiError(404, "call_not_found", f"there is no call {call_id} of yours on a case")
        if not may_change_case(who, case):
            raise ApiError(403, "read_only", f"the role {who.role} may not change a case")
        if not case.open:
            raise ApiError(409, "case_finished", f"case {case.id} is {case.status}")
        (attachment_id,) = attach_photos(session, case.id, [photo], who.name, now)
        session.add(
            CaseEvent(
                case_id=case.id,
                action=EVIDENCE_ACTION,
                from_status=case.status,
                to_status=case.status,
                at=now,
                actor=who.name,
                role=who.role.value,
                note="",
                reason=None,
                details={"call_id": call.id},
                attachments={"ids": [attachment_id]},
            )
        )
        case_id = case.id
    return jsonify({"attachment_id": attachment_id, "case_id": case_id}), 201


@bp.get("/calls")
@require(Permission.VIEW_CASES)
def call_log() -> ResponseReturnValue:
    who = _caller()
    with _services().db.read() as session:
        query = (
            select(FieldCall, GridWorker.name, GridWorker.village_code)
            .join(GridWorker, GridWorker.id == FieldCall.worker_id)
            .order_by(FieldCall.id.desc())
            .limit(MAX_LOG)
        )
        rows: list[dict[str, Any]] = [
            _call_row(call, name)
            for call, name, village in session.execute(query)
            if who.scope.allows_place(village)
        ]
    return jsonify({"calls": rows})


def _call_row(call: FieldCall, worker_name: str) -> dict[str, Any]:
    seconds = None
    if call.answered_at is not None and call.ended_at is not None:
        seconds = round((call.ended_at - call.answered_at).total_seconds())
    return {
        "id": call.id,
        "caller": call.caller,
        "worker_id": call.worker_id,
        "worker_name": worker_name,
        "case_id": call.case_id,
        "started_at": call.started_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "seconds": seconds,
        "outcome": call.outcome,
    }
