"""Access roles of the command center (their permissions arrive with the security issue)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    DEPARTMENT = "department"
    LEADER = "leader"
    WALL = "wall"
    GRID_WORKER = "grid_worker"
    INTEGRATION = "integration"


class WorkerRole(StrEnum):
    """The "1+1+N+N" of a village: grid leader, grid manager, grid workers, collectors."""

    GRID_LEADER = "grid_leader"  # 网格长
    GRID_MANAGER = "grid_manager"  # 网格管理员
    GRID_WORKER = "grid_worker"  # 网格员
    INFORMATION_COLLECTOR = "information_collector"  # 信息采集员
