"""The counters behind the connection caps and the full-size view caps."""

from __future__ import annotations

from dashboard.http.serving import ConnectionLimits
from dashboard.http.stream_limits import FullViewLimits


def test_connections_are_capped_per_address_and_in_total() -> None:
    limits = ConnectionLimits(per_address=2, total=3)
    assert [limits.acquire("10.0.0.1") for _ in range(3)] == [True, True, False]
    assert limits.acquire("10.0.0.2") is True
    assert limits.acquire("10.0.0.3") is False  # the total is reached
    limits.release("10.0.0.1")
    assert limits.acquire("10.0.0.3") is True


def test_behind_a_proxy_only_the_total_counts() -> None:
    limits = ConnectionLimits(per_address=None, total=3)
    assert [limits.acquire("10.0.0.9") for _ in range(4)] == [True, True, True, False]


def test_full_size_views_are_capped_per_viewer_and_in_total() -> None:
    limits = FullViewLimits(per_viewer=2, total=3)
    assert [limits.acquire("token:wall-1") for _ in range(3)] == [None, None, "viewer"]
    assert limits.acquire("user:li") is None
    assert limits.acquire("user:wang") == "total"
    limits.release("token:wall-1")
    assert limits.acquire("user:wang") is None and limits.open_views() == 3
