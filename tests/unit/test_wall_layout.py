"""The wall's layout as pure functions of a snapshot (no browser, no database)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dash.development.base_component import Component

from dashboard.i18n import TABLE
from layouts import wall_ids
from layouts.names import short_name
from layouts.village_format import red_why
from layouts.wall import WallView, js_config, wall_page
from layouts.wall_feed import alarm_banner, local_time, red_for
from layouts.wall_panels import KPI_TILES

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "dashboard" / "assets"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Shaoxing


def _case(case_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": case_id,
        "status": "reported",
        "source": "grid_worker",
        "emergency": False,
        "category": "05001",
        "village": "330681109002",
        "lon": 120.45,
        "lat": 29.70,
        "reported_at": (NOW - timedelta(minutes=case_id)).isoformat(),
        "deadline": None,
        "department": None,
        "open": True,
        **extra,
    }


def snapshot(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "now": NOW.isoformat(),
        "day_start": "2026-11-22T16:00:00+00:00",
        "day_end": "2026-11-23T16:00:00+00:00",
        "next_deadline": None,
        "kpis": {
            "reported_today": 1234,
            "closed_today": 56,
            "open": 700,
            "overdue_now": 3,
            "closure_rate": 93.72,
            "on_time_rate": 75.82,
            "red_villages": 2,
            "on_patrol": 88,
        },
        "sources": {"grid_worker": 40, "hotline": 8, "emergency": 1},
        "categories": [{"code": "05001", "count": 12}, {"code": "99999", "count": 3}],
        "trend": {
            "start": "2026-11-22T02:00:00+00:00",
            "reported": [i % 7 for i in range(24)],
            "closed": [i % 3 for i in range(24)],
        },
        "departments": [
            {"code": "urban", "open": 30, "overdue": 2, "handled": 11, "on_time_rate": 81.8},
            {"code": "police", "open": 4, "overdue": 0, "handled": 0, "on_time_rate": None},
        ],
        "villages": [
            {"code": "330681109002", "name": "天竺社区", "status": "red"},
            {"code": "330681109003", "name": "百树社区", "status": "ok"},
        ],
        "feed": [_case(3), _case(2, emergency=True, source="emergency"), _case(1)],
        "alarms": [],
        "positions": [],
        "patrol_window_s": 600,
    }
    data.update(overrides)
    return data


def view(lang: str = "zh", can_ack: bool = True) -> WallView:
    return WallView(
        lang=lang,  # type: ignore[arg-type]
        tz=SHANGHAI,
        now=NOW,
        title="网格化社会治理综合指挥中心",
        region="诸暨市枫桥镇",
        categories={"05001": "暴露垃圾"},
        departments={"urban": "综合行政执法队", "police": "派出所"},
        can_ack=can_ack,
    )


def walk(component: Any) -> list[Any]:
    """The component and everything below it (strings included)."""
    found = [component]
    children = getattr(component, "children", None)
    if isinstance(children, list | tuple):
        for child in children:
            found.extend(walk(child))
    elif children is not None:
        found.extend(walk(children))
    return found


def by_id(component: Component, wanted: str) -> Any:
    return next(c for c in walk(component) if getattr(c, "id", None) == wanted)


def by_class(component: Component, cls: str) -> list[Any]:
    return [c for c in walk(component) if cls in (getattr(c, "className", "") or "").split()]


def texts(component: Any) -> list[str]:
    return [c for c in walk(component) if isinstance(c, str)]


# --- the page -----------------------------------------------------------------------------


def test_page_is_a_frame_with_every_panel_and_its_config_for_the_script() -> None:
    page = wall_page(view())
    ids = {getattr(c, "id", None) for c in walk(page)}
    declared = {v for k, v in vars(wall_ids).items() if k.isupper()}
    assert declared <= ids
    config = json.loads(getattr(page, "data-config"))
    assert config["tz"] == "Asia/Shanghai" and config["lang"] == "zh"
    assert [k for k, _, _ in config["kpis"]] == [k for k, _, _ in KPI_TILES]
    assert all(label in config["labels"] for _, label, _ in config["kpis"])
    # The snapshot is not in the page: the live socket brings it once (one renderer: JS).
    assert not hasattr(page, "data-snapshot")
    assert "网格化社会治理综合指挥中心" in texts(page)


def test_english_page_switches_back_to_chinese() -> None:
    page = wall_page(view("en"))
    link = by_id(page, wall_ids.LANG)
    assert link.href == "/wall?lang=zh" and link.children == "中文"
    assert "Cases by source" in texts(page)
    assert page.className == "wall lang-en"


# --- feed and alarm: user text stays text ----------------------------------------------------


def test_local_time_shows_the_date_for_other_days() -> None:
    assert local_time("2026-11-22T01:00:00+00:00", SHANGHAI, NOW) == "11-22 09:00"
    assert local_time("2026-11-23T01:00:00+00:00", SHANGHAI, NOW, with_seconds=True) == "09:00:00"
    assert local_time(None, SHANGHAI, NOW) == "—"


@pytest.mark.parametrize(
    ("reasons", "lang", "why"),
    [
        (["open_ratio"], "zh", "在办率高"),
        (["open_ratio", "emergency"], "zh", "紧急事件 · 在办率高"),  # most pressing first
        (["overdue"], "en", "overdue"),
        ([], "zh", "—"),
    ],
)
def test_the_red_list_says_why_a_village_is_red(reasons: list[str], lang: str, why: str) -> None:
    # wall_render.js has the same order and words (layouts.village_format.red_why, the labels)
    assert red_why(reasons, lang) == why  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("since", "lang", "text"),
    [
        ("2026-11-23T01:29:30+00:00", "zh", "0分钟"),
        ("2026-11-22T23:20:00+00:00", "zh", "2小时10分"),
        ("2026-11-20T00:00:00+00:00", "zh", "3天1小时"),
        ("2026-11-22T23:20:00+00:00", "en", "2 h 10 min"),
        (None, "en", "—"),
    ],
)
def test_how_long_a_village_has_been_red(since: str | None, lang: str, text: str) -> None:
    assert red_for(since, NOW, lang) == text  # type: ignore[arg-type]


def test_alarm_banner_is_hidden_without_alarms() -> None:
    banner = alarm_banner([], {}, {}, "zh", SHANGHAI, NOW, can_ack=True)
    assert "hidden" in banner.className.split()


def test_alarm_banner_shows_the_oldest_alarm_with_its_description_as_text() -> None:
    evil = '<img src=x onerror="alert(1)">起火'
    alarms = [
        {"case_id": 9, **_case(9), "description": "newer"},
        {"case_id": 8, **_case(8), "description": evil},
    ]
    banner = alarm_banner(alarms, {"330681109002": "天竺社区"}, {}, "zh", SHANGHAI, NOW, True)
    assert getattr(banner, "data-case") == "8"
    assert "hidden" not in banner.className.split()
    assert evil in texts(banner)  # a plain string child: React renders it as text
    assert "另有 1 起紧急事件待确认" in texts(banner)
    assert by_id(banner, wall_ids.ALARM_ACK).children == "确认接警"


def test_a_screen_that_may_not_acknowledge_is_sent_to_a_desk() -> None:
    alarms = [{"case_id": 8, **_case(8), "description": "x"}]
    banner = alarm_banner(alarms, {}, {}, "zh", SHANGHAI, NOW, can_ack=False)
    assert "请在受理坐席确认此警报" in texts(banner)
    assert all(getattr(c, "id", None) != wall_ids.ALARM_ACK for c in walk(banner))


# --- the script and the layout agree ---------------------------------------------------------


def _wall_js() -> str:
    # The wall's scripts, and the alarm banner's, which it shares with the supervisors' page.
    scripts = [*sorted(ASSETS.glob("wall*.js")), ASSETS / "alarm.js"]
    return "\n".join(p.read_text(encoding="utf-8") for p in scripts)


def test_every_label_the_script_uses_is_in_its_config() -> None:
    used = set(re.findall(r"""L\[\s*["']([a-z_]+\.[a-z0-9_]+)["']\s*\]""", _wall_js()))
    assert used, "wall.js reads no labels?"
    labels = js_config(view())["labels"]
    assert used <= labels.keys()
    assert all(k in TABLE for k in used)


def test_every_element_the_script_looks_up_is_in_the_layout() -> None:
    script = _wall_js()
    used = set(re.findall(r"""getElementById\(\s*["']([a-z-]+)["']""", script))
    used |= set(re.findall(r"""["'][^"']*#(wall-[a-z-]+)""", script))
    assert len(used) > 10
    declared = {v for k, v in vars(wall_ids).items() if k.isupper()}
    assert used <= declared


def test_script_never_writes_html() -> None:
    """Data goes in with textContent; the one markup string is the static map pin."""
    script = _wall_js()
    assert "innerHTML" not in script and "outerHTML" not in script
    assert "insertAdjacentHTML" not in script and "document.write" not in script
    assert script.count("html:") == 1 and '\'<span class="ring"></span>' in script


def test_vendored_libraries_are_there_with_their_licences() -> None:
    vendor = ASSETS / "vendor"
    for name in ("socket.io.min.js", "leaflet.js", "leaflet.css", "README.md"):
        assert (vendor / name).stat().st_size > 0, name
    assert list(vendor.glob("LICENSE*"))
    assert (ASSETS / "alarm.wav").read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("name", "limit", "short"),
    [
        ("应急管理办（安监站）", 8, "应急管理办"),  # the aside goes, the name stays whole
        ("村（社区）委员会", 8, "村（社区）委员会"),  # fits: kept as it is
        ("在建违法建设（需立即制止）", 11, "在建违法建设"),
        ("电动自行车违规停放充电", 11, "电动自行车违规停放充电"),
        ("（全部）", 2, "（全部）"),  # nothing would be left: kept
    ],
)
def test_long_names_lose_their_asides_not_their_ends(name: str, limit: int, short: str) -> None:
    assert short_name(name, limit) == short
