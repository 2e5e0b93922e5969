"""The supervisors' page as pure functions of rows (no browser, no database), and the agreement
between the layout and its scripts (supervision.js, the shared alarm.js)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dash import html
from dash.development.base_component import Component

from dashboard.domain.roles import Role
from dashboard.i18n import TABLE
from dashboard.security.principal import Principal
from layouts import supervision_ids as ids
from layouts import wall_ids
from layouts.supervision import SupervisionView, js_config, supervision_page
from layouts.supervision_tables import (
    SectionData,
    call_table,
    case_table,
    cases_summary,
    duration,
    history_table,
    order_table,
    sorted_cases,
    waiting_calls,
)
from layouts.wall import WallView
from layouts.wall import js_config as wall_config

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "dashboard" / "assets"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Shaoxing
SUPERVISOR = Principal("sup-chen", Role.SUPERVISOR, "user", 1, display_name="陈督办")


def view(lang: str = "zh") -> SupervisionView:
    return SupervisionView(
        lang=lang,  # type: ignore[arg-type]
        tz=SHANGHAI,
        now=NOW,
        towns=[("330681109", "枫桥镇")],
        departments={"D01": "城管执法"},
        categories={"01": "矛盾纠纷", "01002": "婚姻家庭纠纷", "04001": "消防通道堵塞"},
        majors=["01"],
        villages=[("330681109002", "枫源村")],
        can_ack=True,
    )


def case(case_id: int, minutes_to_deadline: int, light: str, **extra: Any) -> dict[str, Any]:
    deadline = NOW + timedelta(minutes=minutes_to_deadline)
    return {
        "id": case_id,
        "status": "dispatched",
        "emergency": False,
        "category": "01002",
        "village": "330681109002",
        "village_name": "枫源村",
        "department_name": "城管执法",
        "deadline": deadline,
        "light": light,
        "overdue_minutes": -minutes_to_deadline if minutes_to_deadline <= 0 else None,
        **extra,
    }


def entry(entry_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": entry_id,
        "village": "330681109002",
        "village_name": "枫源村",
        "contact_name": "王村主任",
        "contact_phone": "13800000001",
        "red_since": (NOW - timedelta(hours=3, minutes=5)).isoformat(),
        "status": "open",
        "snoozed_until": None,
        "open_cases": 9,
        "overdue_cases": 2,
        "emergencies": 1,
        "last_call": None,
        **extra,
    }


def walk(component: Any) -> Iterator[Any]:
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, list | tuple):
        for child in children:
            yield from walk(child)
    elif isinstance(children, Component | str):
        yield from walk(children)


def text(component: Any) -> str:
    return " ".join(
        str(node) if isinstance(node, str | int) else str(getattr(node, "children", "") or "")
        for node in walk(component)
        if isinstance(node, str | int) or isinstance(getattr(node, "children", None), str | int)
    )


def test_overdue_first_then_soon_due_with_lights_and_time_left() -> None:
    data = SectionData(
        overdue=[case(7, -130, "red"), case(3, -10, "red")],
        soon=[case(9, 90, "yellow", emergency=True)],
        overdue_total=2,
        soon_total=1,
    )
    table = case_table(data, view(), {"key": "overdue", "desc": False})
    rows = table["rows"]
    assert [r["id"] for r in rows] == [7, 3, 9]
    assert [(r["light"], r["light_label"]) for r in rows] == [
        ("red", "红灯"),
        ("red", "红灯"),
        ("yellow", "黄灯"),
    ]
    assert (rows[0]["left"], rows[0]["left_class"]) == ("超期 2小时10分", "late")
    assert (rows[2]["left"], rows[2]["left_class"]) == ("剩 1小时30分", "soon")
    assert rows[0]["category"] == "婚姻家庭纠纷" and rows[0]["status"] == "已派遣"
    assert [r["emergency"] for r in rows] == [False, False, True]
    assert rows[0]["deadline"] == "07:20"  # 09:30 - 2 h 10 min, in Shaoxing
    assert table["next"] == (NOW + timedelta(minutes=90)).isoformat()
    assert [key for key, _ in table["columns"]] == [
        "id",
        "light",
        "category",
        "village",
        "department",
        "status",
        "deadline",
        "overdue",
    ]


def test_sorting_by_any_column_and_direction() -> None:
    data = SectionData(
        overdue=[case(7, -130, "red")], soon=[case(2, 30, "yellow"), case(5, 600, "green")]
    )
    assert [r["id"] for r in sorted_cases(data, {"key": "id", "desc": False})] == [2, 5, 7]
    assert [r["id"] for r in sorted_cases(data, {"key": "id", "desc": True})] == [7, 5, 2]
    assert [r["id"] for r in sorted_cases(data, {"key": "light", "desc": False})] == [7, 2, 5]
    table = case_table(data, view(), {"key": "deadline", "desc": True})
    assert table["sort"] == {"key": "deadline", "desc": True}
    assert [r["id"] for r in table["rows"]] == [5, 2, 7]


def test_summary_counts_and_says_when_rows_are_capped() -> None:
    data = SectionData(overdue_total=250, soon_total=4, window=24, cap=200)
    assert cases_summary(data, "zh") == "超期 250 件 · 24 小时内到期 4 件 （仅显示前 200 件）"
    one = SectionData(overdue_total=1, soon_total=0, window=8)
    assert cases_summary(one, "en") == "1 overdue · 0 due within 8 h"
    empty = case_table(SectionData(), view(), {})
    assert empty["rows"] == [] and empty["empty"] == "没有超期或临期事件"


def test_orders_show_replies_and_can_be_closed_until_closed() -> None:
    at = NOW.isoformat()
    orders = [
        {"id": 11, "case_id": 7, "department": "D01", "opinion": "请立即处置", "issued_at": at,
         "status": "open", "reply": None},
        {"id": 12, "case_id": 8, "department": "D01", "opinion": "已超期", "issued_at": at,
         "status": "replied", "reply": "明日完成", "replied_by": "dept-zhao", "replied_at": at},
        {"id": 13, "case_id": 9, "department": "X9", "opinion": "", "issued_at": at,
         "status": "closed", "reply": "好"},
    ]  # fmt: skip
    table = order_table(SectionData(orders=orders), view())
    first, second, third = table["rows"]
    assert (first["status_label"], first["reply"], first["replied"]) == (
        "待回复",
        "尚未回复",
        False,
    )
    assert (second["status_label"], second["reply"]) == ("已回复", "明日完成")
    assert second["reply_meta"] == "dept-zhao · 09:30" and second["department"] == "城管执法"
    assert [r["closable"] for r in table["rows"]] == [True, True, False]
    assert third["department"] == "X9" and table["close"] == "办结"
    assert [r["case_id"] for r in table["rows"]] == [7, 8, 9]


def test_the_call_list_shows_contact_phone_red_time_and_what_is_open() -> None:
    called = {"at": NOW.isoformat(), "caller": "sup-chen", "outcome": "no_answer"}
    longer = (NOW - timedelta(hours=5)).isoformat()
    data = SectionData(
        calls=[
            entry(1),
            entry(2, village_name="联村", last_call=called, red_since=longer),
            entry(3, status="snoozed", snoozed_until=(NOW + timedelta(hours=1)).isoformat()),
            entry(4, status="snoozed", snoozed_until=(NOW - timedelta(minutes=1)).isoformat()),
        ]
    )
    assert [e["id"] for e in waiting_calls(data, view())] == [2, 1, 4]  # longest red first
    table = call_table(data, view(), selected=1)
    rows = {r["id"]: r for r in table["rows"]}
    assert set(rows) == {1, 2, 4} and table["selected"] == 1
    one = rows[1]
    assert (one["contact"], one["phone"], one["red_for"]) == ("王村主任", "13800000001", "3小时5分")
    assert one["counts"] == "9 / 2 / 1" and one["last_call"] == [] and table["never"] == "未拨打"
    assert rows[2]["last_call"] == ["09:30 sup-chen", "无人接听"]


def test_history_says_who_called_whom_and_snoozes_with_reason() -> None:
    at = NOW.isoformat()
    later = (NOW + timedelta(hours=2)).isoformat()
    history = [
        {"at": at, "kind": "call", "village_name": "枫源村", "caller": "sup-chen",
         "callee": "王村主任", "phone": "13800000001", "outcome": "promised", "note": "下午派人"},
        {"at": at, "kind": "snooze", "village_name": "枫源村", "caller": "sup-li", "callee": "",
         "phone": "", "outcome": "", "note": "开会", "snooze_until": later},
    ]  # fmt: skip
    rows = history_table(SectionData(history=history), view("en"))["rows"]
    assert rows[0]["caller"] == "sup-chen" and rows[0]["callee"] == "王村主任 13800000001"
    assert rows[0]["result"] == "Promised to act · 下午派人"
    assert rows[1]["result"] == "Snoozed → 11:30 · 开会" and rows[1]["callee"] == "—"


def test_durations_read_naturally() -> None:
    assert [duration(m, "zh") for m in (5, 65, 24 * 60 + 60)] == ["5分钟", "1小时5分", "1天1小时"]


def _stores(page: Any) -> dict[str, Any]:
    return {n.id: n.data for n in walk(page) if type(n).__name__ == "Store"}


def test_the_page_has_every_section_in_the_shell_and_the_wall_alarm() -> None:
    data = SectionData(calls=[entry(1)])
    page = supervision_page(SUPERVISOR, view(), data)
    found = {n.id for n in walk(page) if isinstance(getattr(n, "id", None), str)}
    for ident in (
        ids.CASES,
        ids.ORDERS,
        ids.CALLS,
        ids.HISTORY,
        ids.CALL_FORM,
        ids.EMERGENCY_FORM,
        ids.LIVE_CASES,
        ids.LIVE_ORDERS,
        ids.LIVE_CALLS,
        ids.LANG,
        ids.SORT,
        ids.CALL_SELECTED,
        ids.ORDER_CLOSE,
        wall_ids.ALARM,
        wall_ids.ALARM_ACK,
        wall_ids.AUDIO,
        wall_ids.SOUND_HINT,
    ):
        assert ident in found, ident
    stores = _stores(page)
    assert stores[ids.CALLS_DATA]["rows"][0]["village_name"] == "枫源村"
    assert stores[ids.CASES_DATA]["rows"] == [] and stores[ids.LANG] == "zh"
    assert any(getattr(n, "className", "") == "shell-bar" for n in walk(page))
    config = json.loads(page.to_plotly_json()["props"]["data-config"])
    assert config["lang"] == "zh" and config["tz"] == "Asia/Shanghai"
    nav = [n for n in walk(page) if isinstance(n, html.A) and "active" in str(n.className)]
    assert nav and nav[0].href.startswith("/supervision")
    english = supervision_page(SUPERVISOR, view("en"), data)
    assert "Call list: red villages" in text(english) and "红色村" not in text(english)
    assert _stores(english)[ids.CALLS_DATA]["pick"] == "Log"


def test_the_emergency_form_offers_the_three_kinds_and_the_villages() -> None:
    page = supervision_page(SUPERVISOR, view(), SectionData())
    kinds = next(n for n in walk(page) if getattr(n, "id", None) == ids.EMERGENCY_KIND)
    assert [o["value"] for o in kinds.options] == ["fire", "mass_dispute", "traffic_accident"]
    assert [o["label"] for o in kinds.options] == ["火灾", "群体性纠纷", "重大交通事故"]
    villages = next(n for n in walk(page) if getattr(n, "id", None) == ids.EMERGENCY_VILLAGE)
    assert villages.options == [{"label": "枫源村", "value": "330681109002"}]


# --- the scripts and the layout agree ---------------------------------------------------------


def _script(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def test_every_element_the_scripts_look_up_is_declared() -> None:
    scripts = _script("supervision.js") + _script("supervision_tables.js")
    lookups = r"""(?:getElementById|set|draw)\(\s*["']([a-z-]+)["']|["'][^"']*#([a-z-]+)"""
    used = {a or b for a, b in re.findall(lookups, scripts)}
    declared = {v for k, v in vars(ids).items() if k.isupper()}
    assert used and used <= declared | {v for k, v in vars(wall_ids).items() if k.isupper()}
    alarm_ids = set(re.findall(r"""#(wall-[a-z-]+)""", _script("alarm.js")))
    assert alarm_ids and alarm_ids <= {v for k, v in vars(wall_ids).items() if k.isupper()}


def test_every_label_the_scripts_use_is_in_both_pages_configs() -> None:
    pattern = r"""L\[\s*["']([a-z_]+\.[a-z0-9_]+)["']\s*\]"""
    used = set(re.findall(pattern, _script("supervision.js") + _script("alarm.js")))
    assert used <= js_config(view())["labels"].keys()
    alarm = set(re.findall(pattern, _script("alarm.js")))
    wall = WallView(lang="zh", tz=SHANGHAI, now=NOW, title="t")
    assert alarm and alarm <= wall_config(wall)["labels"].keys()
    assert all(k in TABLE for k in used)


def test_scripts_never_write_html() -> None:
    """User text (opinions, replies, notes, names) reaches the page through textContent only."""
    for name in ("supervision.js", "supervision_tables.js", "alarm.js"):
        script = _script(name)
        assert "innerHTML" not in script and "insertAdjacentHTML" not in script, name
