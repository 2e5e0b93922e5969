"""``/api/v1/trends/rising`` and ``/api/v1/campaigns`` over the real app on SQLite and
PostgreSQL: a planted rise is found and explained, campaigns are recorded (scoped, validated,
audited) and a planted campaign effect is recovered against its control."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dashboard.domain.permissions import UNLIMITED
from dashboard.domain.roles import Role
from dashboard.services.campaigns import campaign_bands, campaign_effects_for_briefing
from dashboard.services.rising import rising_for_briefing
from dashboard.storage.models import Campaign, Case
from tests.integration import test_security_support as support
from tests.integration.leadership_history import plant, villages
from tests.integration.support import TOWN_NOW
from tests.integration.test_security_support import SecureApp

_secure_apps, secure = support._secure_apps, support.secure  # fixtures

TODAY = TOWN_NOW.date()  # 2026-11-23, a Monday: the window is 16–22 November


def _leader(app: SecureApp, name: str = "leader", **scope: Any) -> tuple[Any, dict[str, str]]:
    app.user(name, Role.LEADER, **scope)
    client, csrf = app.signed_in(name)
    return client, app.csrf_headers(csrf)


def _history(app: SecureApp) -> list[tuple[str, str, str, float, float]]:
    """Ten weeks of steady illegal-construction reports in four villages, then a rise in the
    second one in the last seven days; steady disputes everywhere."""
    places = villages(app.services.db, 4)
    for week in range(2, 12):
        for day_in_week in (0, 2, 4):
            day = TODAY - timedelta(days=7 * week) + timedelta(days=day_in_week)
            for place in places:
                plant(app.services.db, place, "06001", day, 1)
                plant(app.services.db, place, "01002", day, 2)
    for offset in range(1, 8):
        plant(app.services.db, places[1], "06001", TODAY - timedelta(days=offset), 3)
        plant(
            app.services.db,
            places[0],
            "06001",
            TODAY - timedelta(days=offset),
            1 if offset < 4 else 0,
        )
        for place in places:
            plant(app.services.db, place, "01002", TODAY - timedelta(days=offset), 1)
    return places


def test_rising_finds_the_planted_rise_and_names_its_village(secure: SecureApp) -> None:
    places = _history(secure)
    client, _ = _leader(secure)
    with secure.generous():
        body = client.get("/api/v1/trends/rising").get_json()
    assert body["window"] == {"from": "2026-11-16", "to": "2026-11-22", "label": "normal"}
    assert body["method"]["false_discovery_control"] == "Benjamini-Hochberg"
    towns = [r for r in body["rises"] if r["village"] is None]
    assert [r["category"] for r in towns] == ["06"]  # disputes are steady: no alarm
    rise = towns[0]
    # the observed count is the raw cases of the window
    with secure.services.db.read() as session:
        raw = session.scalar(
            select(func.count()).where(
                Case.category_code.startswith("06"),
                Case.reported_at >= TOWN_NOW.replace(hour=0) - timedelta(days=7),
                Case.reported_at < TOWN_NOW.replace(hour=0),
            )
        )
    assert rise["observed"] == raw == 7 * 3 + 3
    assert rise["villages"][0]["code"] == places[1][0]
    assert "违法建设" in rise["sentence"] and places[1][1] in rise["sentence"]
    assert rise["sentence"].startswith(rise["town_name"] + "：近7天违法建设上报比常态高")
    en = client.get("/api/v1/trends/rising?lang=en").get_json()
    assert "Illegal construction reports in the last 7 days are" in en["rises"][0]["sentence"]
    # a leader of another village sees only that village's reports: nothing rose there
    other, _ = _leader(secure, "leader-v", area_code=places[0][0])
    with secure.generous():
        theirs = other.get("/api/v1/trends/rising").get_json()
    assert all(r["village"] in (None, places[0][0]) for r in theirs["rises"])
    assert not any(r["category"] == "06" and r["village"] is None for r in theirs["rises"])
    mine, _ = _leader(secure, "leader-w", area_code=places[1][0])
    with secure.generous():
        own = mine.get("/api/v1/trends/rising").get_json()
    assert own["rises"][0]["town_name"] == rise["town_name"] != rise["town"]  # a name, not a code
    assert own["rises"][0]["observed"] == 21


def _body(area: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "违建百日攻坚",
        "categories": ["06"],
        "area": area,
        "start": "2026-09-28",
        "end": "2026-10-25",
    }
    body.update(changes)
    return body


def test_campaigns_are_recorded_scoped_validated_and_audited(secure: SecureApp) -> None:
    places = villages(secure.services.db, 2)
    client, headers = _leader(secure)
    created = client.post("/api/v1/campaigns", json=_body(places[0][0]), headers=headers)
    assert created.status_code == 201, created.get_json()
    campaign = created.get_json()
    assert campaign["categories"] == ["06"] and campaign["created_by"] == "leader"
    assert [a.target for a in secure.audit("campaign_created")] == [f"campaign:{campaign['id']}"]
    for bad, field in (
        (_body(places[0][0], end="2026-09-01"), "end"),
        (_body(places[0][0], categories=["99"]), "categories"),
        (_body("330681999"), "area"),
        (_body(places[0][0], name="x" * 61), "name"),
        (_body(places[0][0], start="2026-13-01"), "start"),
    ):
        answer = client.post("/api/v1/campaigns", json=bad, headers=headers)
        assert answer.status_code == 422 and answer.get_json()["field"] == field, bad
    with secure.services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 1
    listed = client.get("/api/v1/campaigns").get_json()["campaigns"]
    assert [c["id"] for c in listed] == [campaign["id"]]
    path = f"/api/v1/campaigns/{campaign['id']}"
    changed = client.put(path, json=_body(places[0][0], name="违建整治"), headers=headers)
    assert changed.status_code == 200 and changed.get_json()["name"] == "违建整治"
    # another village's leader does not see it; a dispatcher may not record one
    other, other_headers = _leader(secure, "leader-b", area_code=places[1][0])
    assert other.get(path).status_code == 404
    assert other.delete(path, headers=other_headers).status_code == 404
    assert other.get("/api/v1/campaigns").get_json()["campaigns"] == []
    secure.user("disp", Role.DISPATCHER)
    disp, csrf = secure.signed_in("disp")
    refused = disp.post(
        "/api/v1/campaigns", json=_body(places[0][0]), headers=secure.csrf_headers(csrf)
    )
    assert refused.status_code == 403
    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path).status_code == 404
    assert [a.action for a in secure.audit() if a.action.startswith("campaign_")] == [
        "campaign_created",
        "campaign_updated",
        "campaign_deleted",
    ]


def test_a_planted_campaign_effect_is_recovered(secure: SecureApp) -> None:
    places = villages(secure.services.db, 4)
    start, end = date(2026, 9, 28), date(2026, 10, 25)  # four weeks; four after it, by 23 Nov
    day = start - timedelta(days=56)
    while day < TODAY:
        during = start <= day <= end
        treated = 1 if during else 3  # reports fall by two thirds in the campaign village ...
        plant(secure.services.db, places[0], "06001", day, treated if day.weekday() < 3 else 0)
        for place in places[1:]:  # ... and stay as they were in the others (the control)
            plant(secure.services.db, place, "06001", day, 2 if day.weekday() < 3 else 0)
        day += timedelta(days=1)
    client, headers = _leader(secure)
    campaign = client.post(
        "/api/v1/campaigns",
        json=_body(places[0][0], start=str(start), end=str(end)),
        headers=headers,
    ).get_json()
    with secure.generous():
        found = client.get(f"/api/v1/campaigns/{campaign['id']}/effect").get_json()
    assert found["control"] == "other_towns"
    assert found["periods"] == {"before": 8, "during": 4, "after": 4}
    assert [w["treated"] for w in found["weeks"]] == [9] * 8 + [3] * 4 + [9] * 4
    assert [w["control"] for w in found["weeks"]] == [18] * 16
    during = found["during"]
    assert during["change_pct"] == pytest.approx(-66.7, abs=0.1)
    low, high = during["interval_95"]
    assert low < -66.7 < high < 0 and during["significant"]
    assert found["after"]["change_pct"] == pytest.approx(0.0, abs=0.1)
    assert not found["after"]["significant"]
    services = secure.services
    brief = campaign_effects_for_briefing(
        services.db, services.reference, UNLIMITED, date(2026, 10, 1), date(2026, 10, 31), TOWN_NOW
    )
    assert [(b["name"], b["during"]["change_pct"]) for b in brief] == [("违建百日攻坚", -66.7)]
    assert brief[0]["during"]["treated"] == [72, 12] and brief[0]["during"]["weeks"] == [8, 4]
    bands = campaign_bands(services.db, UNLIMITED, date(2026, 10, 10), date(2026, 12, 31))
    assert [(b["start"], b["end"]) for b in bands] == [("2026-10-10", "2026-10-25")]
    assert campaign_bands(services.db, UNLIMITED, date(2026, 11, 1), date(2026, 11, 30)) == []


def test_rankings_explain_every_figure(secure: SecureApp) -> None:
    places = villages(secure.services.db, 2)
    day = TODAY - timedelta(days=3)
    at = TOWN_NOW - timedelta(days=3)
    # 4 cases of the urban department closed on time, 1 late, 1 open overdue; 1 reworked
    for i, (closed, on_time) in enumerate(((True, True),) * 4 + ((True, False), (False, False))):
        plant(
            secure.services.db,
            places[0],
            "06001",
            day,
            1,
            department_code="urban",
            registered_at=at,
            dispatched_at=at,
            dispatch_count=1,
            handled_at=at + timedelta(hours=1) if closed else None,
            deadline=at + (timedelta(days=1) if on_time or not closed else -timedelta(hours=1)),
            closed_at=at + timedelta(hours=2) if closed else None,
            closed_on_time=on_time if closed else None,
            status="closed" if closed else "dispatched",
            open=not closed,
            rework_count=1 if i == 0 else 0,
        )
    client, _ = _leader(secure)
    with secure.generous():
        body = client.get("/api/v1/rankings?from=2026-11-01&to=2026-11-22").get_json()
        bad = client.get("/api/v1/rankings?from=2026-11-22&to=2026-11-01")
    assert bad.status_code == 422 and bad.get_json()["field"] == "from"
    urban = next(d for d in body["departments"] if d["code"] == "urban")
    assert urban["closure_rate"] == {"value": 83.33, "numerator": 5, "denominator": 6}
    assert urban["on_time_closure_rate"] == {"value": 66.67, "numerator": 4, "denominator": 6}
    assert urban["rework_rate"] == {"value": 16.67, "numerator": 1, "denominator": 6}
    assert urban["grade"] in {"A", "B", "C", "D", "E"} and urban["rank"] == 1
    assert body["towns"][0]["code"] == places[0][0][:9]


def test_a_fall_after_a_campaign_is_flagged(secure: SecureApp) -> None:
    places = villages(secure.services.db, 4)
    for week in range(2, 12):
        for day_in_week in (0, 2, 4):
            day = TODAY - timedelta(days=7 * week) + timedelta(days=day_in_week)
            for place in places:
                plant(secure.services.db, place, "06001", day, 2)
    plant(secure.services.db, places[0], "06001", TODAY - timedelta(days=2), 1)  # 1 against ~24
    client, headers = _leader(secure)
    with secure.generous():
        before = client.get("/api/v1/trends/rising").get_json()
    assert before["falls"] == [] and before["tested_falls"] == 0  # no campaign: falls not tested
    town = places[0][0][:9]
    body = _body(town, start=str(TODAY - timedelta(days=20)), end=str(TODAY + timedelta(days=20)))
    assert client.post("/api/v1/campaigns", json=body, headers=headers).status_code == 201
    with secure.generous():
        after = client.get("/api/v1/trends/rising").get_json()
    assert [(f["category"], f["town"], f["observed"]) for f in after["falls"]] == [("06", town, 1)]
    assert "专项整治后" in after["falls"][0]["sentence"]
    services = secure.services
    brief = rising_for_briefing(services.db, services.reference, UNLIMITED, TOWN_NOW)
    assert brief["falls"] == [after["falls"][0]["sentence"]] and brief["rises"] == []
