"""Strings of the supervision watchers (automatic supervision orders and their opinion)."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    "watchers.opinion_default": (
        "该案件已超过处置时限，请立即处置并回复督办意见。",
        "This case is past its time limit: handle it at once and reply to this order.",
    ),
    "watchers.supervisor_system": ("系统自动督办", "automatic (system)"),
}
