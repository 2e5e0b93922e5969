"""Heavy endpoints have their own rate limit: the case search and the CSV export (issue 11).

Five parallel exports of the whole case base slowed every other request from ~15 ms to ~530 ms
while staying under the per-token limit, which is sized for phones sending reports. A search or
an export costs far more than a report, so each has its own bucket per caller (a token or a
signed-in user: ``kind:id``), in memory or shared through Redis like the token limit
(dashboard.security.ratelimit). Past it the answer is 429 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Flask, current_app

from dashboard.http.errors import ApiError
from dashboard.security.ratelimit import MemoryBuckets, RateLimiter, RedisBuckets, retry_after
from dashboard.security.web import require_principal

if TYPE_CHECKING:
    from dashboard.container import Services

F = TypeVar("F", bound=Callable[..., Any])
KINDS = ("search", "export")
_KEY = "gcc_heavy_limits"


class HeavyLimited(ApiError):
    def __init__(self, kind: str, wait: float) -> None:
        super().__init__(
            429,
            "rate_limited",
            f"too many {kind} requests; retry later",
            headers={"Retry-After": retry_after(wait)},
        )
        self.wait = wait


def install_heavy_limits(server: Flask, services: Services) -> None:
    cfg, bus = services.config.security, services.config.bus
    limits: dict[str, RateLimiter] = {}
    for kind in KINDS:
        rate = float(getattr(cfg, f"{kind}_rate_per_second"))
        burst = int(getattr(cfg, f"{kind}_burst"))
        if bus.backend == "redis":
            limits[kind] = RedisBuckets.from_url(
                bus.redis_url, f"{bus.channel}:{kind}", rate, burst
            )
        else:
            limits[kind] = MemoryBuckets(rate, burst)
    server.extensions[_KEY] = limits


def heavy(kind: str) -> Callable[[F], F]:
    """Spend one request of the caller's ``kind`` bucket before the view runs (after ``require``
    has found the caller); 429 past it."""
    if kind not in KINDS:
        raise ValueError(f"unknown heavy kind {kind!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            who = require_principal()
            limits: dict[str, RateLimiter] | None = current_app.extensions.get(_KEY)
            if limits is not None:
                wait = limits[kind].take(f"{who.kind}:{who.id}")
                if wait > 0:
                    raise HeavyLimited(kind, wait)
            return view(*args, **kwargs)

        return cast(F, limited)

    return decorate
