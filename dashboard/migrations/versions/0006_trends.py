"""Leadership trends (issue 13): the day roll-up of the trend figures, the days each case was
rolled up into, the roll-up's read position, and the indexes its refresh and the page's
state-at-cutoff query use.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dashboard.storage.models

revision: str = "0006"
down_revision: str | None = "0005"
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


def upgrade() -> None:
    op.create_table(
        "trend_rollups",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("village_code", sa.String(20), nullable=False),
        sa.Column("category_code", sa.String(10), nullable=False),
        sa.Column("department_code", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("handling_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "village_code", "category_code", "department_code", "source",
            name=op.f("pk_trend_rollups"),
        ),
    )
    op.create_table(
        "trend_marks",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("days", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_trend_marks")),
    )
    op.create_table(
        "trend_state",
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column(
            "updated_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("max_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_trend_state")),
    )
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"])
    op.create_index("ix_cases_registered_at", "cases", ["registered_at"])
    op.create_index("ix_cases_handled_at", "cases", ["handled_at"])
    op.create_index("ix_cases_deadline", "cases", ["deadline"])


def downgrade() -> None:
    for name in ("ix_cases_deadline", "ix_cases_handled_at", "ix_cases_registered_at"):
        op.drop_index(name, table_name="cases")
    op.drop_index("ix_cases_updated_at", table_name="cases")
    op.drop_table("trend_state")
    op.drop_table("trend_marks")
    op.drop_table("trend_rollups")
