"""The clocks: the one place that reads the machine's time, and the ways other code shares one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.clock import FixedClock, FollowingClock

SERVER_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_following_clock_starts_at_the_other_clock_and_moves_at_the_local_rate() -> None:
    clock = FollowingClock(SERVER_NOW)
    first = clock.now()
    assert SERVER_NOW <= first < SERVER_NOW + timedelta(seconds=1)
    time.sleep(0.02)  # the one thing under test is that time passes
    second = clock.now()
    assert first < second < first + timedelta(seconds=5)


@pytest.mark.parametrize("kind", [FixedClock, FollowingClock])
def test_clocks_refuse_a_naive_time(kind: type) -> None:
    with pytest.raises(ValueError, match="aware"):
        kind(datetime(2026, 11, 23, 9, 0))
