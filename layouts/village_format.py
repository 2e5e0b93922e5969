"""A village's status in words, the same on every page that shows it."""

from __future__ import annotations

from collections.abc import Iterable

from dashboard.i18n import Lang, t

# Most pressing first: an open emergency, overdue cases, then the share of open cases.
REASON_ORDER = ("emergency", "overdue", "open_ratio")


def red_why(reasons: Iterable[str], lang: Lang) -> str:
    """Why a village is red ("紧急事件 · 在办率高"); "—" when no reason is known."""
    given = set(reasons)
    return " · ".join(t(f"red.{r}", lang) for r in REASON_ORDER if r in given) or "—"
