"""Per-worker-day patrol summaries (the rankings' patrol figures read these instead of every
fix): one row per grid worker and local day, filled nightly by the scheduler
(dashboard.services.patrol_days).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dashboard.storage.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrol_days",
        sa.Column("worker_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("patrol_s", sa.Float(), nullable=False),
        sa.Column("inside_s", sa.Float(), nullable=False),
        sa.Column("households_passed", sa.Integer(), nullable=True),
        sa.Column("grid_households", sa.Integer(), nullable=False),
        sa.Column("fixes_used", sa.Integer(), nullable=False),
        sa.Column("fixes_filtered", sa.Integer(), nullable=False),
        sa.Column(
            "computed_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["grid_workers.id"],
            name=op.f("fk_patrol_days_worker_id_grid_workers"),
        ),
        sa.PrimaryKeyConstraint("worker_id", "day", name=op.f("pk_patrol_days")),
    )
    with op.batch_alter_table("patrol_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_days_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("patrol_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_days_day"))
    op.drop_table("patrol_days")
