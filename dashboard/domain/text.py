"""Text that enters the system carries no control characters: the one home for that rule.

A NUL byte in any text field gave a 500 (PostgreSQL refuses NUL in text; phones retry a 5xx
forever, so such a report was never stored), and a NUL in a search filter cut the CSV export
short under a 200 (issue 11). Every C0 control character except tab, line feed and carriage
return, and DEL, is refused with ``InvalidText`` (HTTP 422) naming the field; nothing is cleaned
silently, so what is stored is what was sent.
"""

from __future__ import annotations

import re

from dashboard.domain.errors import DomainError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidText(DomainError):
    """Text with a control character; ``field`` names the input."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


def control_character(text: str) -> str | None:
    """The first control character in ``text`` (as ``U+0000``), or None when there is none."""
    found = _CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def check_text(text: str | None, field: str) -> None:
    """Refuse ``text`` with a control character (None and clean text pass)."""
    if text is None:
        return
    char = control_character(text)
    if char is not None:
        raise InvalidText(
            "control_character", f"{field}: control character {char} is not allowed", field
        )
