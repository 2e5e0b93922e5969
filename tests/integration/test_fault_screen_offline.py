"""Fault: a wall screen goes offline while cases keep coming, then comes back (issue 15).

A minute of a city's worst hour is compressed into a burst: the server keeps nothing per screen
while it is away and no timer of its own runs on the screen's absence (Socket.IO's ping timeout
only decides when a *silent* connection counts as gone), so how long the screen was away does
not matter to what it gets back; what matters is what happened meanwhile. On its return the
screen gets one snapshot that covers every case reported while it was away (its ``seq`` is at or
past theirs, its counts include them), and the deltas after it chain on without a gap.
"""

from __future__ import annotations

import time
from pathlib import Path

from dashboard.domain.roles import Role
from tests.integration.fault_helpers import (
    SECURITY_FOR_LOAD,
    Devices,
    assert_nothing_lost_or_doubled,
    case_seqs,
    report,
    start_production,
)
from tests.integration.live_helpers import (
    LiveClient,
    case_body,
    chain_breaks,
    deltas_of,
    grid_points,
    make_deployment,
    wait_until,
)

AWAY_CASES = 40


def test_a_screen_back_from_offline_catches_up_in_one_snapshot(tmp_path: Path) -> None:
    started = time.monotonic()
    deployment = make_deployment(tmp_path, bus=SECURITY_FOR_LOAD)
    server = start_production(deployment, workers=1)
    screen = LiveClient()
    try:
        server.wait_healthy()
        wall = deployment.token("wall-offline", Role.WALL)
        phone = deployment.token("phones-offline", Role.COMMANDER)
        places = grid_points(deployment.database_url)
        screen.connect(server.url, wall)
        before = screen.wait_event("snapshot")[0]
        screen.disconnect()  # offline

        devices = Devices(server.url, phone, places, threads=2, pause_s=0)
        devices.start()
        wait_until(lambda: len(devices.stored) >= AWAY_CASES, 60, "the cases while away")
        devices.stop()
        assert_nothing_lost_or_doubled(devices, deployment.database_url)
        away = case_seqs(deployment.database_url, set(devices.stored.values()))
        assert len(away) == len(devices.stored)

        screen.connect(server.url, wall)  # back
        back = screen.wait_event("snapshot", count=2)[1]
        assert back["seq"] >= max(away.values())  # the snapshot covers every case while away
        if back["data"]["day_start"] == before["data"]["day_start"]:
            reported = back["data"]["kpis"]["reported_today"]
            assert reported == before["data"]["kpis"]["reported_today"] + len(away)
        after = [
            server.post("/api/v1/cases", case_body(places[i]), phone)[1]["id"] for i in range(5)
        ]
        screen.wait_for(
            "the cases after the return",
            lambda c: {d["payload"]["id"] for d in deltas_of(c)} >= set(after),
        )
        mine = [e for e in screen.sequence() if e[0] in ("snapshot", "delta")]
        since_back = mine[[e[1] for e in mine].index(back) :]
        assert not chain_breaks(since_back)
        reached = len([s for s in away.values() if s <= back["seq"]])
        took = time.monotonic() - started
        report(
            f"screen offline and back ({took:.0f} s): sent {len(devices.sent)} while away, "
            f"stored {len(away)}, reached the screen {reached} (in its return snapshot), "
            f"then {len(after)} as deltas chained on it"
        )
        assert reached == len(away) == len(devices.sent)
    finally:
        screen.disconnect()
        server.stop()
