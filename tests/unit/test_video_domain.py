"""The video wall's pure rules: nearest cameras, and per-screen flow control of tiles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.geo import haversine_m
from dashboard.domain.video import FlowControl, bounding_box, rank_by_distance

# Fengqiao town centre, and points east of it (1° of longitude ≈ 100.6 km at 29.7°N).
LON, LAT = 120.33, 29.70
M_PER_DEG_LON = haversine_m(LON, LAT, LON + 1, LAT)


def _east(metres: float) -> tuple[float, float]:
    return LON + metres / M_PER_DEG_LON, LAT


def test_ranks_inside_the_radius_nearest_first() -> None:
    places = {"far": _east(900), "near": _east(100), "mid": _east(500), "edge": _east(799)}
    ranked = rank_by_distance(places.items(), LON, LAT, 800, lambda kv: kv[1])
    assert [name for (name, _), _ in ranked] == ["near", "mid", "edge"]
    assert [round(d) for _, d in ranked] == [100, 500, 799]


def test_limit_keeps_the_nearest() -> None:
    places = [_east(m) for m in (300, 100, 200)]
    ranked = rank_by_distance(places, LON, LAT, 1000, lambda p: p, limit=2)
    assert [round(d) for _, d in ranked] == [100, 200]
    assert rank_by_distance(places, LON, LAT, 1000, lambda p: p, limit=0) == []


def test_ties_keep_the_input_order() -> None:
    same = [("b", _east(50)), ("a", _east(50))]
    assert [n for (n, _), _ in rank_by_distance(same, LON, LAT, 100, lambda kv: kv[1])] == [
        "b",
        "a",
    ]


coords = st.tuples(st.floats(119.5, 121.0), st.floats(29.0, 30.5))


@given(st.lists(coords, max_size=30), coords, st.floats(1, 50_000))
def test_ranking_is_exactly_the_points_within_the_radius(
    points: list[tuple[float, float]], centre: tuple[float, float], radius: float
) -> None:
    ranked = rank_by_distance(points, *centre, radius, lambda p: p)
    distances = [d for _, d in ranked]
    assert distances == sorted(distances)
    inside = [p for p in points if haversine_m(*centre, *p) <= radius]
    assert sorted(p for p, _ in ranked) == sorted(inside)


@given(st.lists(coords, max_size=30), coords, st.floats(1, 50_000))
def test_the_bounding_box_holds_every_point_within_the_radius(
    points: list[tuple[float, float]], centre: tuple[float, float], radius: float
) -> None:
    min_lon, min_lat, max_lon, max_lat = bounding_box(*centre, radius)
    for lon, lat in points:
        if haversine_m(*centre, lon, lat) <= radius:
            assert min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


# --- flow control -------------------------------------------------------------------------------


def _sent(sends: list) -> list[tuple[str, str, int]]:
    return [(s.client, s.camera_id, s.seq) for s in sends]


def test_a_frame_goes_to_every_screen_watching_its_camera_only() -> None:
    flow: FlowControl[str] = FlowControl()
    flow.watch("s1", ["a", "b"], 0)
    flow.watch("s2", ["b"], 0)
    assert _sent(flow.offer("a", 1, "a1", 0)) == [("s1", "a", 1)]
    assert _sent(flow.offer("b", 1, "b1", 0)) == [("s1", "b", 1), ("s2", "b", 1)]
    assert flow.offer("c", 1, "c1", 0) == []  # nobody watches c


def test_one_unacknowledged_frame_per_screen_and_camera_latest_wins() -> None:
    flow: FlowControl[str] = FlowControl()
    flow.watch("slow", ["a"], 0)
    flow.watch("fast", ["a"], 0)
    assert len(flow.offer("a", 1, "a1", 0)) == 2
    assert _sent(flow.ack("fast", "a", 1, 0.1)) == []
    # frames 2 and 3 arrive: fast gets 2 at once; slow (no ack) gets nothing, 3 replaces 2
    assert _sent(flow.offer("a", 2, "a2", 0.2)) == [("fast", "a", 2)]
    flow.ack("fast", "a", 2, 0.3)
    assert _sent(flow.offer("a", 3, "a3", 0.4)) == [("fast", "a", 3)]
    sends = flow.ack("slow", "a", 1, 0.5)
    assert _sent(sends) == [("slow", "a", 3)] and sends[0].frame == "a3"
    assert flow.ack("slow", "a", 3, 0.6) == []  # nothing newer waiting


def test_repeats_and_older_frames_are_dropped() -> None:
    flow: FlowControl[str] = FlowControl()
    flow.watch("s", ["a"], 0)
    flow.offer("a", 5, "a5", 0)
    flow.ack("s", "a", 5, 0)
    assert flow.offer("a", 5, "a5", 0) == [] and flow.offer("a", 4, "a4", 0) == []
    assert flow.demand() == {"a": 5}


def test_an_old_ack_does_not_release_a_newer_frame() -> None:
    flow: FlowControl[str] = FlowControl()
    flow.watch("s", ["a"], 0)
    flow.offer("a", 1, "a1", 0)
    flow.ack("s", "a", 1, 0)
    flow.offer("a", 2, "a2", 0)
    flow.offer("a", 3, "a3", 0)  # waits behind 2
    assert flow.ack("s", "a", 1, 0) == []  # a duplicate ack of an older frame
    assert flow.in_flight() == {"s": {"a": 2}}


def test_demand_is_the_union_and_unwatch_drops_it() -> None:
    flow: FlowControl[str] = FlowControl()
    new, _ = flow.watch("s1", ["a", "b"], 0)
    assert new == {"a", "b"}
    new, _ = flow.watch("s2", ["b", "c"], 0)
    assert new == {"c"}
    flow.offer("b", 7, "b7", 0)
    assert flow.demand() == {"a": 0, "b": 7, "c": 0}
    flow.watch("s1", [], 0)  # paused
    flow.remove("s2")
    assert flow.demand() == {} and flow.demand_ids() == set()


def test_a_new_watcher_gets_the_newest_frame_at_once() -> None:
    flow: FlowControl[str] = FlowControl()
    flow.watch("s1", ["a"], 0)
    flow.offer("a", 3, "a3", 0)
    new, sends = flow.watch("s2", ["a"], 1)
    assert new == set() and _sent(sends) == [("s2", "a", 3)]
    _, again = flow.watch("s2", ["a"], 2)  # still watching: no resend
    assert again == []


def test_an_overdue_ack_stops_holding_the_camera_back() -> None:
    flow: FlowControl[str] = FlowControl(ack_timeout=10)
    flow.watch("s", ["a"], 0)
    flow.offer("a", 1, "a1", 0)
    assert flow.offer("a", 2, "a2", 5) == []
    assert flow.expired(9) == []
    assert _sent(flow.expired(10)) == [("s", "a", 2)]
    assert _sent(flow.offer("a", 3, "a3", 21)) == [("s", "a", 3)]


def test_restart_asks_from_the_beginning() -> None:
    flow: FlowControl[str] = FlowControl()
    flow.watch("s", ["a", "b"], 0)
    flow.offer("a", 9, "a9", 0)
    flow.offer("b", 4, "b4", 0)
    flow.restart("a")
    assert flow.demand() == {"a": 0, "b": 4}
    flow.restart()
    assert flow.demand() == {"a": 0, "b": 0}
