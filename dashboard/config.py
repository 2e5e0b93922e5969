"""Typed configuration read from ``config.toml``.

Every field has a description (``python run.py check-config --explain`` prints them). Unknown keys
are refused so a typo cannot silently fall back to a default. Secrets never live in the file: they
come from environment variables named in the file (``*_env`` fields).
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dashboard.domain.deadlines import TimeLimit
from dashboard.domain.errors import DeadlineError

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the key path and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    host: str = Field("127.0.0.1", description="Address the web server binds to.")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        8050, description="TCP port of the web server."
    )
    secret_key_env: str = Field(
        "GCC_SECRET_KEY",
        description="Environment variable holding the session signing key. In demo mode a random "
        "key is generated and kept in the data directory when the variable is unset.",
    )
    data_dir: str = Field(
        "var",
        description="Directory for the SQLite file, photos and keys (relative to the root).",
    )
    header_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        10,
        description="A request's line and headers must arrive within this time, and a kept-alive "
        "connection may stay silent this long between requests; then it is closed.",
    )
    idle_timeout_seconds: Annotated[float, Field(ge=30, le=3600)] = Field(
        60,
        description="While a request runs (a body arriving, a stream, a websocket), the "
        "connection is closed after this long without traffic. Above Engine.IO's 25 s ping.",
    )
    max_connections: Annotated[int, Field(ge=1, le=100_000)] = Field(
        1000,
        description="Open connections the server holds at once (each is a thread); more are "
        "answered 503 with Retry-After and closed.",
    )
    max_connections_per_address: Annotated[int, Field(ge=1, le=100_000)] = Field(
        100,
        description="Open connections from one client address (a command room behind NAT "
        "shares one: raise it there). Not applied when trusted_proxies > 0 (the proxy's job).",
    )
    workers: Annotated[int, Field(ge=1, le=64)] = Field(
        1,
        description="Processes of the production server (run.py serve; also --workers N). Above "
        "1 needs [bus] backend = redis and PostgreSQL (docs/deploy.md).",
    )
    threads: Annotated[int, Field(ge=8, le=2000)] = Field(
        200,
        description="Threads per production server process; each open websocket (a screen) "
        "holds one.",
    )
    reserve_threads: Annotated[int, Field(ge=1, le=500)] = Field(
        20,
        description="Threads per process kept for page and API requests: at most threads minus "
        "this many connections (websockets included) are served at once, more get 503.",
    )
    graceful_seconds: Annotated[float, Field(ge=1, le=300)] = Field(
        10,
        description="On stop, requests in flight may finish within this time; websockets are "
        "closed at once so screens reconnect to another process.",
    )
    tls_cert: str = Field(
        "",
        description="PEM certificate file: when set (with tls_key) the built-in server speaks "
        "HTTPS, which phones need for position, camera and the offline app (docs/field-app.md). "
        "Relative paths are under the project root. `run.py make-cert` writes a self-signed one.",
    )
    tls_key: str = Field(
        "", description="PEM private key file of tls_cert (readable by the server only)."
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerConfig:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        return self

    def tls_files(self) -> tuple[Path, Path] | None:
        """(certificate, key) when HTTPS is configured, else None."""
        if not self.tls_cert and not self.tls_key:
            return None
        return _under_root(self.tls_cert), _under_root(self.tls_key)


def _under_root(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else ROOT / p


class DatabaseConfig(_Strict):
    url: str = Field(
        "sqlite:///var/command-center.db",
        description="SQLAlchemy URL: sqlite:///path (embedded) or "
        "postgresql+psycopg://user@host/db. "
        "A password must not be written here: use url_env.",
    )
    url_env: str = Field(
        "GCC_DATABASE_URL",
        description="Environment variable that, when set, overrides `url` (for secrets).",
    )
    pool_size: Annotated[int, Field(ge=1, le=200)] = Field(
        10, description="Connection pool size (PostgreSQL)."
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    connect_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = Field(
        3,
        description="Opening a connection gives up after this long (PostgreSQL connect_timeout): "
        "an unreachable database answers 503 quickly instead of hanging the request.",
    )
    statement_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        15,
        description="A statement running longer is cancelled (PostgreSQL statement_timeout). "
        "The client also gives up on a connection silent for this long plus 2 s (a network "
        "partition the server cannot report); SQLite: how long a writer waits for the lock.",
    )
    pool_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = Field(
        2,
        description="A request waits at most this long for a free pooled connection, then "
        "answers 503 with Retry-After.",
    )
    keepalive_seconds: Annotated[int, Field(ge=1, le=3600)] = Field(
        10,
        description="TCP keep-alive: idle seconds before the first probe; a dead peer is "
        "noticed after about twice this (PostgreSQL keepalives and tcp_user_timeout).",
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("must start with sqlite: or postgresql (e.g. postgresql+psycopg://…)")
        if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
            raise ValueError(
                "contains a password; put the URL in the environment variable named by url_env"
            )
        return url

    def resolved_url(self) -> str:
        return os.environ.get(self.url_env) or self.url


class BusConfig(_Strict):
    backend: Literal["memory", "redis"] = Field(
        "memory",
        description="memory: in-process (one server process, the demo); redis: several processes.",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis URL when backend = redis."
    )
    channel: str = Field(
        "gcc", description="Prefix of the Redis channels and keys used by this deployment."
    )


class HealthConfig(_Strict):
    """``/healthz``: liveness, readiness and the state of each part."""

    check_timeout_seconds: Annotated[float, Field(gt=0, le=10)] = Field(
        0.8,
        description="Each part's check (database, bus, capture) is waited for at most this "
        "long; a check still running is reported as a timeout, so /healthz always answers "
        "within about this time whatever hangs.",
    )


class DemoConfig(_Strict):
    enabled: bool = Field(
        True, description="`python run.py` seeds an empty database and starts the simulator."
    )
    scale: Literal["town", "county", "city"] = Field(
        "town", description="Size of the generated demo region."
    )
    seed: int = Field(
        7, description="Random seed of the generator: the same seed gives the same region."
    )
    history_days: Annotated[int, Field(ge=0, le=400)] = Field(
        30, description="Days of case history generated for the demo."
    )
    simulator: bool = Field(True, description="Run the built-in simulator in the demo.")
    auto_login_user: str | None = Field(
        "demo",
        description="Web user signed in automatically in demo mode; null to require sign-in.",
    )


class SimulatorConfig(_Strict):
    """The built-in simulator of the demo (``dashboard.simulator``; ``run.py simulate``)."""

    rate_multiplier: Annotated[float, Field(gt=0, le=1000)] = Field(
        4.0,
        description="Case arrivals × this on top of the scale's realistic daily rhythm (the town "
        "gets 600 a day, one every ~2.4 min on average): 4 gives a new case every ~35 s on "
        "average and every ~15 s at the daytime peaks.",
    )
    min_per_hour: Annotated[float, Field(ge=0)] = Field(
        60.0,
        description="At least this many reports an hour, so a demo shown at night moves too "
        "(0: the pure daily rhythm, nights nearly quiet).",
    )
    handling_speed: Annotated[float, Field(gt=0, le=1000)] = Field(
        1.0,
        description="Delays of the desk, the departments and the grid workers are divided by "
        "this (1: real time, departments at office hours).",
    )
    tick_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        2.0, description="Seconds between two steps; position fixes go out in one batch a step."
    )
    seed: int | None = Field(None, description="Random seed of the simulation; null: demo.seed.")
    shift_start: time = Field(time(8, 0), description="Patrol shift start (local time).")
    shift_end: time = Field(time(18, 0), description="Patrol shift end (local time).")
    lunch_start: time = Field(time(12, 0), description="Lunch break start: no patrol fixes.")
    lunch_end: time = Field(time(13, 30), description="Lunch break end.")
    night_duty_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.1, description="Share of workers also on duty outside the shift (night patrols)."
    )
    silent_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.03, description="Share of workers whose phone goes silent now and then (20-60 min)."
    )
    wander_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.03, description="Share of workers who now and then walk out of their grid for a while."
    )
    patrol_workers: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Walk at most this many workers (the first by id); null: all of them."
    )
    first_emergency_minutes: Annotated[float, Field(ge=0)] = Field(
        2.0,
        description="A one-click emergency this many minutes after the start, so the alarm "
        "can be seen.",
    )
    emergency_every_hours: Annotated[float, Field(gt=0)] = Field(
        4.0, description="Mean time between the later one-click emergencies."
    )
    first_burst_minutes: Annotated[float, Field(ge=0)] = Field(
        1.0,
        description="A burst of reports concentrated in one village (it turns red) this many "
        "minutes after the start.",
    )
    burst_every_minutes: Annotated[float, Field(gt=0)] = Field(
        90.0, description="Mean time between the later bursts."
    )
    burst_max_cases: Annotated[int, Field(ge=1, le=500)] = Field(
        40, description="Most reports one burst sends while waiting for its village to turn red."
    )
    adopt_open_cases: bool = Field(
        True,
        description="At the start, follow the cases already open in the system (the seeded "
        "history, or what a previous run left) and handle and close them too.",
    )

    @model_validator(mode="after")
    def _shift_order(self) -> SimulatorConfig:
        if not self.shift_start <= self.lunch_start <= self.lunch_end <= self.shift_end:
            raise ValueError(
                "need shift_start <= lunch_start <= lunch_end <= shift_end (a day shift)"
            )
        return self


class VillageRuleConfig(_Strict):
    window_hours: Annotated[float, Field(gt=0, le=24 * 31)] = Field(
        24, description="Rolling window of the open ratio."
    )
    min_cases: Annotated[int, Field(ge=1)] = Field(
        5, description="Cases needed in the window before the ratio counts."
    )
    enter_ratio: Annotated[float, Field(gt=0, le=1)] = Field(
        0.8, description="Open ratio at which a village turns red."
    )
    leave_ratio: Annotated[float, Field(gt=0, le=1)] = Field(
        0.7, description="Open ratio below which a red village turns back."
    )
    call_after_hours: Annotated[float, Field(ge=0)] = Field(
        2, description="Hours red before the village is on the call list."
    )
    red_on_open_emergency: bool = Field(
        True, description="An open emergency case makes its village red."
    )
    red_on_overdue: Annotated[int, Field(ge=1)] | None = Field(
        None, description="This many open overdue cases make a village red (null: off)."
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> VillageRuleConfig:
        if self.leave_ratio > self.enter_ratio:
            raise ValueError("leave_ratio must not be above enter_ratio (hysteresis)")
        return self


class DeadlineRuleConfig(_Strict):
    yellow_at: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.8,
        description="Share of the time limit after which a stage is yellow (a reminder is sent).",
    )


class RulesConfig(_Strict):
    village: VillageRuleConfig = Field(
        default_factory=VillageRuleConfig, description="Village status rule."
    )
    deadline: DeadlineRuleConfig = Field(
        default_factory=DeadlineRuleConfig, description="Deadline lights."
    )


DataFile = Literal["categories", "departments", "calendar", "points_items", "service_items"]


class DataConfig(_Strict):
    categories: str = Field(
        "", description="Category tree TOML; empty: the built-in 10 大类 / 42 小类."
    )
    departments: str = Field("", description="Departments TOML; empty: the built-in list.")
    calendar: str = Field(
        "", description="Working calendar TOML (holidays, 调休); empty: the built-in PRC calendar."
    )

    points_items: str = Field(
        "", description="Residents' points items TOML (积分事项); empty: the built-in town set."
    )
    service_items: str = Field(
        "", description="Services on residents' behalf TOML (代办事项); empty: the built-in set."
    )

    def path(self, name: DataFile) -> Path:
        value = getattr(self, name)
        if not value:
            return DATA_DIR / {"calendar": "calendar_cn.toml"}.get(name, f"{name}.toml")
        p = Path(value)
        return p if p.is_absolute() else ROOT / p


class UiConfig(_Strict):
    language: Literal["zh", "en"] = Field("zh", description="Default language of the pages.")
    title: str = Field("网格化社会治理综合指挥中心", description="Title shown on the wall.")
    tile_url: str = Field(
        "",
        description="Map tile URL template (an internal tile server); empty: offline, no tiles.",
    )
    wall_area: Annotated[str, Field(pattern=r"^(\d{4}|\d{6}|\d{9}|\d{12})?$")] = Field(
        "",
        description="The area a command room's wall shows: a city (4 digits), county (6), "
        "town (9) or village (12) code; empty: all the screen's account may see. Above a town "
        "the map's units are the towns, coloured by their share of red villages (docs/wall.md).",
    )


class SecurityConfig(_Strict):
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = Field(
        12, description="A web sign-in ends this many hours after it began, whatever the activity."
    )
    idle_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        60, description="A web sign-in ends after this many minutes without a request."
    )
    lockout_threshold: Annotated[int, Field(ge=1, le=100)] = Field(
        5,
        description="Failed sign-ins of one account from one address before each further "
        "attempt waits (1 s, 2 s, 4 s … up to lockout_minutes; 429 with Retry-After). Nobody "
        "is locked out by others' failures: see docs/security.md.",
    )
    lockout_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        15, description="The longest sign-in back-off of an address or an (account, address)."
    )
    sign_in_address_threshold: Annotated[int, Field(ge=1, le=10_000)] = Field(
        10,
        description="Failed sign-ins from one address, whatever the account, before its "
        "attempts back off (password spraying).",
    )
    sign_in_account_threshold: Annotated[int, Field(ge=1, le=10_000)] = Field(
        20,
        description="Failed sign-ins of one account, whatever the address, before its attempts "
        "back off (a guess spread over many addresses).",
    )
    sign_in_account_max_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        60,
        description="The longest back-off of an account as a whole: others failing on purpose "
        "can delay the real user at most this long.",
    )
    min_password_length: Annotated[int, Field(ge=8, le=128)] = Field(
        10,
        description="Shortest password accepted when one is set (`run.py user create`, "
        "`user password`); common passwords (dashboard/data/common_passwords.txt) are refused.",
    )
    secure_cookies: bool = Field(
        False,
        description="Mark every cookie Secure even when the request arrived over plain HTTP: "
        "set it behind a TLS-terminating proxy (or set trusted_proxies so X-Forwarded-Proto "
        "is believed).",
    )
    token_rate_per_second: Annotated[float, Field(gt=0, le=10_000)] = Field(
        20, description="Sustained requests per second allowed per API token (token bucket)."
    )
    token_burst: Annotated[int, Field(ge=1, le=100_000)] = Field(
        40, description="Requests an API token may send at once before the rate applies (429)."
    )
    search_rate_per_second: Annotated[float, Field(gt=0, le=10_000)] = Field(
        2, description="Case searches (GET /api/v1/cases) per second per caller, sustained."
    )
    search_burst: Annotated[int, Field(ge=1, le=100_000)] = Field(
        30, description="Case searches a caller may send at once before the rate applies (429)."
    )
    export_rate_per_second: Annotated[float, Field(gt=0, le=10_000)] = Field(
        0.05, description="CSV exports of cases per second per caller (0.05: three a minute)."
    )
    export_burst: Annotated[int, Field(ge=1, le=100_000)] = Field(
        3, description="CSV exports a caller may start at once before the rate applies (429)."
    )
    max_photo_mb: Annotated[float, Field(gt=0, le=100)] = Field(
        10, description="Largest photo upload accepted, in MiB."
    )
    max_photo_megapixels: Annotated[float, Field(gt=0, le=200)] = Field(
        40, description="Largest photo accepted, in millions of pixels (decompression bombs)."
    )
    max_decode_mb: Annotated[float, Field(ge=16, le=16_384)] = Field(
        384,
        description="Memory all photo decodes in flight may use together, in MiB (estimated "
        "from each header before decoding). A photo that does not fit waits up to 10 s, then "
        "gets 503; one larger than this alone is refused (422).",
    )
    socket_auth_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        5,
        description="A Socket.IO connection that has not joined a namespace (authenticated) "
        "within this time is closed.",
    )
    trusted_proxies: Annotated[int, Field(ge=0, le=5)] = Field(
        0,
        description="Reverse proxies in front of the server whose X-Forwarded-For/-Proto are "
        "trusted (client IP in the audit log, https detection). 0: none.",
    )


class SupervisionConfig(_Strict):
    """The scheduled watchers (dashboard.scheduler): reminders, orders, call list, patrol."""

    enabled: bool = Field(
        True, description="Run the watchers in `serve` and the demo (one process acts at a time)."
    )
    deadline_interval_seconds: Annotated[float, Field(ge=1, le=3600)] = Field(
        60, description="Seconds between two runs of the deadline watcher (reminders, orders)."
    )
    village_interval_seconds: Annotated[float, Field(ge=1, le=3600)] = Field(
        60, description="Seconds between two runs of the village watcher (the call list)."
    )
    patrol_interval_seconds: Annotated[float, Field(ge=1, le=3600)] = Field(
        60, description="Seconds between two runs of the patrol watcher (silent, outside grid)."
    )
    lease_seconds: Annotated[float, Field(ge=2, le=3600)] = Field(
        30,
        description="The acting scheduler's lease; another process takes over this long after "
        "the holder stopped renewing it.",
    )
    rollup_hour: Annotated[int, Field(ge=0, le=23)] = Field(
        1, description="Local hour of the nightly roll-up of the previous day."
    )
    rollup_catchup_days: Annotated[int, Field(ge=0, le=400)] = Field(
        31, description="At start, roll up missing days up to this many days back."
    )
    silent_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        30, description="Minutes of shift time without a position fix before a worker is silent."
    )
    outside_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        20, description="Minutes outside their own grid before a worker is flagged."
    )
    shift_start: time = Field(time(8, 0), description="Patrol shift start (local time).")
    shift_end: time = Field(time(18, 0), description="Patrol shift end (local time).")
    lunch_start: time = Field(time(12, 0), description="Lunch break start: no patrol expected.")
    lunch_end: time = Field(time(13, 30), description="Lunch break end.")

    @model_validator(mode="after")
    def _shift_order(self) -> SupervisionConfig:
        if not self.shift_start <= self.lunch_start <= self.lunch_end <= self.shift_end:
            raise ValueError(
                "need shift_start <= lunch_start <= lunch_end <= shift_end (a day shift)"
            )
        return self


class TracksConfig(_Strict):
    """Patrol tracks (issue 16): the OsmAnd door, the GPS filters, storage, replay, statistics."""

    osmand_port: Annotated[int, Field(ge=0, le=65535)] = Field(
        0,
        description="A port of its own for the OsmAnd protocol at / (Traccar uses 5055); 0: only "
        "/osmand on the web port.",
    )
    max_accuracy_m: Annotated[float, Field(gt=0, le=100_000)] = Field(
        100.0, description="A fix with a larger accuracy radius is kept but marked poor_accuracy."
    )
    max_speed_kmh: Annotated[float, Field(gt=0, le=2000)] = Field(
        120.0, description="A jump faster than this from the previous trusted fix is marked jump."
    )
    retention_days: Annotated[int, Field(ge=0, le=36_600)] = Field(
        0,
        description="Fixes older than this many days are deleted (whole day partitions on "
        "PostgreSQL); 0: kept for ever.",
    )
    partition_days_ahead: Annotated[int, Field(ge=1, le=366)] = Field(
        7, description="PostgreSQL: day partitions of position_fixes created this far ahead."
    )
    partition_interval_seconds: Annotated[float, Field(ge=60, le=86_400)] = Field(
        3600, description="How often the scheduler's partitions job runs."
    )
    stop_radius_m: Annotated[float, Field(gt=0, le=1000)] = Field(
        40.0, description="A stop: the worker stays within this radius …"
    )
    stop_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        5.0, description="… for at least this many minutes."
    )
    silent_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        30.0, description="A gap between fixes of a shift this long is a silent episode."
    )
    household_radius_m: Annotated[float, Field(gt=0, le=1000)] = Field(
        60.0, description="A household counts as covered when a trusted fix passed this close."
    )


class IntegrationsConfig(_Strict):
    """The doors to other systems (issue 17): Open311 GeoReport v2 and webhooks out."""

    open311_contact: str = Field(
        "", max_length=200, description="Who to contact about the Open311 door (discovery)."
    )
    open311_anonymous_reads: bool = Field(
        False,
        description="Serve GET requests / tokens / servicerequestupdates without a key (no "
        "descriptions, no 110 or emergency cases). Off: every read needs an integration key.",
    )
    open311_anonymous_rate_per_second: Annotated[float, Field(gt=0, le=1000)] = Field(
        1.0, description="Anonymous Open311 reads per second and client address."
    )
    open311_anonymous_burst: Annotated[int, Field(ge=1, le=10000)] = Field(
        30, description="Anonymous Open311 reads in a burst per client address."
    )
    webhook_allow_private: bool = Field(
        False,
        description="Let webhooks reach loopback, private and link-local addresses (a LAN "
        "receiver, the tests). Off: such targets are refused (no request forgery).",
    )
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        5, description="Seconds to wait for a webhook receiver's answer."
    )
    webhook_first_retry_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        10, description="Wait after a failed delivery; doubles with each further failure."
    )
    webhook_longest_retry_seconds: Annotated[float, Field(gt=0, le=86400)] = Field(
        3600, description="The longest wait between two attempts of one delivery."
    )
    webhook_max_attempts: Annotated[int, Field(ge=1, le=1000)] = Field(
        30,
        description="Attempts before a delivery is failed (it then holds its subscription's "
        "later deliveries back until an admin replays it).",
    )
    webhook_poll_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        0.5, description="How often the sender looks for due deliveries."
    )


_CLEAR_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/@]*:(?!\$\{[A-Za-z0-9_]+\}@)[^/@]+@")


def has_clear_password(url: str) -> bool:
    """A stream URL with a password written out (not a ``${ENV}`` placeholder): refused in the
    configuration file and skipped in a ``cameras`` row (streams.capture.registry)."""
    return _CLEAR_PASSWORD.match(url) is not None


class VideoCameraConfig(_Strict):
    """A camera declared in the file (``[[video.cameras]]``) rather than in the database."""

    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")] = Field(
        description="Camera id (what browsers see; letters, digits, - _ .)."
    )
    name: str = Field("", description="Display name; empty: the id.")
    stream_url: str = Field(
        description="Main stream (rtsp://…, http://…, or synthetic:). Credentials as ${ENV} "
        "placeholders, e.g. rtsp://${CAM1_USER}:${CAM1_PASS}@10.0.0.8/main."
    )
    substream_url: str = Field("", description="Optional sub-stream for wall tiles; empty: none.")

    @field_validator("stream_url", "substream_url")
    @classmethod
    def _no_clear_password(cls, url: str) -> str:
        if has_clear_password(url):
            raise ValueError("contains a password; write it as a ${ENV_NAME} placeholder")
        return url


class VideoConfig(_Strict):
    """The capture service (``run.py capture``) and how web processes reach it."""

    capture_host: str = Field("127.0.0.1", description="Address the capture service binds to.")
    capture_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        8061, description="TCP port of the capture service (internal API, not for browsers)."
    )
    capture_urls: list[str] = Field(
        default_factory=list,
        description="Base URL of every capture shard, in shard order (`run.py capture --shard "
        "I/N` serves the I-th); empty: one shard at capture_host:capture_port.",
    )
    capture_secret_env: str = Field(
        "GCC_CAPTURE_SECRET",
        description="Environment variable holding the shared secret of the capture API "
        "(X-Capture-Secret); the demo generates one for its child process.",
    )
    idle_stop_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        10, description="A camera's reader stops this long after the last request naming it."
    )
    watchdog_seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        4,
        description="No new frame for this long (or 3 keyframe intervals if longer): the "
        "camera is offline and its reader is replaced.",
    )
    backoff_seconds: list[Annotated[float, Field(ge=0, le=3600)]] = Field(
        default_factory=lambda: [1.0, 5.0, 10.0, 60.0],
        min_length=1,
        description="Waits before the 1st, 2nd, 3rd … reconnect attempt (the last one repeats).",
    )
    tile_width: Annotated[int, Field(ge=64, le=1920)] = Field(
        320, description="Width of a wall tile JPEG."
    )
    tile_height: Annotated[int, Field(ge=36, le=1080)] = Field(
        180, description="Height of a wall tile JPEG."
    )
    tile_quality: Annotated[int, Field(ge=10, le=100)] = Field(
        70, description="JPEG quality of wall tiles."
    )
    tile_keyframes_only: bool = Field(
        True,
        description="Wall tiles decode keyframes only — of the sub-stream when the camera has "
        "one, else of the main stream: ~1 update/s at a 1 s keyframe interval for a fraction of "
        "the CPU. false: every sub-stream frame is decoded (smoother tiles, ~3x the CPU; a main "
        "stream is always keyframes-only for tiles).",
    )
    tile_max_fps: Annotated[float, Field(gt=0, le=30)] = Field(
        2.0, description="Most tile updates per second per camera (sub-streams decode more)."
    )
    full_quality: Annotated[int, Field(ge=10, le=100)] = Field(
        80, description="JPEG quality of full-size views and snapshots."
    )
    full_max_width: Annotated[int, Field(ge=160, le=7680)] = Field(
        1920, description="Full-size frames wider than this are scaled down."
    )
    max_full_views_per_viewer: Annotated[int, Field(ge=1, le=100)] = Field(
        4,
        description="Full-size streams (live.mjpg) one user or token may have open at once in "
        "a web process; more answer 429.",
    )
    max_full_views: Annotated[int, Field(ge=1, le=10_000)] = Field(
        32,
        description="Full-size streams a web process serves at once, all viewers together; "
        "more answer 429 (each one costs the capture service a full-resolution decode).",
    )
    capture_max_full_streams: Annotated[int, Field(ge=1, le=10_000)] = Field(
        64,
        description="Full-size streams one capture shard serves at once, for all web processes "
        "together; more answer 429 (each holds a full-resolution decoder).",
    )
    check_radius_m: Annotated[float, Field(gt=0, le=50_000)] = Field(
        800, description="Video checks: cameras within this distance of a case, village or point."
    )
    cameras: list[VideoCameraConfig] = Field(
        default_factory=list,
        description="Cameras declared here in addition to the database's (same id: this wins).",
    )

    @model_validator(mode="after")
    def _tile_shape(self) -> VideoConfig:
        if self.tile_width % 2 or self.tile_height % 2:
            raise ValueError("tile_width and tile_height must be even")
        return self

    def shard_urls(self) -> list[str]:
        return self.capture_urls or [f"http://{self.capture_host}:{self.capture_port}"]


class FieldConfig(_Strict):
    patrol_seconds: Annotated[int, Field(ge=30, le=60)] = Field(
        45, description="On patrol, the field app takes a position fix this often (30-60 s)."
    )
    stun_urls: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=8,
        description="STUN servers for video calls (stun:host:port); none needed inside one "
        "network.",
    )
    turn_urls: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=8,
        description="TURN servers for video calls across networks (turn:host:port).",
    )
    turn_username: str = Field("", max_length=100, description="TURN user name.")
    turn_credential_env: str = Field(
        "GCC_TURN_CREDENTIAL",
        description="Environment variable holding the TURN password (never in this file).",
    )

    def ice_servers(self) -> list[dict[str, Any]]:
        """RTCPeerConnection's iceServers."""
        servers: list[dict[str, Any]] = []
        if self.stun_urls:
            servers.append({"urls": list(self.stun_urls)})
        if self.turn_urls:
            credential = os.environ.get(self.turn_credential_env, "")
            servers.append(
                {
                    "urls": list(self.turn_urls),
                    "username": self.turn_username,
                    "credential": credential,
                }
            )
        return servers


class EvaluationConfig(_Strict):
    """The department composite score (dashboard.domain.scores): volume band + the weighted
    rates, graded A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E (issue 13, the rankings page)."""

    closure_weight: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="Weight of the closure rate (结案率) in the department score."
    )
    on_time_handling_weight: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="Weight of the on-time handling rate (按期处置率)."
    )
    rework_weight: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="Weight of (100 − rework rate) (返工率)."
    )
    period_days: Annotated[int, Field(ge=1, le=366)] = Field(
        30, description="Default ranking period: this many days up to today."
    )
    verify_limit: str = Field(
        "2h",
        description="Time limit of a grid worker's verification (核实) of a public report, from "
        "the request: working hours ('2h') or working days ('1d'). 按期核实率.",
    )
    check_limit: str = Field(
        "4h",
        description="Time limit of a grid worker's on-site check (核查) of a handled case, from "
        "the department's report: working hours or days. 按期核查率.",
    )

    @field_validator("verify_limit", "check_limit")
    @classmethod
    def _time_limit(cls, value: str) -> str:
        try:
            TimeLimit.parse(value)
        except DeadlineError as err:
            raise ValueError(err.message) from None
        return value


class AppConfig(_Strict):
    server: ServerConfig = Field(default_factory=ServerConfig, description="Web server.")
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Database.")
    bus: BusConfig = Field(default_factory=BusConfig, description="Event bus.")
    health: HealthConfig = Field(
        default_factory=HealthConfig, description="Health probes (/healthz)."
    )
    demo: DemoConfig = Field(default_factory=DemoConfig, description="Embedded demo.")
    simulator: SimulatorConfig = Field(
        default_factory=SimulatorConfig, description="The demo's simulator."
    )
    rules: RulesConfig = Field(default_factory=RulesConfig, description="Business rules.")
    data: DataConfig = Field(default_factory=DataConfig, description="Reference data files.")
    ui: UiConfig = Field(default_factory=UiConfig, description="Pages.")
    security: SecurityConfig = Field(
        default_factory=SecurityConfig, description="Sign-in, sessions, tokens, uploads."
    )
    supervision: SupervisionConfig = Field(
        default_factory=SupervisionConfig, description="Scheduled supervision watchers."
    )
    video: VideoConfig = Field(
        default_factory=VideoConfig, description="Video wall: the capture service and cameras."
    )
    tracks: TracksConfig = Field(
        default_factory=TracksConfig, description="Patrol tracks: OsmAnd door, filters, replay."
    )
    field: FieldConfig = Field(
        default_factory=FieldConfig, description="The grid workers' field app and video calls."
    )
    integrations: IntegrationsConfig = Field(
        default_factory=IntegrationsConfig, description="Open311 and webhooks (issue 17)."
    )
    evaluation: EvaluationConfig = Field(
        default_factory=EvaluationConfig, description="Rankings: department score weights."
    )

    def data_dir(self) -> Path:
        p = Path(self.server.data_dir)
        return p if p.is_absolute() else ROOT / p

    def database_url(self) -> str:
        """The database URL, with a relative SQLite path anchored at the project root."""
        url = self.database.resolved_url()
        prefix = "sqlite:///"
        if (
            url.startswith(prefix)
            and not url.startswith(prefix + "/")
            and url != "sqlite:///:memory:"
        ):
            return prefix + str(ROOT / url[len(prefix) :])
        return url


def _describe(err: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for item in err.errors():
        path = ".".join(str(p) for p in item["loc"]) or "(top level)"
        reason = item["msg"]
        if item["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling; see config.toml for the known keys)"
        lines.append(f"  {path}: {reason}")
    return "\n".join(lines)


def parse_config(text: str, source: str = "config.toml") -> AppConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from err
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_describe(err, source)) from err


def load_config(path: str | Path | None = None) -> AppConfig:
    """Read the configuration file (``config.toml`` at the project root by default)."""
    p = Path(path) if path else ROOT / "config.toml"
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"{p}: file not found") from err
    except OSError as err:
        raise ConfigError(f"{p}: cannot be read: {err.strerror}") from err
    return parse_config(text, str(p))


def explain(model: type[BaseModel] = AppConfig, prefix: str = "") -> list[str]:
    """One line per key: its path, default and description (for ``check-config --explain``)."""
    lines: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            lines.append(f"[{path}] {field.description or ''}")
            lines.extend(explain(ann, path + "."))
        else:
            default = field.get_default(call_default_factory=True)
            lines.append(f"  {path} = {default!r}: {field.description or ''}")
    return lines
