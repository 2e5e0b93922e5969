"""Helpers of the live tests and the push benchmark: real servers, real Socket.IO clients.

A ``Deployment`` is a configuration file plus a seeded database (SQLite file, or a PostgreSQL
database given through GCC_DATABASE_URL); ``start_server`` runs ``python run.py serve`` on it as a
subprocess on a free port; ``LiveClient`` is a ``socketio.Client`` over websocket that records
every event of ``/live`` and lets a test wait for a condition (never for a fixed time).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import engineio
import socketio
from sqlalchemy import select

from dashboard.accounts import create_token
from dashboard.domain.roles import Role
from dashboard.storage.db import Database
from dashboard.storage.models import Grid, GridWorker
from streams.protocol import NAMESPACE
from tests.integration.support import token_scope
from tests.processes import SeedTemplates, terminate

ROOT = Path(__file__).resolve().parents[2]
SECRET = "live-tests-session-key-not-a-secret"
Record = tuple[float, str, Any]  # (monotonic receipt time, event, data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float, what: str, step: float = 0.02) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


@dataclass
class Deployment:
    """A configuration and its seeded database, ready for servers."""

    dir: Path
    config: Path
    database_url: str
    env: dict[str, str]
    port: int

    def run(self, *args: str, timeout: float = 180) -> str:
        """``python run.py --config … ARGS``; returns stdout (fails with the output on error)."""
        done = subprocess.run(
            [sys.executable, "run.py", "--config", str(self.config), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"run.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def token(self, name: str, role: Role, area: str | None = None) -> str:
        """A bearer token; written straight into the database (the CLI is slow to start)."""
        db = Database.from_url(self.database_url)
        try:
            with db.transaction() as session:
                scope = token_scope(session, role, name, area_code=area)
                return create_token(session, name, role, datetime.now(UTC), **scope).token
        finally:
            db.dispose()


TOWN_SEED_ARGS = ("--scale", "town", "--days", "0")
_TOWNS = SeedTemplates()  # SQLite deployments: the seeded town made once per configuration
atexit.register(lambda: _TOWNS.made and shutil.rmtree(_TOWNS.root, ignore_errors=True))


def make_deployment(
    tmp: Path, *, database_url: str | None = None, bus: str = "", port: int | None = None
) -> Deployment:
    """Write a config (SQLite in ``tmp`` unless ``database_url``), seed the town, no history
    (``run.py seed``; on SQLite a copy of the town seeded so for the first deployment of the
    same seed configuration, ``tests.processes.SeedTemplates``)."""
    url = database_url or f"sqlite:///{tmp}/var/live.db"
    port = port or free_port()
    lines = [f'[server]\nport = {port}\ndata_dir = "{tmp}/var"\n']
    if database_url is None:
        lines.append(f'[database]\nurl = "{url}"\n')
    lines.append("[demo]\nsimulator = false\n" + bus)
    config = tmp / "config.toml"
    config.write_text("".join(lines), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    env["GCC_SECRET_KEY"] = SECRET
    if database_url is not None:
        env["GCC_DATABASE_URL"] = database_url
    deployment = Deployment(tmp, config, url, env, port)
    if database_url is None:  # a copy of the process's seeded town for this configuration
        text = "".join(lines)
        _TOWNS.copy_to(
            tmp / "var" / "live.db",
            lambda data_dir: text.replace(str(tmp / "var"), str(data_dir)),
            *TOWN_SEED_ARGS,
        )
    else:
        deployment.run("seed", *TOWN_SEED_ARGS)
    return deployment


def redis_bus_config(redis_url: str, channel: str) -> str:
    return f'[bus]\nbackend = "redis"\nredis_url = "{redis_url}"\nchannel = "{channel}"\n'


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    log_file: IO[bytes]

    def health(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 60) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log_text()[-3000:]}")
            try:
                return self.health()[0] == 200
            except OSError:
                return False

        wait_until(healthy, timeout, f"{self.url}/healthz")

    def post(self, path: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def stop(self) -> None:
        if self.log_file.closed:
            return
        terminate(self.process)
        self.log_file.close()


def start_server(
    deployment: Deployment, name: str = "server", port: int | None = None, *extra: str
) -> Server:
    """``python run.py serve [EXTRA]`` on ``port`` (default: the config's), not yet waited for
    (``"--dev"``: the development server)."""
    port = port or deployment.port
    log = deployment.dir / f"{name}.log"
    log_file = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "run.py",
            "--config",
            str(deployment.config),
            "--port",
            str(port),
            "serve",
            *extra,
        ],
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=deployment.env,
    )
    return Server(f"http://127.0.0.1:{port}", process, log, log_file)


@contextmanager
def running(deployment: Deployment, *names: str) -> Iterator[list[Server]]:
    """Servers on free ports (the first on the config's port), healthy, stopped on exit."""
    servers = [
        start_server(deployment, name, None if i == 0 else free_port())
        for i, name in enumerate(names or ("server",))
    ]
    try:
        for server in servers:
            server.wait_healthy()
        yield servers
    finally:
        for server in servers:
            server.stop()


class _InOrderEngineIO(engineio.Client):
    """The stock client hands each message to Socket.IO in a new thread, so two messages that
    arrive back to back can reach the handlers in either order; a test of ordering needs the
    wire order: here every message is handled in the read loop, one after the other."""

    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)

    def _read_loop_websocket(self) -> None:
        # websocket-client marks a websocket closed when the server's close frame arrives
        # (send_close: connected = False) but keeps its socket open, and its close() does nothing
        # once not connected; python-engineio only calls close(). So every connection the server
        # ended (a gatekeeper, a drained or killed worker, a stopped server) left an open socket
        # behind, found by the garbage collector later, during another test (its
        # ResourceWarning failed that one). The read loop is the last user of its websocket:
        # when it ends, the socket is closed for certain.
        ws = self.ws
        try:
            super()._read_loop_websocket()
        finally:
            if ws is not None:
                ws.shutdown()


class InOrderClient(socketio.Client):
    def _engineio_client_class(self) -> type[engineio.Client]:
        return _InOrderEngineIO


@dataclass
class LiveClient:
    """A screen: a Socket.IO client on ``/live`` (websocket only) recording every event in the
    order it arrived."""

    records: list[Record] = field(default_factory=list)
    client: socketio.Client = field(default_factory=lambda: InOrderClient(reconnection=False))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client.on("*", self._record, namespace=NAMESPACE)
        self.client.on(
            "connect_error", lambda data=None: self._record("connect_error", data), NAMESPACE
        )

    def _record(self, event: str, data: Any = None) -> None:
        with self._lock:
            self.records.append((time.monotonic(), event, data))

    def connect(self, url: str, token: str | None, timeout: float = 10) -> LiveClient:
        auth = {"token": token} if token is not None else None
        self.client.connect(
            url, namespaces=[NAMESPACE], transports=["websocket"], auth=auth, wait_timeout=timeout
        )
        return self

    def disconnect(self) -> None:
        self.client.disconnect()

    def events(self, name: str | None = None) -> list[Any]:
        with self._lock:
            return [data for _, event, data in self.records if name is None or event == name]

    def sequence(self) -> list[tuple[str, Any]]:
        with self._lock:
            return [(event, data) for _, event, data in self.records]

    def wait_for(self, what: str, check: Callable[[LiveClient], Any], timeout: float = 15) -> Any:
        return wait_until(lambda: check(self), timeout, what)

    def wait_event(self, name: str, count: int = 1, timeout: float = 15) -> list[Any]:
        return self.wait_for(
            f"{count} {name!r} event(s)",
            lambda c: (found := c.events(name)) and len(found) >= count and found,
            timeout,
        )

    def call(self, event: str, data: Any, timeout: float = 10) -> Any:
        return self.client.call(event, data, namespace=NAMESPACE, timeout=timeout)


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    village: str


def grid_points(database_url: str) -> list[Place]:
    """The centroid of every grid (it lies inside its grid, so the locator finds it)."""
    db = Database.from_url(database_url)
    try:
        with db.read() as session:
            query = select(Grid.lon, Grid.lat, Grid.village_code).order_by(Grid.code)
            return [Place(float(x), float(y), str(v)) for x, y, v in session.execute(query)]
    finally:
        db.dispose()


def workers(database_url: str, n: int) -> list[tuple[str, str]]:
    """(worker id, village code) of the first ``n`` grid workers."""
    db = Database.from_url(database_url)
    try:
        with db.read() as session:
            query = select(GridWorker.id, GridWorker.village_code).order_by(GridWorker.id).limit(n)
            return [(str(w), str(v)) for w, v in session.execute(query)]
    finally:
        db.dispose()


def case_body(place: Place, **overrides: Any) -> dict[str, Any]:
    """The JSON of ``POST /api/v1/cases`` for a dispute at ``place``."""
    body: dict[str, Any] = {
        "category": "01002",
        "description": "两户因排水沟堵塞发生争执",
        "lon": place.lon,
        "lat": place.lat,
        "source": "grid_worker",
    }
    body.update(overrides)
    return body


def chain_breaks(sequence: list[tuple[str, Any]]) -> list[str]:
    """Where a screen's stream breaks the protocol: a delta whose ``prev`` is not the seq the
    screen holds (from the last snapshot or delta), or a delta before the first snapshot."""
    held: int | None = None
    breaks: list[str] = []
    for event, data in sequence:
        if event == "snapshot":
            held = data["seq"]
        elif event == "delta":
            if held is None or data["prev"] != held:
                breaks.append(f"delta seq={data['seq']} prev={data['prev']} but held {held}")
            held = data["seq"]
    return breaks


def deltas_of(client: LiveClient, topic: str = "case") -> list[dict[str, Any]]:
    return [d for d in client.events("delta") if d["topic"] == topic]


class RawScreen:
    """A screen that speaks the wire protocol itself over a plain websocket, so a test decides
    when it reads (``socketio.Client`` always reads): a wall PC that stalls, then catches up."""

    def __init__(self, url: str, token: str, receive_buffer: int = 4096) -> None:
        import websocket  # websocket-client, the transport of socketio.Client

        address = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        sockopt = ((socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer),)
        self.ws = websocket.create_connection(address, timeout=10, sockopt=sockopt)
        self.ws.recv()  # the Engine.IO open packet
        self.ws.send(f"40{NAMESPACE},{json.dumps({'token': token})}")
        self.events: list[tuple[str, Any]] = []

    def read_until(self, check: Callable[[list[tuple[str, Any]]], bool], timeout: float) -> None:
        """Read (answering pings) until ``check(events)`` holds; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        prefix = f"42{NAMESPACE},"
        while not check(self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; last events: {self.events[-3:]}")
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
            elif isinstance(message, str) and message.startswith(prefix):
                event, data = json.loads(message[len(prefix) :])
                self.events.append((event, data))

    def resume(self) -> None:
        """Read at full speed from now on (the small receive buffer only served the stall)."""
        self.ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    def close(self) -> None:
        self.ws.close(timeout=1)
        self.ws.shutdown()  # close() leaves the socket open when the server closed first
