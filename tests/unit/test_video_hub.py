"""VideoHub (streams/video_hub.py) without a network: what it sends to which screen, and when it
asks the capture service to count from the start again. The emitter records; time is passed in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.domain.roles import Role
from dashboard.security.principal import Principal
from streams.capture.records import Frame
from streams.video_hub import STALE_S, VideoHub

ADMIN = Principal("admin", Role.ADMIN, "user", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _frame(camera: str, seq: int) -> Frame:
    return Frame(camera, seq, datetime(2026, 11, 23, 1, 0, seq % 60, tzinfo=UTC), 320, 180, b"\xff")


def _hub() -> tuple[VideoHub, list[tuple[str, dict[str, Any], str]], Clock]:
    sent: list[tuple[str, dict[str, Any], str]] = []
    clock = Clock()
    hub = VideoHub(lambda event, data, sid: sent.append((event, data, sid)), clock)
    return hub, sent, clock


def test_frames_go_to_the_watching_screens_with_their_fields() -> None:
    hub, sent, _ = _hub()
    for sid in ("s1", "s2"):
        hub.add(sid, ADMIN)
    assert hub.watch("s1", ["a"]) == {"a"}
    assert hub.watch("s2", ["a", "b"]) == {"b"}
    assert hub.deliver([_frame("a", 1), _frame("b", 1), _frame("c", 1)]) == 3
    assert sorted((d["id"], sid) for _, d, sid in sent) == [("a", "s1"), ("a", "s2"), ("b", "s2")]
    event, data, _ = sent[0]
    assert event == "frame" and data == {
        "id": "a",
        "seq": 1,
        "at": "2026-11-23T01:00:01+00:00",
        "w": 320,
        "h": 180,
        "jpeg": b"\xff",
    }
    assert hub.demand() == {"a": 1, "b": 1}


def test_a_screen_gets_the_next_frame_only_after_its_ack() -> None:
    hub, sent, _ = _hub()
    hub.add("s", ADMIN)
    hub.watch("s", ["a"])
    hub.deliver([_frame("a", 1)])
    hub.deliver([_frame("a", 2)])
    hub.deliver([_frame("a", 3)])
    assert [d["seq"] for _, d, _ in sent] == [1]
    hub.ack("s", "a", 1)
    assert [d["seq"] for _, d, _ in sent] == [1, 3]  # 2 was replaced by 3 while waiting


def test_pause_and_disconnect_end_the_demand() -> None:
    hub, _, _ = _hub()
    hub.add("s", ADMIN)
    hub.watch("s", ["a", "b"])
    assert hub.screen("s") is not None and not hub.screen("s").paused  # type: ignore[union-attr]
    hub.watch("s", [])
    assert hub.demand() == {} and hub.screen("s").paused  # type: ignore[union-attr]
    hub.watch("s", ["a"])
    hub.remove("s")
    assert hub.demand() == {} and not hub.wait_for_demand(0)


def test_an_unknown_screen_cannot_create_demand() -> None:
    hub, _, _ = _hub()
    assert hub.watch("ghost", ["a"]) == set() and hub.demand() == {}


def test_an_online_camera_without_new_frames_is_asked_from_the_start() -> None:
    hub, sent, clock = _hub()
    hub.add("s", ADMIN)
    hub.watch("s", ["a", "b"])
    hub.deliver([_frame("a", 500), _frame("b", 7)])
    clock.now += STALE_S + 1
    hub.deliver([_frame("b", 8)])
    assert hub.stale(online={"a", "b"}) == ["a"]  # b is fresh
    assert hub.stale(online={"b"}) == []  # an offline camera is just offline
    hub.restart(hub.stale(online={"a", "b"}))
    assert hub.demand() == {"a": 0, "b": 8}
    hub.ack("s", "a", 500)
    hub.deliver([_frame("a", 1)])  # the capture service restarted its count
    assert sent[-1][1]["id"] == "a" and sent[-1][1]["seq"] == 1
