"""Strings of the hardening: the database-unavailable page, sign-in throttling."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    # key: (中文, English)
    "unavailable.title": ("系统暂时不可用", "Temporarily unavailable"),
    "unavailable.detail": (
        "数据库暂时无法连接，请稍后刷新重试。已提交的数据不会丢失。",
        "The database cannot be reached right now; please reload shortly. Nothing was lost.",
    ),
    "unavailable.retry": ("重试", "Retry"),
    "case_ws.err.photo_busy": (
        "正在处理的图片过多，请稍后重新上传",
        "too many photos are being checked; upload again shortly",
    ),
    "login.throttled": (
        "登录尝试过于频繁，请在 {seconds} 秒后再试。",
        "Too many sign-in attempts; please try again in {seconds} s.",
    ),
}
