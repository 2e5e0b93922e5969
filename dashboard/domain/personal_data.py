"""Personal data of residents (ID numbers, phones): validated on the way in, masked on the way
out to everyone but the roles that handle the request they belong to.

The masks keep what a desk needs to tell two people apart on the phone (the region prefix and
the last four digits) and nothing that identifies a person on a screen, a CSV or a log line.
"""

from __future__ import annotations

import re

from dashboard.domain.errors import DomainError

_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^\+?\d{5,15}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class InvalidPersonalData(DomainError):
    """An ID number or phone that cannot be right."""


def check_id_number(value: str) -> str:
    """A resident identity card number (GB 11643: 18 characters, ISO 7064 check digit)."""
    number = value.strip().upper()
    if not _ID_RE.match(number):
        raise InvalidPersonalData("bad_id_number", "an ID number has 17 digits and a check digit")
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        raise InvalidPersonalData("bad_id_number", "the ID number's check digit does not match")
    return number


def check_phone(value: str) -> str:
    phone = value.strip().replace(" ", "").replace("-", "")
    if not _PHONE_RE.match(phone):
        raise InvalidPersonalData("bad_phone", "a phone number has 5 to 15 digits")
    return phone


def mask_id_number(value: str | None) -> str | None:
    """``330602199001011234`` → ``330602********1234``."""
    if not value:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return value
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_name(value: str) -> str:
    """``王小明`` → ``王**``: lists visible to every role show the family name only."""
    return value[:1] + "*" * (len(value) - 1) if value else value
