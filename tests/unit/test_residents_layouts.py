"""The residents' side in the desk pages as pure functions: the department's services table
(masked data shown as given, the steps as buttons, the return's row input, the papers as links)
and the leaders' per-town table (the on-time share, the total)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.read.resident_rows import TownResidents, with_total
from layouts import department_ids as ids
from layouts.department_services import DepartmentServices, services_section
from layouts.trends_residents import residents_trends_page

TZ = ZoneInfo("Asia/Shanghai")


def _walk(node: Any) -> list[Any]:
    found = [node]
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found += _walk(child)
    return found


def _text(node: Any) -> str:
    return " ".join(
        str(n.children) for n in _walk(node) if isinstance(getattr(n, "children", None), str)
    )


def _request(number: int, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": number,
        "item_zh": "临时救助申请",
        "item_en": "Temporary aid",
        "resident": {"id": 1, "name": "陈*", "id_number": "110105********002X", "phone": None},
        "village_name": "天竺社区",
        "status": status,
        "submitted_at": "2026-12-01T01:00:00+00:00",
        "deadline": None,
        "light": None,
        "papers": 0,
        "missing": "",
        **extra,
    }


def test_the_department_services_show_what_they_are_given_and_the_steps_allowed() -> None:
    page = DepartmentServices(
        lang="zh",
        tz=TZ,
        rows=[
            _request(7, "submitted", papers=1),
            _request(8, "returned", missing="户口簿复印件"),
        ],
        steps={7: ("accept", "return")},
        papers={7: [{"id": 31, "label": "身份证复印件"}]},
    )
    section = services_section(page)
    assert section is not None
    nodes = _walk(section)
    text = _text(section)
    assert "110105********002X" in text and "陈*" in text  # masked as the service gave it
    buttons = [n.id for n in nodes if isinstance(getattr(n, "id", None), dict)]
    assert {"type": ids.SERVICE_STEP, "request": 7, "step": "accept"} in buttons
    assert {"type": ids.SERVICE_NOTE, "request": 7} in buttons  # what is missing, in the row
    assert not [b for b in buttons if b.get("request") == 8]  # returned: waits, no step
    assert "等待补正：户口簿复印件" in text
    links = [n.href for n in nodes if getattr(n, "href", None)]
    assert links == ["/api/v1/service-requests/7/papers/31"]
    assert "未办结 2 件（待受理 1 件，超时 0 件）" in text
    assert services_section(DepartmentServices(lang="zh", tz=TZ, shown=False)) is None


def test_the_leaders_table_shows_the_on_time_share_and_the_total() -> None:
    towns = with_total(
        [
            TownResidents("330681109", "枫桥镇", 10, 8, 400, 6, 4, 3, 2),
            TownResidents("330681110", "应店街镇", 2, 0, 0, 1, 0, 0, 1),
        ],
        "合计",
    )
    page = residents_trends_page(
        towns, with_total([], "合计"), "month", date(2026, 12, 1), date(2026, 12, 31), "zh"
    )
    text = _text(page)
    assert "75%（3/4 件）" in text  # 枫桥镇: 3 of its 4 done in time
    assert "统计期：2026-12-01 至 2026-12-31" in text
    rows = [n for n in _walk(page) if getattr(n, "className", "") == "trs-total"]
    assert len(rows) == 1 and "合计" in _text(rows[0]) and "400" in _text(rows[0])
    assert towns.total.on_time_share == 0.75 and towns.towns[1].on_time_share is None


def test_the_walls_points_box_has_what_its_script_looks_up() -> None:
    from pathlib import Path

    from dashboard.i18n import t
    from layouts import wall_points

    script = (
        Path(wall_points.__file__).parents[1] / "dashboard/assets/residents_wall.js"
    ).read_text()
    used = set(re.findall(r"""getElementById\(\s*["']([a-z-]+)["']""", script))
    box = wall_points.points_box("zh")
    declared = {n.id for n in _walk(box) if isinstance(getattr(n, "id", None), str)}
    assert used == declared == {wall_points.BOX, wall_points.LIST}
    assert "innerHTML" not in script and "hidden" in box.className
    assert t("wall.points_title", "zh") in _text(box)
