"""Words inside Dash's own controls, in the page's language (a drop-down list's search box,
its "no options" line...): Dash draws them in English unless told; and small typed helpers for
Dash's keyword arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

from dashboard.i18n import Lang, t

if TYPE_CHECKING:
    from dash import dcc

# The ``type=`` of a ``dcc.Input``: Dash's typing lists fewer than the browser has (``date`` and
# ``datetime-local`` render the browser's own pickers); ``input_kind`` hands it over.
InputKind = Literal[
    "text",
    "number",
    "password",
    "email",
    "range",
    "search",
    "tel",
    "url",
    "hidden",
    "date",
    "datetime-local",
    "month",
]

_DROPDOWN = (
    "select_all",
    "deselect_all",
    "selected_count",
    "search",
    "clear_search",
    "clear_selection",
    "no_options_found",
)


def dropdown_labels(lang: Lang) -> dcc.Dropdown.Labels:
    """``labels=`` for every ``dcc.Dropdown``."""
    return cast("dcc.Dropdown.Labels", {key: t(f"dropdown.{key}", lang) for key in _DROPDOWN})


def input_kind(kind: InputKind) -> Any:
    """``type=`` for a ``dcc.Input`` (typed here; Dash's own hint omits the date pickers)."""
    return kind


def data_attrs(**values: str | None) -> dict[str, Any]:
    """HTML ``data-*`` attributes, for a Dash component's keyword arguments
    (``html.Div(..., **data_attrs(case="12"))`` is ``<div data-case="12">``)."""
    return {f"data-{name}": value for name, value in values.items()}
