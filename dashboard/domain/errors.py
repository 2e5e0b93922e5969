"""Errors raised by the pure domain core.

Every domain error carries a stable machine ``code`` (for API responses, logs and tests; never
reworded) and a human ``message`` (for operators; may name the offending entry and may change).
Adapters translate them at the edge, e.g. into an HTTP 409 or a flash message. Other modules
add their own subclasses (``class IllegalTransition(DomainError)``); keep this base simple.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation detected by ``dashboard.domain``."""

    def __init__(self, code: str, message: str) -> None:
        # Both go to Exception.args so the error pickles (workers, multiprocessing) and
        # ``cls(*args)`` rebuilds it unchanged.
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class UnknownCategory(DomainError):
    """A category code that is not in the loaded category tree."""


class DeadlineError(DomainError):
    """An invalid time limit, deadline, extension or suspension interval."""


class CalendarError(DomainError):
    """A naive datetime, or a malformed working-calendar definition."""


class InvalidData(DomainError):
    """A shipped or uploaded data file (categories, departments) breaks a rule."""


class ReadOnlyRole(DomainError):
    """A read-only principal (a leader, a wall) asked to change a case: refused (HTTP 403)."""
