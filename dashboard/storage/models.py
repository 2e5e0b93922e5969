"""SQLAlchemy 2 models. Times are stored as timezone-aware UTC (``UtcDateTime``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones: it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Names of constraints and indexes are fixed so Alembic migrations are the same on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Code = Annotated[str, mapped_column(String(20))]
Name = Annotated[str, mapped_column(String(100))]
When = Annotated[datetime, mapped_column(UtcDateTime())]
MaybeWhen = Annotated[datetime | None, mapped_column(UtcDateTime(), nullable=True)]
Geometry = Annotated[str, mapped_column(Text)]  # GeoJSON geometry, WGS-84


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}
    if TYPE_CHECKING:
        # Every class here is declared with __tablename__, so SQLAlchemy gives it a Table;
        # its stubs only promise a FromClause, which insert()/update() do not accept.
        __table__: ClassVar[Table]


class County(Base):
    __tablename__ = "counties"
    code: Mapped[Code] = mapped_column(primary_key=True)
    name: Mapped[Name]
    geometry: Mapped[Geometry]


class Town(Base):
    __tablename__ = "towns"
    code: Mapped[Code] = mapped_column(primary_key=True)
    name: Mapped[Name]
    county_code: Mapped[Code] = mapped_column(ForeignKey("counties.code"), index=True)
    geometry: Mapped[Geometry]
    lon: Mapped[float]
    lat: Mapped[float]


class Village(Base):
    __tablename__ = "villages"
    code: Mapped[Code] = mapped_column(primary_key=True)
    name: Mapped[Name]
    town_code: Mapped[Code] = mapped_column(ForeignKey("towns.code"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    geometry: Mapped[Geometry]
    lon: Mapped[float]
    lat: Mapped[float]
    contact_name: Mapped[Name]
    contact_phone: Mapped[str] = mapped_column(String(20))
    # The village rule's state (dashboard.domain.village_status), kept so hysteresis and
    # red_since survive restarts.
    status: Mapped[str] = mapped_column(String(10), default="ok", index=True)
    red_since: Mapped[MaybeWhen]
    red_reasons: Mapped[str] = mapped_column(String(60), default="")
    open_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    status_changed_at: Mapped[MaybeWhen]


class Grid(Base):
    __tablename__ = "grids"
    code: Mapped[Code] = mapped_column(primary_key=True)
    village_code: Mapped[Code] = mapped_column(ForeignKey("villages.code"), index=True)
    households: Mapped[int]
    geometry: Mapped[Geometry]
    lon: Mapped[float]
    lat: Mapped[float]


class Department(Base):
    __tablename__ = "departments"
    code: Mapped[Code] = mapped_column(primary_key=True)
    name_zh: Mapped[Name]
    name_en: Mapped[Name]
    kind: Mapped[str] = mapped_column(String(30), default="")


class GridWorker(Base):
    __tablename__ = "grid_workers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[Name]
    phone: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(30))
    grid_code: Mapped[Code] = mapped_column(ForeignKey("grids.code"), index=True)
    village_code: Mapped[Code] = mapped_column(ForeignKey("villages.code"), index=True)
    home_lon: Mapped[float]
    home_lat: Mapped[float]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Camera(Base):
    __tablename__ = "cameras"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[Name]
    lon: Mapped[float]
    lat: Mapped[float]
    village_code: Mapped[Code] = mapped_column(ForeignKey("villages.code"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Stream URLs may carry credentials: they are resolved on the server only (by the video
    # issue's capture service) and never leave it. "synthetic:" = the built-in test pattern.
    stream_url: Mapped[str] = mapped_column(String(500), default="synthetic:")
    substream_url: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    category_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    reported_category: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    lon: Mapped[float]
    lat: Mapped[float]
    address: Mapped[str] = mapped_column(String(200), default="")
    grid_code: Mapped[Code] = mapped_column(ForeignKey("grids.code"))
    village_code: Mapped[Code] = mapped_column(ForeignKey("villages.code"))
    town_code: Mapped[Code]
    county_code: Mapped[Code]
    department_code: Mapped[str | None] = mapped_column(
        String(20), ForeignKey("departments.code"), nullable=True
    )
    reporter: Mapped[str] = mapped_column(String(100), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    # SHA-256 of the first request's content (migration 0005): a key reused with another body
    # is refused instead of silently answering with the first case (issue 11).
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    occurred_at: Mapped[MaybeWhen]
    reported_at: Mapped[When]
    accepted_at: Mapped[MaybeWhen]
    verified_at: Mapped[MaybeWhen]
    registered_at: Mapped[MaybeWhen]
    dispatched_at: Mapped[MaybeWhen]
    handled_at: Mapped[MaybeWhen]
    checked_at: Mapped[MaybeWhen]
    closed_at: Mapped[MaybeWhen]
    voided_at: Mapped[MaybeWhen]
    evaluated_at: Mapped[MaybeWhen]
    deadline: Mapped[MaybeWhen]
    suspended_at: Mapped[MaybeWhen]
    resume_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    returned_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    suspend_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    report_rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[When]
    version: Mapped[int] = mapped_column(Integer, default=1)
    open: Mapped[bool] = mapped_column(Boolean, default=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - optimistic locking
    __table_args__ = (
        # The wall and the village rule: recent cases per village, open ones.
        Index("ix_cases_village_reported", "village_code", "reported_at"),
        Index("ix_cases_open_deadline", "open", "deadline"),
        # The village rule's open-emergency and open-overdue counts, per village: keeps SQLite
        # off a full scan whether or not ANALYZE has run (docs/benchmarks.md).
        Index("ix_cases_open_village_deadline", "open", "village_code", "deadline"),
        Index("ix_cases_reported_at", "reported_at"),
        Index("ix_cases_closed_at", "closed_at"),
        Index("ix_cases_department_open", "department_code", "open"),
        Index("ix_cases_status", "status"),
        Index("ix_cases_town_reported", "town_code", "reported_at"),
        # The trend roll-up's refresh (changed cases, a day's cases) and the open-overdue count
        # at a period's cutoff (migration 0006).
        Index("ix_cases_updated_at", "updated_at"),
        Index("ix_cases_registered_at", "registered_at"),
        Index("ix_cases_handled_at", "handled_at"),
        Index("ix_cases_deadline", "deadline"),
    )


class CaseEvent(Base):
    """The audit trail (处处留痕): one row per transition, never updated or deleted."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[When]
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attachments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the content
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    uploaded_at: Mapped[When]
    uploaded_by: Mapped[str] = mapped_column(String(100))


class OutboxEvent(Base):
    """Events written in the same transaction as the change; a relay publishes them in id order."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[When]
    published_at: Mapped[MaybeWhen]

    __table_args__ = (Index("ix_outbox_unpublished", "published_at", "id"),)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    department_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[MaybeWhen]
    created_at: Mapped[When]
    # A grid worker's sign-in (migration 0008): the worker record the phone acts as.
    worker_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ApiToken(Base):
    """A device or integration token. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    area_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[When]
    expires_at: Mapped[MaybeWhen]
    revoked_at: Mapped[MaybeWhen]
    last_used_at: Mapped[MaybeWhen]
    # The scope of the role (migration 0005): a department token's department, a phone's worker.
    department_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # An integration's source (migration 0011): what its Open311 requests are reported as
    # (hotline = 12345, police = 110, city_management = 数字城管, public = the public app).
    source: Mapped[str | None] = mapped_column(String(20), nullable=True)


class SchemaInfo(Base):
    """Facts about the stored data set (which demo region was seeded, with which seed)."""

    __tablename__ = "schema_info"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PositionFix(Base):
    """A grid worker's position fix (patrol tracks and replay read these in time order)."""

    __tablename__ = "position_fixes"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    worker_id: Mapped[str] = mapped_column(String(40), ForeignKey("grid_workers.id"))
    at: Mapped[When]
    lon: Mapped[float]
    lat: Mapped[float]
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    received_at: Mapped[When]
    # Migration 0010 (patrol tracks): the filters' verdict (dashboard.domain.gps_filter) and
    # what a tracker sends beside the position. On PostgreSQL the table is partitioned by day
    # on ``at`` (primary key (id, at) there; dashboard.storage.partitions).
    valid: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    flags: Mapped[str] = mapped_column(String(80), default="", server_default="")
    speed: Mapped[float | None] = mapped_column(Float, nullable=True)  # m/s
    attributes: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )

    __table_args__ = (Index("ix_position_fixes_worker_at", "worker_id", "at"),)


class TrackerDevice(Base):
    """A tracker (the Traccar Client app, a GPS tag) bound to a grid worker by an admin: the
    OsmAnd door (dashboard.http.osmand) knows a device only through this row."""

    __tablename__ = "tracker_devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(40), ForeignKey("grid_workers.id"), index=True)
    bound_at: Mapped[When]
    bound_by: Mapped[str] = mapped_column(String(100), default="")


class WorkerPosition(Base):
    """The newest fix per worker: what the wall draws (one row per worker, upserted)."""

    __tablename__ = "worker_positions"
    worker_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("grid_workers.id"), primary_key=True
    )
    at: Mapped[When]
    lon: Mapped[float]
    lat: Mapped[float]
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    grid_code: Mapped[str | None] = mapped_column(String(20), nullable=True)  # where the fix is


class AuditEntry(Base):
    """Append-only audit log: sign-ins, role changes, case actions, camera views (issue 6)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[When]
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))  # e.g. sign_in, sign_in_failed, camera_view
    target: Mapped[str] = mapped_column(String(100), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_actor_at", "actor", "at"))


class WebSession(Base):
    """A signed-in browser. The cookie carries only the random id; expiry and sign-out live here."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[When]
    expires_at: Mapped[When]
    last_seen_at: Mapped[When]
    revoked_at: Mapped[MaybeWhen]
    csrf_token: Mapped[str] = mapped_column(String(64))


# --- Supervision (issue 5): what the watchers raise and what supervisors do about it. ---------
# Each watcher item is unique on what it is about (case, stage, the deadline it watched; village
# and its red episode; worker, kind and since), so a watcher that runs twice, or in two processes,
# or after a restart, inserts nothing twice.


class Reminder(Base):
    """An automatic reminder (催办): a stage's light turned yellow."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))  # the case status whose limit is watched
    deadline: Mapped[When]  # the deadline the light was computed against
    due_at: Mapped[When]  # the yellow moment (when the reminder was due)
    raised_at: Mapped[When]
    department_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    town_code: Mapped[Code]
    acknowledged_at: Mapped[MaybeWhen]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __table_args__ = (
        Index("uq_reminders_case_stage_deadline", "case_id", "stage", "deadline", unique=True),
        Index("ix_reminders_raised_at", "raised_at"),
    )


class SupervisionOrder(Base):
    """A supervision order (督办单): a stage's limit ran out (red)."""

    __tablename__ = "supervision_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[When]  # the deadline that was missed
    due_at: Mapped[When]  # = deadline: the moment the light turned red
    issued_at: Mapped[When]
    supervisor: Mapped[str] = mapped_column(String(100))  # "system" for automatic orders
    department_code: Mapped[str | None] = mapped_column(String(20), nullable=True)  # the target
    town_code: Mapped[Code]
    opinion: Mapped[str] = mapped_column(Text)  # 督办意见
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / replied / closed
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    replied_at: Mapped[MaybeWhen]
    replied_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    closed_at: Mapped[MaybeWhen]
    closed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __table_args__ = (
        Index(
            "uq_supervision_orders_case_stage_deadline", "case_id", "stage", "deadline", unique=True
        ),
        Index("ix_supervision_orders_status_issued", "status", "issued_at"),
        Index("ix_supervision_orders_department_status", "department_code", "status"),
    )


class CallListEntry(Base):
    """A red village on the supervisors' call list: one entry per red episode (red_since)."""

    __tablename__ = "call_list"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    village_code: Mapped[Code] = mapped_column(ForeignKey("villages.code"), index=True)
    red_since: Mapped[When]
    listed_at: Mapped[When]  # red_since + call_after_hours (when it became due)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / snoozed / resolved
    snoozed_until: Mapped[MaybeWhen]
    resolved_at: Mapped[MaybeWhen]  # the village left red (or a supervisor closed the entry)
    last_call_at: Mapped[MaybeWhen]

    __table_args__ = (
        Index("uq_call_list_village_red_since", "village_code", "red_since", unique=True),
        Index("ix_call_list_status", "status"),
    )


class CallLogEntry(Base):
    """Who called whom, when, and what came of it; snoozes with their reason. Never updated."""

    __tablename__ = "call_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("call_list.id"), index=True)
    village_code: Mapped[Code]
    at: Mapped[When]
    kind: Mapped[str] = mapped_column(String(10))  # call / snooze / resolve
    caller: Mapped[str] = mapped_column(String(100))  # the signed-in supervisor
    callee: Mapped[str] = mapped_column(String(100), default="")  # contact person called
    phone: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(String(30), default="")  # reached / no_answer / …
    note: Mapped[str] = mapped_column(Text, default="")
    snooze_until: Mapped[MaybeWhen]


class PatrolFlag(Base):
    """A grid worker silent too long, or outside their grid, during a shift."""

    __tablename__ = "patrol_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(String(40), ForeignKey("grid_workers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # silent / outside_grid
    since: Mapped[When]  # last fix (silent) or first fix outside (outside_grid)
    raised_at: Mapped[When]
    cleared_at: Mapped[MaybeWhen]
    village_code: Mapped[Code]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("uq_patrol_flags_worker_kind_since", "worker_id", "kind", "since", unique=True),
        Index("ix_patrol_flags_open", "cleared_at", "kind"),
    )


class DailyRollup(Base):
    """Nightly roll-up per day × area × category × department, for the trends page."""

    __tablename__ = "daily_rollups"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # local date, YYYY-MM-DD
    town_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(10), primary_key=True)  # "" = unknown
    department_code: Mapped[str] = mapped_column(String(20), primary_key=True)  # "" = none
    reported: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    overdue_open: Mapped[int] = mapped_column(Integer, default=0)  # open past deadline at day end
    open_end: Mapped[int] = mapped_column(Integer, default=0)  # open at day end
    reworked: Mapped[int] = mapped_column(Integer, default=0)
    emergencies: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[When]


class SchedulerLease(Base):
    """Who runs the scheduled watchers: one holder per name, renewed before it expires."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[When]
    renewed_at: Mapped[When]


class WatcherRun(Base):
    """One run of a watcher: when, by whom, how long, how much it found (health and benchmarks)."""

    __tablename__ = "watcher_runs"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    job: Mapped[str] = mapped_column(String(40))
    holder: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[When]
    finished_at: Mapped[When]
    items: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_watcher_runs_job_started", "job", "started_at"),)


# --- The video wall (issue 4) --------------------------------------------------------------------


class CameraLayout(Base):
    """A saved video-wall layout: grid size, which cameras in which order, cycling."""

    __tablename__ = "camera_layouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60))
    owner: Mapped[str] = mapped_column(String(60))  # username; shared layouts are seen by all
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    columns: Mapped[int] = mapped_column(Integer)  # 2..8
    rows: Mapped[int] = mapped_column(Integer)  # 2..8
    camera_ids: Mapped[list[str]] = mapped_column(JSON)
    cycle_seconds: Mapped[int] = mapped_column(Integer, default=0)  # 0 = no auto-cycling
    created_at: Mapped[When]
    updated_at: Mapped[When]

    __table_args__ = (Index("uq_camera_layouts_owner_name", "owner", "name", unique=True),)


# --- The residents' side (issue 18): points (积分制) and services on their behalf (代办) ----------


class Resident(Base):
    """A subject of the points scheme or the resident a service request is for: a person, a
    household, an organisation, a Party member or a cadre, in one village. The ID number and
    the phone are personal data: shown only to the roles that handle them, masked elsewhere."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # dashboard.domain.points.SubjectKind
    name: Mapped[str] = mapped_column(String(100))
    village_code: Mapped[str] = mapped_column(String(20), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[When]
    created_by: Mapped[str] = mapped_column(String(100))


class PointsClaim(Base):
    """A deed entered for a resident, pending until the role its item names confirms it. The
    partial unique index makes "the same deed twice" impossible even for two desks at once."""

    __tablename__ = "points_claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_code: Mapped[str] = mapped_column(String(4))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    deed_date: Mapped[date] = mapped_column(Date)
    reporter: Mapped[str] = mapped_column(String(12))  # dashboard.domain.points.ReporterKind
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10))  # pending | confirmed | rejected
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[When]
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[MaybeWhen]
    decision_note: Mapped[str] = mapped_column(String(200), default="")
    # The phone's Idempotency-Key, per caller (migration 0013): a retry answers the first claim.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)

    __table_args__ = (
        Index(
            "uq_points_claims_deed",
            "resident_id",
            "item_code",
            "deed_date",
            unique=True,
            sqlite_where=text("status != 'rejected'"),
            postgresql_where=text("status != 'rejected'"),
        ),
    )


class PointsEntry(Base):
    """The points ledger: never updated or deleted (a trigger refuses it on PostgreSQL). An award
    for a confirmed claim, a correction with its reason, or a redemption (negative)."""

    __tablename__ = "points_ledger"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # dashboard.domain.points.EntryKind
    amount: Mapped[int]
    item_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("points_claims.id"), nullable=True)
    redemption_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[When]
    by_user: Mapped[str] = mapped_column(String(100))


class PointsReward(Base):
    """A reward residents of an area can exchange points for (积分兑换), with its stock."""

    __tablename__ = "points_rewards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_code: Mapped[str] = mapped_column(String(20), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    cost: Mapped[int]
    stock: Mapped[int]


class PointsRedemption(Base):
    __tablename__ = "points_redemptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("points_rewards.id"))
    quantity: Mapped[int]
    points: Mapped[int]
    at: Mapped[When]
    by_user: Mapped[str] = mapped_column(String(100))


class ServiceRequest(Base):
    """A service handled on a resident's behalf (代办), through the department's closed loop."""

    __tablename__ = "service_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_code: Mapped[str] = mapped_column(String(4))
    department_code: Mapped[str] = mapped_column(String(20), index=True)
    village_code: Mapped[str] = mapped_column(String(20), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    consent_note: Mapped[str] = mapped_column(String(200))  # how the consent was given
    status: Mapped[str] = mapped_column(String(12))  # dashboard.domain.service_requests
    opened_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[When]
    accepted_at: Mapped[MaybeWhen]
    deadline: Mapped[MaybeWhen]
    returned_at: Mapped[MaybeWhen]
    closed_at: Mapped[MaybeWhen]
    returns: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency
    # The phone's Idempotency-Key, per caller (migration 0013): a retry answers the first request.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)


class ServiceRequestEvent(Base):
    """The trail of a service request: every step, who, when and the note."""

    __tablename__ = "service_request_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    at: Mapped[When]
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")


class ResidentFile(Base):
    """A photographed paper of a service request, or the evidence of a points claim."""

    __tablename__ = "resident_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    label: Mapped[str] = mapped_column(String(100), default="")  # which paper
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id"), nullable=True, index=True
    )
    claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("points_claims.id"), nullable=True, index=True
    )
    uploaded_at: Mapped[When]
    uploaded_by: Mapped[str] = mapped_column(String(100))


class FieldCall(Base):
    """A video call from the command room to a grid worker's phone (issue 14): who, whom, when,
    how long; ``case_id`` when it was started from a case."""

    __tablename__ = "field_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    caller: Mapped[str] = mapped_column(String(100))
    caller_role: Mapped[str] = mapped_column(String(20))
    worker_id: Mapped[str] = mapped_column(String(40), ForeignKey("grid_workers.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    started_at: Mapped[When]
    answered_at: Mapped[MaybeWhen]
    ended_at: Mapped[MaybeWhen]
    outcome: Mapped[str] = mapped_column(String(20))  # ringing / talking / ended / missed …
    ended_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __table_args__ = (Index("ix_field_calls_worker_started", "worker_id", "started_at"),)


# --- The doors to other systems (issue 17) -------------------------------------------------------


class Open311Request(Base):
    """A case that came in through Open311: the key that sent it, the Open311 token, media_url."""

    __tablename__ = "open311_requests"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # the Open311 "token"
    token_id: Mapped[int] = mapped_column(Integer, index=True)  # api_tokens.id (kept if revoked)
    source: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(100))
    media_url: Mapped[str] = mapped_column(String(500))  # as sent; never fetched by the server
    created_at: Mapped[When]


class Open311Update(Base):
    """An update an integration sent about a case (mySociety's servicerequestupdates, in)."""

    __tablename__ = "open311_updates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    token_id: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(64))  # the sender's update_id
    status: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[When]
    received_at: Mapped[When]

    __table_args__ = (
        Index("uq_open311_updates_token_external", "token_id", "external_id", unique=True),
    )


class WebhookSubscription(Base):
    """Where an integration wants status changes POSTed; set up by an admin, never by a caller.

    Matches a case when it came in with the key ``token_id``, or has the 小类 ``category_code``,
    or lies in ``area_code`` (any that is set)."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    category_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    area_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[When]
    created_by: Mapped[str] = mapped_column(String(100))


class WebhookDelivery(Base):
    """One step of one case for one subscription: pending until the receiver said 2xx.

    Written in the transaction of the step (so none is lost); sent in id order per
    subscription; a failed one holds the later ones back until an admin replays it."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    case_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(Integer)  # case_events.id: one delivery per step
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))  # pending / delivered / failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[When]
    locked_until: Mapped[MaybeWhen]
    last_error: Mapped[str] = mapped_column(String(300))
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[When]
    delivered_at: Mapped[MaybeWhen]

    __table_args__ = (
        Index(
            "uq_webhook_deliveries_subscription_event", "subscription_id", "event_id", unique=True
        ),
        Index("ix_webhook_deliveries_subscription_status", "subscription_id", "status", "id"),
    )


# --- Leadership: campaigns (issue 13) -------------------------------------------------------------


class Campaign(Base):
    """A focused campaign (专项整治): which categories, where, from when to when (local dates,
    both inclusive). Recorded by a leader or commander; its effect is estimated, not stored."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60))
    categories: Mapped[list[str]] = mapped_column(JSON)  # 大类 (2) or 小类 (5 digits) codes
    area_code: Mapped[Code]  # a county, town or village code
    start_day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, local
    end_day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, local, inclusive
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[When]
    updated_at: Mapped[When]

    __table_args__ = (
        Index("ix_campaigns_area_start", "area_code", "start_day"),
        Index("ix_campaigns_end", "end_day"),
    )


# --- Leadership trends (issue 13) ----------------------------------------------------------------


class _TrendFigures:
    """The additive figures of dashboard.domain.trend_figures.ADDITIVE (a roll-up's values)."""

    reported: Mapped[int] = mapped_column(Integer, default=0)
    emergencies: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    right_first_time: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    closed_reworked: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    handled_on_time: Mapped[int] = mapped_column(Integer, default=0)
    handling_cases: Mapped[int] = mapped_column(Integer, default=0)
    handling_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


class _TrendDay:
    """The time key of a roll-up: a local day ``YYYY-MM-DD`` (in a ``…_months`` twin: a local
    month ``YYYY-MM``, the sum of its days)."""

    day: Mapped[str] = mapped_column(String(10), primary_key=True, sort_order=-9)
    village_code: Mapped[str] = mapped_column(String(20), primary_key=True, sort_order=-8)
    department_code: Mapped[str] = mapped_column(
        String(20), primary_key=True, sort_order=-6
    )  # "" = none


class _TrendFine(_TrendDay, _TrendFigures):
    category_code: Mapped[str] = mapped_column(
        String(10), primary_key=True, sort_order=-7
    )  # "" = none
    source: Mapped[str] = mapped_column(String(20), primary_key=True, sort_order=-5)


class TrendRollup(_TrendFine, Base):
    """The additive figures of one local day × village × category × department × source
    (dashboard.domain.trend_figures.ADDITIVE); kept fresh by dashboard.services.trend_rollups.
    The narrower roll-ups below are its sums over fewer dimensions (migration 0013)."""

    __tablename__ = "trend_rollups"


class TrendRollupMonth(_TrendFine, Base):
    __tablename__ = "trend_rollups_months"


class TrendDaily(_TrendDay, _TrendFigures, Base):
    """The figures per day × village × department (totals, places, departments)."""

    __tablename__ = "trend_daily"


class TrendDailyMonth(_TrendDay, _TrendFigures, Base):
    __tablename__ = "trend_daily_months"


class _TrendCategory(_TrendDay, _TrendFigures):
    category_code: Mapped[str] = mapped_column(String(10), primary_key=True, sort_order=-7)


class TrendCategory(_TrendCategory, Base):
    """The figures per day × village × category × department (大类, 小类, the series)."""

    __tablename__ = "trend_categories"


class TrendCategoryMonth(_TrendCategory, Base):
    __tablename__ = "trend_categories_months"


class _TrendSource(_TrendDay, _TrendFigures):
    source: Mapped[str] = mapped_column(String(20), primary_key=True, sort_order=-5)


class TrendSource(_TrendSource, Base):
    """The figures per day × village × source × department (the sources)."""

    __tablename__ = "trend_sources"


class TrendSourceMonth(_TrendSource, Base):
    __tablename__ = "trend_sources_months"


class _TrendHour(_TrendDay):
    weekday: Mapped[int] = mapped_column(
        Integer, primary_key=True, sort_order=-4, autoincrement=False
    )
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-3, autoincrement=False)
    reported: Mapped[int] = mapped_column(Integer, default=0)


class TrendHour(_TrendHour, Base):
    """Reports per local day × village × department × weekday × hour (the hour × weekday
    matrix of the trends page)."""

    __tablename__ = "trend_hours"


class TrendHourMonth(_TrendHour, Base):
    __tablename__ = "trend_hours_months"


class _TrendCell(_TrendDay):
    cell_x: Mapped[int] = mapped_column(
        Integer, primary_key=True, sort_order=-4, autoincrement=False
    )
    cell_y: Mapped[int] = mapped_column(
        Integer, primary_key=True, sort_order=-3, autoincrement=False
    )
    reported: Mapped[int] = mapped_column(Integer, default=0)


class TrendCell(_TrendCell, Base):
    """Reports per local day × village × department × map cell (positions binned,
    dashboard.domain.trend_figures.CELL_DEGREES; the density map)."""

    __tablename__ = "trend_cells"


class TrendCellMonth(_TrendCell, Base):
    __tablename__ = "trend_cells_months"


class _TrendSeries(_TrendDay):
    major_code: Mapped[str] = mapped_column(String(10), primary_key=True, sort_order=-4)
    reported: Mapped[int] = mapped_column(Integer, default=0)


class TrendSeries(_TrendSeries, Base):
    """Reports per local day × village × department × 大类 (the new-case trend)."""

    __tablename__ = "trend_series"


class TrendSeriesWeek(_TrendSeries, Base):
    """The same per week (``day`` holds the week's Monday): a long period's weekly trend."""

    __tablename__ = "trend_series_weeks"


class TrendOverdue(Base):
    """The state at a local midnight of the cases closed since: per day (the cutoff is that
    day's 00:00) × village × category × department × source, the cases then open and overdue,
    their unhandled part and their reworked ones (dashboard.domain.trend_figures.overdue_days).
    Cases never closed are read from the open cases at query time."""

    __tablename__ = "trend_overdue"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    village_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    open_overdue: Mapped[int] = mapped_column(Integer, default=0)
    unhandled_overdue: Mapped[int] = mapped_column(Integer, default=0)
    reworks: Mapped[int] = mapped_column(Integer, default=0)


class TrendMark(Base):
    """The facts a case was last rolled up with (a compact JSON list,
    dashboard.services.trend_rollups): a refresh subtracts the contribution they gave and adds
    the case's new one (migration 0013; was the days it touched)."""

    __tablename__ = "trend_marks"
    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    facts: Mapped[str] = mapped_column(Text)


class TrendState(Base):
    """How far the trend roll-up has read the cases (one row, name "cases")."""

    __tablename__ = "trend_state"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    updated_at: Mapped[MaybeWhen]  # the newest cases.updated_at rolled up
    max_id: Mapped[int] = mapped_column(Integer, default=0)  # the highest case id rolled up


class PatrolDay(Base):
    """One grid worker's patrol on one local day (the command room's calendar), summarised by
    the tracks' own rules (``PatrolStats.stats_of``) — filled nightly by the scheduler
    (dashboard.services.patrol_days) so the rankings read a row per worker-day instead of every
    fix. A day is replaced whole (every row of a day carries the same ``computed_at``)."""

    __tablename__ = "patrol_days"
    worker_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("grid_workers.id"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    distance_m: Mapped[float] = mapped_column(Float)
    patrol_s: Mapped[float] = mapped_column(Float)
    inside_s: Mapped[float] = mapped_column(Float)  # on patrol inside the own grid
    households_passed: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: unknown
    grid_households: Mapped[int] = mapped_column(Integer)  # the own grid's, that day
    fixes_used: Mapped[int] = mapped_column(Integer)  # trusted fixes
    fixes_filtered: Mapped[int] = mapped_column(Integer)  # flagged by the GPS filters
    computed_at: Mapped[When]
