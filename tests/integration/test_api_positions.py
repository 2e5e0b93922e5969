"""POST /api/v1/positions: batches of position fixes, the newest per worker, one bus event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.domain.roles import Role
from dashboard.http.schemas import MAX_FIXES
from dashboard.services.positions import TOPIC_POSITIONS
from dashboard.storage.bus import Event
from dashboard.storage.models import PositionFix, WorkerPosition
from tests.integration.support import TOWN_NOW
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    lite_api_fixture,  # noqa: F401
)


def _fix(worker: str, minutes: float, lon: float, lat: float, **extra: Any) -> dict[str, Any]:
    at = TOWN_NOW - timedelta(minutes=minutes)
    return {"worker": worker, "lon": lon, "lat": lat, "time": at.isoformat(), **extra}


@pytest.fixture
def published(api_any: Api) -> Iterator[list[Event]]:
    events: list[Event] = []
    unsubscribe = api_any.services.bus.subscribe(
        lambda e: events.append(e) if e.topic == TOPIC_POSITIONS else None
    )
    yield events
    unsubscribe()


@pytest.fixture
def api_any(request: pytest.FixtureRequest) -> Api:
    """Whichever API fixture the test asked for (so ``published`` can subscribe on its bus)."""
    name = "api" if "api" in request.fixturenames else "lite_api"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def _latest(api: Api) -> dict[str, tuple[str, float, float, str | None]]:
    with api.services.db.read() as session:
        return {
            p.worker_id: (p.at.isoformat(), p.lon, p.lat, p.grid_code)
            for p in session.scalars(select(WorkerPosition))
        }


def test_a_batch_is_stored_and_the_newest_fix_per_worker_wins(
    api: Api, published: list[Event]
) -> None:
    a, b = api.workers(2)
    grid = api.grid(0)
    lon, lat = grid.lon, grid.lat
    fixes = [  # out of order, as phones send their offline backlog
        _fix(a.id, 3, lon, lat, accuracy=8.5),
        _fix(a.id, 1, lon + 0.0001, lat),
        _fix(a.id, 2, lon + 0.0002, lat),
        _fix(b.id, 5, lon, lat + 0.0001),
    ]
    integration = api.token(Role.INTEGRATION)
    response = api.post("/api/v1/positions", json={"fixes": fixes}, headers=integration)

    assert response.status_code == 200 and response.json == {"stored": 4, "workers": 2}
    assert api.counts()["position_fixes"] == 4
    one_minute_ago = (TOWN_NOW - timedelta(minutes=1)).isoformat()
    latest = _latest(api)
    assert latest[a.id][:3] == (
        _utc(one_minute_ago),
        pytest.approx(lon + 0.0001),
        pytest.approx(lat),
    )
    assert latest[b.id][3] == grid.code  # where the fix is
    assert len(published) == 1
    assert [f[0] for f in published[0].payload["fixes"]] == [a.id, a.id, a.id, b.id]
    assert published[0].payload["fixes"][1][1:] == [lon + 0.0001, lat, _utc(one_minute_ago)]

    # A late batch with an older fix joins the track but does not move the worker back.
    late = {"fixes": [_fix(a.id, 30, lon, lat), _fix(b.id, 0.5, lon, lat)]}
    assert api.post("/api/v1/positions", json=late, headers=integration).status_code == 200
    moved = _latest(api)
    assert moved[a.id] == latest[a.id]
    assert moved[b.id][0] == _utc((TOWN_NOW - timedelta(minutes=0.5)).isoformat())
    assert api.counts()["position_fixes"] == 6 and len(published) == 2


def test_unknown_workers_are_named_and_nothing_is_written(api: Api, published: list[Event]) -> None:
    (known,) = api.workers(1)
    grid = api.grid(0)
    fixes = [_fix(known.id, 1, grid.lon, grid.lat), _fix("nobody-7", 1, grid.lon, grid.lat)]
    response = api.post(
        "/api/v1/positions", json={"fixes": fixes}, headers=api.token(Role.INTEGRATION)
    )
    assert response.status_code == 422
    assert (response.json or {})["error"] == "unknown_workers"
    assert (
        "nobody-7" in (response.json or {})["message"]
        and known.id not in (response.json or {})["message"]
    )
    assert api.counts()["position_fixes"] == 0 and api.counts()["worker_positions"] == 0
    assert published == []


def test_a_grid_workers_phone_sends_only_its_own_fixes(lite_api: Api) -> None:
    api = lite_api
    me, other = api.workers(2)
    grid = api.grid(0)
    phone = api.token(Role.GRID_WORKER, me.id)
    own = {"fixes": [_fix(me.id, 1, grid.lon, grid.lat)]}
    assert api.post("/api/v1/positions", json=own, headers=phone).status_code == 200
    theirs = {"fixes": [_fix(me.id, 0, grid.lon, grid.lat), _fix(other.id, 0, grid.lon, grid.lat)]}
    refused = api.post("/api/v1/positions", json=theirs, headers=phone)
    assert refused.status_code == 403 and (refused.json or {})["error"] == "not_your_worker"
    assert api.counts()["position_fixes"] == 1


def test_an_area_token_sends_only_for_workers_inside_it(lite_api: Api) -> None:
    api = lite_api
    (worker,) = api.workers(1)
    grid = api.grid(0)
    elsewhere = next(
        api.grid(i).village_code
        for i in range(90)
        if api.grid(i).village_code != worker.village_code
    )
    batch = {"fixes": [_fix(worker.id, 1, grid.lon, grid.lat)]}
    outside = api.token(Role.INTEGRATION, "feed-elsewhere", area=elsewhere)
    refused = api.post("/api/v1/positions", json=batch, headers=outside)
    assert refused.status_code == 403 and (refused.json or {})["error"] == "outside_scope"
    inside = api.token(Role.INTEGRATION, "feed-here", area=worker.village_code)
    assert api.post("/api/v1/positions", json=batch, headers=inside).status_code == 200
    assert api.counts()["position_fixes"] == 1


def test_more_than_the_batch_limit_is_413(lite_api: Api) -> None:
    api = lite_api
    (worker,) = api.workers(1)
    grid = api.grid(0)
    fixes = [_fix(worker.id, i / 100, grid.lon, grid.lat) for i in range(MAX_FIXES + 1)]
    response = api.post(
        "/api/v1/positions", json={"fixes": fixes}, headers=api.token(Role.INTEGRATION)
    )
    assert response.status_code == 413 and (response.json or {})["error"] == "too_many_fixes"
    assert api.counts()["position_fixes"] == 0


BAD_FIXES: list[tuple[str, dict[str, Any], str]] = [
    ("no time zone", {"time": "2026-11-23T08:59:00"}, "fixes.0.time"),
    ("in the future", {"time": "2026-11-23T10:00:00+08:00"}, "fixes.0.time"),
    ("latitude out of range", {"lat": 95.0}, "fixes.0.lat"),
    ("null island", {"lat": 0.0, "lon": 0.0}, "fixes.0.lon"),
    ("negative accuracy", {"accuracy": -1}, "fixes.0.accuracy"),
    ("misspelt field", {"lng": 120.0}, "fixes.0.lng"),
]


@pytest.mark.parametrize(
    ("change", "field"), [b[1:] for b in BAD_FIXES], ids=[b[0] for b in BAD_FIXES]
)
def test_a_bad_fix_refuses_the_batch(lite_api: Api, change: dict[str, Any], field: str) -> None:
    api = lite_api
    (worker,) = api.workers(1)
    grid = api.grid(0)
    fix = {**_fix(worker.id, 1, grid.lon, grid.lat), **change}
    response = api.post(
        "/api/v1/positions", json={"fixes": [fix]}, headers=api.token(Role.INTEGRATION)
    )
    assert response.status_code == 422 and (response.json or {})["field"] == field
    assert api.counts()["position_fixes"] == 0


def test_who_may_send_positions(lite_api: Api) -> None:
    api = lite_api
    (worker,) = api.workers(1)
    grid = api.grid(0)
    batch = {"fixes": [_fix(worker.id, 1, grid.lon, grid.lat)]}
    assert api.post("/api/v1/positions", json=batch).status_code == 401
    wall = api.post("/api/v1/positions", json=batch, headers=api.token(Role.WALL))
    assert wall.status_code == 403
    empty = api.post("/api/v1/positions", json={"fixes": []}, headers=api.token(Role.ADMIN))
    assert empty.status_code == 422 and (empty.json or {})["field"] == "fixes"
    with api.services.db.read() as session:
        assert session.scalar(select(PositionFix.id)) is None


def _utc(iso: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(iso).astimezone(UTC).isoformat()
