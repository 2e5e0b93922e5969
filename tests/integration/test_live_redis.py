"""The live wall across processes: two ``run.py serve`` processes on one PostgreSQL database with
``[bus] backend = "redis"``, a screen on each, and events from a third process (this one).

The deployment's Redis is a server of this module's own (``PrivateRedis``): the last test stops it
mid-stream and starts it again on the same port, which nobody else (a developer's demo, the
suite's other run on another date) may notice.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from dashboard.config import load_config
from dashboard.container import Services
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.services.cases import CaseReport
from dashboard.storage.bus import Event
from dashboard.storage.models import OutboxEvent
from dashboard.wiring import build_services
from streams.redis_bus import RedisBus
from streams.socket import external_emitter
from tests.integration.live_helpers import (
    Deployment,
    LiveClient,
    Place,
    Server,
    chain_breaks,
    deltas_of,
    free_port,
    grid_points,
    make_deployment,
    redis_bus_config,
    start_server,
    wait_until,
)
from tests.integration.redis_server import PrivateRedis
from tests.integration.support import fresh_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@dataclass
class Cluster:
    deployment: Deployment
    servers: list[Server]
    wall: str
    places: list[Place]
    writer: Services  # a third process's services: its CaseService writes cases
    redis: PrivateRedis
    channel: str
    spy: list[Event]  # every event on the deployment's bus channel, as a subscriber sees it
    clients: list[LiveClient]

    def screen(self, server: Server) -> LiveClient:
        client = LiveClient().connect(server.url, self.wall)
        self.clients.append(client)
        return client

    def report(self, place: Place, text: str = "两户因排水沟堵塞发生争执") -> int:
        report = CaseReport(
            category_code="01002",
            description=text,
            lon=place.lon,
            lat=place.lat,
            source=Source.GRID_WORKER,
            actor="gw-third-process",
            role=Role.GRID_WORKER,
        )
        return self.writer.cases.report(report).id

    def unpublished(self) -> int:
        with self.writer.db.read() as session:
            query = select(func.count()).where(OutboxEvent.published_at.is_(None))
            return int(session.scalar(query) or 0)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Cluster]:
    channel = f"gcc-live-{uuid.uuid4().hex[:8]}"
    tmp = tmp_path_factory.mktemp("live-redis")
    own = PrivateRedis(tmp).start()
    redis_url = own.url
    with fresh_postgres_database(postgres_url, "live") as database_url:
        deployment = make_deployment(
            tmp, database_url=database_url, bus=redis_bus_config(redis_url, channel)
        )
        servers = [start_server(deployment, "one"), start_server(deployment, "two", free_port())]
        config = load_config(deployment.config)
        config = config.model_copy(
            update={"database": config.database.model_copy(update={"url": database_url})}
        )
        writer = build_services(config)
        spy_bus = RedisBus(redis_url, channel)
        spy: list[Event] = []
        spy_bus.subscribe(spy.append)
        try:
            wall = deployment.token("wall-1", Role.WALL)  # (the memory tests use the CLI)
            for server in servers:
                server.wait_healthy()
            assert spy_bus.wait_subscribed(10)
            cluster = Cluster(
                deployment,
                servers,
                wall,
                grid_points(database_url),
                writer,
                own,
                channel,
                spy,
                [],
            )
            yield cluster
            _close(cluster.clients)
        finally:
            spy_bus.close()
            writer.close()
            for server in servers:
                server.stop()
            own.stop()


def _close(clients: list[LiveClient]) -> None:
    closing = [threading.Thread(target=c.disconnect) for c in clients]
    for thread in closing:  # each takes the client ~3 s: close them together
        thread.start()
    for thread in closing:
        thread.join()


def _case_deltas(client: LiveClient, case_id: int) -> list[dict[str, Any]]:
    return [d for d in deltas_of(client) if d["payload"]["id"] == case_id]


def test_an_emit_from_a_third_process_reaches_screens_on_both_servers(cluster: Cluster) -> None:
    one, two = (cluster.screen(server) for server in cluster.servers)
    one.wait_event("snapshot")
    two.wait_event("snapshot")
    emitter = external_emitter(load_config(cluster.deployment.config))
    status = {"id": "cam-0001", "status": "offline", "fps": 0.0, "age": 12.5}

    def arrived() -> bool:
        # The servers join the Socket.IO queue when their first screen connects: emit again
        # until both have it.
        emitter.emit("camera", status, namespace="/live")
        return bool(one.events("camera") and two.events("camera"))

    wait_until(arrived, 15, "the camera status on both screens", step=0.2)
    assert one.events("camera")[0] == two.events("camera")[0] == status


def test_a_case_written_by_a_third_process_reaches_both_screens_once(cluster: Cluster) -> None:
    one, two = (cluster.screen(server) for server in cluster.servers)
    one.wait_event("snapshot")
    two.wait_event("snapshot")

    case_id = cluster.report(cluster.places[0])
    for client in (one, two):
        client.wait_for("the case", lambda c: _case_deltas(c, case_id))
    first, second = _case_deltas(one, case_id), _case_deltas(two, case_id)
    assert len(first) == len(second) == 1
    assert first[0]["seq"] == second[0]["seq"]
    published = [e for e in cluster.spy if e.topic == "case" and e.payload["id"] == case_id]
    assert len(published) == 1  # one relay of the two published it, once
    assert not chain_breaks(one.sequence()) and not chain_breaks(two.sequence())
    assert wait_until(lambda: cluster.unpublished() == 0, 10, "an empty outbox")


def test_redis_restarted_mid_stream_loses_no_case(cluster: Cluster) -> None:
    # One server only: a second one whose subscription came back later than the publishing
    # relay would (correctly) give its screens a fresh snapshot instead of the deltas.
    cluster.servers[1].stop()
    server = cluster.servers[0]
    screen = cluster.screen(server)
    screen.wait_event("snapshot")
    before = cluster.report(cluster.places[1])
    screen.wait_for("the case before the outage", lambda c: _case_deltas(c, before))

    cluster.redis.stop()
    # The bus down does not make the node unready (intake works): 200, the bus reported down.
    wait_until(lambda: server.health()[1]["bus"]["ok"] is False, 15, "/healthz to see the bus down")
    assert server.health()[0] == 200
    during = [cluster.report(cluster.places[2 + i], f"停电期间的事件 {i}") for i in range(5)]
    wait_until(lambda: "events wait in the outbox" in server.log_text(), 15, "the relay to notice")
    assert cluster.unpublished() >= len(during)  # kept, not lost

    cluster.redis.start()
    after = cluster.report(cluster.places[8])
    expected = [before, *during, after]
    screen.wait_for(
        "every case after the outage", lambda c: all(_case_deltas(c, i) for i in expected), 30
    )
    cases = [d for d in deltas_of(screen) if d["payload"]["id"] in expected]
    assert [d["payload"]["id"] for d in cases] == expected  # each once, in order
    seqs = [d["seq"] for d in cases]
    assert seqs == sorted(set(seqs))  # strictly increasing
    assert not chain_breaks(screen.sequence())
    assert [e for e, _ in screen.sequence()].count("snapshot") == 1  # no gap, no resync
    assert wait_until(lambda: cluster.unpublished() == 0, 10, "an empty outbox")


def test_a_server_that_missed_bus_events_resyncs_its_screens(cluster: Cluster) -> None:
    """An event whose ``prev`` is not the last seq this server saw means its subscription lost
    events (a reconnect): the delta still goes out, chained for the screen, then a snapshot."""
    server = next(s for s in cluster.servers if s.process.poll() is None)
    screen = cluster.screen(server)
    screen.wait_event("snapshot")
    publisher = RedisBus(cluster.redis.url, cluster.channel)
    try:  # as if the events 10**9 - 10 … 10**9 - 1 had been published while it was away
        payload = {"id": 10**9, "village": cluster.places[0].village}
        publisher.publish(Event("probe", payload, seq=10**9, prev=10**9 - 1))
    finally:
        publisher.close()
    screen.wait_event("snapshot", count=2)
    assert [e for e, _ in screen.sequence()][:3] == ["snapshot", "delta", "snapshot"]
    assert not chain_breaks(screen.sequence())
    assert "the bus skipped" in server.log_text()
