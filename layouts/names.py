"""Long names shortened where it loses nothing: the wall's panels are narrow, and an ellipsis
would cut the distinguishing end ("在建违法建设（需立…", "应急管理办（安…")."""

from __future__ import annotations

import re

_ASIDE = re.compile(r"\s*[（(][^（）()]*[）)]")

# What fits the wall's narrow columns at their font size (Chinese characters).
WALL_CATEGORY_CHARS = 11
WALL_DEPARTMENT_CHARS = 8


def short_name(name: str, limit: int) -> str:
    """``name`` when it fits ``limit`` characters; else without its bracketed asides
    ("应急管理办（安监站）" → "应急管理办"), which explain rather than distinguish."""
    if len(name) <= limit:
        return name
    return _ASIDE.sub("", name).strip() or name
