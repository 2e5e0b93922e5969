"""Case statuses and the actions that move a case between them (DOMAIN.md, "Case lifecycle")."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    REPORTED = "reported"  # 上报
    ACCEPTED = "accepted"  # 受理
    VERIFYING = "verifying"  # 核实中 (public reports go to the grid worker first)
    VERIFIED = "verified"  # 已核实
    REGISTERED = "registered"  # 立案
    DISPATCHED = "dispatched"  # 派遣
    HANDLING = "handling"  # 处置中
    RETURNED = "returned"  # 回退 (back to the dispatcher)
    SUSPENDED = "suspended"  # 挂账 (clock stopped)
    HANDLED = "handled"  # 处置完毕
    REWORK = "rework"  # 返工 (check failed, same department again)
    CHECKED = "checked"  # 核查通过, waiting to be closed
    SELF_HANDLED = "self_handled"  # 自处理
    CLOSED = "closed"  # 结案
    EVALUATED = "evaluated"  # 评价
    VOIDED = "voided"  # 作废


class Action(StrEnum):
    ACCEPT = "accept"
    REQUEST_VERIFY = "request_verify"
    VERIFY = "verify"
    VOID = "void"
    REGISTER = "register"
    DISPATCH = "dispatch"
    START = "start"  # the department takes the case up
    RETURN = "return"
    EXTEND = "extend"
    SUSPEND = "suspend"
    RESUME = "resume"
    HANDLED = "handled"
    CHECK_PASS = "check_pass"
    CHECK_FAIL = "check_fail"
    SELF_HANDLE = "self_handle"
    CLOSE = "close"
    EVALUATE = "evaluate"


CLOSED_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.EVALUATED})
TERMINAL_STATUSES = CLOSED_STATUSES | {CaseStatus.VOIDED}
# A case is "open" from report until it is closed or voided; the village rule and the
# overdue counts use this set.
OPEN_STATUSES = frozenset(s for s in CaseStatus if s not in TERMINAL_STATUSES)
# Statuses in which the deadline clock runs (registered and not yet handled or stopped).
CLOCK_RUNNING_STATUSES = frozenset(
    {
        CaseStatus.REGISTERED,
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLING,
        CaseStatus.RETURNED,
        CaseStatus.REWORK,
    }
)


class Source(StrEnum):
    GRID_WORKER = "grid_worker"
    HOTLINE = "hotline"  # 12345
    PUBLIC = "public"
    CAMERA = "camera"
    POLICE = "police"  # 110
    EMERGENCY = "emergency"  # 一键上报
    CITY_MANAGEMENT = "city_management"  # 数字城管 (digital city management, over Open311)


# What an integration's key may report as (its configured source: issue 17).
INTEGRATION_SOURCES = frozenset(
    {Source.HOTLINE, Source.POLICE, Source.CITY_MANAGEMENT, Source.PUBLIC}
)
