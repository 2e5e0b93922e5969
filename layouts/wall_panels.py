"""The wall's KPI tiles: which figures, under which labels (assets/wall_render.js draws them from
the snapshot; this list travels to it in the page's config, so the tiles have one definition)."""

from __future__ import annotations

# (key in snapshot["kpis"], label key, key of the period it covers)
KPI_TILES: tuple[tuple[str, str, str], ...] = (
    ("reported_today", "kpi.reported_today", "wall.today"),
    ("closed_today", "kpi.closed_today", "wall.today"),
    ("closure_rate", "kpi.closure_rate", "wall.d30"),
    ("on_time_rate", "wall.on_time_rate", "wall.d30"),
    ("open", "kpi.open", "wall.now"),
    ("overdue_now", "kpi.overdue", "wall.now"),
    ("red_villages", "kpi.red_villages", "wall.now"),
    ("on_patrol", "wall.on_patrol", "wall.now"),
)
RATE_KPIS = frozenset({"closure_rate", "on_time_rate"})
