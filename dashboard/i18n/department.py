"""The department view (/department): cases dispatched to a department, accept, report handled."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    "department.title": ("部门办件", "Department cases"),
    "department.pick": ("查看部门", "Department"),
    "department.none_assigned": (
        "您的账号未关联职能部门，请联系管理员。",
        "Your account has no department; ask an administrator.",
    ),
    "department.cases": ("派往本部门的事件", "Cases dispatched to this department"),
    "department.count": ("待办 {n} 件（超期 {o} 件）", "{n} open ({o} overdue)"),
    "department.no_cases": ("没有待办事件", "No open cases"),
    "department.to_accept": ("待接收", "To accept"),
    "department.in_hand": ("处置中", "In hand"),
    "department.accept": ("接收", "Accept"),
    "department.report": ("报告处置完毕", "Report handled"),
    "department.report_title": ("事件 {n}：报告处置完毕", "Case {n}: report handled"),
    "department.photo_drop": (
        "点击选择或拖入处置结果照片（JPEG/PNG/WebP，必传）",
        "Click or drop a photo of the result (JPEG/PNG/WebP, required)",
    ),
    "department.photo_chosen": ("已选择：{f}", "Chosen: {f}"),
    "department.note": ("处置说明（可选）", "What was done (optional)"),
    "department.submit": ("提交", "Submit"),
    "department.cancel": ("取消", "Cancel"),
    "department.done_start": ("已接收事件 {n}", "Case {n} accepted"),
    "department.done_handled": ("事件 {n} 已报告处置完毕", "Case {n} reported handled"),
    "department.refused": ("操作未成功：{m}", "Not done: {m}"),
    "department.photo_missing": ("请先上传处置结果照片", "Attach a photo of the result first"),
    "department.no_case_chosen": ("请先选择事件", "Choose a case first"),
    "department.orders": ("督办单", "Supervision orders"),
    "department.no_orders": ("没有待回复的督办单", "No open supervision orders"),
    "department.order_head": ("督办单 {n} · 事件 {c}", "Order {n} · case {c}"),
    "department.order_issued": ("下发时间", "Issued"),
    "department.order_opinion": ("督办意见", "Opinion"),
    "department.order_reply": ("回复", "Reply"),
    "department.reply_placeholder": ("填写回复内容", "Write the reply"),
    "department.reply_send": ("回复", "Send reply"),
    "department.replied": ("已回复督办单 {n}", "Order {n} answered"),
    "department.order_status_open": ("待回复", "Awaiting reply"),
    "department.order_status_replied": ("已回复", "Replied"),
}
