"""The OpenAPI description of the leader's figures (issue 13, dashboard/http/api_leadership.py):
rising problems, campaigns and their effect, rankings; and of the trends (dashboard/http/
api_trends.py, api_trend_exports.py): the period summary, charts, tables and monthly briefings."""

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
_MONTH: Schema = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}
_RATE: Schema = {
    "type": ["number", "null"],
    "description": "a percentage with two decimals (dashboard.domain.metrics); null with "
    "nothing to divide by",
}
_FIGURES: dict[str, Schema] = {
    "from": DATE,
    "to": DATE,
    **{
        name: {"type": "integer", "minimum": 0}
        for name in ("reported", "registered", "closed", "closed_on_time", "should_be_closed")
    },
    **{name: _RATE for name in ("closure_rate", "on_time_closure_rate", "rework_rate")},
}
_RANKED = obj({"code": STR, "name": STR, "score": MAYBE_NUM, "grade": MAYBE_STR})
# A rate with its counts: {"value", "numerator", "denominator"} ("按期核查率 = 37 / 40").
_COUNTED = obj(
    {"value": _RATE, "numerator": {"type": "integer"}, "denominator": {"type": "integer"}}
)


def _said(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


_PATROL = _said(
    obj(
        {
            "days": _said(INT, "patrol days: local days with at least one trusted fix"),
            "fixes": _said(INT, "fixes stored in the period, filtered ones included"),
            "flagged": _said(INT, "fixes the GPS filters marked (not counted)"),
            "distance_km": _said(
                NUM, "Σ over the patrol days of the tracks' distance (silent gaps excluded)"
            ),
            "patrol_s": _said(INT, "Σ time on patrol, seconds (silent gaps excluded)"),
            "inside_share": _said(
                _COUNTED, "time inside the own grid / time on patrol, in seconds and %"
            ),
            "household_coverage": _said(
                _COUNTED,
                "households passed, summed over the patrol days / (the grid's households × "
                "patrol days), in %",
            ),
        }
    ),
    "The worker's patrol in the period: the tracks' own summary of each local day "
    "(GET /api/v1/workers/{id}/patrol, docs/tracks.md) added up",
)
_WORKER = obj(
    {
        "id": STR,
        "name": STR,
        "village": STR,
        "rank": INT,
        "reported": INT,
        "valid_report_rate": _COUNTED,
        "on_time_verify_rate": _COUNTED,
        "on_time_check_rate": _COUNTED,
        "verifications_and_checks": INT,
        "missed_report_rate": _COUNTED,
        "patrol": _PATROL,
    }
)

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
            "workers": array(_WORKER),
            "limits": obj(
                {
                    "verify": {"type": "string", "description": "按期核实率's limit, e.g. 2h"},
                    "check": {"type": "string", "description": "按期核查率's limit, e.g. 4h"},
                }
            ),
            "patrol_rules": obj(
                {
                    "silent_minutes": _said(
                        INT, "[tracks] silent_minutes: a longer gap is not time on patrol"
                    ),
                    "household_radius_m": _said(
                        NUM, "[tracks] household_radius_m: a household within it is passed"
                    ),
                }
            ),
        }
    ),
    "TrendFigures": obj(_FIGURES),
    "TrendSummary": obj(
        {**_FIGURES, "previous": ref("TrendFigures"), "last_year": ref("TrendFigures")}
    ),
    "Briefings": obj(
        {
            "briefings": array(
                obj(
                    {
                        "name": STR,
                        "month": _MONTH,
                        "lang": {"enum": ["zh", "en"]},
                        "size": {"type": "integer", "minimum": 0},
                    }
                )
            )
        }
    ),
    "BriefingIn": {
        "type": "object",
        "required": ["month"],
        "properties": {
            "month": {
                **_MONTH,
                "description": "a past or the current local month, from 2010-01 on",
            },
            "lang": {
                "type": "string",
                "description": "zh or en; anything else gives zh",
                "default": "zh",
            },
        },
    },
    "BriefingMade": obj({"name": STR, "month": _MONTH}),
}

BODY_MODELS: dict[str, type[BaseModel]] = {"CampaignIn": CampaignIn}

_LANG = query("lang", {"enum": ["zh", "en"]})
_CAMPAIGN = [path_param("campaign_id", ID)]
# The period of the trends (dashboard.domain.trend_periods.parse_range): local dates, both
# inclusive, within 2010-01-01 … 2040-12-31, at most 1099 days, starting at most 366 days ahead.
_PERIOD = [
    query("from", DATE, "first local day (YYYY-MM-DD)", required=True),
    query("to", DATE, "last local day, not before from; at most 1099 days", required=True),
]
_TOWN = query("town", {"type": "string", "pattern": "^[0-9]{9}$"}, "a town in the caller's area")
_PAGE = [
    *_PERIOD,
    query("kind", {"enum": ["day", "week", "month", "quarter", "year", "custom"]}),
    _TOWN,
    query("village", {"type": "string", "pattern": "^[0-9]{12}$"}),
    _LANG,
]
_SIDE: Schema = {"type": "integer", "minimum": 200, "maximum": 3000}
_CHART = path_param("name", {"enum": ["trend", "places", "categories", "sources", "matrix", "map"]})
_TABLE = path_param(
    "name",
    {"enum": ["places", "majors", "categories", "sources", "departments", "oldest", "cases"]},
)
_BRIEFING = path_param(
    "name",
    {"type": "string", "pattern": "^briefing-[0-9]{4}-[0-9]{2}-(all|[0-9]{6,12})-(zh|en)\\.pdf$"},
)


def _file(media: str, description: str) -> Schema:
    return {"description": description, "content": {media: {"schema": {}}}}


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
        **_trend_paths(),
    }


def _trend_paths() -> dict[str, dict[str, Schema]]:
    return {
        "/api/v1/trends/summary": {
            "get": house(
                "The closure figures of a period in the caller's area (or one town of it), "
                "with the previous period (环比) and the same period last year (同比, aligned on "
                "the working calendar); a heavy request",
                {"200": json_ok(ref("TrendSummary"))},
                parameters=[*_PERIOD, _TOWN],
            )
        },
        "/api/v1/trends/charts/{name}.png": {
            "get": house(
                "A chart of the trends page drawn on the server by headless Chromium (a heavy "
                "request; 503 with Retry-After when Chromium is missing)",
                {"200": _file("image/png", "The chart as a PNG (an attachment)")},
                parameters=[
                    _CHART,
                    *_PAGE,
                    query("width", _SIDE, "pixels, 1200 by default"),
                    query("height", _SIDE, "pixels, 600 by default"),
                ],
            )
        },
        "/api/v1/trends/tables/{name}.csv": {
            "get": house(
                "A table of the trends page as CSV (UTF-8 with a byte-order mark, header in "
                "lang, cells guarded against formula injection); a heavy request",
                {"200": {"description": "CSV", "content": {"text/csv": {"schema": STR}}}},
                parameters=[_TABLE, *_PAGE],
            )
        },
        "/api/v1/trends/briefings": {
            "get": house(
                "The stored monthly briefings of the caller's area, newest month first",
                {"200": json_ok(ref("Briefings"))},
            ),
            "post": house(
                "Make (or make again) the briefing of a month as a PDF via headless Chromium "
                "(a heavy request; 503 with Retry-After when Chromium is missing)",
                {"201": json_ok(ref("BriefingMade"), "Made")},
                requestBody={"required": True, "content": {J: {"schema": ref("BriefingIn")}}},
            ),
        },
        "/api/v1/trends/briefings/{name}": {
            "get": house(
                "A stored briefing of the caller's area",
                {"200": _file("application/pdf", "The briefing as a PDF (an attachment)")},
                parameters=[_BRIEFING],
            )
        },
    }
