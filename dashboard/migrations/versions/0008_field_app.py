"""The field app (issue 14): a web user bound to their grid worker record, and the log of the
command room's video calls to grid workers' phones.

``users.worker_id``: a ``grid_worker`` user signs in on the phone as that worker (their grid,
their tasks, their fixes). ``field_calls``: who called whom, when, how long, and the case the call
was started from (NULL when started from the map or the call list).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dashboard.storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("worker_id", sa.String(40), nullable=True))
    op.create_table(
        "field_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("caller", sa.String(100), nullable=False),
        sa.Column("caller_role", sa.String(20), nullable=False),
        sa.Column("worker_id", sa.String(40), sa.ForeignKey("grid_workers.id"), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("started_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("ended_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_field_calls_worker_started", "field_calls", ["worker_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_field_calls_worker_started", table_name="field_calls")
    op.drop_table("field_calls")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("worker_id")
