"""The doors to other systems (issue 17): an integration token's source (12345, 110, 数字城管,
public app), the Open311 requests and incoming updates, webhook subscriptions and deliveries.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dashboard.storage.models import UtcDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("source", sa.String(20), nullable=True))
    op.create_table(
        "open311_requests",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", name="fk_open311_requests_case_id_cases"), primary_key=True),
        sa.Column("token", sa.String(40), nullable=False),
        sa.Column("token_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("media_url", sa.String(500), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_open311_requests"),
        sa.UniqueConstraint("token", name="uq_open311_requests_token"),
    )
    op.create_index("ix_open311_requests_token_id", "open311_requests", ["token_id"])
    op.create_table(
        "open311_updates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", name="fk_open311_updates_case_id_cases"), nullable=False),
        sa.Column("token_id", sa.Integer, nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("media_url", sa.String(500), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_open311_updates"),
    )
    op.create_index("ix_open311_updates_case_id", "open311_updates", ["case_id"])
    op.create_index(
        "uq_open311_updates_token_external", "open311_updates", ["token_id", "external_id"], unique=True
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("token_id", sa.Integer, nullable=True),
        sa.Column("category_code", sa.String(10), nullable=True),
        sa.Column("area_code", sa.String(20), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
        sa.UniqueConstraint("name", name="uq_webhook_subscriptions_name"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("webhook_subscriptions.id", name="fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            nullable=False,
        ),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=False),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index(
        "uq_webhook_deliveries_subscription_event",
        "webhook_deliveries",
        ["subscription_id", "event_id"],
        unique=True,
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_status",
        "webhook_deliveries",
        ["subscription_id", "status", "id"],
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_table("open311_updates")
    op.drop_table("open311_requests")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("source")
