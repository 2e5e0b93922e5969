"""Benchmarks of the command center at city scale (not unit tests).

``make bench`` (or ``python -m bench``) runs every module's ``run() -> str`` (a markdown section)
and writes docs/benchmarks.md. Shared here: where the PostgreSQL server is, the fixed instant the
seeded history ends at, the village rule, and small timing helpers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np

from dashboard.domain.village_status import VillageRule

T = TypeVar("T")

# The server the benchmarks create (and drop) their databases on; trust auth, no password.
PG_ADMIN_URL = os.environ.get(
    "GCC_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SEED = 7
# A fixed "now" keeps case counts reproducible: Wednesday 17 June 2026, 10:00 in Shaoxing (the
# morning peak of reports), a working day of a year the built-in working calendar covers.
NOW = datetime(2026, 6, 17, 2, 0, tzinfo=UTC)
RULE = VillageRule()  # the defaults of DOMAIN.md (24 h window, 5 cases, 80 % / 70 %)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()`` and the seconds it took (wall clock)."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def percentiles(samples: Sequence[float], *qs: float) -> list[float]:
    """The ``qs`` percentiles (0–100, linear interpolation) of ``samples``."""
    return [float(v) for v in np.percentile(np.asarray(samples, dtype=float), qs)]


def ms(seconds: float) -> str:
    """Seconds as milliseconds with a precision that suits the magnitude."""
    value = seconds * 1000
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.2f} ms"


def share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "–"
