"""Health of a server process: liveness, readiness and the state of each part.

The contract (also in README and docs/security.md):

- ``GET /healthz/live`` — the process answers: always 200 ``{"ok": true}``; it touches nothing, so
  it never hangs. An orchestrator restarts the process when this fails.
- ``GET /healthz/ready`` (and ``GET /healthz``, for existing callers) — can this process serve?
  200 when the database answers, else 503. A load balancer takes the node out on 503. The bus
  (Redis), the capture service and the scheduler do not decide readiness: intake keeps working
  without them (the outbox keeps every event until the bus is back), so a Redis outage must not
  take every node out at once. Their state is in the body: ``status`` is ``ok`` (every part up),
  ``degraded`` (ready, some part down) or ``down`` (not ready).
- Every check runs in its own thread and is waited for at most ``health.check_timeout_seconds``;
  one that has not answered is reported ``{"ok": false, "error": "timeout"}``. A check still
  running from an earlier probe is not started again, so a hanging part costs one thread, not
  one per probe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

logger = logging.getLogger(__name__)

Check = Callable[[], dict[str, Any]]
READINESS_PART = "database"


class HealthProbe:
    """Runs the checks of the parts with a bounded wait; see the module docstring."""

    def __init__(self, checks: Callable[[], Mapping[str, Check]], timeout: float) -> None:
        self._checks, self._timeout = checks, timeout
        self._running: dict[str, Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def report(self) -> dict[str, Any]:
        started = {name: self._start(name, check) for name, check in self._checks().items()}
        deadline = time.monotonic() + self._timeout
        parts: dict[str, dict[str, Any]] = {}
        for name, future in started.items():
            try:
                parts[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                logger.warning("health check of %s did not answer in %.1f s", name, self._timeout)
                parts[name] = {"ok": False, "error": "timeout"}
        return summarise(parts)

    def _start(self, name: str, check: Check) -> Future[dict[str, Any]]:
        with self._lock:
            running = self._running.get(name)
            if running is not None and not running.done():
                return running  # still hanging from an earlier probe: wait on that one
            future: Future[dict[str, Any]] = Future()
            self._running[name] = future
        thread = threading.Thread(
            target=_run, args=(name, check, future), name=f"health-{name}", daemon=True
        )
        thread.start()
        return future


def _run(name: str, check: Check, future: Future[dict[str, Any]]) -> None:
    try:
        future.set_result(check())
    except Exception as err:  # a check that raises is a part that is down, never a 500
        logger.warning("health check of %s failed: %s", name, type(err).__name__)
        future.set_result({"ok": False, "error": type(err).__name__})


def summarise(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The body of /healthz: readiness from the database, the status from every part."""
    ready = bool(parts.get(READINESS_PART, {}).get("ok"))
    everything = all(bool(part.get("ok")) for part in parts.values())
    status = "down" if not ready else ("ok" if everything else "degraded")
    return {"ok": ready, "ready": ready, "status": status, **parts}
