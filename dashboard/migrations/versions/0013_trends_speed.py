"""Trends at scale (issue 13 item 7): the narrower day × village × department roll-up, the
hour × weekday and map-cell roll-ups, the state-at-midnight roll-up of the cases closed late,
and the marks now keeping the facts each case was rolled up with (a refresh subtracts the old
contribution and adds the new one). The roll-ups are emptied: the next refresh rebuilds them.

Revision ID: 0013_trends_speed
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_trends_speed"
down_revision: str | None = "0012"
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


def _int(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), autoincrement=False, nullable=False)


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
    op.create_table(
        "trend_daily",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("village_code", sa.String(20), nullable=False),
        sa.Column("department_code", sa.String(20), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("handling_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "village_code", "department_code", name=op.f("pk_trend_daily")
        ),
    )
    op.create_table(
        "trend_hours",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("village_code", sa.String(20), nullable=False),
        sa.Column("department_code", sa.String(20), nullable=False),
        _int("weekday"),
        _int("hour"),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "village_code", "department_code", "weekday", "hour",
            name=op.f("pk_trend_hours"),
        ),
    )  # fmt: skip
    op.create_table(
        "trend_cells",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("village_code", sa.String(20), nullable=False),
        sa.Column("department_code", sa.String(20), nullable=False),
        _int("cell_x"),
        _int("cell_y"),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "village_code", "department_code", "cell_x", "cell_y",
            name=op.f("pk_trend_cells"),
        ),
    )  # fmt: skip
    op.create_table(
        "trend_overdue",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("village_code", sa.String(20), nullable=False),
        sa.Column("category_code", sa.String(10), nullable=False),
        sa.Column("department_code", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("open_overdue", sa.Integer(), nullable=False),
        sa.Column("unhandled_overdue", sa.Integer(), nullable=False),
        sa.Column("reworks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "village_code", "category_code", "department_code", "source",
            name=op.f("pk_trend_overdue"),
        ),
    )  # fmt: skip


def downgrade() -> None:
    for name in ("trend_overdue", "trend_cells", "trend_hours", "trend_daily"):
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
