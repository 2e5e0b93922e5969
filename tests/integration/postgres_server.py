"""A PostgreSQL server of a test's own (``initdb`` + ``pg_ctl``), on a free port and a data
directory of its own, that the test may stop (even crash) and start again.

The fault tests take the database away under load; they never touch the machine's shared server
on 5432. ``initdb`` refuses to run as root: as root, the tools run as the ``postgres`` user
(``runuser``) on a directory given to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.integration.live_helpers import free_port


class PrivatePostgres:
    def __init__(self) -> None:
        for tool in ("initdb", "pg_ctl"):
            assert shutil.which(tool), f"{tool} is needed on the PATH (Debian: postgresql)"
        self.root = Path(tempfile.mkdtemp(prefix="gcc-private-pg-"))  # /tmp: postgres may enter
        self.data, self.port = self.root / "data", free_port()
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            assert shutil.which("runuser"), "runuser is needed to run initdb as postgres"
            shutil.chown(self.root, "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _tool(self, *args: str) -> None:
        done = subprocess.run(
            [*self._as_postgres, *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"{args[0]} failed: {done.stdout}\n{done.stderr}"

    def init(self) -> PrivatePostgres:
        self._tool("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--no-sync")  # fmt: skip
        return self.start()

    def start(self) -> PrivatePostgres:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=60"
        )
        self._tool("pg_ctl", "-D", str(self.data), "-o", options,
                   "-l", str(self.root / "log"), "-w", "start")  # fmt: skip
        return self

    def crash(self) -> None:
        """Stop at once, as a crash would (``-m immediate``: no checkpoint, clients cut)."""
        self._tool("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._tool("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
