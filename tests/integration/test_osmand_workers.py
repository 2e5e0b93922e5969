"""The OsmAnd door's own port under the production server (issue 16): ``run.py serve --workers 2``
(gunicorn) with ``[tracks] osmand_port`` and TLS on the web port, as a user starts it.

The master binds the OsmAnd port once and both workers accept on it: the server starts (no
"address in use" in a second worker), requests on fresh connections are served by both workers,
the port stays plain HTTP while the web port speaks HTTPS, every fix is stored, and when one
worker is killed the port keeps answering (the other worker and gunicorn's replacement).
"""

from __future__ import annotations

import http.client
import signal
import ssl
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.storage.db import Database
from dashboard.storage.models import PositionFix
from dashboard.tls import make_self_signed
from tests.integration.fault_helpers import _socket_inodes, children, kill, start_production
from tests.integration.live_helpers import (
    Deployment,
    free_port,
    make_deployment,
    redis_bus_config,
    wait_until,
    workers,
)
from tests.integration.support import fresh_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LAT, LON = 29.62, 120.36  # in the seeded town (a fix anywhere is stored; this one is local)


@pytest.fixture
def deployment(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> Iterator[tuple[Deployment, int]]:
    cert, key = make_self_signed(tmp_path / "tls", ["127.0.0.1"], datetime(2026, 1, 1, tzinfo=UTC))
    osmand = free_port()
    extra = (
        redis_bus_config(redis_url, f"gcc-osmand-{uuid.uuid4().hex[:8]}")
        + f"[tracks]\nosmand_port = {osmand}\n"
    )
    with fresh_postgres_database(postgres_url, "osmandworkers") as url:
        deployment = make_deployment(tmp_path, database_url=url, bus=extra)
        text = deployment.config.read_text(encoding="utf-8")
        deployment.config.write_text(
            text.replace("[server]\n", f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n', 1),
            encoding="utf-8",
        )
        yield deployment, osmand


def _send(port: int, device: str, i: int) -> tuple[int, http.client.HTTPConnection]:
    """One fix on a fresh connection (left open: its holder is looked up)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/?id={device}&lat={LAT + i * 1e-5:.6f}&lon={LON:.6f}&accuracy=5")
    response = conn.getresponse()
    response.read()
    return response.status, conn


def _holder(conn: http.client.HTTPConnection, pids: list[int]) -> int | None:
    """The worker holding the server end of ``conn``."""
    assert conn.sock is not None
    mine, theirs = conn.sock.getsockname()[1], conn.sock.getpeername()[1]
    wanted = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote = int(parts[1].rsplit(":", 1)[1], 16), int(parts[2].rsplit(":", 1)[1], 16)
        if local == theirs and remote == mine:
            wanted.add(parts[9])
    return next((pid for pid in pids if _socket_inodes(pid) & wanted), None)


def _stored(url: str) -> int:
    db = Database.from_url(url)
    try:
        with db.read() as session:
            return int(session.scalar(select(func.count()).select_from(PositionFix)) or 0)
    finally:
        db.dispose()


def test_the_osmand_port_is_shared_by_two_workers(deployment: tuple[Deployment, int]) -> None:
    deployment, port = deployment
    worker_id = workers(deployment.database_url, 1)[0][0]
    deployment.run("device", "bind", "osm-2w", "--worker", worker_id)
    server = start_production(deployment, workers=2)
    try:
        master = server.process.pid
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE

        def healthy() -> bool:
            assert server.process.poll() is None, server.log_text()[-3000:]
            try:
                web = http.client.HTTPSConnection(
                    "127.0.0.1", deployment.port, timeout=2, context=insecure
                )
                try:
                    web.request("GET", "/healthz")
                    return web.getresponse().status == 200
                finally:
                    web.close()
            except OSError:
                return False

        wait_until(healthy, 90, "the web port over HTTPS")
        pids = wait_until(lambda: len(c := children(master)) == 2 and c, 60, "two workers")

        holders: set[int] = set()
        sent = 0
        while len(holders) < 2 and sent < 60:  # the kernel spreads new connections
            status, conn = _send(port, "osm-2w", sent)  # plain HTTP on the OsmAnd port
            assert status == 200
            holder = _holder(conn, pids)
            assert holder is not None
            holders.add(holder)
            conn.close()
            sent += 1
        assert holders == set(pids), "both workers serve the OsmAnd port"
        status, conn = _send(port, "unknown-device", 0)
        conn.close()
        assert status == 400  # the door's own answer (no page of the web app)

        kill(pids[0], signal.SIGKILL)  # one worker dies: the port keeps answering
        for i in range(10):
            status, conn = _send(port, "osm-2w", sent + i)
            conn.close()
            assert status == 200
        sent += 10
        assert _stored(deployment.database_url) == sent
        log = server.log_text()
        assert "Address already in use" not in log and "Traceback" not in log
    finally:
        server.stop()
