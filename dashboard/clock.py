"""The one place that reads the wall clock; everything else takes ``now`` as an argument."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

# The answer header in which the server says the time of its clock (set on every /api/v1 answer).
SERVER_TIME_HEADER = "X-Server-Time"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and replays: it moves only when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at


class FollowingClock:
    """Another process's clock, followed from one reading of it.

    Where two processes meet they share one clock: the remote simulator stamps its reports with
    the time of the server it drives (read from the server's ``X-Server-Time`` answer header),
    moving on at the local monotonic rate from there. A server on a controlled clock (a test, a
    replay) is then never sent a report "from the future", whatever this machine's date is.
    """

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FollowingClock needs an aware datetime")
        self._at = at
        self._since = time.monotonic()

    def now(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._since)


def iso(value: datetime | None) -> str | None:
    """A moment as the API, the live events and the read side write it (ISO 8601); None stays."""
    return value.isoformat() if value is not None else None
