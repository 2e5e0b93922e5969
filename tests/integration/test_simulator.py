"""The simulator against the real system, with a fake clock driving it through hours in seconds.

In process: ``InProcessClient`` over the app's real services (CaseService, PositionService) on
the seeded town. Over HTTP: ``HttpClient`` against the real app served on a free port, through
the public API (reports, actions, photo uploads, positions, villages). The app and its fixtures
are the intake API tests' (``tests/integration/test_api_support.py``): the seeded town of
``conftest.py``, the clock fixed at TOWN_NOW, the written tables emptied around each test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from dashboard.cli import main as cli_main
from dashboard.config import SimulatorConfig
from dashboard.domain.roles import Role
from dashboard.domain.status import CLOSED_STATUSES, Action, CaseStatus, Source
from dashboard.simulator.client import Act, Forbidden, Refused, Report, Unavailable
from dashboard.simulator.http_client import HttpClient
from dashboard.simulator.inprocess import InProcessClient
from dashboard.simulator.launch import RemoteRun, run_remote, start_in_process
from dashboard.simulator.runner import Simulator
from dashboard.simulator.world import world_from_db
from dashboard.storage.models import (
    Attachment,
    Case,
    CaseEvent,
    OutboxEvent,
    PositionFix,
    WorkerPosition,
)
from tests.integration.support import TOWN_NOW, TOWN_SEED
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401 - the fixtures api, lite_api and the apps they share
    apps_fixture,  # noqa: F401
    lite_api_fixture,  # noqa: F401
)

# A quiet day: a tenth of the town's real rate (~60 reports, plus the emergencies and a burst or
# two), departments at half speed so some cases run late, two workers walking, 4-minute ticks
# (the simulator skips ahead after a pause of over 5 minutes). About 300 steps in all.
QUIET_DAY = {
    "rate_multiplier": 0.1,
    "min_per_hour": 0,
    "handling_speed": 0.5,
    "burst_every_minutes": 720,
}


def simulator(api: Api, client: object, walkers: int = 5, **settings: object) -> Simulator:
    services = api.services
    return Simulator(
        client,  # type: ignore[arg-type]
        world_from_db(services.db),
        services.reference,
        services.clock,
        seed=TOWN_SEED,
        config=SimulatorConfig.model_validate(settings),
        walkers=world_from_db(services.db).workers[:walkers],
        start=TOWN_NOW,
    )


@contextmanager
def server_errors(api: Api) -> Iterator[None]:
    """A 500 answer (Unavailable to the client) re-raises the error the server logged."""
    api.errors.errors.clear()
    try:
        yield
    except Unavailable:
        if api.errors.errors:
            raise api.errors.errors[-1] from None
        raise


def fast_forward(api: Api, sim: Simulator, duration: timedelta, tick: timedelta) -> None:
    """Move the app's clock and step the simulator through ``duration``."""
    end = api.clock.now() + duration
    while api.clock.now() < end:
        api.clock.set(api.clock.now() + tick)
        with server_errors(api):
            sim.step(api.clock.now())


def count(api: Api, *where: object, model: type = Case) -> int:
    with api.services.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def red_villages(api: Api) -> set[str]:
    """Every village the outbox announced as red (the wall's deltas) during the test."""
    with api.services.db.read() as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "village"))
        return {e.payload["code"] for e in events if e.payload["status"] == "red"}


# --- in process -------------------------------------------------------------------------------


def test_a_simulated_day_in_process(lite_api: Api) -> None:
    sim = simulator(lite_api, InProcessClient(lite_api.services), walkers=2, **QUIET_DAY)
    fast_forward(lite_api, sim, timedelta(hours=24), tick=timedelta(minutes=4))
    end = lite_api.clock.now()
    assert not sim.stats.refused, sim.stats.refused  # every step legal
    created = count(lite_api)
    assert created == sim.stats.reports and 50 < created < 200
    closed = count(lite_api, Case.status.in_([s.value for s in CLOSED_STATUSES]))
    assert closed > 0.1 * created
    overdue = count(lite_api, Case.open.is_(True), Case.deadline < end)
    closed_late = count(lite_api, Case.closed_on_time.is_(False))
    assert overdue + closed_late > 0
    assert red_villages(lite_api)
    assert count(lite_api, model=PositionFix) == sim.stats.fixes > 500
    assert count(lite_api, model=WorkerPosition) == 2
    assert count(lite_api, CaseEvent.action == "self_handle", model=CaseEvent) > 0


@pytest.mark.parametrize("api", ["postgresql"], indirect=True)
def test_ten_minutes_on_postgresql(api: Api) -> None:
    sim = simulator(api, InProcessClient(api.services), rate_multiplier=1, handling_speed=30)
    fast_forward(api, sim, timedelta(minutes=10), tick=timedelta(seconds=30))
    assert not sim.stats.refused and sim.stats.reports > 10
    assert count(api) == sim.stats.reports
    assert count(api, Case.status == CaseStatus.CLOSED.value) > 0
    assert red_villages(api)
    assert count(api, model=PositionFix) == sim.stats.fixes > 0


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


def test_the_demo_thread_runs_on_the_apps_services(lite_api: Api) -> None:
    runner = start_in_process(lite_api.services)
    assert runner is not None
    try:
        lite_api.clock.set(TOWN_NOW + timedelta(minutes=3))  # the demo's clock moves on
        wait_for(lambda: runner.simulator.stats.reports > 0 and runner.simulator.stats.fixes > 0)
    finally:
        runner.stop()
    assert not runner.alive
    assert count(lite_api, Case.source == Source.EMERGENCY.value) == 1  # the alarm, at +2 min


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def server(lite_api: Api) -> Iterator[str]:
    """The real app on a free port (werkzeug, threaded), for as long as the test runs."""
    httpd = make_server("127.0.0.1", 0, lite_api.app, threaded=True)
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05,), name="test-server", daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


def commander_token(api: Api, name: str = "simulator") -> str:
    return api.token(Role.COMMANDER, name)["Authorization"].removeprefix("Bearer ")


def test_a_quarter_of_an_hour_through_the_public_api(lite_api: Api, server: str) -> None:
    client = HttpClient(server, commander_token(lite_api))
    sim = simulator(lite_api, client, rate_multiplier=1, handling_speed=30)
    fast_forward(lite_api, sim, timedelta(minutes=15), tick=timedelta(seconds=30))
    client.close()
    assert not sim.stats.refused, sim.stats.refused
    assert count(lite_api) == sim.stats.reports > 15
    assert red_villages(lite_api)
    assert count(lite_api, model=PositionFix) == sim.stats.fixes > 0
    # Result photos were uploaded as real JPEGs and every "handled" step cites its own.
    with lite_api.services.db.read() as session:
        steps = session.scalars(
            select(CaseEvent).where(CaseEvent.action.in_(["handled", "self_handle"]))
        ).all()
        photos = {i: case for i, case in session.execute(select(Attachment.id, Attachment.case_id))}
    assert steps and photos
    for step in steps:
        ids = step.attachments["ids"]
        assert ids and all(photos[i] == step.case_id for i in ids)
        assert step.actor == "simulator"  # the API records the token's name


def test_the_http_client_translates_the_apis_answers(lite_api: Api, server: str) -> None:
    client = HttpClient(server, commander_token(lite_api))
    grid = lite_api.grid(0)
    report = Report(
        "10001",
        "暴露垃圾",
        grid.lon,
        grid.lat,
        Source.HOTLINE,
        "",
        Role.INTEGRATION,
        idempotency_key="k-1",
    )
    first = client.report(report)
    assert first.status is CaseStatus.REPORTED and first.grid == grid.code
    assert client.report(report) == first  # the same key: the same case
    with pytest.raises(Refused) as unknown:
        client.report(replace(report, category="99999", idempotency_key=None))
    assert unknown.value.code == "unknown_category"
    assert {v.code for v in client.villages()} >= {grid.village_code}
    with pytest.raises(Forbidden):
        HttpClient(server, "gcc_not-a-token").villages()
    with pytest.raises(Unavailable):
        HttpClient("http://127.0.0.1:9", "x", timeout=2).villages()  # nothing listens there
    assert count(lite_api) == 1


def test_both_clients_list_the_open_cases_the_simulator_adopts(lite_api: Api, server: str) -> None:
    http = HttpClient(server, commander_token(lite_api))
    grid = lite_api.grid(0)
    case = http.report(
        Report("10001", "暴露垃圾", grid.lon, grid.lat, Source.HOTLINE, "", Role.INTEGRATION)
    )
    http.act(case.id, Act(Action.ACCEPT, "受理员", Role.DISPATCHER))
    registered = http.act(case.id, Act(Action.REGISTER, "值班长", Role.COMMANDER))
    closed = http.report(
        Report("10001", "暴露垃圾", grid.lon, grid.lat, Source.GRID_WORKER, "w", Role.GRID_WORKER)
    )
    http.act(closed.id, Act(Action.SELF_HANDLE, "w", Role.GRID_WORKER, category="10001", photos=1))
    http.act(closed.id, Act(Action.CLOSE, "值班长", Role.COMMANDER))
    over_http = http.open_cases()
    in_process = InProcessClient(lite_api.services).open_cases()
    assert [c.id for c in over_http] == [c.id for c in in_process] == [case.id]
    for found in (over_http[0], in_process[0]):
        assert (found.status, found.source, found.category) == (
            CaseStatus.REGISTERED,
            Source.HOTLINE,
            "10001",
        )
        assert found.village == grid.village_code and found.deadline == registered.deadline
        assert found.emergency is False
    assert in_process[0].grid == grid.code and over_http[0].grid is None  # not in the list API
    http.close()


def test_an_illegal_step_over_http_is_refused(lite_api: Api, server: str) -> None:
    client = HttpClient(server, commander_token(lite_api))
    grid = lite_api.grid(0)
    case = client.report(
        Report("10001", "暴露垃圾", grid.lon, grid.lat, Source.HOTLINE, "", Role.INTEGRATION)
    )
    with server_errors(lite_api), pytest.raises(Refused) as illegal:
        client.act(case.id, Act(Action.CLOSE, "值班长", Role.COMMANDER))
    assert illegal.value.code == "illegal_transition"
    with server_errors(lite_api):
        accepted = client.act(case.id, Act(Action.ACCEPT, "受理员", Role.DISPATCHER))
    assert accepted.status is CaseStatus.ACCEPTED


def test_run_remote_bursts_reports_into_the_server(lite_api: Api, server: str) -> None:
    run = RemoteRun(server, commander_token(lite_api), "town", TOWN_SEED, burst=30, threads=3)
    assert run_remote(run, lite_api.services.config) == 0
    assert count(lite_api) == 30
    # The simulator follows the server's clock (fixed at TOWN_NOW), not this machine's date.
    assert count(lite_api, Case.occurred_at > TOWN_NOW + timedelta(minutes=1)) == 0
    assert count(lite_api, Case.occurred_at < TOWN_NOW - timedelta(days=1)) == 0


def test_simulate_refuses_to_start_without_a_usable_token(
    lite_api: Api, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GCC_SIMULATOR_TOKEN", raising=False)
    assert cli_main(["simulate", "--url", server]) == 2
    assert cli_main(["simulate", "--url", server, "--token", "gcc_wrong"]) == 2
    assert count(lite_api) == 0
