"""Helpers for the processes tests start (servers, the capture service, the demo)."""

from __future__ import annotations

import subprocess
from typing import Any


def terminate(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Ask the process to stop (SIGTERM), kill it if it has not within ``timeout``, reap it."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)
