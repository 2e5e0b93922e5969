"""Words inside Dash's own controls, in the page's language (a drop-down list's search box,
its "no options" line...): Dash draws them in English unless told."""

from __future__ import annotations

from dashboard.i18n import Lang, t

_DROPDOWN = (
    "select_all",
    "deselect_all",
    "selected_count",
    "search",
    "clear_search",
    "clear_selection",
    "no_options_found",
)


def dropdown_labels(lang: Lang) -> dict[str, str]:
    """``labels=`` for every ``dcc.Dropdown``."""
    return {key: t(f"dropdown.{key}", lang) for key in _DROPDOWN}
