"""The GPS filters (dashboard.domain.gps_filter): one table row per rule, and the anchor walk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.gps_filter import (
    DUPLICATE,
    FUTURE,
    INVALID,
    JUMP,
    NULL_ISLAND,
    POOR_ACCURACY,
    FilterRule,
    Point,
    judge,
    judge_track,
)

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
RULE = FilterRule(max_accuracy_m=100, max_speed_kmh=120)
LON, LAT = 120.30, 29.62
ANCHOR = Point(NOW - timedelta(minutes=1), LON, LAT)
# 0.001° of latitude is ~111 m.


def _p(seconds: float, dlat: float = 0.0, **kw: object) -> Point:
    return Point(ANCHOR.at + timedelta(seconds=seconds), kw.pop("lon", LON), LAT + dlat, **kw)  # type: ignore[arg-type]


CASES = [
    # (name, point, anchor, expected flags)
    ("trusted walk", _p(30, 0.0003), ANCHOR, ()),
    ("first fix of a worker", _p(30, 0.0003), None, ()),
    ("device says invalid", _p(30, device_valid=False), ANCHOR, (INVALID,)),
    ("null island", Point(NOW, 0.0, 0.0), ANCHOR, (NULL_ISLAND,)),
    ("future beyond the skew", Point(NOW + timedelta(minutes=6), LON, LAT), None, (FUTURE,)),
    ("future within the skew", Point(NOW + timedelta(minutes=4), LON, LAT), None, ()),
    ("poor accuracy", _p(30, accuracy=250.0), ANCHOR, (POOR_ACCURACY,)),
    ("accuracy at the limit", _p(30, accuracy=100.0), ANCHOR, ()),
    ("duplicate instant", _p(0), ANCHOR, (DUPLICATE,)),
    ("duplicate instant, elsewhere", _p(0, 0.001), ANCHOR, (DUPLICATE,)),
    ("jump: 1.1 km in 10 s", _p(10, 0.01), ANCHOR, (JUMP,)),
    ("no jump: 1.1 km in 2 min", _p(120, 0.01), ANCHOR, ()),
    ("jump backwards in time (late fix)", _p(-10, 0.01), ANCHOR, (JUMP,)),
    (
        "two reasons at once",
        Point(NOW, 0.0, 0.0, 500.0, False),
        ANCHOR,
        (INVALID, NULL_ISLAND, POOR_ACCURACY),
    ),
]


@pytest.mark.parametrize(("name", "point", "anchor", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_filter(
    name: str, point: Point, anchor: Point | None, expected: tuple[str, ...]
) -> None:
    assert judge(point, anchor, NOW, RULE) == expected


def test_a_wild_fix_does_not_become_the_anchor() -> None:
    track = [_p(0), _p(10, 0.05), _p(20, 0.0001), _p(30, 0.0002)]
    assert judge_track(track, None, NOW, RULE) == [(), (JUMP,), (), ()]


def test_a_flagged_fix_is_never_the_anchor_of_a_duplicate() -> None:
    track = [_p(0), _p(10, accuracy=900.0), _p(10)]
    assert judge_track(track, None, NOW, RULE) == [(), (POOR_ACCURACY,), ()]
