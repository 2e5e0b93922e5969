"""A Redis server of a test's own, on a free port, that the test may stop and start again.

Tests that take Redis away (an outage mid-stream, a node that must stay ready without its bus)
use one of these instead of the machine's shared server on 6379, so a developer's demo, another
test run beside this one (``make test`` runs the suite on two dates at once) or another test of
this run never sees the outage.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.integration.live_helpers import free_port
from tests.processes import terminate

START_WAIT_S = 10.0


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (scripts/services.sh starts the shared one)"
        self.binary, self.directory, self.port = binary, directory, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        """Start (again, on the same port) and wait until it answers."""
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_WAIT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
            self.process = None
