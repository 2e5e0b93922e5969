"""The rows of the leaders' view of the residents' side (``/trends/residents``): plain data the
layout reads (no database here; ``resident_views`` fills them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TownResidents:
    town: str
    name: str
    claims: int = 0  # entered in the period
    confirmed: int = 0  # of those, confirmed (so far)
    points: int = 0  # awarded in the period (confirmations)
    requests: int = 0  # opened in the period
    done: int = 0  # done in the period
    on_time: int = 0  # of those, done by their deadline
    open_now: int = 0

    @property
    def on_time_share(self) -> float | None:
        return None if self.done == 0 else self.on_time / self.done


def _total(rows: Sequence[TownResidents], name: str) -> TownResidents:
    return TownResidents(
        "",
        name,
        *(
            sum(getattr(r, f) for r in rows)
            for f in ("claims", "confirmed", "points", "requests", "done", "on_time", "open_now")
        ),
    )


@dataclass(frozen=True)
class ResidentsByTown:
    towns: list[TownResidents]
    total: TownResidents


def with_total(rows: Sequence[TownResidents], name: str) -> ResidentsByTown:
    return ResidentsByTown(list(rows), _total(rows, name))
