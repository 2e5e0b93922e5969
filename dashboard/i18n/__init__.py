"""The one translation table: every string a user sees goes through ``t(key, lang)``.

Chinese is the default language of the command room; English is the switch. A missing key is a
programming error, caught by tests/unit/test_i18n.py which checks both languages are complete.
"""

from __future__ import annotations

from types import ModuleType
from typing import Literal

from dashboard.i18n import (
    case_list,
    cases,
    core,
    department,
    field,
    integrations,
    pages,
    residents,
    residents_field,
    rising,
    security,
    shell,
    supervision,
    tracks,
    trends,
    video,
    wall_levels,
    watchers,
)

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

# Each area keeps its strings in its own module (key: (中文, English)); together they are one
# table, and a key defined twice is refused at import.
_AREAS: tuple[ModuleType, ...] = (
    core,
    shell,
    video,
    watchers,
    cases,
    supervision,
    case_list,
    department,
    pages,
    security,
    tracks,
    residents,
    residents_field,
    wall_levels,
    field,
    integrations,
    rising,
    trends,
)


def _merge(areas: tuple[ModuleType, ...]) -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for area in areas:
        for key, texts in area.ENTRIES.items():
            if key in table:
                raise RuntimeError(f"translation key {key!r} defined twice ({area.__name__})")
            table[key] = texts
    return table


TABLE: dict[str, tuple[str, str]] = _merge(_AREAS)


def t(key: str, lang: Lang = "zh") -> str:
    """The text for ``key`` in ``lang``; raises KeyError for an unknown key (a bug, not input)."""
    zh, en = TABLE[key]
    return zh if lang == "zh" else en


def normalise_lang(value: str | None, default: Lang = "zh") -> Lang:
    """A language from user input (query string, cookie); anything unknown gives the default."""
    if value in LANGS:
        return value
    return default
