"""The live wall over the in-process bus: one real server (``run.py serve``, SQLite), real
Socket.IO clients over websocket, cases reported through the real API (``POST /api/v1/cases``)."""

from __future__ import annotations

import itertools
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import socketio
from sqlalchemy import func, select

from dashboard.domain.roles import Role
from dashboard.storage.db import Database
from dashboard.storage.models import OutboxEvent
from dashboard.storage.outbox import enqueue
from tests.integration.live_helpers import (
    Deployment,
    LiveClient,
    Place,
    RawScreen,
    Server,
    case_body,
    chain_breaks,
    deltas_of,
    grid_points,
    make_deployment,
    start_server,
    wait_until,
    workers,
)


@dataclass
class Live:
    deployment: Deployment
    server: Server
    wall: str  # a wall screen's token, made with `run.py token create`
    reporter: str  # a grid worker's token: may report (in its own village), may not watch the wall
    dispatcher: str  # may watch the wall and acknowledge alarms
    integration: str  # the whole deployment's (a hotline's): reports anywhere, sends position fixes
    places: list[Place]
    clients: list[LiveClient]
    closing: list[threading.Thread]

    def screen(self, token: str | None = None) -> LiveClient:
        client = LiveClient().connect(self.server.url, self.wall if token is None else token)
        self.clients.append(client)
        return client

    def report(self, place: Place, **overrides: object) -> int:
        """A report at ``place``, in any village: sent with the integration token, as a phone
        token may report in its own worker's village only."""
        status, body = self.server.post(
            "/api/v1/cases", case_body(place, **overrides), self.integration
        )
        assert status == 201, body
        return int(body["id"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    deployment = make_deployment(tmp_path_factory.mktemp("live-memory"))
    server = start_server(deployment)
    try:
        # The wall token as an operator makes it (the CLI prints it last), while the server starts.
        wall = deployment.run("token", "create", "wall-1", "--role", "wall").splitlines()[-1]
        tokens = {
            role: deployment.token(f"{role.value}-1", role)
            for role in (Role.GRID_WORKER, Role.DISPATCHER, Role.INTEGRATION)
        }
        server.wait_healthy()
        live = Live(
            deployment,
            server,
            wall,
            tokens[Role.GRID_WORKER],
            tokens[Role.DISPATCHER],
            tokens[Role.INTEGRATION],
            grid_points(deployment.database_url),
            [],
            [],
        )
        yield live
        for thread in live.closing:
            thread.join()
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _screens_leave_after_each_test(live: Live) -> Iterator[None]:
    """Each test starts with no screen connected. The client takes ~3 s to finish closing (the
    server has let go at once): close in the background, wait at the end of the module."""
    yield
    for client in live.clients:
        thread = threading.Thread(target=client.disconnect)
        thread.start()
        live.closing.append(thread)
    live.clients.clear()


def _delta_of_case(client: LiveClient, case_id: int) -> dict[str, object] | None:
    return next((d for d in deltas_of(client) if d["payload"]["id"] == case_id), None)


def test_a_reported_case_reaches_the_screen_as_the_next_delta_after_the_snapshot(
    live: Live,
) -> None:
    screen = live.screen()
    snapshot = screen.wait_event("snapshot")[0]
    case_id = live.report(live.places[0])

    delta = screen.wait_for("the case's delta", lambda c: _delta_of_case(c, case_id))
    assert screen.sequence()[0][0] == "snapshot"  # snapshot first, then deltas
    assert delta["seq"] == snapshot["seq"] + 1  # SQLite ids have no gaps
    assert delta["prev"] == snapshot["seq"]
    assert delta["payload"]["action"] == "report"
    assert delta["payload"]["village"] == live.places[0].village
    assert not chain_breaks(screen.sequence())


def test_a_screen_that_reconnects_gets_a_fresh_snapshot(live: Live) -> None:
    first = live.screen()
    first.wait_event("snapshot")
    case_id = live.report(live.places[1])
    delta = first.wait_for("the case's delta", lambda c: _delta_of_case(c, case_id))
    first.disconnect()

    again = live.screen()
    snapshot = again.wait_event("snapshot")[0]
    assert snapshot["seq"] >= delta["seq"]  # it already holds the case
    assert datetime.fromisoformat(snapshot["at"]) >= datetime.fromisoformat(delta["at"])


def test_resync_answers_with_a_snapshot_of_the_newest_seq(live: Live) -> None:
    screen = live.screen()
    screen.wait_event("snapshot")
    case_id = live.report(live.places[2])
    delta = screen.wait_for("the case's delta", lambda c: _delta_of_case(c, case_id))

    assert screen.call("resync", {}) == {"ok": True}
    snapshots = screen.wait_event("snapshot", count=2)
    assert snapshots[-1]["seq"] >= delta["seq"]
    assert not chain_breaks(screen.sequence())


def test_a_refresh_carries_the_villages_that_changed_and_no_positions(live: Live) -> None:
    screen = live.screen()
    first = screen.wait_event("snapshot")[0]
    assert "positions" in first["data"] and "refresh" not in first
    place = live.places[3]
    case_id = live.report(place, emergency=True)  # its village turns red
    delta = screen.wait_for("the case's delta", lambda c: _delta_of_case(c, case_id))
    screen.wait_for("the village's delta", lambda c: deltas_of(c, "village"))

    assert screen.call("resync", {"refresh": True}) == {"ok": True}
    refresh = screen.wait_event("snapshot", count=2)[-1]
    assert refresh["refresh"] is True and refresh["seq"] >= delta["seq"]
    assert "positions" not in refresh["data"] and "on_patrol" not in refresh["data"]["kpis"]
    codes = {v["code"] for v in refresh["data"]["villages"]}
    assert place.village in codes and len(codes) < len(first["data"]["villages"])
    assert refresh["data"]["feed"][0]["id"] == case_id  # the panels, whole
    assert not chain_breaks(screen.sequence())


def test_a_screen_without_a_wall_principal_is_refused(live: Live) -> None:
    attempts = {None: "unauthorized", "gcc_not-a-token": "unauthorized", live.reporter: "forbidden"}
    clients = {token: LiveClient() for token in attempts}

    def attempt(token: str | None) -> None:
        with pytest.raises(socketio.exceptions.ConnectionError):
            clients[token].connect(live.server.url, token)

    # The client takes ~3 s to close a refused connection: try all three at once.
    threads = [threading.Thread(target=attempt, args=(t,)) for t in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for token, reason in attempts.items():
        assert clients[token].events("connect_error") == [{"message": reason}], token
        assert not clients[token].events("snapshot")


def test_an_area_screen_gets_only_its_area_and_an_unbroken_chain(live: Live) -> None:
    inside = live.places[3]
    outside = next(p for p in live.places if p.village != inside.village)
    area = live.deployment.token("wall-village", Role.WALL, area=inside.village)
    village_screen, full_screen = live.screen(area), live.screen()
    village_screen.wait_event("snapshot")
    full_screen.wait_event("snapshot")

    first, other, last = live.report(inside), live.report(outside), live.report(inside)
    village_screen.wait_for("the last case", lambda c: _delta_of_case(c, last))
    full_screen.wait_for("the last case", lambda c: _delta_of_case(c, last))

    seen = {d["payload"]["id"] for d in deltas_of(village_screen)}
    assert {first, last} <= seen and other not in seen
    assert other in {d["payload"]["id"] for d in deltas_of(full_screen)}
    village_places = {d["payload"].get("village") for d in village_screen.events("delta")}
    assert village_places <= {inside.village}
    assert not chain_breaks(village_screen.sequence())  # prev skips the other village's events
    assert not chain_breaks(full_screen.sequence())


def test_an_emergency_raises_an_alarm_that_only_a_desk_may_acknowledge(live: Live) -> None:
    wall, desk = live.screen(), live.screen(live.dispatcher)
    wall.wait_event("snapshot")
    desk.wait_event("snapshot")
    case_id = live.report(live.places[4], emergency=True)

    alarm = wall.wait_for(
        "the alarm", lambda c: next((a for a in c.events("alarm") if a["case_id"] == case_id), 0)
    )
    assert alarm["emergency"] is True and alarm["action"] == "report"
    stream = wall.sequence()
    at = next(
        i for i, (e, d) in enumerate(stream) if e == "delta" and d["payload"]["id"] == case_id
    )
    assert stream[at + 1] == ("alarm", alarm)  # right after its delta

    assert wall.call("ack_alarm", {"case_id": case_id}) == {"ok": False, "error": "forbidden"}
    assert desk.call("ack_alarm", {"case_id": "1"}) == {"ok": False, "error": "bad_request"}
    assert desk.call("ack_alarm", {"case_id": case_id}) == {"ok": True}
    ack = wall.wait_for("the acknowledgement", lambda c: deltas_of(c, "alarm_ack"))[-1]
    assert ack["payload"]["case_id"] == case_id
    assert ack["payload"]["by"] == "dispatcher-1"

    def answer() -> dict[str, object] | None:
        reply: dict[str, object] = desk.call("ack_alarm", {"case_id": 999_999})
        return None if reply.get("error") == "rate_limited" else reply

    assert wait_until(answer, 10, "an answer after the rate limit") == {
        "ok": False,
        "error": "case_not_found",
    }


def test_positions_are_merged_per_screen_at_most_once_a_second(live: Live) -> None:
    staff = workers(live.deployment.database_url, 50)
    walker, home = staff[0]
    other = next(w for w, village in staff if village != home)
    screen, village_screen = (
        live.screen(),
        live.screen(live.deployment.token("wall-pos", Role.WALL, home)),
    )
    screen.wait_event("snapshot")
    village_screen.wait_event("snapshot")
    base = datetime.now(UTC) - timedelta(minutes=5)
    place = live.places[0]

    def send(*fixes: tuple[str, float]) -> None:
        body = {
            "fixes": [
                {
                    "worker": worker,
                    "lon": place.lon,
                    "lat": place.lat,
                    "time": (base + timedelta(seconds=seconds)).isoformat(),
                }
                for worker, seconds in fixes
            ]
        }
        status, answer = live.server.post("/api/v1/positions", body, live.integration)
        assert status == 200, answer

    def shown(worker: str, seconds: float, on: LiveClient = screen) -> bool:
        at = base + timedelta(seconds=seconds)
        return any(
            f[0] == worker and datetime.fromisoformat(f[3]) == at
            for batch in on.events("positions")
            for f in batch["fixes"]
        )

    for k in range(1, 4):  # three rounds, each two batches in quick succession
        send((walker, k), (other, k))
        send((walker, k + 0.5), (walker, -k))  # -k: a late fix from a phone's backlog
        screen.wait_for(f"round {k}", lambda c, k=k: shown(walker, k + 0.5) and shown(other, k))
    village_screen.wait_for("the walker's last fix", lambda c: shown(walker, 3.5, on=c))
    seen_there = {f[0] for batch in village_screen.events("positions") for f in batch["fixes"]}
    assert seen_there == {walker}  # an area screen sees only its own village's workers

    batches = [(t, d) for t, e, d in screen.records if e == "positions"]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(batches)]
    assert len(batches) >= 3 and min(gaps) > 0.8  # at most one batch a second
    for _, batch in batches:
        names = [f[0] for f in batch["fixes"]]
        assert len(names) == len(set(names))  # one fix per worker per batch
    walked = [
        datetime.fromisoformat(f[3]) for _, b in batches for f in b["fixes"] if f[0] == walker
    ]
    assert walked == sorted(walked) and walked[0] > base  # late fixes never move it back


def test_only_the_pages_own_origin_and_the_websocket_transport_are_accepted(live: Live) -> None:
    def handshake(transport: str, origin: str) -> tuple[int, str]:
        url = f"{live.server.url}/socket.io/?EIO=4&transport={transport}"
        request = urllib.request.Request(url, headers={"Origin": origin})
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    status, body = handshake("websocket", "http://elsewhere.example")
    assert (status, json.loads(body)) == (400, "Not an accepted origin.")
    status, body = handshake("polling", live.server.url)
    assert status == 400 and "transport" in body.lower()


def test_screens_joining_mid_stream_miss_nothing(live: Live) -> None:
    """Outbox rows written quickly by another process while screens connect and resync: every
    screen's stream stays chained (a snapshot, then deltas whose prev is what it holds)."""
    db = Database.from_url(live.deployment.database_url)
    watcher = live.screen()
    watcher.wait_event("snapshot")

    def write() -> None:
        for i in range(300):
            payload = {"i": i, "village": live.places[i % 9].village}
            with db.transaction() as session:
                enqueue(session, "probe", payload, datetime.now(UTC))

    writer = threading.Thread(target=write)
    writer.start()
    joiners = [live.screen() for _ in range(3)]
    joiners[0].call("resync", {})
    writer.join()
    db.dispose()

    def last_probe(client: LiveClient) -> dict[str, object] | None:
        probes = deltas_of(client, "probe")
        return probes[-1] if probes and probes[-1]["payload"]["i"] == 299 else None

    last = watcher.wait_for("every probe", last_probe)
    assert [d["payload"]["i"] for d in deltas_of(watcher, "probe")] == list(range(300))
    for client in (watcher, *joiners):
        client.wait_for("the last probe", last_probe)
        assert not chain_breaks(client.sequence())
        assert client.events("delta")[-1]["seq"] == last["seq"]


def test_a_screen_that_falls_behind_leaves_the_stream_and_rejoins_with_a_snapshot(
    live: Live,
) -> None:
    """A screen that stops reading (its TCP buffers full, then the server's queue) is taken off
    the stream; when it reads again it gets what was queued, a fresh snapshot, then deltas."""
    slow = RawScreen(live.server.url, live.wall)
    try:
        slow.read_until(lambda events: any(e == "snapshot" for e, _ in events), 10)
        db = Database.from_url(live.deployment.database_url)
        pad = "数" * 1500  # ~4.5 kB a delta: the socket buffers fill with a few thousand
        try:
            for batch in range(40):
                with db.transaction() as session:
                    for i in range(100):
                        payload = {"i": batch * 100 + i, "pad": pad}
                        enqueue(session, "probe", payload, datetime.now(UTC))
            with db.read() as session:
                newest = session.scalar(select(func.max(OutboxEvent.id)))
        finally:
            db.dispose()
        wait_until(lambda: "messages behind" in live.server.log_text(), 60, "the watchdog")

        seen = {"read": 0, "snapshots": 0, "held": 0}

        def caught_up(events: list[tuple[str, Any]]) -> bool:  # called per message: stay O(1)
            for event, data in events[seen["read"] :]:
                seen["snapshots"] += event == "snapshot"
                seen["held"] = data["seq"] if event in ("snapshot", "delta") else seen["held"]
            seen["read"] = len(events)
            return seen["snapshots"] >= 2 and seen["held"] == newest

        slow.resume()
        slow.read_until(caught_up, 120)
    finally:
        slow.close()
    assert not chain_breaks(slow.events)
    probes = [d["payload"]["i"] for e, d in slow.events if e == "delta" and d["topic"] == "probe"]
    assert probes == sorted(probes) and len(probes) < 4000  # it skipped what the snapshot holds
