"""Index for the village rule's per-village open counts.

Without it SQLite answered the all-village open-emergency/open-overdue counts with a full scan
once ANALYZE had run (full refresh 1.1 s at city scale), and the single-village refresh with a
scan of every open case when it had not (15 ms per case write). With it both stay on the index
(33-44 ms and ~1 ms; docs/benchmarks.md).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_open_village_deadline", "cases", ["open", "village_code", "deadline"]
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_village_deadline", table_name="cases")
