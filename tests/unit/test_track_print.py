"""The printable track map (layouts/track_print.py): the stops numbered on the map with their
times, every given text escaped, the summary and the note in the page's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.read.track_views import Replay, WorkerReplay
from layouts.track_print import track_print_html, track_svg

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shaoxing


def _replay(name: str = "王<b>荣</b>") -> Replay:
    t0 = T0.timestamp()
    fixes = [[t0 + i * 60, 120.30 + i * 1e-4, 29.60, 1, ""] for i in range(30)]
    fixes.append([t0 + 31 * 60, 121.5, 29.6, 0, "jump"])
    stop = [t0 + 10 * 60, t0 + 17 * 60, 120.301, 29.60]
    worker = WorkerReplay(
        worker_id="W1",
        name=name,
        grid_code="330681109002001",
        fixes=fixes,
        stops=[stop],
        cases=[[t0 + 20 * 60, 120.302, 29.6005, 42]],
        summary={
            "distance_m": 2870.0,
            "patrol_s": 1800,
            "moving_s": 1380,
            "stopped_s": 420,
            "inside_s": 1800,
            "outside_s": 0,
            "inside_share": 1.0,
            "stops": [],
            "silent": [],
            "outside": [],
        },
        coverage=0.25,
        fix_count=31,
        flagged=1,
    )
    ring = [[120.299, 29.599], [120.305, 29.599], [120.305, 29.602], [120.299, 29.602]]
    return Replay(T0, T0 + timedelta(hours=8), [worker], {"330681109002001": [ring]})


def test_the_map_numbers_the_stops_with_their_times() -> None:
    replay = _replay()
    svg = track_svg(replay.workers[0], replay.grids["330681109002001"], "zh", SHANGHAI)
    assert 'data-stop="1"' in svg and "09:10–09:17（7 分钟）" in svg
    assert svg.count('class="filtered"') == 1 and svg.count('class="track"') == 1
    assert "#42 09:20" in svg and 'class="grid"' in svg
    assert "起点" in svg and "终点" in svg and "米" in svg  # the scale bar in Chinese units


def test_the_page_escapes_names_and_states_the_rule() -> None:
    page = track_print_html(
        _replay(), "zh", SHANGHAI, T0 + timedelta(hours=9), "枫桥镇指挥中心", (40, 5)
    )
    assert "<b>" not in page and "王&lt;b&gt;荣&lt;/b&gt;（W1）巡查轨迹图" in page
    assert "2.87 公里" in page and "25%" in page and "定位点 31 个（过滤 1 个）" in page
    assert "半径 40 米内持续 5 分钟以上" in page and "打印时间 2026-12-04 18:00" in page
    assert "09:10:00" in page and "09:17:00" in page  # the stop's times in the table
    english = track_print_html(_replay("Wang"), "en", SHANGHAI, T0, "Centre", (40, 5))
    assert "Patrol track of Wang (W1)" in english and "a stop is 5 minutes" in english
