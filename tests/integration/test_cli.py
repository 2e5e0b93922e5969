"""The command line as an operator runs it: ``python run.py --config FILE <command>``.

Each command runs in a child process from the project root with a temporary config.toml whose
data directory and SQLite file live in tmp_path; the PostgreSQL variant points the same config at
a fresh database through GCC_DATABASE_URL, as a deployment does. A command that touches the
database imports the whole application (~3 s of CPU), so commands that do not depend on each
other are started side by side (``Cli.run_together``) and every scenario is as short as it can be.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from dashboard.accounts import create_token
from dashboard.domain.roles import Role
from dashboard.storage.db import Database
from dashboard.storage.migrate import current_revision
from dashboard.storage.models import ApiToken, Case, Grid, OutboxEvent, SchemaInfo, User, Village
from tests.integration.support import HEAD, fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180  # seconds for one command; seeding the town takes a few
PASSWORD = "correct horse battery"
Done = subprocess.CompletedProcess[str]


def _clean_env() -> dict[str, str]:
    """The caller's environment without any GCC_* setting that could redirect the commands."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}


@dataclass
class Cli:
    """run.py with one config file and one database (``url``: the one the commands use)."""

    config: Path
    url: str
    env: dict[str, str] = field(default_factory=_clean_env)

    @classmethod
    def on_sqlite(cls, tmp: Path) -> Cli:
        database = tmp / "command-center.db"
        config = tmp / "config.toml"
        config.write_text(
            f'[server]\ndata_dir = "{tmp / "var"}"\n\n'
            f'[database]\nurl = "sqlite:///{database}"\n\n'
            "[demo]\nsimulator = false\n",
            encoding="utf-8",
        )
        return cls(config, f"sqlite:///{database}")

    def command(self, *args: str, config: Path | None = None) -> list[str]:
        return [sys.executable, "run.py", "--config", str(config or self.config), *args]

    def run(
        self, *args: str, env: dict[str, str] | None = None, config: Path | None = None
    ) -> Done:
        return subprocess.run(
            self.command(*args, config=config),
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,  # no terminal: nothing may wait for a prompt
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def run_together(
        self, commands: dict[str, tuple[list[str], dict[str, str]]]
    ) -> dict[str, Done]:
        """Start independent commands at once and wait for all of them."""
        started = {
            name: subprocess.Popen(
                self.command(*args),
                cwd=ROOT,
                env={**self.env, **env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, (args, env) in commands.items()
        }
        done = {}
        for name, process in started.items():
            out, err = process.communicate(timeout=TIMEOUT)
            done[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        return done

    def database(self) -> Database:
        return Database.from_url(self.url)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI on an embedded SQLite file in tmp_path."""
    return Cli.on_sqlite(tmp_path)


def _last_line(text: str) -> str:
    return text.rstrip("\n").rsplit("\n", 1)[-1]


# --- checks shared by the SQLite and the PostgreSQL runs -----------------------------------


def _check_upgrade(cli: Cli, done: Done) -> None:
    assert done.returncode == 0, done.stderr
    # 0001 when this suite was written; later revisions move the head on.
    assert _last_line(done.stdout) == f"schema revision: {HEAD}"
    db = cli.database()
    try:
        assert current_revision(db.engine) == HEAD
    finally:
        db.dispose()


def _check_token_created(cli: Cli, done: Done, name: str, role: str) -> str:
    """The token is alone on the last line of stdout and only its SHA-256 is stored."""
    assert done.returncode == 0, done.stderr
    token = _last_line(done.stdout)
    assert token.startswith("gcc_") and len(token) > 40 and " " not in token
    assert name in done.stdout.splitlines()[0]
    assert token not in done.stderr  # not in the log either
    db = cli.database()
    try:
        with db.read() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.name == name)).one()
            values = [getattr(row, c.key) for c in ApiToken.__table__.columns]
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (row.role, row.revoked_at) == (role, None)
        assert row.prefix == token[:12]  # shown in listings; the rest is never stored
        assert not any(token in str(value) for value in values)
    finally:
        db.dispose()
    if cli.url.startswith("sqlite"):  # nor anywhere in the file or its write-ahead log
        path = Path(cli.url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert token.encode() not in stored
    return token


def _check_user_created(cli: Cli, done: Done, name: str, role: str) -> None:
    assert done.returncode == 0, done.stderr
    assert f"created user {name} ({role})" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    db = cli.database()
    try:
        with db.read() as session:
            user = session.scalars(select(User).where(User.username == name)).one()
    finally:
        db.dispose()
    assert (user.role, user.active) == (role, True)
    assert PASSWORD not in user.password_hash
    assert check_password_hash(user.password_hash, PASSWORD)
    assert not check_password_hash(user.password_hash, PASSWORD + "!")


def _dataset(cli: Cli) -> dict[str, object]:
    db = cli.database()
    try:
        with db.read() as session:

            def count(model: type) -> int:
                return session.scalar(select(func.count()).select_from(model)) or 0

            return {
                "villages": count(Village),
                "grids": count(Grid),
                "cases": count(Case),
                "outbox": count(OutboxEvent),
                "last_case": session.scalar(select(func.max(Case.id))),
                "info": {i.key: i.value for i in session.scalars(select(SchemaInfo))},
            }
    finally:
        db.dispose()


def _check_seeded(cli: Cli, done: Done) -> dict[str, object]:
    """The counts printed on the last line are the ones stored."""
    assert done.returncode == 0, done.stderr
    printed = dict(part.split("=") for part in _last_line(done.stdout).split())
    counts = {key: int(value.replace(",", "")) for key, value in printed.items()}
    assert set(counts) == {"counties", "towns", "villages", "grids", "workers", "cameras", "cases"}
    assert counts["towns"] == 1 and counts["villages"] > 0 and counts["cases"] > 0
    seeded = _dataset(cli)
    stored = (seeded["villages"], seeded["grids"], seeded["cases"])
    assert stored == (counts["villages"], counts["grids"], counts["cases"])
    assert seeded["outbox"] == 0  # the seeded past is not news for the wall
    info = seeded["info"]
    assert isinstance(info, dict)
    assert (info["scale"], info["seed"], info["days"]) == ("town", "7", "1")
    return seeded


# --- check-config -------------------------------------------------------------------------


def test_check_config_accepts_a_good_file(cli: Cli) -> None:
    done = cli.run("check-config")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "configuration OK"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("[server]\nprot = 8050\n", ["server.prot", "unknown key"], id="unknown-key"),
        pytest.param(
            "[server]\nport = 70000\n", ["server.port", "less than or equal to 65535"], id="range"
        ),
        pytest.param(
            '[rules.village]\nmin_cases = "five"\n',
            ["rules.village.min_cases", "valid integer"],
            id="type",
        ),
        pytest.param(
            "[rules.village]\nleave_ratio = 0.9\n",
            ["rules.village", "leave_ratio must not be above enter_ratio"],
            id="hysteresis",
        ),
        pytest.param("[server\nport = 8050\n", ["not valid TOML"], id="broken-toml"),
        pytest.param(
            '[database]\nurl = "postgresql+psycopg://gcc:s3cr3t-pw@db/gcc"\n',
            ["database.url", "contains a password"],
            id="password-in-url",
        ),
    ],
)
def test_check_config_names_the_key_and_the_reason(
    cli: Cli, tmp_path: Path, text: str, expected: list[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")

    done = cli.run("check-config", config=bad)

    assert done.returncode == 2
    assert done.stdout == ""
    assert str(bad) in done.stderr
    for part in expected:
        assert part in done.stderr
    assert "Traceback" not in done.stderr
    assert "s3cr3t-pw" not in done.stderr  # a refused secret is not echoed to the terminal


def test_check_config_on_a_missing_file(cli: Cli, tmp_path: Path) -> None:
    done = cli.run("check-config", config=tmp_path / "nowhere.toml")
    assert done.returncode == 2
    assert "nowhere.toml: file not found" in done.stderr


def test_check_config_explain_lists_every_key(cli: Cli) -> None:
    done = cli.run("check-config", "--explain")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for key in (
        "server.port = 8050",
        "database.url_env = 'GCC_DATABASE_URL'",
        "rules.village.min_cases = 5",
        "rules.village.enter_ratio = 0.8",
        "demo.history_days = 30",
    ):
        assert any(line.strip().startswith(key) for line in lines), key
    assert "[rules.village] Village status rule." in lines
    keys = [line for line in lines if not line.startswith("[")]
    assert len(keys) > 25
    assert all(line.partition(": ")[2].strip() for line in keys)  # each key with its meaning


# --- commands run once for several tests, side by side -------------------------------------


@dataclass(frozen=True)
class SideBySide:
    cli: Cli
    upgrade: Done
    token: str  # created beforehand, for `token list`
    done: dict[str, Done]

    def usernames(self) -> list[str]:
        db = self.cli.database()
        try:
            with db.read() as session:
                return list(session.scalars(select(User.username)))
        finally:
            db.dispose()


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory: pytest.TempPathFactory) -> SideBySide:
    """`db upgrade` on a new SQLite file, then commands that must be refused and `token list`,
    all started together (each test below reads one result)."""
    cli = Cli.on_sqlite(tmp_path_factory.mktemp("cli"))
    upgrade = cli.run("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    db = cli.database()
    try:
        with db.transaction() as session:  # set-up for `token list`, not under test here
            token = create_token(session, "wall-1", Role.WALL, datetime.now(UTC)).token
    finally:
        db.dispose()
    password = {"GCC_USER_PASSWORD": PASSWORD}
    done = cli.run_together(
        {
            "short_password": (
                ["user", "create", "carol", "--role", "supervisor"],
                {"GCC_USER_PASSWORD": "short"},
            ),
            "no_password": (["user", "create", "dave", "--role", "supervisor"], {}),
            # Accepted for an admin before the hardening (issue 11):
            "digits_password": (
                ["user", "create", "gina", "--role", "admin"],
                {"GCC_USER_PASSWORD": "12345678"},
            ),
            "spaces_password": (
                ["user", "create", "hank", "--role", "admin"],
                {"GCC_USER_PASSWORD": " " * 8},
            ),
            "common_password": (
                ["user", "create", "ivan", "--role", "admin"],
                {"GCC_USER_PASSWORD": "Password123"},
            ),
            "no_department": (["user", "create", "erin", "--role", "department"], password),
            "unknown_department": (
                ["user", "create", "frank", "--role", "department", "--department", "nope"],
                password,
            ),
            "token_without_name": (["token", "create", " ", "--role", "wall"], {}),
            "unknown_role": (["token", "create", "tablet-9", "--role", "mayor"], {}),
            "department_token": (["token", "create", "tablet-8", "--role", "department"], {}),
            "phone_token": (["token", "create", "phone-8", "--role", "grid_worker"], {}),
            "token_list": (["token", "list"], {}),
        }
    )
    return SideBySide(cli, upgrade, token, done)


def test_db_upgrade_prints_the_revision(side_by_side: SideBySide) -> None:
    _check_upgrade(side_by_side.cli, side_by_side.upgrade)


def test_token_list_never_shows_the_secret(side_by_side: SideBySide) -> None:
    done, token = side_by_side.done["token_list"], side_by_side.token
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if "wall-1" in line]
    assert line.split("\t")[1:] == ["wall-1", "wall", f"{token[:12]}…", "active"]
    assert token not in done.stdout + done.stderr


def test_token_create_with_an_unknown_role_is_refused(side_by_side: SideBySide) -> None:
    done = side_by_side.done["unknown_role"]
    assert done.returncode == 2
    assert "invalid choice: 'mayor'" in done.stderr
    assert "grid_worker" in done.stderr  # the message lists the roles there are
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("name", "user", "message"),
    [
        ("short_password", "carol", "at least 10 characters"),
        ("digits_password", "gina", "at least 10 characters"),
        ("spaces_password", "hank", "at least 10 characters"),
        ("common_password", "ivan", "among the most common"),
        ("no_password", "dave", "set GCC_USER_PASSWORD"),
        ("no_department", "erin", "a department user needs --department"),
    ],
)
def test_user_create_refuses_bad_requests(
    side_by_side: SideBySide, name: str, user: str, message: str
) -> None:
    done = side_by_side.done[name]
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert user not in side_by_side.usernames()


def test_token_create_without_a_name_fails_cleanly(side_by_side: SideBySide) -> None:
    done = side_by_side.done["token_without_name"]
    assert done.returncode == 1
    assert "error: a token needs a name" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("department_token", "a department token needs --department"),
        ("phone_token", "a grid worker's device token needs --worker"),
    ],
)
def test_a_token_without_its_roles_scope_is_refused(
    side_by_side: SideBySide, name: str, message: str
) -> None:
    """Issue 11: a department token without a department saw every case."""
    done = side_by_side.done[name]
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not _last_line(done.stdout).startswith("gcc_")


def test_department_user_needs_a_known_department(side_by_side: SideBySide) -> None:
    done = side_by_side.done["unknown_department"]
    assert done.returncode != 0
    assert "nope" in done.stdout + done.stderr
    assert "frank" not in side_by_side.usernames()


def test_command_errors_are_written_to_stderr(side_by_side: SideBySide) -> None:
    done = side_by_side.done["no_department"]
    assert "a department user needs --department" in done.stderr
    assert "error:" not in done.stdout


# --- one command after another (SQLite) ----------------------------------------------------


def test_token_create_then_revoke(cli: Cli) -> None:
    created = cli.run("token", "create", "tablet-1", "--role", "integration", "--all-areas")
    _check_token_created(cli, created, "tablet-1", "integration")

    revoked = cli.run("token", "revoke", "tablet-1")

    assert revoked.returncode == 0, revoked.stderr
    assert "revoked 1 token(s) named tablet-1" in revoked.stdout
    db = cli.database()
    try:
        with db.read() as session:
            row = session.scalars(select(ApiToken)).one()
    finally:
        db.dispose()
    assert row.revoked_at is not None


def test_user_create_then_a_duplicate(cli: Cli) -> None:
    password = {"GCC_USER_PASSWORD": PASSWORD}
    done = cli.run("user", "create", "alice", "--role", "supervisor", env=password)
    _check_user_created(cli, done, "alice", "supervisor")

    again = cli.run("user", "create", "alice", "--role", "leader", env=password)

    assert again.returncode != 0
    assert "user 'alice' exists already" in again.stdout + again.stderr
    db = cli.database()
    try:
        with db.read() as session:
            assert [u.role for u in session.scalars(select(User))] == ["supervisor"]
    finally:
        db.dispose()


def test_seed_once_and_refuse_a_second_time(cli: Cli) -> None:
    seeded = _check_seeded(cli, cli.run("seed", "--scale", "town", "--days", "1"))

    again = cli.run("seed", "--scale", "town", "--days", "1")

    assert again.returncode != 0
    assert "use --force" in again.stdout + again.stderr
    assert _dataset(cli) == seeded  # nothing replaced, nothing added


# --- PostgreSQL through GCC_DATABASE_URL ---------------------------------------------------


def test_commands_on_postgresql_named_by_gcc_database_url(
    postgres_url: str, tmp_path: Path
) -> None:
    """The config file still names SQLite; the environment variable wins, as in a deployment."""
    cli = Cli.on_sqlite(tmp_path)
    with fresh_postgres_database(postgres_url, "cli") as url:
        cli.url = url
        cli.env["GCC_DATABASE_URL"] = url
        _check_upgrade(cli, cli.run("db", "upgrade"))

        done = cli.run_together(
            {
                "token": (
                    ["token", "create", "tablet-1", "--role", "integration", "--all-areas"],
                    {},
                ),
                "user": (
                    ["user", "create", "alice", "--role", "supervisor"],
                    {"GCC_USER_PASSWORD": PASSWORD},
                ),
                "seed": (["seed", "--scale", "town", "--days", "1"], {}),
            }
        )

        _check_token_created(cli, done["token"], "tablet-1", "integration")
        _check_user_created(cli, done["user"], "alice", "supervisor")
        _check_seeded(cli, done["seed"])
    assert not (tmp_path / "command-center.db").exists()  # the SQLite file was never used


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_busy_port_stops_the_server_before_it_touches_anything(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    """A second `run.py` while the demo runs: refused with the port and how to choose another,
    and no database, seed, simulated case or watcher run comes of it."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = cli.run("--port", port, command)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "已被占用" in done.stderr
    assert not (tmp_path / "command-center.db").exists()
    assert not (tmp_path / "var").exists()
