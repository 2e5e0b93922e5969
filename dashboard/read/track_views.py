"""View data of the track replay page (/tracks): what ``services.track_replay`` builds and
``layouts.tracks`` draws (issue 16)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class WorkerReplay:
    worker_id: str
    name: str
    grid_code: str
    fixes: list[list[Any]]  # [epoch s, lon, lat, valid 0/1, "flags"]
    stops: list[list[Any]]  # [start epoch, end epoch, lon, lat]
    cases: list[list[Any]]  # [epoch, lon, lat, case id]
    summary: dict[str, Any]
    coverage: float | None
    fix_count: int = 0  # every fix of the range (``fixes`` may be thinned for drawing)
    flagged: int = 0  # of them, marked by the filters


@dataclass(frozen=True)
class Replay:
    start: datetime
    end: datetime
    workers: list[WorkerReplay]
    grids: dict[str, list[list[list[float]]]]  # grid code → rings of [lon, lat]
    truncated: int = 0  # workers of the area left out (over MAX_WORKERS)
    moment: list[dict[str, Any]] = field(default_factory=list)
