"""Benchmark: publish → screen latency of the live wall, 20 real websocket screens.

A real server (``run.py serve``, the seeded town on SQLite; since issue 15 the production server,
gunicorn with one worker) and 20 ``socketio.Client``s over websocket, in 4 processes of 5, all
connected to ``/live`` with a wall token. Events carry the wall-clock time they were published
(``time.time()``; one machine, one clock); each screen measures its latency when the ``delta``
reaches its handler. Three paths:

* **memory, outbox** — the embedded deployment (``[bus] backend = "memory"``): this process writes
  outbox rows into the server's database (the stamp is taken just before the commit), the
  server's relay picks them up (a writer in another process cannot wake it: it polls, every 10 ms
  while busy, 150 ms when idle) and publishes on the in-process bus to the screens.
* **redis, outbox** — the same with ``[bus] backend = "redis"``: relay → Redis → the server's
  subscriber → screens.
* **redis, bus** — events published straight on the deployment's Redis channel (as a relay in
  another server process does), so no database and no polling: Redis → subscriber → screens.

At 10, 100 and 1,000 events/s, after one unmeasured second at 20 events/s (first-use costs).
Sent and received counts show losses (received should be 20 × sent). Run alone:
``python -m bench.bench_push``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import percentiles
from dashboard.domain.roles import Role
from dashboard.storage.bus import Event
from dashboard.storage.db import Database
from dashboard.storage.outbox import enqueue, last_published_id
from streams.redis_bus import RedisBus
from tests.integration.live_helpers import (
    Deployment,
    LiveClient,
    Server,
    make_deployment,
    redis_bus_config,
    start_server,
)

REDIS_URL = "redis://127.0.0.1:6379/15"
SCREENS, PROCESSES = 20, 4
RATES = ((10, 5.0), (100, 5.0), (1_000, 3.0))  # events per second, seconds
DRAIN_S = 20.0  # how long screens may take to receive a run's last events
TOPIC = "bench"


# --- the screens (in child processes) ---------------------------------------------------------


def _screens(url: str, token: str, n: int, commands: Any, results: Any) -> None:
    """Connect ``n`` screens; per command ``(run, count)`` report that run's latencies."""
    samples: dict[str, list[float]] = {}
    lock = threading.Lock()

    def on_delta(data: dict[str, Any]) -> None:
        received = time.time()
        payload = data.get("payload", {})
        if data.get("topic") == TOPIC:
            with lock:
                samples.setdefault(payload["run"], []).append(received - payload["t"])

    screens = []
    for _ in range(n):
        screen = LiveClient()
        screen.client.on("delta", on_delta, namespace="/live")
        screens.append(screen.connect(url, token))
    for screen in screens:
        screen.wait_event("snapshot")
    results.put(("ready", n))
    while (command := commands.get()) is not None:
        run, count = command
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline:
            with lock:
                if len(samples.get(run, ())) >= count * n:
                    break
            time.sleep(0.05)
        with lock:
            got = samples.pop(run, [])
        snapshots = sum(len(s.events("snapshot")) for s in screens) - n
        results.put((run, got, snapshots))
    closing = [threading.Thread(target=s.disconnect) for s in screens]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join()


@dataclass
class Screens:
    commands: list[Any]
    results: Any
    processes: list[Any]

    @classmethod
    def start(cls, url: str, token: str) -> Screens:
        ctx = mp.get_context("spawn")
        results = ctx.Queue()
        commands = [ctx.Queue() for _ in range(PROCESSES)]
        per = SCREENS // PROCESSES
        processes = [
            ctx.Process(target=_screens, args=(url, token, per, q, results), daemon=True)
            for q in commands
        ]
        for process in processes:
            process.start()
        for _ in processes:
            assert results.get(timeout=120)[0] == "ready"
        return cls(commands, results, processes)

    def collect(self, run: str, count: int) -> tuple[list[float], int]:
        for q in self.commands:
            q.put((run, count))
        latencies: list[float] = []
        snapshots = 0
        for _ in self.processes:
            name, got, extra = self.results.get(timeout=DRAIN_S + 60)
            assert name == run
            latencies += got
            snapshots += extra
        return latencies, snapshots

    def stop(self) -> None:
        for q in self.commands:
            q.put(None)
        for process in self.processes:
            process.join(30)


# --- the publishers -----------------------------------------------------------------------------


def _paced(rate: int, seconds: float, send: Callable[[list[int]], None]) -> int:
    """Call ``send`` with the indexes due so far, ``rate`` a second for ``seconds``."""
    total = int(rate * seconds)
    start, sent = time.perf_counter(), 0
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        if due > sent:
            send(list(range(sent, due)))
            sent = due
        else:
            time.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    return total


def outbox_writer(db: Database, run: str) -> Callable[[list[int]], None]:
    def send(indexes: list[int]) -> None:
        with db.transaction() as session:
            stamp = time.time()
            for i in indexes:
                enqueue(session, TOPIC, {"run": run, "i": i, "t": stamp}, datetime.now(UTC))
            # the commit follows at once: the stamp is the publish time to within it

    return send


# --- the runs -----------------------------------------------------------------------------------


@dataclass
class Row:
    path: str
    rate: int
    sent: int
    received: int
    latencies: list[float]
    snapshots: int

    def cells(self) -> list[str]:
        p50, p95, p99 = percentiles(self.latencies, 50, 95, 99) if self.latencies else [0, 0, 0]
        worst = max(self.latencies, default=0.0)
        return [
            self.path,
            f"{self.rate:,}/s",
            f"{self.sent:,}",
            f"{self.received:,} of {self.sent * SCREENS:,}",
            *(f"{v * 1000:.1f} ms" for v in (p50, p95, p99, worst)),
            str(self.snapshots),
        ]


def _measure(
    path: str, screens: Screens, make_sender: Callable[[str], Callable[[list[int]], None]]
) -> list[Row]:
    rows = []
    warm_up = f"{path}-warm-up-{uuid.uuid4().hex[:6]}"  # first-use costs, not measured
    screens.collect(warm_up, _paced(20, 1.0, make_sender(warm_up)))
    for rate, seconds in RATES:
        run = f"{path}-{rate}-{uuid.uuid4().hex[:6]}"
        sent = _paced(rate, seconds, make_sender(run))
        latencies, snapshots = screens.collect(run, sent)
        rows.append(Row(path, rate, sent, len(latencies), latencies, snapshots))
        print(f"  {path} {rate}/s: {len(latencies)} of {sent * SCREENS}", file=sys.stderr)
    return rows


def _with_server(
    deployment: Deployment, name: str, body: Callable[[Server, str], list[Row]]
) -> list[Row]:
    # BENCH_SERVE_ARGS="--dev": the same run on the development server, for a side by side.
    server = start_server(deployment, name, None, *os.environ.get("BENCH_SERVE_ARGS", "").split())
    try:
        server.wait_healthy()
        return body(server, deployment.token(f"bench-{name}", Role.WALL))
    finally:
        server.stop()


def _memory(deployment: Deployment) -> list[Row]:
    def body(server: Server, token: str) -> list[Row]:
        screens = Screens.start(server.url, token)
        db = Database.from_url(deployment.database_url)
        try:
            return _measure("memory, outbox", screens, lambda run: outbox_writer(db, run))
        finally:
            screens.stop()
            db.dispose()

    return _with_server(deployment, "memory", body)


def _redis(deployment: Deployment, channel: str) -> list[Row]:
    def body(server: Server, token: str) -> list[Row]:
        screens = Screens.start(server.url, token)
        db = Database.from_url(deployment.database_url)
        bus = RedisBus(REDIS_URL, channel)
        try:
            rows = _measure("redis, outbox", screens, lambda run: outbox_writer(db, run))
            with db.read() as session:
                last = last_published_id(session)  # chain on from the relay's last event
            sender = _chained_bus_sender(bus, last)
            rows += _measure("redis, bus", screens, sender)
            return rows
        finally:
            screens.stop()
            bus.close()
            db.dispose()

    return _with_server(deployment, "redis", body)


def _chained_bus_sender(bus: RedisBus, last: int) -> Callable[[str], Callable[[list[int]], None]]:
    state = {"seq": last}

    def make(run: str) -> Callable[[list[int]], None]:
        def send(indexes: list[int]) -> None:
            for i in indexes:
                payload = {"run": run, "i": i, "t": time.time()}
                bus.publish(Event(TOPIC, payload, seq=state["seq"] + 1, prev=state["seq"]))
                state["seq"] += 1

        return send

    return make


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        deployment = make_deployment(Path(tmp))
        rows = _memory(deployment)
        channel = f"bench-push-{uuid.uuid4().hex[:8]}"
        redis_config = Path(tmp) / "redis.toml"
        redis_config.write_text(
            deployment.config.read_text() + redis_bus_config(REDIS_URL, channel), encoding="utf-8"
        )
        redis_deployment = Deployment(
            deployment.dir, redis_config, deployment.database_url, deployment.env, deployment.port
        )
        rows += _redis(redis_deployment, channel)
    return _report(rows)


def _report(rows: list[Row]) -> str:
    head = ["path", "rate", "sent", "received", "p50", "p95", "p99", "max", "extra snapshots"]
    lines = [
        "## push: publish → screen latency",
        "",
        f"{SCREENS} `socketio.Client` screens over websocket ({PROCESSES} processes) on one "
        "`run.py serve` process (the seeded town, SQLite), a wall token each. Latency = the "
        "screen's receipt time − the event's publish stamp, over every (event, screen) pair. "
        "_memory, outbox_: rows written by another process, found by the relay's poll (10 ms "
        "while busy), published on the in-process bus. _redis, outbox_: the same through Redis. "
        "_redis, bus_: events published straight on the Redis channel (no database, no poll). "
        "Everything (server, screens, writer, Redis) shares the 2 cores.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(row.cells()) + " |" for row in rows),
        "",
        "Aim: p99 under 100 ms at 100 events/s. 'extra snapshots' counts snapshots after the "
        "first (a screen that saw a gap); 0 means every screen got every delta in order.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
