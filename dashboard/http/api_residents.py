"""The residents' side over ``/api/v1`` (issue 18): points (积分制) and services (代办).

Catalogues (``Permission.VIEW_REFERENCE``):
- ``GET /points/items`` — the points items; ``GET /service-items`` — the service catalogue.

Everything else needs ``Permission.RESIDENTS`` and is scoped to the caller's area; what a role
may *do* is decided by the use cases (dashboard.services.points, .service_requests):
- ``POST /residents`` ``{"kind", "name", "village", "id_number"?, "phone"?}`` → ``{"id"}``
- ``GET /points/balances?village=CODE`` — residents and balances, highest first
- ``GET /points/ranking?since=YYYY-MM-DD`` — villages by points earned;
  ``GET /points/top-villages?limit=`` — this month's first villages (``Permission.VIEW_WALL``:
  the wall's small panel; names and points only)
- ``POST /points/claims`` ``{"resident", "item", "deed_date", "reporter", "description"?}``
  (JSON, or multipart with up to 5 ``evidence`` photos; an ``Idempotency-Key`` header makes a
  retry answer 200 with the first claim); ``GET /points/claims?status=`` (each with its
  ``evidence`` photo ids); ``GET /points/claims/{id}/evidence/{file_id}``;
  ``POST /points/claims/{id}/confirm``;
  ``POST /points/claims/{id}/reject`` ``{"note"}``
- ``POST /points/corrections`` ``{"resident", "amount", "reason"}``;
  ``GET /points/residents/{id}/ledger``
- ``GET /points/rewards``; ``POST /points/rewards``; ``POST /points/redemptions``
- ``GET /service-requests?status=&open=true`` (scoped like cases; personal data masked for
  whoever does not handle the request); ``GET /service-requests/{id}`` (with its trail);
  ``POST /service-requests`` (JSON, or multipart with ``paper`` files and ``paper_label``s;
  an ``Idempotency-Key`` makes a retry answer 200 with the first request);
  ``POST /service-requests/{id}/actions`` ``{"action", "note"?, "rating"?}``;
  ``POST /service-requests/{id}/papers`` (multipart ``label`` + ``paper``);
  ``GET /service-requests/{id}/papers/{paper_id}`` (only to who sees the personal data).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from flask import Blueprint, jsonify, request, send_file
from flask.typing import ResponseReturnValue
from pydantic import Field

from dashboard.domain.permissions import Permission
from dashboard.domain.personal_data import InvalidPersonalData
from dashboard.domain.points import PointsRuleBroken
from dashboard.domain.service_requests import IllegalServiceStep
from dashboard.http.api_cases import _idempotency_key as caller_key  # one home: per caller
from dashboard.http.context import context, error_body, principal
from dashboard.http.errors import ApiError
from dashboard.http.schemas import _Body, parse_fields, parse_json
from dashboard.security.web import require
from dashboard.services.photos import Photo
from dashboard.services.points import MAX_EVIDENCE as MAX_EVIDENCE
from dashboard.services.residents import Clerk, ResidentsRefused

bp = Blueprint("residents", __name__)

CODE_PATTERN = r"^[0-9]{1,20}$"
MAX_PAPER_UPLOADS = 12


def _clerk() -> Clerk:
    who = principal()
    return Clerk(who.actor(request.remote_addr or ""), who.scope)


# --- catalogues -----------------------------------------------------------------------------


@bp.get("/points/items")
@require(Permission.VIEW_REFERENCE)
def points_items() -> ResponseReturnValue:
    catalogue = context().services.reference.points_items
    items = [
        {
            "code": i.code,
            "area": i.area.value,
            "name_zh": i.name_zh,
            "name_en": i.name_en,
            "points": i.points,
            "subjects": sorted(s.value for s in i.subjects),
            "confirmer": i.confirmer.value,
            "cap": i.cap,
            "period": i.period.value,
        }
        for i in catalogue.items.values()
    ]
    return jsonify({"items": items})


@bp.get("/service-items")
@require(Permission.VIEW_REFERENCE)
def service_items() -> ResponseReturnValue:
    catalogue = context().services.reference.service_items
    items = [
        {
            "code": i.code,
            "group": i.group.value,
            "name_zh": i.name_zh,
            "name_en": i.name_en,
            "department": i.department,
            "documents_zh": list(i.documents_zh),
            "documents_en": list(i.documents_en),
            "limit_days": i.limit_days,
        }
        for i in catalogue.items.values()
    ]
    return jsonify({"items": items})


# --- residents and points -------------------------------------------------------------------


class ResidentIn(_Body):
    kind: Literal["resident", "household", "organisation", "party_member", "cadre"]
    name: str = Field(min_length=1, max_length=100)
    village: str = Field(pattern=CODE_PATTERN)
    id_number: str | None = Field(None, max_length=20)
    phone: str | None = Field(None, max_length=20)


@bp.post("/residents")
@require(Permission.RESIDENTS)
def add_resident() -> ResponseReturnValue:
    body = parse_json(ResidentIn, request.get_data())
    new_id = context().services.points.add_resident(
        _clerk(),
        kind=body.kind,
        name=body.name,
        village_code=body.village,
        id_number=body.id_number,
        phone=body.phone,
    )
    return jsonify({"id": new_id}), 201


class BalancesQuery(_Body):
    village: str | None = Field(None, pattern=CODE_PATTERN)


@bp.get("/points/balances")
@require(Permission.RESIDENTS)
def balances() -> ResponseReturnValue:
    query = parse_fields(BalancesQuery, dict(request.args.items()))
    rows = context().services.points.balances(principal().scope, query.village)
    return jsonify({"village": query.village, "balances": rows})


class RankingQuery(_Body):
    since: date | None = None


@bp.get("/points/ranking")
@require(Permission.RESIDENTS)
def ranking() -> ResponseReturnValue:
    query = parse_fields(RankingQuery, dict(request.args.items()))
    services = context().services
    since = None
    if query.since is not None:
        tz = services.reference.calendar.tz
        since = datetime.combine(query.since, time(0), tzinfo=tz)
    rows = services.points.village_ranking(principal().scope, since)
    return jsonify({"since": query.since.isoformat() if query.since else None, "villages": rows})


class TopQuery(_Body):
    limit: int = Field(5, ge=1, le=20)


@bp.get("/points/top-villages")
@require(Permission.VIEW_WALL)
def top_villages() -> ResponseReturnValue:
    """The month's top villages by points earned (the wall's small panel): names and points
    only, for whoever may see the wall of the area."""
    query = parse_fields(TopQuery, dict(request.args.items()))
    services = context().services
    tz = services.reference.calendar.tz
    first = services.clock.now().astimezone(tz).date().replace(day=1)
    since = datetime.combine(first, time(0), tzinfo=tz)
    rows = services.points.village_ranking(principal().scope, since)[: query.limit]
    return jsonify({"since": first.isoformat(), "villages": rows})


class ClaimIn(_Body):
    resident: int = Field(ge=1, le=2**31 - 1)
    item: str = Field(min_length=4, max_length=4)
    deed_date: date
    reporter: Literal["self", "neighbour", "worker", "cadre"]
    description: str = Field("", max_length=500)


@bp.post("/points/claims")
@require(Permission.RESIDENTS)
def add_claim() -> ResponseReturnValue:
    services = context().services
    evidence: list[Photo] = []
    if request.mimetype == "multipart/form-data":
        body = parse_fields(ClaimIn, dict(request.form.items()))
        uploads = [f for f in request.files.getlist("evidence") if f.filename]
        if len(uploads) > MAX_EVIDENCE:
            raise ApiError(422, "too_many", f"at most {MAX_EVIDENCE} photos", "evidence")
        limit = services.papers.max_bytes + 1
        evidence = [
            services.papers.inspect(f.stream.read(limit), f.filename or "") for f in uploads
        ]
    else:
        body = parse_json(ClaimIn, request.get_data())
    entered = services.points.claim(
        _clerk(),
        resident_id=body.resident,
        item_code=body.item,
        deed_date=body.deed_date,
        reporter=body.reporter,
        description=body.description,
        evidence=evidence,
        idempotency_key=caller_key(principal()),
    )
    return jsonify({"id": entered.id, "status": "pending"}), 201 if entered.created else 200


@bp.get("/points/claims/<int:claim_id>/evidence/<int:file_id>")
@require(Permission.RESIDENTS)
def claim_evidence(claim_id: int, file_id: int) -> ResponseReturnValue:
    services = context().services
    sha256, content_type = services.points.evidence(principal().scope, claim_id, file_id)
    response = send_file(services.papers.path_for(sha256, content_type), mimetype=content_type)
    response.headers["Cache-Control"] = "private, no-store"  # residents' faces: never cached
    return response


class ClaimsQuery(_Body):
    status: Literal["pending", "confirmed", "rejected"] | None = None


@bp.get("/points/claims")
@require(Permission.RESIDENTS)
def list_claims() -> ResponseReturnValue:
    query = parse_fields(ClaimsQuery, dict(request.args.items()))
    return jsonify({"claims": context().services.points.claims(principal().scope, query.status)})


@bp.post("/points/claims/<int:claim_id>/confirm")
@require(Permission.RESIDENTS)
def confirm_claim(claim_id: int) -> ResponseReturnValue:
    entry_id = context().services.points.confirm(_clerk(), claim_id)
    return jsonify({"id": claim_id, "status": "confirmed", "entry": entry_id})


class NoteIn(_Body):
    note: str = Field(min_length=1, max_length=200)


@bp.post("/points/claims/<int:claim_id>/reject")
@require(Permission.RESIDENTS)
def reject_claim(claim_id: int) -> ResponseReturnValue:
    body = parse_json(NoteIn, request.get_data())
    context().services.points.reject(_clerk(), claim_id, body.note)
    return jsonify({"id": claim_id, "status": "rejected"})


class CorrectionIn(_Body):
    resident: int = Field(ge=1, le=2**31 - 1)
    amount: int = Field(ge=-10_000, le=10_000)
    reason: str = Field(min_length=1, max_length=200)


@bp.post("/points/corrections")
@require(Permission.RESIDENTS)
def add_correction() -> ResponseReturnValue:
    body = parse_json(CorrectionIn, request.get_data())
    entry_id = context().services.points.correct(_clerk(), body.resident, body.amount, body.reason)
    return jsonify({"entry": entry_id}), 201


@bp.get("/points/residents/<int:resident_id>/ledger")
@require(Permission.RESIDENTS)
def ledger(resident_id: int) -> ResponseReturnValue:
    rows = context().services.points.ledger(principal().scope, resident_id)
    return jsonify(
        {"resident": resident_id, "entries": rows, "balance": sum(r["amount"] for r in rows)}
    )


@bp.get("/points/rewards")
@require(Permission.RESIDENTS)
def rewards() -> ResponseReturnValue:
    return jsonify({"rewards": context().services.points.rewards(principal().scope)})


class RewardIn(_Body):
    area: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    cost: int = Field(ge=1, le=100_000)
    stock: int = Field(ge=0, le=100_000)


@bp.post("/points/rewards")
@require(Permission.RESIDENTS)
def add_reward() -> ResponseReturnValue:
    body = parse_json(RewardIn, request.get_data())
    reward_id = context().services.points.add_reward(
        _clerk(),
        area_code=body.area,
        name_zh=body.name_zh,
        name_en=body.name_en,
        cost=body.cost,
        stock=body.stock,
    )
    return jsonify({"id": reward_id}), 201


class RedemptionIn(_Body):
    resident: int = Field(ge=1, le=2**31 - 1)
    reward: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(1, ge=1, le=100)


@bp.post("/points/redemptions")
@require(Permission.RESIDENTS)
def redeem() -> ResponseReturnValue:
    body = parse_json(RedemptionIn, request.get_data())
    redemption_id = context().services.points.redeem(
        _clerk(), body.resident, body.reward, body.quantity
    )
    return jsonify({"id": redemption_id}), 201


# --- services on the residents' behalf ------------------------------------------------------


class RequestsQuery(_Body):
    status: Literal["submitted", "accepted", "returned", "done", "refused", "withdrawn"] | None = (
        None
    )
    open: bool = False


@bp.get("/service-requests")
@require(Permission.RESIDENTS)
def list_requests() -> ResponseReturnValue:
    query = parse_fields(RequestsQuery, dict(request.args.items()))
    rows = context().services.service_requests.list(_clerk(), query.status, query.open)
    return jsonify({"requests": rows})


@bp.get("/service-requests/<int:request_id>")
@require(Permission.RESIDENTS)
def get_request(request_id: int) -> ResponseReturnValue:
    return jsonify(context().services.service_requests.get(_clerk(), request_id))


class RequestIn(_Body):
    item: str = Field(min_length=4, max_length=4)
    resident: int = Field(ge=1, le=2**31 - 1)
    consent_note: str = Field(max_length=200)
    description: str = Field("", max_length=1000)


@bp.post("/service-requests")
@require(Permission.RESIDENTS)
def open_request() -> ResponseReturnValue:
    if request.mimetype == "multipart/form-data":
        fields = {k: v for k, v in request.form.items() if k != "paper_label"}
        body = parse_fields(RequestIn, fields)
        papers = _papers(request.files.getlist("paper"), request.form.getlist("paper_label"))
    else:
        body = parse_json(RequestIn, request.get_data())
        papers = []
    entered = context().services.service_requests.open(
        _clerk(),
        item_code=body.item,
        resident_id=body.resident,
        consent_note=body.consent_note,
        description=body.description,
        papers=papers,
        idempotency_key=caller_key(principal()),
    )
    return jsonify({"id": entered.id, "status": "submitted"}), 201 if entered.created else 200


class StepIn(_Body):
    action: Literal["accept", "return", "resubmit", "complete", "refuse", "withdraw", "evaluate"]
    note: str = Field("", max_length=500)
    rating: int | None = Field(None, ge=1, le=5)


@bp.post("/service-requests/<int:request_id>/actions")
@require(Permission.RESIDENTS)
def step_request(request_id: int) -> ResponseReturnValue:
    body = parse_json(StepIn, request.get_data())
    answer = context().services.service_requests.step(
        _clerk(), request_id, body.action, body.note, body.rating
    )
    return jsonify(answer)


@bp.post("/service-requests/<int:request_id>/papers")
@require(Permission.RESIDENTS)
def add_paper(request_id: int) -> ResponseReturnValue:
    files = request.files.getlist("paper")
    if len(files) != 1:
        raise ApiError(422, "one_paper", "send one photographed paper as 'paper'", "paper")
    ((label, photo),) = _papers(files, [request.form.get("label", "")])
    context().services.service_requests.add_paper(_clerk(), request_id, label, photo)
    return jsonify({"id": request_id, "paper": photo.sha256}), 201


@bp.get("/service-requests/<int:request_id>/papers/<int:paper_id>")
@require(Permission.RESIDENTS)
def get_paper(request_id: int, paper_id: int) -> ResponseReturnValue:
    services = context().services
    sha256, content_type = services.service_requests.paper(_clerk(), request_id, paper_id)
    path = services.papers.path_for(sha256, content_type)
    response = send_file(path, mimetype=content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"  # an ID card copy: never cached
    return response


def _papers(files: list[Any], labels: list[str]) -> list[tuple[str, Photo]]:
    if len(files) > MAX_PAPER_UPLOADS:
        raise ApiError(422, "too_many", f"at most {MAX_PAPER_UPLOADS} papers", "paper")
    if len(labels) != len(files):
        raise ApiError(422, "paper_label", "one paper_label per paper", "paper_label")
    store = context().services.papers
    limit = store.max_bytes + 1
    return [
        (label, store.inspect(upload.stream.read(limit), upload.filename or ""))
        for upload, label in zip(files, labels, strict=True)
    ]


# --- errors ---------------------------------------------------------------------------------


@bp.errorhandler(ResidentsRefused)
def _refused(err: ResidentsRefused) -> ResponseReturnValue:
    return jsonify(error_body(err.code, err.message, err.field)), err.status


@bp.errorhandler(IllegalServiceStep)
def _illegal_step(err: IllegalServiceStep) -> ResponseReturnValue:
    status = 422 if err.code in ("consent_required", "reason_required", "bad_rating") else 409
    if err.code == "unknown_item":
        status = 422
    return jsonify(error_body(err.code, err.message)), status


@bp.errorhandler(PointsRuleBroken)
def _rule_broken(err: PointsRuleBroken) -> ResponseReturnValue:
    status = 403 if err.code in ("self_confirmation", "wrong_confirmer") else 422
    if err.code in ("duplicate_deed", "cap_reached"):
        status = 409
    return jsonify(error_body(err.code, err.message)), status


@bp.errorhandler(InvalidPersonalData)
def _bad_personal_data(err: InvalidPersonalData) -> ResponseReturnValue:
    field = "id_number" if err.code == "bad_id_number" else "phone"
    return jsonify(error_body(err.code, err.message, field)), 422
