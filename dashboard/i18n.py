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
    # Sign-in and access (dashboard.security)
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.refused": (
        "用户名或密码错误，或账号已锁定",
        "Wrong user name or password, or the account is locked",
    ),
    "login.expired": ("页面已过期，请重新登录", "The form expired; please sign in again"),
    "logout.title": ("退出登录", "Sign out"),
    "logout.confirm": ("确定退出登录？", "Sign out now?"),
    "logout.submit": ("退出", "Sign out"),
    "auth.signed_in_as": ("当前用户", "Signed in as"),
    "auth.forbidden": ("无权访问", "Not allowed"),
    "auth.forbidden_detail": ("您的角色无权查看此页面。", "Your role may not open this page."),
    "auth.sign_in": ("请先登录", "Please sign in"),
    "auth.switch_user": ("切换用户", "Sign in as someone else"),
    "audit.title": ("审计日志", "Audit log"),
    "audit.col.at": ("时间", "Time"),
    "audit.col.actor": ("操作人", "Actor"),
    "audit.col.role": ("角色", "Role"),
    "audit.col.action": ("操作", "Action"),
    "audit.col.target": ("对象", "Target"),
    "audit.col.ip": ("地址", "Address"),
    "audit.col.details": ("详情", "Details"),
    "audit.older": ("更早", "Older"),
    # The wall (layouts/wall*.py, assets/wall*.js); {n}, {t} are filled in by the page
    "wall.connecting": ("正在连接…", "Connecting…"),
    "wall.live": ("实时", "Live"),
    "wall.updated": ("更新于 {t}", "Updated {t}"),
    "wall.stale": ("数据已 {n} 秒未更新", "No data for {n} s"),
    "wall.reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "wall.on_patrol": ("巡查网格员", "Workers on patrol"),
    "wall.today": ("今日", "Today"),
    "wall.d30": ("近30天", "30 d"),
    "wall.on_time_rate": ("按期结案率", "On-time closure"),
    "wall.now": ("当前", "Now"),
    "wall.last_24h": ("近24小时", "Last 24 h"),
    "wall.sources": ("事件来源", "Cases by source"),
    "wall.categories": ("高发事件类别", "Top categories"),
    "wall.trend": ("事件趋势", "Case trend"),
    "wall.trend_reported": ("上报", "Reported"),
    "wall.trend_closed": ("结案", "Closed"),
    "wall.feed": ("实时事件", "Newest cases"),
    "wall.departments": ("部门处置", "Department handling"),
    "wall.col_department": ("部门", "Department"),
    "wall.col_open": ("在办", "Open"),
    "wall.col_overdue": ("超期", "Overdue"),
    "wall.col_handled": ("30天处置", "Done 30 d"),
    "wall.col_on_time": ("按期率", "On time"),
    "wall.map": ("辖区态势", "Situation map"),
    "wall.legend_ok": ("正常村社", "Village normal"),
    "wall.legend_red": ("红色村社", "Red village"),
    "wall.legend_worker": ("巡查网格员", "Worker on patrol"),
    "wall.legend_case": ("新上报事件", "New case"),
    "wall.legend_emergency": ("紧急事件", "Emergency"),
    "wall.red_list": ("红色预警村社", "Red villages"),
    "wall.red_more": ("另有 {n} 个", "{n} more"),
    "wall.dur_m": ("{m}分钟", "{m} min"),
    "wall.dur_hm": ("{h}小时{m}分", "{h} h {m} min"),
    "wall.dur_dh": ("{d}天{h}小时", "{d} d {h} h"),
    "wall.map_unavailable": ("地图数据暂不可用", "Map data unavailable"),
    "wall.emergency": ("紧急", "URGENT"),
    "wall.alarm_title": ("紧急事件警报", "EMERGENCY ALARM"),
    "wall.alarm_more": ("另有 {n} 起紧急事件待确认", "Waiting to be acknowledged: {n} more"),
    "wall.alarm_name": ("值班员姓名", "Operator name"),
    "wall.alarm_ack": ("确认接警", "Acknowledge"),
    "wall.alarm_name_required": ("请填写值班员姓名后确认", "Enter the operator's name first"),
    "wall.alarm_refused": ("确认未成功：{t}", "Not acknowledged: {t}"),
    "wall.alarm_desk": ("请在受理坐席确认此警报", "Acknowledge this alarm at a desk"),
    "wall.sound_hint": ("点击页面任意处以启用警报声音", "Click anywhere to enable alarm sound"),
    "wall.case_no": ("事件编号 {n}", "Case {n}"),
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
