"""The OsmAnd door and the track API on both backends (issue 16): PROTOCOLS.md's reference vectors
and a JSON body replayed against the real app, what is stored, unknown devices, out-of-order
backlogs and the live dot, the filters' marks, ``alarm=sos`` on the wall, scoping."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from dashboard.domain.geo import haversine_m
from dashboard.domain.permissions import UNLIMITED
from dashboard.domain.roles import Role
from dashboard.http.api import context
from dashboard.read.wall import wall_snapshot
from dashboard.storage.models import Case, PositionFix, TrackerDevice, WorkerPosition
from tests.integration.support import TOWN_NOW
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    lite_api_fixture,  # noqa: F401
    pg_api_fixture,  # noqa: F401
)

VECTOR_1 = (
    "/osmand?id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=0.0&bearing=0.0"
    "&altitude=0&hdop=0.0"
)
VECTOR_2 = (
    "/osmand?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z"
    "&hdop=6.0&altitude=224.0&speed=0.0"
)


def _with_devices(api: Api) -> Iterator[Api]:
    """``api`` with devices 123456, 902064, 48241179 bound to the town's first three workers."""
    workers = api.workers(3)
    with api.app.app_context():
        registry = context().devices
    for device, worker in zip(("123456", "902064", "48241179"), workers, strict=True):
        registry.bind(device, worker.id, "test", TOWN_NOW)
    yield api
    with api.services.db.transaction() as session:
        session.execute(delete(TrackerDevice))


@pytest.fixture
def tracked(api: Api) -> Iterator[Api]:
    """The devices bound, on each backend."""
    yield from _with_devices(api)


@pytest.fixture
def pg_tracked(pg_api: Api) -> Iterator[Api]:
    """The devices bound, on PostgreSQL alone."""
    yield from _with_devices(pg_api)


@pytest.fixture
def lite_tracked(lite_api: Api) -> Iterator[Api]:
    """The devices bound, on SQLite alone."""
    yield from _with_devices(lite_api)


def _rows(api: Api, worker: str) -> list[PositionFix]:
    with api.services.db.read() as session:
        return list(
            session.scalars(
                select(PositionFix)
                .where(PositionFix.worker_id == worker)
                .order_by(PositionFix.at, PositionFix.id)
            )
        )


def _live(api: Api, worker: str) -> WorkerPosition | None:
    with api.services.db.read() as session:
        return session.get(WorkerPosition, worker)


def test_the_reference_query_vectors_are_stored(tracked: Api) -> None:
    api = tracked
    first, second, _ = api.workers(3)
    api.clock.set(datetime(2013, 8, 22, 13, 15, tzinfo=UTC))
    assert api.get(VECTOR_1).status_code == 200
    api.clock.set(datetime(2016, 1, 27, 19, 0, tzinfo=UTC))
    assert api.post(VECTOR_2).status_code == 200  # POST with the query string: the same

    (one,) = _rows(api, first.id)
    assert one.at == datetime.fromtimestamp(1377177267, UTC)
    assert (one.lat, one.lon, one.speed, one.valid, one.flags) == (60.0, 30.0, 0.0, True, "")
    assert one.attributes == {"hdop": 0.0, "bearing": 0.0, "altitude": 0.0}
    (two,) = _rows(api, second.id)
    assert two.at == datetime(2016, 1, 27, 18, 55, 47, tzinfo=UTC)
    assert (two.lat, two.lon) == (42.06288, -88.23412)
    assert two.attributes == {"hdop": 6.0, "altitude": 224.0}
    live = _live(api, second.id)
    assert live is not None and live.at == two.at and live.grid_code is None  # not in the town


def test_the_json_variant_and_a_form_post(tracked: Api) -> None:
    api = tracked
    third = api.workers(3)[2]
    body = {
        "device_id": "48241179",
        "location": {
            "timestamp": "2026-11-23T00:45:12.862Z",
            "coords": {
                "latitude": 29.6,
                "longitude": 120.3,
                "accuracy": 5,
                "speed": 1.2,
                "heading": -1,
                "altitude": 5,
            },
            "is_moving": False,
            "odometer": 0,
            "event": "motionchange",
            "battery": {"level": 0.79, "is_charging": False},
            "activity": {"type": "still"},
            "extras": {},
        },
    }
    assert api.post("/osmand", json=body).status_code == 200
    form = {
        "id": "48241179",
        "lat": "29.6001",
        "lon": "120.3001",
        "speed": "2",
        "timestamp": "2026-11-23 00:46:00",
        "accuracy": "500",
    }
    assert (
        api.post("/osmand", data=form, content_type="application/x-www-form-urlencoded").status_code
        == 200
    )
    json_fix, form_fix = _rows(api, third.id)
    assert json_fix.at == datetime(2026, 11, 23, 0, 45, 12, 862000, tzinfo=UTC)
    assert json_fix.speed == 1.2 and json_fix.accuracy == 5  # m/s as sent
    assert json_fix.attributes == {
        "is_moving": False,
        "odometer": 0,
        "event": "motionchange",
        "batt": 79.0,
        "charge": False,
        "activity": "still",
        "altitude": 5.0,
    }
    assert form_fix.speed == pytest.approx(2 * 1852 / 3600)  # knots
    assert (form_fix.valid, form_fix.flags) == (False, "poor_accuracy")  # kept, marked
    live = _live(api, third.id)
    assert live is not None and live.at == json_fix.at  # a marked fix never moves the dot


def test_unknown_devices_are_refused_and_nothing_is_stored(tracked: Api) -> None:
    api = tracked
    before = api.counts()["position_fixes"]
    response = api.get("/osmand?id=nobody&lat=29.6&lon=120.3")
    assert response.status_code == 400 and b"nobody" in response.data
    body = {"device_id": "nobody", "location": {"coords": {"latitude": 1, "longitude": 1}}}
    assert api.post("/osmand", json=body).status_code == 404
    assert api.get("/osmand?id=123456&lat=95&lon=1").status_code == 400  # bad: named
    assert api.counts()["position_fixes"] == before


def test_an_out_of_order_backlog_is_stored_in_time_order_and_the_dot_stays(tracked: Api) -> None:
    api = tracked
    first = api.workers(1)[0]
    grid = api.grid(0)
    t = TOWN_NOW.astimezone(UTC)

    def loc(minutes: int, step: int) -> dict[str, Any]:
        return {
            "timestamp": (t - timedelta(minutes=minutes)).isoformat(),
            "coords": {"latitude": grid.lat + step * 0.0002, "longitude": grid.lon},
        }

    assert (
        api.post(
            "/osmand", json={"device_id": "123456", "location": [loc(2, 3), loc(6, 1), loc(4, 2)]}
        ).status_code
        == 200
    )
    live = _live(api, first.id)
    assert live is not None and live.at == t - timedelta(minutes=2)
    late = {"device_id": "123456", "location": [loc(10, 0), loc(4, 2)]}  # older + a resend
    assert api.post("/osmand", json=late).status_code == 200
    rows = _rows(api, first.id)
    assert [r.at for r in rows] == sorted(r.at for r in rows)
    assert [(r.at, r.flags) for r in rows if not r.valid] == [
        (t - timedelta(minutes=4), "duplicate")
    ]
    live = _live(api, first.id)
    assert live is not None and live.at == t - timedelta(minutes=2)  # never backwards
    with api.services.db.read() as session:
        dots = wall_snapshot(session, UNLIMITED, TOWN_NOW, ZoneInfo("Asia/Shanghai"))["positions"]
    assert next(d for d in dots if d[0] == first.id)[3] == live.at.isoformat()

    token = api.token(Role.COMMANDER)
    frm, to = (t - timedelta(hours=1)).isoformat(), t.isoformat()
    answer = api.get(
        f"/api/v1/workers/{first.id}/track", query_string={"from": frm, "to": to}, headers=token
    )
    assert answer.status_code == 200 and answer.json["worker"] == first.id
    fixes = answer.json["fixes"]
    assert [f["at"] for f in fixes] == [r.at.isoformat() for r in rows]
    assert set(fixes[0]) == {"at", "lat", "lon", "accuracy", "speed", "valid", "flags"}
    assert [f["flags"] for f in fixes if not f["valid"]] == [["duplicate"]]


def test_alarm_sos_is_an_emergency_on_the_wall(tracked: Api) -> None:
    api = tracked
    first = api.workers(1)[0]
    grid = api.grid(5)
    query = f"/osmand?id=123456&lat={grid.lat}&lon={grid.lon}&alarm=sos"
    assert api.get(query).status_code == 200
    assert api.get(query).status_code == 200  # the same second resent: one case
    with api.services.db.read() as session:
        (case,) = session.scalars(select(Case)).all()
        assert (case.source, case.emergency, case.grid_code) == ("emergency", True, grid.code)
        assert case.reporter == first.id
        snapshot = wall_snapshot(session, UNLIMITED, TOWN_NOW, ZoneInfo("Asia/Shanghai"))
    assert [a["case_id"] for a in snapshot["alarms"]] == [case.id]


def test_the_track_is_scoped_and_bounded(tracked: Api) -> None:
    api = tracked
    first, second = api.workers(2)
    t = TOWN_NOW.astimezone(UTC)
    span = {"from": (t - timedelta(hours=1)).isoformat(), "to": t.isoformat()}
    phone = api.token(Role.GRID_WORKER, "phone", worker_id=first.id)
    own = api.get(f"/api/v1/workers/{first.id}/track", query_string=span, headers=phone)
    assert own.status_code == 200
    other = api.get(f"/api/v1/workers/{second.id}/track", query_string=span, headers=phone)
    assert other.status_code == 403
    elsewhere = api.token(Role.COMMANDER, "far", area="330681999")
    assert (
        api.get(
            f"/api/v1/workers/{first.id}/track", query_string=span, headers=elsewhere
        ).status_code
        == 404
    )
    token = api.token(Role.COMMANDER)
    too_long = {"from": (t - timedelta(days=40)).isoformat(), "to": t.isoformat()}
    assert (
        api.get(
            f"/api/v1/workers/{first.id}/track", query_string=too_long, headers=token
        ).status_code
        == 422
    )
    naive = {"from": "2026-11-23T08:00:00", "to": t.isoformat()}
    assert (
        api.get(f"/api/v1/workers/{first.id}/track", query_string=naive, headers=token).status_code
        == 422
    )


def test_patrol_summary_equals_the_stored_fixes_and_everyone_at_a_moment(tracked: Api) -> None:
    api = tracked
    first = api.workers(1)[0]
    grid = api.grid(0)
    t = TOWN_NOW.astimezone(UTC) - timedelta(hours=2)
    locations = [
        {
            "timestamp": (t + timedelta(minutes=i)).isoformat(),
            "coords": {"latitude": grid.lat + (i % 7) * 0.0003, "longitude": grid.lon},
        }
        for i in range(60)
    ]
    assert (
        api.post("/osmand", json={"device_id": "123456", "location": locations}).status_code == 200
    )
    token = api.token(Role.COMMANDER)
    span = {"from": t.isoformat(), "to": (t + timedelta(hours=2)).isoformat()}
    answer = api.get(f"/api/v1/workers/{first.id}/patrol", query_string=span, headers=token).json
    rows = [r for r in _rows(api, first.id) if r.valid]
    direct = sum(haversine_m(a.lon, a.lat, b.lon, b.lat) for a, b in itertools.pairwise(rows))
    assert answer["distance_m"] == pytest.approx(direct, abs=0.1)
    assert answer["patrol_s"] == (rows[-1].at - rows[0].at).total_seconds()
    assert 0 <= answer["household_coverage"] <= 1 and answer["fixes"] == 60

    moment = (t + timedelta(minutes=30, seconds=20)).isoformat()
    everyone = api.get("/api/v1/tracks/moment", query_string={"at": moment}, headers=token).json
    (me,) = [w for w in everyone["workers"] if w["worker"] == first.id]
    assert me["at"] == (t + timedelta(minutes=30)).isoformat()
    area = api.get(
        "/api/v1/patrol", query_string={"area": grid.village_code, **span}, headers=token
    ).json
    mine = [w for w in area["workers"] if w["worker"] == first.id]
    assert mine == [] or mine[0]["distance_m"] == answer["distance_m"]


def test_who_is_inside_a_grid_now_and_since_when(tracked: Api) -> None:
    api = tracked
    first = api.workers(1)[0]
    grid = api.grid(0)
    t = TOWN_NOW.astimezone(UTC)
    outside = {
        "timestamp": (t - timedelta(minutes=30)).isoformat(),
        "coords": {"latitude": api.grid(40).lat, "longitude": api.grid(40).lon},
    }
    inside = [
        {
            "timestamp": (t - timedelta(minutes=m)).isoformat(),
            "coords": {"latitude": grid.lat, "longitude": grid.lon + m * 1e-6},
        }
        for m in (20, 10, 1)
    ]
    body = {"device_id": "123456", "location": [outside, *inside]}
    assert api.post("/osmand", json=body).status_code == 200
    token = api.token(Role.COMMANDER)
    answer = api.get("/api/v1/geofence", query_string={"area": grid.code}, headers=token).json
    (me,) = [w for w in answer["inside"] if w["worker"] == first.id]
    assert me["since"] == (t - timedelta(minutes=20)).isoformat() and me["dwell_s"] == 20 * 60
    village = api.get("/api/v1/geofence", query_string={"area": grid.village_code}, headers=token)
    assert first.id in [w["worker"] for w in village.json["inside"]]
    bad = api.get("/api/v1/geofence", query_string={"area": "33"}, headers=token)
    assert bad.status_code == 422

    # The wall's map: a click at a point names its grid and village, who is inside each now.
    wall = api.token(Role.WALL)
    click = api.get(
        "/api/v1/wall/geofence", query_string={"lon": grid.lon, "lat": grid.lat}, headers=wall
    )
    assert click.status_code == 200, click.json
    here = click.json
    assert (here["grid"]["code"], here["village"]["code"]) == (grid.code, grid.village_code)
    assert here["village"]["name"] and here["village"]["name"] != grid.village_code
    number = int(grid.code[len(grid.village_code) :])
    assert here["grid"]["name"] == f"{here['village']['name']}第{number}网格"
    english = api.get(
        "/api/v1/wall/geofence",
        query_string={"lon": grid.lon, "lat": grid.lat, "lang": "en"},
        headers=wall,
    ).json
    assert english["grid"]["name"] == f"{here['village']['name']} grid {number}"
    (me,) = [w for w in here["grid"]["inside"] if w["worker"] == first.id]
    assert me["dwell_s"] == 20 * 60 and me["name"] == first.name
    assert first.id in [w["worker"] for w in here["village"]["inside"]]
    nowhere = {"lon": 30.0, "lat": 60.0}  # no grid of the town there
    assert api.get("/api/v1/wall/geofence", query_string=nowhere, headers=wall).status_code == 404
    for bad_point in ({"lon": "east", "lat": 1}, {"lon": 200, "lat": 1}, {}):
        answer = api.get("/api/v1/wall/geofence", query_string=bad_point, headers=wall)
        assert answer.status_code == 400


def test_concurrent_one_fix_requests_are_committed_together(pg_tracked: Api) -> None:
    """The OsmAnd door's group commit: requests that arrive while a batch is being written are
    stored together in the next transaction, each answered once its own fix is committed; a
    request whose fix cannot be stored fails alone. On PostgreSQL: the test holds a row lock
    to make the requests queue up."""
    api = pg_tracked
    import threading
    import time

    from sqlalchemy import text

    from dashboard.services.positions import Fix

    with api.app.app_context():
        group = context().osmand.group
    workers = [w.id for w in api.workers(12)]
    now = TOWN_NOW.astimezone(UTC)
    results: dict[str, Any] = {}

    def wait_for(check: Any, what: str) -> None:
        deadline = time.monotonic() + 20
        while not check():
            assert time.monotonic() < deadline, what
            time.sleep(0.01)

    def send(worker: str, i: int) -> None:
        fix = Fix(worker, 120.3 + i * 1e-4, 29.6, now - timedelta(seconds=60 - i), 5.0)
        try:
            results[worker] = group.store([fix], now)
        except Exception as err:  # the unknown worker's foreign key
            results[worker] = err

    with api.services.db.transaction() as blocker:  # the first writer waits on this row lock
        blocker.execute(text("LOCK TABLE worker_positions IN EXCLUSIVE MODE"))
        before = group.batches
        threads = [threading.Thread(target=send, args=(workers[0], 0))]
        threads[0].start()
        wait_for(lambda: group.batches == before + 1, "the first batch started")
        for i, worker in enumerate([*workers[1:], "NO-SUCH-WORKER"], start=1):
            threads.append(threading.Thread(target=send, args=(worker, i)))
            threads[-1].start()
        wait_for(lambda: group.waiting() == 12, "eleven workers and an unknown one queued")
    for thread in threads:
        thread.join(30)
    assert group.batches == before + 2  # the first one, then the eleven others together
    assert isinstance(results.pop("NO-SUCH-WORKER"), Exception)  # alone: retried one by one
    assert all(r.stored == 1 for r in results.values()), results
    assert sorted(results) == sorted(workers)
    for worker in workers:
        assert len(_rows(api, worker)) >= 1


def test_the_printable_track_map_is_a_pdf_with_the_stops(lite_tracked: Api) -> None:
    """One worker's track printed (Chromium, the CJK fonts): the stop's times are in its text.
    On SQLite alone: the track read is the same on both backends, one rendering is enough."""
    api = lite_tracked
    import subprocess

    first = api.workers(1)[0]
    grid = api.grid(0)
    t = TOWN_NOW.astimezone(UTC) - timedelta(hours=2)
    locations = [  # a walk (~100 m a minute), 8 minutes in one place (a stop), then on
        {
            "timestamp": (t + timedelta(minutes=m)).isoformat(),
            "coords": {
                "latitude": grid.lat,
                "longitude": grid.lon + (min(m, 10) + max(0, m - 18)) * 1e-3,
            },
        }
        for m in range(0, 25)
    ]
    assert (
        api.post("/osmand", json={"device_id": "123456", "location": locations}).status_code == 200
    )
    token = api.token(Role.COMMANDER)
    span = {"from": t.isoformat(), "to": (t + timedelta(hours=1)).isoformat()}
    answer = api.get(f"/api/v1/workers/{first.id}/track.pdf", query_string=span, headers=token)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=answer.data, capture_output=True, check=True
    ).stdout.decode()
    local = TOWN_NOW.tzinfo
    start = (t + timedelta(minutes=10)).astimezone(local).strftime("%H:%M")
    assert "巡查轨迹图" in text and first.name in text and f"{start}:00" in text
    bad = api.get(
        f"/api/v1/workers/{first.id}/track.pdf", query_string={**span, "lang": "fr"}, headers=token
    )
    assert bad.status_code == 422
    nobody = api.get("/api/v1/workers/W-none/track.pdf", query_string=span, headers=token)
    assert nobody.status_code == 404
