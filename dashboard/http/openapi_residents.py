"""The OpenAPI description of the residents' side (issue 18, dashboard/http/api_residents.py):
the points (积分制) and services (代办) catalogues, residents, claims, corrections, ledgers,
rewards and redemptions, and service requests with their photographed papers."""

from __future__ import annotations

from pydantic import BaseModel

from dashboard.http import api_residents as r
from dashboard.http.openapi_base import (
    DATE,
    ID,
    INT,
    MAYBE_INT,
    MAYBE_STR,
    MAYBE_TIME,
    STR,
    TIME,
    J,
    Schema,
    array,
    body,
    house,
    json_ok,
    obj,
    path_param,
    query,
    ref,
)

_CLAIM_STATUS = {"enum": ["pending", "confirmed", "rejected"]}
_REQUEST = {
    "id": INT,
    "item": STR,
    "item_zh": STR,
    "item_en": STR,
    "group": MAYBE_STR,
    "department": STR,
    "village": STR,
    "village_name": STR,
    "resident": obj({"id": INT, "name": STR, "id_number": MAYBE_STR, "phone": MAYBE_STR}),
    "description": STR,
    "consent": STR,
    "status": STR,
    "opened_by": STR,
    "submitted_at": TIME,
    "accepted_at": MAYBE_TIME,
    "deadline": MAYBE_TIME,
    "closed_at": MAYBE_TIME,
    "returns": INT,
    "missing": STR,
    "papers": INT,
    "rating": MAYBE_INT,
    "light": {"enum": ["green", "yellow", "red", None]},
    "on_time": {"type": ["boolean", "null"]},
    "version": INT,
}

COMPONENTS: dict[str, Schema] = {
    "PointsItems": obj(
        {
            "items": array(
                obj(
                    {
                        "code": STR,
                        "area": STR,
                        "name_zh": STR,
                        "name_en": STR,
                        "points": INT,
                        "subjects": array(STR),
                        "confirmer": STR,
                        "cap": MAYBE_INT,
                        "period": STR,
                    }
                )
            )
        }
    ),
    "ServiceItems": obj(
        {
            "items": array(
                obj(
                    {
                        "code": STR,
                        "group": STR,
                        "name_zh": STR,
                        "name_en": STR,
                        "department": STR,
                        "documents_zh": array(STR),
                        "documents_en": array(STR),
                        "limit_days": INT,
                    }
                )
            )
        }
    ),
    "NewId": obj({"id": INT}),
    "Balances": obj(
        {
            "village": MAYBE_STR,
            "balances": array(
                obj(
                    {
                        "resident": INT,
                        "name": STR,
                        "kind": STR,
                        "village": STR,
                        "village_name": STR,
                        "balance": INT,
                    }
                )
            ),
        }
    ),
    "PointsRanking": obj(
        {
            "since": {"type": ["string", "null"], "format": "date"},
            "villages": array(obj({"village": STR, "name": STR, "points": INT})),
        }
    ),
    "ClaimState": obj({"id": INT, "status": _CLAIM_STATUS}, {"entry": INT}),
    "Claims": obj(
        {
            "claims": array(
                obj(
                    {
                        "id": INT,
                        "item": STR,
                        "item_zh": STR,
                        "item_en": STR,
                        "points": MAYBE_INT,
                        "resident": INT,
                        "resident_name": STR,
                        "village": STR,
                        "village_name": STR,
                        "deed_date": DATE,
                        "reporter": STR,
                        "description": STR,
                        "status": _CLAIM_STATUS,
                        "entered_by": STR,
                        "entered_at": TIME,
                        "decided_by": MAYBE_STR,
                        "decision_note": MAYBE_STR,
                        "evidence": array(INT),
                    }
                )
            )
        }
    ),
    "Entry": obj({"entry": INT}),
    "Ledger": obj(
        {
            "resident": INT,
            "balance": INT,
            "entries": array(
                obj(
                    {
                        "id": INT,
                        "kind": STR,
                        "amount": INT,
                        "item": MAYBE_STR,
                        "reason": MAYBE_STR,
                        "at": TIME,
                        "by": MAYBE_STR,
                    }
                )
            ),
        }
    ),
    "Rewards": obj(
        {
            "rewards": array(
                obj(
                    {
                        "id": INT,
                        "area": STR,
                        "name_zh": STR,
                        "name_en": STR,
                        "cost": INT,
                        "stock": INT,
                    }
                )
            )
        }
    ),
    "ServiceRequestOpened": obj({"id": INT, "status": {"const": "submitted"}}),
    "ServiceRequest": obj(_REQUEST),
    "ServiceRequests": obj({"requests": array(obj(_REQUEST))}),
    "ServiceRequestDetail": obj(
        {
            **_REQUEST,
            "trail": array(obj({"at": TIME, "action": STR, "actor": STR, "note": STR})),
            "papers": array(obj({"id": INT, "label": STR, "sha256": STR, "type": STR})),
        }
    ),
    "PaperStored": obj({"id": INT, "paper": STR}),
}

BODY_MODELS: dict[str, type[BaseModel]] = {
    "ResidentIn": r.ResidentIn,
    "ClaimIn": r.ClaimIn,
    "NoteIn": r.NoteIn,
    "CorrectionIn": r.CorrectionIn,
    "RewardIn": r.RewardIn,
    "RedemptionIn": r.RedemptionIn,
    "RequestIn": r.RequestIn,
    "StepIn": r.StepIn,
}

_BINARY: Schema = {"type": "string", "format": "binary"}
_CODE: Schema = {"type": "string", "pattern": r.CODE_PATTERN}


def _created(schema: str) -> dict[str, Schema]:
    return {"201": json_ok(ref(schema), "Created")}


def _again(schema: str) -> dict[str, Schema]:
    """201 when made; 200 with the first answer when an Idempotency-Key made it already."""
    return {**_created(schema), "200": json_ok(ref(schema), "Made already (Idempotency-Key)")}


_KEY_HEADER: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[!-~]{1,64}$"},
}


def _claim_form() -> Schema:
    """``POST /points/claims`` as multipart: ClaimIn's fields beside the evidence photos."""
    fields = r.ClaimIn.model_json_schema()
    return {
        "type": "object",
        "required": fields["required"],
        "properties": {
            **fields["properties"],
            "evidence": {"type": "array", "items": _BINARY, "maxItems": r.MAX_EVIDENCE},
        },
    }


def _request_form() -> Schema:
    """``POST /service-requests`` as multipart: RequestIn's fields beside the papers."""
    fields = r.RequestIn.model_json_schema()
    return {
        "type": "object",
        "required": fields["required"],
        "properties": {
            **fields["properties"],
            "paper": {"type": "array", "items": _BINARY, "maxItems": r.MAX_PAPER_UPLOADS},
            "paper_label": {"type": "array", "items": STR, "maxItems": r.MAX_PAPER_UPLOADS},
        },
    }


def _catalogues() -> dict[str, dict[str, Schema]]:
    return {
        "/api/v1/points/items": {
            "get": house("The points items (积分事项)", {"200": json_ok(ref("PointsItems"))})
        },
        "/api/v1/service-items": {
            "get": house("The service catalogue (代办事项)", {"200": json_ok(ref("ServiceItems"))})
        },
    }


def _points() -> dict[str, dict[str, Schema]]:
    claim = [path_param("claim_id", ID)]
    return {
        "/api/v1/residents": {
            "post": house(
                "Register a resident, household or organisation in a village of the area",
                _created("NewId"),
                requestBody=body("ResidentIn"),
            )
        },
        "/api/v1/points/balances": {
            "get": house(
                "Residents of the area (or one village) with their balances, highest first",
                {"200": json_ok(ref("Balances"))},
                parameters=[query("village", _CODE)],
            )
        },
        "/api/v1/points/ranking": {
            "get": house(
                "Villages by the points their residents earned (since a local day)",
                {"200": json_ok(ref("PointsRanking"))},
                parameters=[query("since", DATE)],
            )
        },
        "/api/v1/points/top-villages": {
            "get": house(
                "This month's first villages by points earned (the wall's panel)",
                {"200": json_ok(ref("PointsRanking"))},
                parameters=[query("limit", {"type": "integer", "minimum": 1, "maximum": 20})],
            )
        },
        "/api/v1/points/claims": {
            "get": house(
                "Claims of the area, latest first",
                {"200": json_ok(ref("Claims"))},
                parameters=[query("status", _CLAIM_STATUS)],
            ),
            "post": house(
                "Claim points for a deed (JSON, or multipart with evidence photos)",
                _again("ClaimState"),
                parameters=[_KEY_HEADER],
                requestBody={
                    "required": True,
                    "content": {
                        J: {"schema": ref("ClaimIn")},
                        "multipart/form-data": {"schema": _claim_form()},
                    },
                },
            ),
        },
        "/api/v1/points/claims/{claim_id}/evidence/{file_id}": {
            "get": house(
                "A claim's evidence photo (inside the caller's area; never cached)",
                {
                    "200": {
                        "description": "the image",
                        "content": {
                            t: {"schema": {}} for t in ("image/jpeg", "image/png", "image/webp")
                        },
                    }
                },
                parameters=[*claim, path_param("file_id", ID)],
            )
        },
        "/api/v1/points/claims/{claim_id}/confirm": {
            "post": house(
                "Confirm a claim (its confirmer, not who entered it): the points are awarded",
                {"200": json_ok(ref("ClaimState"))},
                parameters=claim,
            )
        },
        "/api/v1/points/claims/{claim_id}/reject": {
            "post": house(
                "Reject a claim with a note",
                {"200": json_ok(ref("ClaimState"))},
                parameters=claim,
                requestBody=body("NoteIn"),
            )
        },
        "/api/v1/points/corrections": {
            "post": house(
                "Correct a balance with a reason",
                _created("Entry"),
                requestBody=body("CorrectionIn"),
            )
        },
        "/api/v1/points/residents/{resident_id}/ledger": {
            "get": house(
                "A resident's entries in time order and balance",
                {"200": json_ok(ref("Ledger"))},
                parameters=[path_param("resident_id", ID)],
            )
        },
        "/api/v1/points/rewards": {
            "get": house("The rewards the area offers", {"200": json_ok(ref("Rewards"))}),
            "post": house("Offer a reward", _created("NewId"), requestBody=body("RewardIn")),
        },
        "/api/v1/points/redemptions": {
            "post": house(
                "Redeem points for a reward", _created("NewId"), requestBody=body("RedemptionIn")
            )
        },
    }


def _services() -> dict[str, dict[str, Schema]]:
    one = [path_param("request_id", ID)]
    return {
        "/api/v1/service-requests": {
            "get": house(
                "Service requests of the area (personal data masked for whoever does not "
                "handle the request)",
                {"200": json_ok(ref("ServiceRequests"))},
                parameters=[
                    query("status", r.RequestsQuery.model_json_schema()["properties"]["status"]),
                    query("open", {"enum": ["true", "false"]}),
                ],
            ),
            "post": house(
                "Open a request on a resident's behalf (JSON, or multipart with paper files "
                "and one paper_label each)",
                _again("ServiceRequestOpened"),
                parameters=[_KEY_HEADER],
                requestBody={
                    "required": True,
                    "content": {
                        J: {"schema": ref("RequestIn")},
                        "multipart/form-data": {"schema": _request_form()},
                    },
                },
            ),
        },
        "/api/v1/service-requests/{request_id}": {
            "get": house(
                "A request with its trail and papers",
                {"200": json_ok(ref("ServiceRequestDetail"))},
                parameters=one,
            )
        },
        "/api/v1/service-requests/{request_id}/actions": {
            "post": house(
                "One step of the request (accept, return, resubmit, complete, refuse, withdraw, "
                "evaluate)",
                {"200": json_ok(ref("ServiceRequest"))},
                parameters=one,
                requestBody=body("StepIn"),
            )
        },
        "/api/v1/service-requests/{request_id}/papers": {
            "post": house(
                "Add one photographed paper (multipart: label, paper)",
                _created("PaperStored"),
                parameters=one,
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["paper"],
                                "properties": {"label": STR, "paper": _BINARY},
                            }
                        }
                    },
                },
            )
        },
        "/api/v1/service-requests/{request_id}/papers/{paper_id}": {
            "get": house(
                "A paper's image (only to who sees the personal data; never cached)",
                {
                    "200": {
                        "description": "the image",
                        "content": {
                            t: {"schema": {}} for t in ("image/jpeg", "image/png", "image/webp")
                        },
                    }
                },
                parameters=[*one, path_param("paper_id", ID)],
            )
        },
    }


def paths() -> dict[str, dict[str, Schema]]:
    return {**_catalogues(), **_points(), **_services()}
