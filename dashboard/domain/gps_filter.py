"""Phone GPS is dirty: which fixes of a track to trust (PROTOCOLS.md, "Filters a tracker needs").

A fix is never dropped: it is stored with ``valid = False`` and the reasons in ``flags``, so a
replay can show why a point is not on the line. The reasons, in the order they are judged:

- ``invalid``: the device itself said the fix is not valid (OsmAnd ``valid=false``);
- ``null_island``: exactly (0, 0), what a phone without a fix sends;
- ``future``: dated more than ``future_skew`` after the server's ``now``;
- ``poor_accuracy``: an accuracy radius above ``max_accuracy_m``;
- ``duplicate``: the same instant as the previous trusted fix of the worker;
- ``jump``: reaching it from the previous trusted fix needs more than ``max_speed_kmh``.

Each fix is judged against the *previous trusted fix* (the anchor): a wild fix does not become
the anchor, so the track continues from where the worker really was. A late fix (a phone's
offline backlog) is judged against the trusted fix just before it in time (the caller finds it).

Pure: ``now`` and the anchor are arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboard.domain.geo import haversine_m
from dashboard.domain.time_bounds import MAX_FUTURE_SKEW

INVALID = "invalid"
NULL_ISLAND = "null_island"
FUTURE = "future"
POOR_ACCURACY = "poor_accuracy"
DUPLICATE = "duplicate"
JUMP = "jump"
REASONS = (INVALID, NULL_ISLAND, FUTURE, POOR_ACCURACY, DUPLICATE, JUMP)


@dataclass(frozen=True, slots=True)
class FilterRule:
    max_accuracy_m: float = 100.0  # a radius above this says little about where the worker is
    max_speed_kmh: float = 120.0  # grid workers walk or ride; faster is a GPS jump
    future_skew: timedelta = MAX_FUTURE_SKEW


@dataclass(frozen=True, slots=True)
class Point:
    """What the filters look at in a fix."""

    at: datetime
    lon: float
    lat: float
    accuracy: float | None = None
    device_valid: bool = True


def judge(point: Point, anchor: Point | None, now: datetime, rule: FilterRule) -> tuple[str, ...]:
    """The reasons ``point`` is not trusted (empty: it is), given the previous trusted fix."""
    flags: list[str] = []
    if not point.device_valid:
        flags.append(INVALID)
    if point.lon == 0 and point.lat == 0:
        flags.append(NULL_ISLAND)
    if point.at > now + rule.future_skew:
        flags.append(FUTURE)
    if point.accuracy is not None and point.accuracy > rule.max_accuracy_m:
        flags.append(POOR_ACCURACY)
    if anchor is not None and not flags:
        if point.at == anchor.at:
            flags.append(DUPLICATE)
        elif _speed_kmh(anchor, point) > rule.max_speed_kmh:
            flags.append(JUMP)
    return tuple(flags)


def judge_track(
    points: Sequence[Point], anchor: Point | None, now: datetime, rule: FilterRule
) -> list[tuple[str, ...]]:
    """The flags of each of ``points`` (time-ordered), walking the anchor over trusted ones."""
    result: list[tuple[str, ...]] = []
    for point in points:
        flags = judge(point, anchor, now, rule)
        if not flags:
            anchor = point
        result.append(flags)
    return result


def judge_among(
    points: Sequence[Point],
    stored: Sequence[Point],
    anchor: Point | None,
    now: datetime,
    rule: FilterRule,
) -> list[tuple[str, ...]]:
    """Like ``judge_track`` for a late batch that falls among ``stored`` trusted fixes (both
    time-ordered): each new fix is judged against the trusted fix just before it, stored or new,
    and a new fix at the instant of a stored one is a duplicate."""
    result: list[tuple[str, ...]] = []
    k = 0
    for point in points:
        while k < len(stored) and stored[k].at <= point.at:
            anchor = stored[k]
            k += 1
        flags = judge(point, anchor, now, rule)
        if not flags:
            anchor = point
        result.append(flags)
    return result


def _speed_kmh(a: Point, b: Point) -> float:
    seconds = abs((b.at - a.at).total_seconds())
    metres = haversine_m(a.lon, a.lat, b.lon, b.lat)
    if seconds == 0:
        return math.inf if metres > 0 else 0.0
    return metres / seconds * 3.6


def flags_text(flags: Sequence[str]) -> str:
    """The stored form: the reasons joined by commas ("" when trusted)."""
    return ",".join(flags)


def parse_flags(text: str | None) -> list[str]:
    return [f for f in (text or "").split(",") if f]
