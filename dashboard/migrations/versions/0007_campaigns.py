"""Campaigns (专项整治, issue 13): name, categories, area, local start and end dates.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dashboard.storage.models import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("area_code", sa.String(20), nullable=False),
        sa.Column("start_day", sa.String(10), nullable=False),
        sa.Column("end_day", sa.String(10), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
    )
    op.create_index("ix_campaigns_area_start", "campaigns", ["area_code", "start_day"])
    op.create_index("ix_campaigns_end", "campaigns", ["end_day"])


def downgrade() -> None:
    op.drop_index("ix_campaigns_end", table_name="campaigns")
    op.drop_index("ix_campaigns_area_start", table_name="campaigns")
    op.drop_table("campaigns")
