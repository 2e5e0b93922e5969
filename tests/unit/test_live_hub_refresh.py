"""The live hub's protocol rules at city scale, without a server: a refresh carries the panels and
the villages that changed but not the positions, and a screen that reads slowly never has more
than a couple of positions batches queued (its fixes wait merged, newest per worker).

``LiveHub`` talks to Socket.IO through its ``Emitter`` seam (streams/screens.py); here that seam
is a list of what would have been sent and a queue length the test sets, as python-engineio's
per-connection queue would report it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboard.domain.roles import Role
from dashboard.security.principal import Principal
from dashboard.storage.bus import Event
from streams import protocol as p
from streams.screens import POSITIONS_MAX_QUEUED, SNAPSHOT_MIN_INTERVAL_S, LiveHub

WALL = Principal("wall-1", Role.WALL, "token", 1)
SID = "screen-1"


@dataclass
class Sent:
    """What the hub would have sent, and how many messages wait in each screen's queue."""

    messages: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    queued: dict[str, int] = field(default_factory=dict)

    def emit(self, event: str, data: dict[str, Any], to: str) -> None:
        self.messages.append((event, data, to))

    def enter_room(self, sid: str, room: str) -> None:
        pass

    def leave_room(self, sid: str, room: str) -> None:
        pass

    def backlog(self, sid: str) -> int:
        return self.queued.get(sid, 0)

    def of(self, event: str) -> list[dict[str, Any]]:
        return [data for name, data, _ in self.messages if name == event]


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@dataclass
class City:
    """The state the snapshot builder reads: the villages' rows and the workers' positions."""

    villages: dict[str, dict[str, Any]]
    positions: list[str]
    asked: list[bool] = field(default_factory=list)  # with positions?

    def snapshot(self, principal: Principal, positions: bool) -> dict[str, Any]:
        self.asked.append(positions)
        data: dict[str, Any] = {
            "kpis": {"open": sum(v["open"] for v in self.villages.values())},
            "villages": [dict(v) for _, v in sorted(self.villages.items())],
        }
        if positions:
            data["positions"] = {"ids": list(self.positions)}
        return data


def _hub(city: City) -> tuple[LiveHub, Sent, Clock]:
    sent, clock = Sent(), Clock()
    hub = LiveHub(sent, city.snapshot, lambda: "2026-06-17T02:00:00+00:00", monotonic=clock)
    hub.add(SID, WALL)
    hub.send_snapshot(SID)  # the first one, at connect
    return hub, sent, clock


def _city(n: int = 2_000) -> City:
    villages = {
        f"33060210{i:04d}": {"code": f"33060210{i:04d}", "status": "ok", "open": 1}
        for i in range(n)
    }
    return City(villages, [f"w{i}" for i in range(n * 12)])


def test_a_refresh_carries_the_panels_and_changed_villages_but_no_positions() -> None:
    city = _city()
    hub, sent, clock = _hub(city)
    first = sent.of(p.EV_SNAPSHOT)[0]
    assert "refresh" not in first and len(first["data"]["positions"]["ids"]) == 24_000
    assert len(first["data"]["villages"]) == 2_000

    quiet, red = "330602100007", "330602100042"
    city.villages[red] = {**city.villages[red], "status": "red", "open": 5}  # changed in the db
    # A village delta went out for `quiet`, whose row is the same again by the refresh.
    hub.on_event(Event(p.TOPIC_VILLAGE, {"code": quiet, "status": "red"}, seq=1, prev=0))
    clock.t += SNAPSHOT_MIN_INTERVAL_S
    hub.request_snapshot(SID, refresh=True)

    refresh = sent.of(p.EV_SNAPSHOT)[1]
    assert refresh["refresh"] is True and refresh["seq"] == 1
    assert "positions" not in refresh["data"] and city.asked == [True, False]
    assert sorted(v["code"] for v in refresh["data"]["villages"]) == [quiet, red]
    assert refresh["data"]["kpis"] == {"open": 2_004}  # the panels, whole

    clock.t += SNAPSHOT_MIN_INTERVAL_S
    hub.request_snapshot(SID, refresh=True)  # nothing changed since
    assert sent.of(p.EV_SNAPSHOT)[2]["data"]["villages"] == []

    clock.t += SNAPSHOT_MIN_INTERVAL_S
    hub.request_snapshot(SID)  # a resync without "refresh" (a gap): whole
    whole = sent.of(p.EV_SNAPSHOT)[3]
    assert "refresh" not in whole and len(whole["data"]["villages"]) == 2_000
    assert "positions" in whole["data"]


def test_a_refresh_merged_with_a_whole_request_or_after_a_bus_gap_is_whole() -> None:
    city = _city(20)
    hub, sent, clock = _hub(city)
    hub.request_snapshot(SID)  # too soon: pending, whole
    hub.request_snapshot(SID, refresh=True)  # merged into it
    clock.t += SNAPSHOT_MIN_INTERVAL_S
    hub.tick()
    assert "refresh" not in sent.of(p.EV_SNAPSHOT)[1]

    hub.on_event(Event(p.TOPIC_CASE, {"id": 1}, seq=5, prev=3))  # the bus lost seq 4
    hub.request_snapshot(SID, refresh=True)
    clock.t += SNAPSHOT_MIN_INTERVAL_S
    hub.tick()
    last = sent.of(p.EV_SNAPSHOT)[-1]
    assert "refresh" not in last and "positions" in last["data"] and last["seq"] == 5


def test_a_slow_screen_holds_few_position_batches_and_gets_the_newest_fix_per_worker() -> None:
    hub, sent, clock = _hub(_city(5))
    workers = [f"w{i}" for i in range(3_000)]

    def fixes(second: int) -> None:
        at = f"2026-06-17T02:00:{second:02d}+00:00"
        hub.on_event(Event(p.TOPIC_POSITIONS, {"fixes": [[w, 120.5, 30.0, at] for w in workers]}))

    sent.queued[SID] = POSITIONS_MAX_QUEUED  # the screen stopped reading
    for second in range(1, 31):  # half a minute of fixes from 3,000 workers, one tick a second
        fixes(second)
        clock.t += 1.0
        hub.tick()
    assert sent.of(p.EV_POSITIONS) == []  # nothing piled up in its queue

    sent.queued[SID] = 0  # it reads again
    hub.tick()
    (batch,) = sent.of(p.EV_POSITIONS)
    assert len(batch["fixes"]) == 3_000  # one fix per worker: the newest
    assert {f[3] for f in batch["fixes"]} == {"2026-06-17T02:00:30+00:00"}

    fixes(31)
    clock.t += 1.0
    hub.tick()  # a screen that keeps up gets a batch a second, as before
    assert len(sent.of(p.EV_POSITIONS)) == 2
