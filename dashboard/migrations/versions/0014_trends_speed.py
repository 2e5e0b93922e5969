"""Trends at scale (issue 13 item 7): narrower roll-ups (day × village × department, × category,
× source), the hour × weekday and map-cell roll-ups, a month twin of each (``…_months``: a long
period reads its whole months there), the new-case trend per day and per week, the
state-at-midnight roll-up of the cases closed late,
and the marks now keeping the facts each case was rolled up with (a refresh subtracts the old
contribution and adds the new one). The roll-ups are emptied: the next refresh rebuilds them.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = (
    "reported",
    "emergencies",
    "registered",
    "extensions",
    "dispatched",
    "right_first_time",
    "closed",
    "closed_on_time",
    "closed_reworked",
    "handled",
    "handled_on_time",
    "handling_cases",
)


_KEYS = {
    "day": sa.String(10),
    "village_code": sa.String(20),
    "category_code": sa.String(10),
    "department_code": sa.String(20),
    "source": sa.String(20),
    "weekday": sa.Integer(),
    "hour": sa.Integer(),
    "cell_x": sa.Integer(),
    "cell_y": sa.Integer(),
    "major_code": sa.String(10),
}
_FIGURES = (*_COUNTS, "handling_seconds")
# name: (keys in primary-key order, summed columns); each but trend_overdue has a …_months twin.
_TABLES = {
    "trend_daily": (("day", "village_code", "department_code"), _FIGURES),
    "trend_categories": (
        ("day", "village_code", "category_code", "department_code"),
        _FIGURES,
    ),
    "trend_sources": (("day", "village_code", "department_code", "source"), _FIGURES),
    "trend_hours": (
        ("day", "village_code", "department_code", "weekday", "hour"),
        ("reported",),
    ),
    "trend_cells": (
        ("day", "village_code", "department_code", "cell_x", "cell_y"),
        ("reported",),
    ),
}
_FINE = ("day", "village_code", "category_code", "department_code", "source")
_SERIES = ("day", "village_code", "department_code", "major_code")


def _create(name: str, keys: Sequence[str], values: Sequence[str]) -> None:
    op.create_table(
        name,
        *(sa.Column(k, _KEYS[k], autoincrement=False, nullable=False) for k in keys),
        *(
            sa.Column(v, sa.BigInteger() if v == "handling_seconds" else sa.Integer(),
                      nullable=False)
            for v in values
        ),
        sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{name}")),
    )  # fmt: skip


def _names() -> list[str]:
    return [
        *(n for name in _TABLES for n in (name, f"{name}_months")),
        "trend_rollups_months",
        "trend_series",
        "trend_series_weeks",
        "trend_overdue",
    ]


def upgrade() -> None:
    op.execute("DELETE FROM trend_rollups")
    op.execute("DELETE FROM trend_state")
    op.drop_table("trend_marks")
    op.create_table(
        "trend_marks",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_trend_marks")),
    )
    for name, (keys, values) in _TABLES.items():
        _create(name, keys, values)
        _create(f"{name}_months", keys, values)
    _create("trend_rollups_months", _FINE, _FIGURES)
    for name in ("trend_series", "trend_series_weeks"):
        _create(name, _SERIES, ("reported",))
    _create("trend_overdue", _FINE, ("open_overdue", "unhandled_overdue", "reworks"))


def downgrade() -> None:
    for name in _names():
        op.drop_table(name)
    op.drop_table("trend_marks")
    op.create_table(
        "trend_marks",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("days", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_trend_marks")),
    )
    op.execute("DELETE FROM trend_rollups")
    op.execute("DELETE FROM trend_state")
