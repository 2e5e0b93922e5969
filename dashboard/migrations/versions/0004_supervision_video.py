"""Supervision (reminders, orders, call list and log, patrol flags, roll-ups, the scheduler
lease and watcher runs) and saved video-wall layouts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:25:24.094875
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dashboard.storage.models


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_layouts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("owner", sa.String(length=60), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("cycle_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_layouts")),
    )
    with op.batch_alter_table("camera_layouts", schema=None) as batch_op:
        batch_op.create_index("uq_camera_layouts_owner_name", ["owner", "name"], unique=True)

    op.create_table(
        "daily_rollups",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("town_code", sa.String(length=20), nullable=False),
        sa.Column("category_code", sa.String(length=10), nullable=False),
        sa.Column("department_code", sa.String(length=20), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("overdue_open", sa.Integer(), nullable=False),
        sa.Column("open_end", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("emergencies", sa.Integer(), nullable=False),
        sa.Column(
            "computed_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "day", "town_code", "category_code", "department_code", name=op.f("pk_daily_rollups")
        ),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column(
            "expires_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "renewed_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "watcher_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column(
            "started_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "finished_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watcher_runs")),
    )
    with op.batch_alter_table("watcher_runs", schema=None) as batch_op:
        batch_op.create_index("ix_watcher_runs_job_started", ["job", "started_at"], unique=False)

    op.create_table(
        "call_list",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village_code", sa.String(length=20), nullable=False),
        sa.Column("red_since", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("listed_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "snoozed_until", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "resolved_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_call_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["villages.code"], name=op.f("fk_call_list_village_code_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_list")),
    )
    with op.batch_alter_table("call_list", schema=None) as batch_op:
        batch_op.create_index("ix_call_list_status", ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_call_list_village_code"), ["village_code"], unique=False
        )
        batch_op.create_index(
            "uq_call_list_village_red_since", ["village_code", "red_since"], unique=True
        )

    op.create_table(
        "call_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=20), nullable=False),
        sa.Column("at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("caller", sa.String(length=100), nullable=False),
        sa.Column("callee", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "snooze_until", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["call_list.id"], name=op.f("fk_call_log_entry_id_call_list")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_log")),
    )
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_log_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "patrol_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("worker_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("since", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("raised_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("village_code", sa.String(length=20), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["grid_workers.id"], name=op.f("fk_patrol_flags_worker_id_grid_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_flags")),
    )
    with op.batch_alter_table("patrol_flags", schema=None) as batch_op:
        batch_op.create_index("ix_patrol_flags_open", ["cleared_at", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrol_flags_worker_id"), ["worker_id"], unique=False)
        batch_op.create_index(
            "uq_patrol_flags_worker_kind_since", ["worker_id", "kind", "since"], unique=True
        )

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("deadline", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("raised_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("department_code", sa.String(length=20), nullable=True),
        sa.Column("town_code", sa.String(length=20), nullable=False),
        sa.Column(
            "acknowledged_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reminders_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminders_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_reminders_raised_at", ["raised_at"], unique=False)
        batch_op.create_index(
            "uq_reminders_case_stage_deadline", ["case_id", "stage", "deadline"], unique=True
        )

    op.create_table(
        "supervision_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("deadline", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("supervisor", sa.String(length=100), nullable=False),
        sa.Column("department_code", sa.String(length=20), nullable=True),
        sa.Column("town_code", sa.String(length=20), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("replied_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_supervision_orders_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_orders")),
    )
    with op.batch_alter_table("supervision_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervision_orders_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            "ix_supervision_orders_department_status", ["department_code", "status"], unique=False
        )
        batch_op.create_index(
            "ix_supervision_orders_status_issued", ["status", "issued_at"], unique=False
        )
        batch_op.create_index(
            "uq_supervision_orders_case_stage_deadline",
            ["case_id", "stage", "deadline"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("supervision_orders", schema=None) as batch_op:
        batch_op.drop_index("uq_supervision_orders_case_stage_deadline")
        batch_op.drop_index("ix_supervision_orders_status_issued")
        batch_op.drop_index("ix_supervision_orders_department_status")
        batch_op.drop_index(batch_op.f("ix_supervision_orders_case_id"))

    op.drop_table("supervision_orders")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("uq_reminders_case_stage_deadline")
        batch_op.drop_index("ix_reminders_raised_at")
        batch_op.drop_index(batch_op.f("ix_reminders_case_id"))

    op.drop_table("reminders")
    with op.batch_alter_table("patrol_flags", schema=None) as batch_op:
        batch_op.drop_index("uq_patrol_flags_worker_kind_since")
        batch_op.drop_index(batch_op.f("ix_patrol_flags_worker_id"))
        batch_op.drop_index("ix_patrol_flags_open")

    op.drop_table("patrol_flags")
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_log_entry_id"))

    op.drop_table("call_log")
    with op.batch_alter_table("call_list", schema=None) as batch_op:
        batch_op.drop_index("uq_call_list_village_red_since")
        batch_op.drop_index(batch_op.f("ix_call_list_village_code"))
        batch_op.drop_index("ix_call_list_status")

    op.drop_table("call_list")
    with op.batch_alter_table("watcher_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_watcher_runs_job_started")

    op.drop_table("watcher_runs")
    op.drop_table("scheduler_leases")
    op.drop_table("daily_rollups")
    with op.batch_alter_table("camera_layouts", schema=None) as batch_op:
        batch_op.drop_index("uq_camera_layouts_owner_name")

    op.drop_table("camera_layouts")
