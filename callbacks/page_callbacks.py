"""A page's server callbacks as module-level functions, registered per app.

``on = PageCallbacks(Permission.X)`` at the top of a page's module; each callback is a plain
function under ``@on(Output(...), Input(...), State(...), prevent_initial_call=True)`` whose first
parameter is the page's context (what ``register_*_page`` built from the container); then
``on.register(context)`` inside ``register_*_page`` hands every recorded function to Dash's
``callback``, wrapped in ``guard_callback(permission)`` and given the context. Registering per app
(not at import) keeps ``create_app`` repeatable in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Generic, TypeVar

from dash import callback

from dashboard.domain.permissions import Permission
from dashboard.security.pages import guard_callback

C = TypeVar("C")
F = TypeVar("F", bound=Callable[..., Any])


class PageCallbacks(Generic[C]):
    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self._recorded: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *dependencies: Any, **options: Any) -> Callable[[F], F]:
        """Record the decorated function as a callback on ``dependencies``."""

        def record(func: F) -> F:
            self._recorded.append((func, dependencies, options))
            return func

        return record

    def register(self, context: C) -> None:
        """Register every recorded callback with Dash, each bound to ``context``."""
        for func, dependencies, options in self._recorded:
            bound = partial(func, context)
            callback(*dependencies, **options)(guard_callback(self.permission)(bound))
