"""The leader's page layouts are pure functions of view data (layouts/leadership.py)."""

from __future__ import annotations

import json
import re
from typing import Any

from dash import html

from layouts.leadership import (
    campaigns_page,
    effect_figure,
    effect_statement,
    rankings_page,
    rising_page,
)


def _text(node: Any) -> str:
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(_text(n) for n in node)
    children = getattr(node, "children", None)
    return "" if children is None else _text(children)


RISING = {
    "window": {"from": "2026-11-16", "to": "2026-11-22", "label": "normal"},
    "method": {"q": 0.05},
    "tested": 12,
    "rises": [
        {
            "town_name": "枫桥镇",
            "village": None,
            "village_name": None,
            "category_name": "违法建设",
            "observed": 24,
            "expected": 12.0,
            "change_pct": 100.0,
            "p_value": 0.0004,
            "sentence": "枫桥镇：近7天违法建设上报比常态高 100 %（24 件，常态约 12 件）。",
        }
    ],
    "falls": [],
}

EFFECT: dict[str, Any] = {
    "campaign": {"name": "违建百日攻坚", "end": "2026-10-25"},
    "control": "other_towns",
    "periods": {"before": 2, "during": 2, "after": 1},
    "weeks": [
        {"start": f"2026-10-{d:02d}", "treated": tr, "control": 20, "expected": 10.0}
        for d, tr in ((1, 10), (8, 10), (15, 4), (22, 3), (29, 10))
    ],
    "during": {
        "change_pct": -65.0,
        "interval_95": [-78.0, -44.0],
        "significant": True,
        "counts": {
            "treated_before": 20,
            "treated_period": 7,
            "control_before": 40,
            "control_period": 40,
            "weeks_before": 2,
            "weeks_period": 2,
        },
    },
    "after": {"change_pct": None, "interval_95": None, "significant": False, "counts": {}},
}


def test_rising_page_shows_the_sentences_and_the_method() -> None:
    text = _text(rising_page(RISING, "zh"))
    assert RISING["rises"][0]["sentence"] in text
    assert "Benjamini–Hochberg" in text and "q = 0.05" in text and "12 个序列" in text
    assert not re.search(r"[A-Za-z]{4,}", text.replace("Benjamini–Hochberg", ""))


def test_the_effect_chart_has_the_campaign_band_and_the_control_line() -> None:
    figure = effect_figure(EFFECT, "zh")
    assert [trace.name for trace in figure.data] == ["整治区域上报数（周）", "按对照推算的预期"]
    band = figure.layout.shapes[0]
    assert (band.x0, band.x1) == ("2026-10-15", "2026-10-29")


def test_the_effect_is_stated_with_its_interval_and_counts() -> None:
    said = effect_statement(EFFECT["during"], "during", "zh")
    assert said.startswith("整治期间：比按对照推算的预期少 65 %（95 % 区间 -78 % 至 -44 %）")
    assert "20 → 7" in said and "40 → 40" in said and "效果显著" in said
    assert "not enough data" in effect_statement(EFFECT["after"], "after", "en")
    page = campaigns_page([], {}, html.Div(), EFFECT, "en")
    assert "Effect: 违建百日攻坚" in _text(page)


def test_rankings_show_each_rate_with_its_counts() -> None:
    unit = {
        "code": "urban",
        "name": "城管",
        "rank": 1,
        "score": 78.5,
        "grade": "B",
        "closure_rate": {"value": 83.33, "numerator": 5, "denominator": 6},
        "on_time_handling_rate": {"value": 80.0, "numerator": 4, "denominator": 5},
        "rework_rate": {"value": 16.67, "numerator": 1, "denominator": 6},
        "dispatch_accuracy": {"value": None, "numerator": 0, "denominator": 0},
    }
    found = {
        "from": "2026-10-24",
        "to": "2026-11-22",
        "departments": [unit],
        "towns": [],
        "workers": [
            {
                "id": "W1",
                "name": "王网格",
                "rank": 1,
                "reported": 12,
                "valid_report_rate": {"value": 91.67, "numerator": 11, "denominator": 12},
                "on_time_verify_rate": {"value": 92.5, "numerator": 37, "denominator": 40},
                "on_time_check_rate": {"value": None, "numerator": 0, "denominator": 0},
                "verifications_and_checks": 40,
                "missed_report_rate": {"value": 25.0, "numerator": 3, "denominator": 12},
                "patrol": {
                    "days": 2,
                    "fixes": 2400,
                    "flagged": 7,
                    "distance_km": 14.25,
                    "patrol_s": 61200,
                    "inside_share": {"value": 80.0, "numerator": 48960, "denominator": 61200},
                    "household_coverage": {"value": 40.0, "numerator": 96, "denominator": 240},
                },
            },
            {
                "id": "W2",
                "name": "李网格",
                "rank": 2,
                "reported": 0,
                "valid_report_rate": {"value": None, "numerator": 0, "denominator": 0},
                "on_time_verify_rate": {"value": None, "numerator": 0, "denominator": 1},
                "on_time_check_rate": {"value": None, "numerator": 0, "denominator": 0},
                "verifications_and_checks": 0,
                "missed_report_rate": {"value": None, "numerator": 0, "denominator": 0},
                "patrol": {
                    "days": 0,
                    "fixes": 0,
                    "flagged": 0,
                    "distance_km": 0.0,
                    "patrol_s": 0,
                    "inside_share": {"value": None, "numerator": 0, "denominator": 0},
                    "household_coverage": {"value": None, "numerator": 0, "denominator": 0},
                },
            },
        ],
        "limits": {"verify": "2h", "check": "1d"},
        "patrol_rules": {"silent_minutes": 30, "household_radius_m": 60.0},
    }
    page = rankings_page(found, {"closure": 0.3, "on_time_handling": 0.3, "rework": 0.3}, "zh")
    text = _text(page)
    assert "83.33 %" in text and "(5 / 6)" in text and "(1 / 6)" in text and "—" in text
    assert "结案率 × 0.3" in text
    # every worker's rate says its formula on hover, and the footnote the limits
    shown = json.dumps(
        page.to_plotly_json(), default=lambda c: c.to_plotly_json(), ensure_ascii=False
    )
    assert "按期核实率 = 37 / 40" in shown and "按期核查率 = 0 / 0" in shown
    assert "92.50 %" in text and "(37 / 40)" in text
    assert "2个工作时内完成的核实" in text and "1个工作日内完成的核查" in text
    # the patrol: each figure with its counts on hover, the rules in the footnote
    assert "14.25 公里" in text and "17.0 小时" in text and "80.00 %" in text
    assert "(13.6 / 17.0 小时)" in text and "(96 / 240 户次)" in text
    assert "巡查里程 = 14.25 公里（2 个巡查日，2400 个定位点（其中 7 个被过滤））" in shown
    assert "巡查时长 = 17.0 小时（2 个巡查日" in shown
    assert "网格内时长占比 = 13.6 小时 / 17.0 小时" in shown
    assert "住户覆盖率 = 96 户次 / 240 户次" in shown
    assert "不超过 30 分钟的间隔" in text and "经过（60.0 米内）的住户" in text
    assert "巡查里程 = —" not in shown and "0 个巡查日，0 个定位点" in shown  # W2 walked not


def test_the_audit_page_names_campaign_writes_in_words() -> None:
    from dashboard.security.audit_page import action_label

    assert action_label("campaign_created", "zh") == "登记专项整治"
    assert action_label("campaign_deleted", "en") == "Campaign deleted"
