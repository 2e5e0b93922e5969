"""Patrol tracks (issue 16): the filters' verdict on each fix, trackers bound to workers, and
on PostgreSQL ``position_fixes`` partitioned by day.

``position_fixes`` gains ``valid``, ``flags`` (why a fix is not trusted), ``speed`` (m/s) and
``attributes`` (what a tracker sends beside the position). ``tracker_devices`` binds an OsmAnd
device id to a grid worker.

On PostgreSQL the table becomes a natively partitioned table (``PARTITION BY RANGE (at)``) with a
default partition holding what no day partition covers; the scheduler's ``partitions`` job
creates the day partitions ahead and drops those past the retention
(dashboard.storage.partitions). The primary key there is ``(id, at)``: a partitioned table's
unique keys must contain the partition key. Existing fixes are copied over.

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dashboard.storage.models

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PARTITIONED = """
CREATE TABLE position_fixes (
    id BIGINT NOT NULL DEFAULT nextval('position_fixes_id_seq'),
    worker_id VARCHAR(40) NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    accuracy FLOAT,
    received_at TIMESTAMP WITH TIME ZONE NOT NULL,
    valid BOOLEAN DEFAULT true NOT NULL,
    flags VARCHAR(80) DEFAULT '' NOT NULL,
    speed FLOAT,
    attributes JSON,
    CONSTRAINT pk_position_fixes PRIMARY KEY (id, at),
    CONSTRAINT fk_position_fixes_worker_id_grid_workers
        FOREIGN KEY (worker_id) REFERENCES grid_workers (id)
) PARTITION BY RANGE (at)
"""


def upgrade() -> None:
    op.create_table(
        "tracker_devices",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.String(length=40), nullable=False),
        sa.Column("bound_at", dashboard.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("bound_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["grid_workers.id"],
            name=op.f("fk_tracker_devices_worker_id_grid_workers"),
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_tracker_devices")),
    )
    with op.batch_alter_table("tracker_devices") as batch:
        batch.create_index(batch.f("ix_tracker_devices_worker_id"), ["worker_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _partition_postgresql()
        return
    with op.batch_alter_table("position_fixes") as batch:
        batch.add_column(sa.Column("valid", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("flags", sa.String(80), server_default="", nullable=False))
        batch.add_column(sa.Column("speed", sa.Float(), nullable=True))
        batch.add_column(sa.Column("attributes", sa.JSON(), nullable=True))


def _partition_postgresql() -> None:
    run = op.execute
    run("ALTER TABLE position_fixes RENAME TO position_fixes_old")
    run(
        "ALTER TABLE position_fixes_old RENAME CONSTRAINT pk_position_fixes TO pk_position_fixes_old"
    )
    run(
        "ALTER TABLE position_fixes_old RENAME CONSTRAINT "
        "fk_position_fixes_worker_id_grid_workers TO fk_position_fixes_old_worker"
    )
    run("ALTER INDEX ix_position_fixes_worker_at RENAME TO ix_position_fixes_old_worker_at")
    run(_PARTITIONED)
    run("CREATE INDEX ix_position_fixes_worker_at ON position_fixes (worker_id, at)")
    run("CREATE TABLE position_fixes_default PARTITION OF position_fixes DEFAULT")
    run(
        "INSERT INTO position_fixes (id, worker_id, at, lon, lat, accuracy, received_at) "
        "SELECT id, worker_id, at, lon, lat, accuracy, received_at FROM position_fixes_old"
    )
    run("ALTER SEQUENCE position_fixes_id_seq OWNED BY position_fixes.id")
    run("DROP TABLE position_fixes_old")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Back to one plain table (partitions and all), the columns of 0005.
        run = op.execute
        run("ALTER TABLE position_fixes RENAME TO position_fixes_parted")
        run(
            "CREATE TABLE position_fixes (id BIGSERIAL NOT NULL, worker_id VARCHAR(40) NOT NULL, "
            "at TIMESTAMP WITH TIME ZONE NOT NULL, lon DOUBLE PRECISION NOT NULL, "
            "lat DOUBLE PRECISION NOT NULL, accuracy FLOAT, "
            "received_at TIMESTAMP WITH TIME ZONE NOT NULL)"
        )
        run(
            "INSERT INTO position_fixes (id, worker_id, at, lon, lat, accuracy, received_at) "
            "SELECT id, worker_id, at, lon, lat, accuracy, received_at FROM position_fixes_parted"
        )
        run("DROP TABLE position_fixes_parted CASCADE")
        run("ALTER TABLE position_fixes ADD CONSTRAINT pk_position_fixes PRIMARY KEY (id)")
        run(
            "ALTER TABLE position_fixes ADD CONSTRAINT fk_position_fixes_worker_id_grid_workers "
            "FOREIGN KEY (worker_id) REFERENCES grid_workers (id)"
        )
        run("CREATE INDEX ix_position_fixes_worker_at ON position_fixes (worker_id, at)")
        run(
            "SELECT setval('position_fixes_id_seq', COALESCE((SELECT max(id) FROM position_fixes), 1))"
        )
    else:
        with op.batch_alter_table("position_fixes") as batch:
            batch.drop_column("attributes")
            batch.drop_column("speed")
            batch.drop_column("flags")
            batch.drop_column("valid")
    with op.batch_alter_table("tracker_devices") as batch:
        batch.drop_index(batch.f("ix_tracker_devices_worker_id"))
    op.drop_table("tracker_devices")
