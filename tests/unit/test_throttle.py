"""The sign-in back-off rules and the in-process store (dashboard.security.throttle)."""

from __future__ import annotations

import pytest

from dashboard.security.throttle import BackoffRule, MemoryThrottle


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0.0), (4, 0.0), (5, 1.0), (6, 2.0), (7, 4.0), (12, 128.0), (15, 900.0), (500, 900.0)],
)
def test_the_delay_doubles_from_the_threshold_up_to_the_cap(failures: int, delay: float) -> None:
    assert BackoffRule(threshold=5, cap=900).delay(failures) == delay


def test_failures_are_forgotten_after_a_quiet_while() -> None:
    rule = BackoffRule(threshold=2, cap=60)
    store = MemoryThrottle()
    assert store.fail("k", 1000.0, rule) == 0.0
    assert store.fail("k", 1001.0, rule) == 1002.0  # second failure: wait 1 s
    assert store.blocked_until("k") == 1002.0
    quiet = 1001.0 + rule.forget_after
    assert store.fail("k", quiet, rule) == 0.0  # counted from one again
    store.clear("k")
    assert store.blocked_until("k") == 0.0
