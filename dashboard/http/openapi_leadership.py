"""The OpenAPI description of the leader's figures (issue 13, dashboard/http/api_leadership.py):
rising problems, campaigns and their effect, rankings."""

from __future__ import annotations

from pydantic import BaseModel

from dashboard.http.api_leadership import CampaignIn
from dashboard.http.openapi_base import (
    BOOL,
    DATE,
    ID,
    INT,
    MAYBE_NUM,
    MAYBE_STR,
    NUM,
    OBJ,
    STR,
    TIME,
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

_COUNTS = obj(
    {
        name: INT
        for name in (
            "treated_before",
            "treated_period",
            "control_before",
            "control_period",
            "weeks_before",
            "weeks_period",
        )
    }
)
_EFFECT = obj(
    {
        "change_pct": MAYBE_NUM,
        "interval_95": {"type": ["array", "null"], "items": NUM, "minItems": 2, "maxItems": 2},
        "significant": BOOL,
        "counts": _COUNTS,
    }
)
_FINDING = obj(
    {
        "category": STR,
        "category_name": STR,
        "town": STR,
        "town_name": STR,
        "village": MAYBE_STR,
        "village_name": MAYBE_STR,
        "direction": STR,
        "observed": NUM,
        "expected": NUM,
        "change_pct": MAYBE_NUM,
        "p_value": NUM,
        "baseline": STR,
        "window_label": STR,
        "reference_windows": INT,
        "villages": array(obj({"code": STR, "name": STR, "observed": NUM, "excess": NUM})),
        "sentence": STR,
    }
)
_RANKED = obj({"code": STR, "name": STR, "score": MAYBE_NUM, "grade": MAYBE_STR})

COMPONENTS: dict[str, Schema] = {
    "Campaign": obj(
        {
            "id": INT,
            "name": STR,
            "categories": array(STR),
            "area": STR,
            "start": DATE,
            "end": DATE,
            "note": STR,
            "created_by": STR,
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "Campaigns": obj({"campaigns": array(ref("Campaign"))}),
    "CampaignEffect": obj(
        {
            "campaign": ref("Campaign"),
            "control": STR,
            "method": STR,
            "periods": obj({"before": INT, "during": INT, "after": INT}),
            "weeks": array(
                obj({"start": DATE, "treated": INT, "control": INT, "expected": MAYBE_NUM})
            ),
            "during": _EFFECT,
            "after": _EFFECT,
        }
    ),
    "Rising": obj(
        {
            "window": obj({"from": DATE, "to": DATE, "label": STR}),
            "method": obj(
                {
                    "test": STR,
                    "false_discovery_control": STR,
                    "q": NUM,
                    "history_weeks": INT,
                    "config": OBJ,
                }
            ),
            "tested": INT,
            "tested_falls": INT,
            "untested": INT,
            "rises": array(_FINDING),
            "falls": array(_FINDING),
        }
    ),
    "Rankings": obj(
        {
            "from": DATE,
            "to": DATE,
            "departments": array(_RANKED),
            "towns": array(_RANKED),
            "workers": array(obj({"id": STR, "name": STR, "village": STR})),
        }
    ),
}

BODY_MODELS: dict[str, type[BaseModel]] = {"CampaignIn": CampaignIn}

_LANG = query("lang", {"enum": ["zh", "en"]})
_CAMPAIGN = [path_param("campaign_id", ID)]


def paths() -> dict[str, dict[str, Schema]]:
    return {
        "/api/v1/trends/rising": {
            "get": house(
                "Rising (and after a campaign falling) problems of the last seven local days "
                "in the caller's area (a heavy request)",
                {"200": json_ok(ref("Rising"))},
                parameters=[_LANG],
            )
        },
        "/api/v1/campaigns": {
            "get": house(
                "The campaigns in the caller's area, latest first (at most 200)",
                {"200": json_ok(ref("Campaigns"))},
            ),
            "post": house(
                "Record a campaign (leaders, commanders, administrators); dates local, both "
                "inclusive",
                {"201": json_ok(ref("Campaign"), "Created")},
                requestBody=body("CampaignIn"),
            ),
        },
        "/api/v1/campaigns/{campaign_id}": {
            "get": house("A campaign", {"200": json_ok(ref("Campaign"))}, parameters=_CAMPAIGN),
            "put": house(
                "Change a campaign (the whole body again)",
                {"200": json_ok(ref("Campaign"))},
                parameters=_CAMPAIGN,
                requestBody=body("CampaignIn"),
            ),
            "delete": house(
                "Delete a campaign", {"204": {"description": "Deleted"}}, parameters=_CAMPAIGN
            ),
        },
        "/api/v1/campaigns/{campaign_id}/effect": {
            "get": house(
                "Reports per week before / during / after against the control, with the "
                "difference-in-differences estimate and its 95 % interval (a heavy request)",
                {"200": json_ok(ref("CampaignEffect"))},
                parameters=_CAMPAIGN,
            )
        },
        "/api/v1/rankings": {
            "get": house(
                "Departments, towns and grid workers ranked over local days (both inclusive; "
                "by default the configured period up to yesterday; at most 366 days)",
                {"200": json_ok(ref("Rankings"))},
                parameters=[query("from", DATE), query("to", DATE), _LANG],
            )
        },
    }
