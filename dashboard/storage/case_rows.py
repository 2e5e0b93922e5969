"""Mapping between a ``cases`` row and the domain's immutable ``CaseState``.

The row mirrors every field of CaseState by name (with the few renames in ``_COLUMN``), so the
mapping is generic: a field added to the domain fails loudly here (AttributeError) until the
model and a migration carry it too.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from dashboard.domain.lifecycle import CaseState
from dashboard.domain.status import OPEN_STATUSES, CaseStatus, Source
from dashboard.storage.models import Case

_FIELDS = tuple(f.name for f in fields(CaseState))
# CaseState field -> cases column, where the names differ.
_COLUMN = {"evaluation": "satisfaction"}
_ENUMS: dict[str, Any] = {"status": CaseStatus, "source": Source, "resume_status": CaseStatus}


def to_state(row: Case) -> CaseState:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(row, _COLUMN.get(name, name))
        if name in _ENUMS and value is not None:
            value = _ENUMS[name](value)
        values[name] = value
    return CaseState(**values)


def state_columns(state: CaseState) -> dict[str, Any]:
    """The column values of ``state`` (enums as their strings), plus the derived ``open`` flag."""
    values: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(state, name)
        values[_COLUMN.get(name, name)] = (
            value.value if name in _ENUMS and value is not None else value
        )
    values["open"] = state.status in OPEN_STATUSES
    return values


def write_state(row: Case, state: CaseState) -> None:
    for column, value in state_columns(state).items():
        setattr(row, column, value)
