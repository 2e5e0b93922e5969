"""API tokens carry the scope of their role: a department, a grid worker; a case remembers
the fingerprint of the request its Idempotency-Key first came with (issue 11).

A department token without a department saw every case; a phone token was not bound to its
worker. Existing department and grid-worker tokens get NULL here and are refused until they are
re-issued with ``--department`` / ``--worker`` (dashboard.security.tokens says so).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("department_code", sa.String(20), nullable=True))
        batch.add_column(sa.Column("worker_id", sa.String(40), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("idempotency_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("idempotency_fingerprint")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("worker_id")
        batch.drop_column("department_code")
