"""The video wall's layout (/video) as a pure function of its view (no browser, no database)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dash.development.base_component import Component

from dashboard.i18n import TABLE
from layouts import video_ids
from layouts.video import (
    DEFAULT_GRID,
    GRID_SIZES,
    Focus,
    VideoView,
    focus_title,
    js_config,
    parse_cycle,
    parse_focus,
    parse_grid,
    video_page,
)

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "dashboard" / "assets"
SCRIPTS = sorted(ASSETS.glob("video*.js"))
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def view(**overrides: Any) -> VideoView:
    values: dict[str, Any] = {
        "lang": "zh",
        "tz": ZoneInfo("Asia/Shanghai"),
        "now": NOW,
        "title": "视频监控墙",
    }
    return VideoView(**(values | overrides))


def walk(node: Any) -> Iterator[Component]:
    if isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))
    elif isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)


def by_id(root: Component, element_id: str) -> Component | None:
    return next((n for n in walk(root) if getattr(n, "id", None) == element_id), None)


def with_class(root: Component, cls: str) -> list[Component]:
    return [n for n in walk(root) if cls in (getattr(n, "className", None) or "").split()]


def texts(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, str):
        found.append(node)
    elif isinstance(node, Component):
        found += texts(getattr(node, "children", None))
    elif isinstance(node, list | tuple):
        for child in node:
            found += texts(child)
    return found


@pytest.mark.parametrize("n", GRID_SIZES)
def test_the_grid_has_n_by_n_tile_slots(n: int) -> None:
    page = video_page(view(grid=n))
    grid = by_id(page, video_ids.GRID)
    assert grid is not None and f"g{n}" in grid.className.split()
    assert len(with_class(grid, "tile")) == n * n
    chooser = by_id(page, video_ids.GRID_CHOOSER)
    active = [b for b in with_class(chooser, "grid-btn") if "active" in b.className.split()]
    assert [texts(b) for b in active] == [[f"{n}×{n}"]]
    assert len(with_class(chooser, "grid-btn")) == len(GRID_SIZES) == 7


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("4", 4), ("8", 8), ("2", 2), ("1", DEFAULT_GRID), ("9", DEFAULT_GRID), ("x", DEFAULT_GRID),
     (None, DEFAULT_GRID), (" 5 ", 5)],
)  # fmt: skip
def test_grid_from_the_query(raw: str | None, expected: int) -> None:
    assert parse_grid(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("30", 30), ("5", 5), ("4", 0), ("0", 0), ("-10", 0), ("abc", 0), (None, 0)],
)
def test_cycle_from_the_query(raw: str | None, expected: int) -> None:
    assert parse_cycle(raw) == expected


@pytest.mark.parametrize(
    ("query", "focus", "error"),
    [
        ({}, None, False),
        ({"case": "12"}, Focus("case", "12"), False),
        ({"case": "0"}, None, True),
        ({"case": "<script>"}, None, True),
        ({"village": "330681109002"}, Focus("village", "330681109002"), False),
        ({"village": "33'; drop"}, None, True),
        ({"near": "120.45,29.7"}, Focus("near", "120.450000,29.700000"), False),
        ({"near": "120.45"}, None, True),
        ({"near": "200,29"}, None, True),
        ({"near": "nan,29"}, None, True),
        ({"near": "120,inf"}, None, True),
    ],
)
def test_focus_from_the_query(query: dict[str, str], focus: Focus | None, error: bool) -> None:
    assert parse_focus(query) == (focus, error)


def test_the_wall_mode_has_cycling_and_layouts_and_no_focus_list() -> None:
    page = video_page(view(grid=4, cycle_seconds=30))
    assert by_id(page, video_ids.FOCUS) is None
    cycle = by_id(page, video_ids.CYCLE)
    assert cycle is not None and cycle.to_plotly_json()["props"]["data-on"] == "1"
    active = [b for b in with_class(cycle, "cycle-btn") if "active" in b.className.split()]
    assert [texts(b) for b in active] == [["30 秒"]]
    for element_id in (video_ids.LAYOUT_SELECT, video_ids.LAYOUT_NAME, video_ids.LAYOUT_SAVE):
        assert by_id(page, element_id) is not None
    config = json.loads(page.to_plotly_json()["props"]["data-config"])
    assert config["grid"] == 4 and config["cycleSeconds"] == 30 and config["focus"] is None
    assert config["canEvidence"] is False


def test_a_case_check_lists_the_nearest_cameras_and_offers_evidence() -> None:
    page = video_page(view(focus=Focus("case", "42"), can_evidence=True, radius_m=600))
    focus = by_id(page, video_ids.FOCUS)
    assert focus is not None and by_id(focus, video_ids.FOCUS_LIST) is not None
    shown = texts(focus)
    assert "事件 #42 周边视频" in shown and "半径 600 米内，按距离排序" in shown
    assert by_id(page, video_ids.CYCLE) is None and by_id(page, video_ids.LAYOUT_SAVE) is None
    config = json.loads(page.to_plotly_json()["props"]["data-config"])
    assert config["focus"] == {"kind": "case", "value": "42", "query": "case=42"}
    assert config["canEvidence"] is True
    switch = by_id(page, video_ids.LANG)
    assert switch is not None and switch.href == "/video?lang=en&case=42"


def test_evidence_is_offered_for_cases_only() -> None:
    for focus in (Focus("village", "330681109002"), Focus("near", "120.1,29.1")):
        assert js_config(view(focus=focus, can_evidence=True))["canEvidence"] is False
    assert js_config(view(focus=Focus("case", "1"), can_evidence=False))["canEvidence"] is False


def test_names_stay_text() -> None:
    evil = '<img src=x onerror="window.hacked=1">'
    page = video_page(view(focus=Focus("village", "330681109002", evil)))
    assert f"村社 {evil} 视频" in texts(page)  # a plain string: React renders it as text
    assert focus_title(Focus("near", "120.123456,29.5", evil), "zh") == f"{evil} 地图选点周边视频"


def test_a_map_point_is_named_by_its_village_not_its_coordinates() -> None:
    assert (
        focus_title(Focus("near", "120.123456,29.5", "阳春村"), "zh") == "阳春村 地图选点周边视频"
    )
    assert focus_title(Focus("near", "120.123456,29.5"), "en") == "Cameras near the point picked"


def test_a_bad_focus_says_so_and_loads_nothing() -> None:
    page = video_page(view(focus_error=True))
    note = by_id(page, video_ids.NOTE)
    assert note is not None and "hidden" not in note.className.split()
    assert texts(note) == ["核查参数无效"]
    assert json.loads(page.to_plotly_json()["props"]["data-config"])["focusError"] is True


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_labels_are_in_the_pages_language(lang: str) -> None:
    config = js_config(view(lang=lang))
    keys = {k for k in TABLE if k.startswith("video.")}
    assert set(config["labels"]) == keys
    assert all(config["labels"][k] == TABLE[k][0 if lang == "zh" else 1] for k in keys)
    page = video_page(view(lang=lang))
    assert page.lang == ("zh-CN" if lang == "zh" else "en")


def test_every_id_is_used_by_the_scripts() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in SCRIPTS)
    names = [n for n in dir(video_ids) if n.isupper()]
    assert names
    for name in names:
        assert getattr(video_ids, name) in source, name
    page = video_page(view(focus=Focus("case", "1")))
    ids_in_page = {getattr(n, "id", None) for n in walk(page)}
    expected = {getattr(video_ids, n) for n in names} - {
        video_ids.CYCLE,
        video_ids.LAYOUT_SELECT,
        video_ids.LAYOUT_TOGGLE,
        video_ids.LAYOUT_PANEL,
        video_ids.LAYOUT_NAME,
        video_ids.LAYOUT_SHARED,
        video_ids.LAYOUT_SAVE,
        video_ids.LAYOUT_MSG,
    }
    assert expected <= ids_in_page


def test_every_label_the_scripts_use_exists() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in SCRIPTS)
    used = set(re.findall(r"""L\[["'](video\.[a-z0-9_]+)["']\]""", source))
    assert used and sorted(used - set(TABLE)) == []


def test_scripts_never_insert_markup() -> None:
    for path in SCRIPTS:
        source = path.read_text(encoding="utf-8")
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source, path.name
        assert "createObjectURL" not in source or "revokeObjectURL" in source, path.name
