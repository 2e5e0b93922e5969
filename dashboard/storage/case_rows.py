"""Mapping between a ``cases`` row and the domain's immutable ``CaseState``.

The row mirrors every field of CaseState by name, so the mapping is generic: a field added to
the domain fails loudly here (AttributeError) until the model and a migration carry it too.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from dashboard.domain.lifecycle import CaseState
from dashboard.domain.status import OPEN_STATUSES, CaseStatus, Source
from dashboard.storage.models import Case

_FIELDS = tuple(f.name for f in fields(CaseState))
_ENUMS: dict[str, Any] = {"status": CaseStatus, "source": Source, "resume_status": CaseStatus}


def to_state(row: Case) -> CaseState:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(row, name)
        if name in _ENUMS and value is not None:
            value = _ENUMS[name](value)
        values[name] = value
    return CaseState(**values)


def write_state(row: Case, state: CaseState) -> None:
    for name in _FIELDS:
        value = getattr(state, name)
        setattr(row, name, value.value if name in _ENUMS and value is not None else value)
    row.open = state.status in OPEN_STATUSES
