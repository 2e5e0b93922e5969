"""What the wall's screen receives (dashboard.read.wall.wall_view): its level, the towns
above a town, an area narrowed within a scope, and positions as columns — SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from dashboard.domain.permissions import UNLIMITED, Scope
from dashboard.read.wall import narrowed, wall_snapshot, wall_view, with_level
from dashboard.storage.models import GridWorker, WorkerPosition
from tests.integration.support import TOWN_NOW, Town

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = TOWN_NOW.astimezone(UTC)


@pytest.fixture
def patrolling(town: Town) -> Iterator[Town]:
    with town.db.read() as session:
        workers = session.query(GridWorker).order_by(GridWorker.id).limit(3).all()
    with town.db.transaction() as session:
        for worker, age in zip(workers, (1, 9, 11), strict=True):
            session.add(
                WorkerPosition(
                    worker_id=worker.id,
                    at=NOW - timedelta(minutes=age, seconds=30),
                    lon=worker.home_lon,
                    lat=worker.home_lat,
                    grid_code=worker.grid_code,
                )
            )
    yield town
    with town.db.transaction() as session:
        session.execute(delete(WorkerPosition))


def test_positions_travel_as_columns_equal_to_the_rows(patrolling: Town) -> None:
    with patrolling.db.read() as session:
        rows = wall_snapshot(session, UNLIMITED, NOW, SHANGHAI)["positions"]
        view = wall_view(session, UNLIMITED, NOW, SHANGHAI)
    cols = view["positions"]
    assert sorted(cols["ids"]) == sorted(r[0] for r in rows) and len(rows) == 2
    by_id = {r[0]: r for r in rows}
    for i, worker in enumerate(cols["ids"]):
        assert cols["lon"][i] == round(by_id[worker][1] * 1e5)
        assert cols["lat"][i] == round(by_id[worker][2] * 1e5)
    assert sorted(cols["age"]) == [90, 570]  # 1 min 30 s and 9 min 30 s before now
    assert view["kpis"]["on_patrol"] == 2


def test_one_town_is_a_town_wall_without_units(town: Town) -> None:
    with town.db.read() as session:
        view = wall_view(session, UNLIMITED, NOW, SHANGHAI)
    assert view["level"] == "town" and view["units"] == [] and view["area"] == ""


def test_above_a_town_the_units_are_the_towns_with_their_red_share(town: Town) -> None:
    with town.db.read() as session:
        data = wall_snapshot(session, UNLIMITED, NOW, SHANGHAI, with_positions=False)
    villages = data["villages"]
    # A second town (codes nest by prefix): the same villages under another town code.
    other = [{**v, "code": "330681110" + v["code"][9:], "status": "red"} for v in villages[:2]]
    with town.db.read() as session:
        view = with_level(session, {**data, "villages": villages + other}, "330681")
    assert view["level"] == "county" and view["area"] == "330681"
    units = {u["code"]: u for u in view["units"]}
    here = villages[0]["code"][:9]
    assert units["330681110"]["villages"] == 2 and units["330681110"]["red"] == 2
    assert units[here]["villages"] == len(villages)
    assert units[here]["red"] == sum(v["status"] == "red" for v in villages)
    assert units[here]["name"] != here  # the town's name from the database
    assert units["330681110"]["name"] == "330681110"  # unknown town: its code


def test_an_area_narrows_a_scope_but_never_widens_it() -> None:
    county = Scope(area_code="330681", department_code="urban")
    assert narrowed(county, "330681109") == Scope(area_code="330681109", department_code="urban")
    assert narrowed(county, "330682") is None
    assert narrowed(county, "") == county
    assert narrowed(UNLIMITED, "3306") == Scope(area_code="3306")
