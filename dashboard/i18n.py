"""The one translation table: every string a user sees goes through ``t(key, lang)``.

Chinese is the default language of the command room; English is the switch. A missing key is a
programming error, caught by tests/unit/test_i18n.py which checks both languages are complete.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

TABLE: dict[str, tuple[str, str]] = {
    # key: (中文, English)
    "app.title": ("网格化社会治理综合指挥中心", "Grid Governance Command Center"),
    "status.heading": ("系统状态", "System status"),
    "status.database": ("数据库", "Database"),
    "status.bus": ("消息总线", "Event bus"),
    "status.ok": ("正常", "OK"),
    "status.down": ("故障", "Down"),
    "status.region": ("辖区", "Region"),
    "status.seeded": ("演示数据", "Demo data"),
    "unit.counties": ("区县", "Counties"),
    "unit.towns": ("乡镇街道", "Towns"),
    "unit.villages": ("村社区", "Villages"),
    "unit.grids": ("网格", "Grids"),
    "unit.workers": ("网格员", "Grid workers"),
    "unit.cameras": ("监控点位", "Cameras"),
    "unit.departments": ("职能部门", "Departments"),
    "kpi.reported_today": ("今日上报", "Reported today"),
    "kpi.closed_today": ("今日结案", "Closed today"),
    "kpi.open": ("在办事件", "Open cases"),
    "kpi.overdue": ("超期未结", "Overdue now"),
    "kpi.red_villages": ("红色村社", "Red villages"),
    "kpi.closure_rate": ("结案率", "Closure rate"),
    "kpi.on_time_rate": ("按期结案率", "On-time closure rate"),
    "kpi.period_30d": ("近30天", "Last 30 days"),
    "table.cases_by_status": ("事件状态分布", "Cases by status"),
    "table.red_villages": ("红色村社", "Red villages"),
    "table.latest_cases": ("最新事件", "Latest cases"),
    "col.case": ("编号", "No."),
    "col.time": ("时间", "Time"),
    "col.category": ("类别", "Category"),
    "col.village": ("村社区", "Village"),
    "col.status": ("状态", "Status"),
    "col.count": ("数量", "Count"),
    "col.source": ("来源", "Source"),
    "col.town": ("乡镇街道", "Town"),
    "col.red_since": ("变红时间", "Red since"),
    "col.contact": ("联系人", "Contact"),
    "col.phone": ("电话", "Phone"),
    "col.open_ratio": ("未结比例", "Open ratio"),
    "empty.none": ("暂无", "None"),
    "lang.switch": ("English", "中文"),
    # Case statuses (dashboard.domain.status.CaseStatus)
    "case.reported": ("已上报", "Reported"),
    "case.accepted": ("已受理", "Accepted"),
    "case.verifying": ("核实中", "Verifying"),
    "case.verified": ("已核实", "Verified"),
    "case.registered": ("已立案", "Registered"),
    "case.dispatched": ("已派遣", "Dispatched"),
    "case.handling": ("处置中", "Handling"),
    "case.returned": ("已回退", "Returned"),
    "case.suspended": ("已挂账", "Suspended"),
    "case.handled": ("处置完毕", "Handled"),
    "case.rework": ("返工", "Rework"),
    "case.checked": ("核查通过", "Checked"),
    "case.self_handled": ("自处理", "Self-handled"),
    "case.closed": ("已结案", "Closed"),
    "case.evaluated": ("已评价", "Evaluated"),
    "case.voided": ("已作废", "Voided"),
    # Sources
    "source.grid_worker": ("网格员巡查", "Grid worker"),
    "source.hotline": ("12345热线", "12345 hotline"),
    "source.public": ("群众上报", "Public"),
    "source.camera": ("视频发现", "Camera"),
    "source.police": ("110联动", "110 police"),
    "source.emergency": ("一键上报", "Emergency"),
    # Village light
    "village.ok": ("正常", "Normal"),
    "village.red": ("红色", "Red"),
}


def t(key: str, lang: Lang = "zh") -> str:
    """The text for ``key`` in ``lang``; raises KeyError for an unknown key (a bug, not input)."""
    zh, en = TABLE[key]
    return zh if lang == "zh" else en


def normalise_lang(value: str | None, default: Lang = "zh") -> Lang:
    """A language from user input (query string, cookie); anything unknown gives the default."""
    if value in LANGS:
        return value  # type: ignore[return-value]
    return default
