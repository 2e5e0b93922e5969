"""The desk pages' frame: navigation, roles, sign-out."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    "nav.wall": ("指挥大屏", "Wall"),
    "nav.video": ("视频监控", "Video"),
    "nav.supervision": ("督查督办", "Supervision"),
    "nav.cases": ("事件查询", "Cases"),
    "nav.department": ("部门办件", "Department"),
    "nav.status": ("系统状态", "Status"),
    "nav.audit": ("审计日志", "Audit log"),
    "nav.sign_out": ("退出登录", "Sign out"),
    "role.admin": ("系统管理员", "Administrator"),
    "role.commander": ("值班长", "Shift commander"),
    "role.dispatcher": ("受理派遣员", "Dispatcher"),
    "role.supervisor": ("督办员", "Supervisor"),
    "role.department": ("职能部门", "Department"),
    "role.leader": ("领导", "Leader"),
    "role.wall": ("大屏", "Wall screen"),
    "role.grid_worker": ("网格员", "Grid worker"),
    "role.integration": ("系统对接", "Integration"),
}
