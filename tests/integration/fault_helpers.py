"""Helpers of the fault tests: the production server's processes, devices that retry, the count.

``Devices`` are phones reporting cases over HTTP as the field app does: each report has its own
``Idempotency-Key``, and a report that got no answer, a 503 or a connection error is sent again
with the same key until it is stored (201, or 200 for a retry the server already had). ``Tally``
is what each fault test reports: cases sent, stored (counted in the database), reached the
screens (as a delta, or inside a snapshot whose ``seq`` covers the case's outbox row).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dashboard.storage.db import Database
from dashboard.storage.models import Case, OutboxEvent
from tests.integration.live_helpers import (
    InOrderClient,
    LiveClient,
    Place,
    case_body,
    grid_points,
    wait_until,
)

MARK = "故障测试"  # in every fault test case's description


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (gunicorn's workers under its master)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(t) for t in text)
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def holder_of(client: LiveClient, pids: Iterable[int]) -> int | None:
    """Which of ``pids`` holds the server end of ``client``'s websocket."""
    sock = client.client.eio.ws.sock
    local_port = sock.getsockname()[1]
    server_port = sock.getpeername()[1]
    wanted: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            local, remote, inode = parts[1], parts[2], parts[9]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == local_port
            ):
                wanted.add(inode)
    for pid in pids:
        try:
            if _socket_inodes(pid) & wanted:
                return pid
        except OSError:
            continue
    return None


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    os.kill(pid, sig)


@dataclass
class Devices:
    """Phones posting cases to ``url`` from ``threads`` threads until stopped, retrying each
    report with its key until it is stored."""

    url: str
    token: str
    places: list[Place]
    threads: int = 2
    pause_s: float = 0.02
    sent: list[str] = field(default_factory=list)  # keys, once each
    stored: dict[str, int] = field(default_factory=dict)  # key → case id
    answers: dict[int, int] = field(default_factory=dict)  # status → count (0: no answer)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Devices:
        for i in range(self.threads):
            thread = threading.Thread(target=self._run, args=(i,), daemon=True)
            thread.start()
            self._running.append(thread)
        return self

    def stop(self, timeout: float = 60) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(timeout)
        assert not any(t.is_alive() for t in self._running), "a device did not finish"

    def _count(self, status: int) -> None:
        with self._lock:
            self.answers[status] = self.answers.get(status, 0) + 1

    def _run(self, index: int) -> None:
        host, port = self.url.removeprefix("http://").split(":")
        n = 0
        while not self._stop.is_set():
            key = f"fault-{index}-{n}-{uuid.uuid4().hex[:8]}"
            place = self.places[(index * 7 + n) % len(self.places)]
            body = json.dumps(case_body(place, description=f"{MARK} {key}")).encode()
            with self._lock:
                self.sent.append(key)
            self._until_stored(host, int(port), key, body)
            n += 1
            time.sleep(self.pause_s)

    def _until_stored(self, host: str, port: int, key: str, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.token}",
            "Idempotency-Key": key,
        }
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, answer = 0, None
            conn = http.client.HTTPConnection(host, port, timeout=10)
            try:
                conn.request("POST", "/api/v1/cases", body, headers)
                response = conn.getresponse()
                status, raw = response.status, response.read()
                answer = json.loads(raw) if raw.startswith(b"{") else None
            except (OSError, http.client.HTTPException):
                status = 0
            finally:
                conn.close()
            self._count(status)
            if status in (200, 201) and answer is not None:
                with self._lock:
                    self.stored[key] = int(answer["id"])
                return
            time.sleep(0.2)  # the phone's retry (its back-off, shortened)
        raise AssertionError(f"report {key} was never stored")


def reconnecting_screen(url: str, token: str) -> LiveClient:
    """A wall screen that reconnects by itself (to another worker, or after an outage), once it
    has its first snapshot."""
    client = InOrderClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
    screen = LiveClient(client=client).connect(url, token)
    screen.wait_event("snapshot")
    return screen


def reporting_phones(url: str, token: str, database_url: str, before: str) -> Devices:
    """Phones reporting cases into the grid, once ten have been stored (``before``: the fault
    they run up to, for the timeout's message)."""
    devices = Devices(url, token, grid_points(database_url)).start()
    wait_until(lambda: len(devices.stored) >= 10, 30, f"cases before the {before}")
    return devices


def stored_in_database(database_url: str) -> dict[str, list[int]]:
    """Key → ids of the fault test cases in the database (more than one id: a double)."""
    db = Database.from_url(database_url)
    try:
        with db.read() as session:
            rows = session.execute(
                select(Case.description, Case.id).where(Case.description.like(f"{MARK}%"))
            )
            found: dict[str, list[int]] = {}
            for description, case_id in rows:
                found.setdefault(str(description).split(" ", 1)[1], []).append(int(case_id))
            return found
    finally:
        db.dispose()


def case_seqs(database_url: str, case_ids: set[int]) -> dict[int, int]:
    """Case id → the seq (outbox id) of its report event."""
    db = Database.from_url(database_url)
    try:
        with db.read() as session:
            rows = session.execute(
                select(OutboxEvent.id, OutboxEvent.payload).where(OutboxEvent.topic == "case")
            )
            seqs: dict[int, int] = {}
            for seq, payload in rows:
                case_id = int(payload.get("id", 0))
                if case_id in case_ids:
                    seqs.setdefault(case_id, int(seq))
            return seqs
    finally:
        db.dispose()


def unpublished(database_url: str) -> int:
    db = Database.from_url(database_url)
    try:
        with db.read() as session:
            query = select(func.count()).where(OutboxEvent.published_at.is_(None))
            return int(session.scalar(query) or 0)
    finally:
        db.dispose()


@dataclass
class Tally:
    sent: int
    stored: int
    reached: int
    by_delta: int
    by_snapshot: int
    retries: int
    answers: dict[int, int]

    def line(self, what: str) -> str:
        return (
            f"{what}: sent {self.sent}, stored {self.stored}, reached the screen {self.reached} "
            f"({self.by_delta} as deltas, {self.by_snapshot} inside a snapshot), "
            f"{self.retries} retries, answers {dict(sorted(self.answers.items()))}"
        )


def reached(screen: LiveClient, seqs: dict[int, int]) -> tuple[set[int], set[int]]:
    """Cases that reached ``screen`` as a delta, and (of the others) inside a snapshot whose
    ``seq`` is at or past the case's own (a snapshot covers every event up to its seq)."""
    by_delta = {d["payload"]["id"] for d in screen.events("delta") if d["topic"] == "case"} & set(
        seqs
    )
    snapshots = [s["seq"] for s in screen.events("snapshot")]
    newest = max(snapshots, default=0)
    by_snapshot = {c for c, seq in seqs.items() if c not in by_delta and seq <= newest}
    return by_delta, by_snapshot


def tally(devices: Devices, database_url: str, screen: LiveClient) -> Tally:
    in_db = stored_in_database(database_url)
    ids = {i for found in in_db.values() for i in found}
    seqs = case_seqs(database_url, ids)
    delta, snap = reached(screen, seqs)
    return Tally(
        sent=len(devices.sent),
        stored=len(ids),
        reached=len(delta | snap),
        by_delta=len(delta),
        by_snapshot=len(snap),
        retries=sum(devices.answers.values()) - len(devices.sent),
        answers=dict(devices.answers),
    )


def assert_nothing_lost_or_doubled(devices: Devices, database_url: str) -> None:
    in_db = stored_in_database(database_url)
    doubled = {k: v for k, v in in_db.items() if len(v) > 1}
    assert not doubled, f"doubled reports: {doubled}"
    assert set(in_db) == set(devices.sent), (
        f"lost {set(devices.sent) - set(in_db)}, unexpected {set(in_db) - set(devices.sent)}"
    )
    assert {k: v[0] for k, v in in_db.items()} == devices.stored  # the ids the phones were given


def report(line: str) -> None:
    """The counts of a fault test, in the test output (pytest -s) and its captured log."""
    print(line, flush=True)


def environment_of(process_env: dict[str, str], **extra: Any) -> dict[str, str]:
    return process_env | {k: str(v) for k, v in extra.items()}


def start_production(deployment: Any, workers: int, name: str = "gunicorn") -> Any:
    """``python run.py serve --workers N`` (gunicorn) on the deployment's port, not waited for."""
    import subprocess
    import sys

    from tests.integration.live_helpers import ROOT, Server

    log = deployment.dir / f"{name}.log"
    log_file = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(deployment.config), "serve",
         "--workers", str(workers)],
        cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, env=deployment.env,
    )  # fmt: skip
    return Server(f"http://127.0.0.1:{deployment.port}", process, log, log_file)


SECURITY_FOR_LOAD = "[security]\ntoken_rate_per_second = 2000\ntoken_burst = 4000\n"
