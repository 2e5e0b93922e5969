"""Where the other leadership panels plug into ``/trends``: rising problems, campaign effects
and rankings (built on their own branch) add a function to ``PANEL_SLOTS``.

A slot takes the page's ``PanelContext`` (the period, the place and the figures the page is
showing, the principal, the language) and answers a Dash component, or None to show nothing.
It runs inside the page's guarded callback, so it may read (scoped to ``principal.scope``), and
it must stay a pure layout of what it reads. Register at import, in the other branch's module:

    from layouts.trend_slots import PANEL_SLOTS
    PANEL_SLOTS.append(rising_panel)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dashboard.i18n import Lang
from dashboard.read.trend_views import TrendView
from dashboard.security.principal import Principal


@dataclass(frozen=True)
class PanelContext:
    view: TrendView  # view.comparison.current: the period; view.place: the drilled place
    principal: Principal
    lang: Lang


PanelSlot = Callable[[PanelContext], Any]

# === MERGE POINT (issue 13, branch `rising`): append the rising-problems, campaign and ranking
# panels here. The trends page shows them, in this order, below its own sections. ===
PANEL_SLOTS: list[PanelSlot] = []
