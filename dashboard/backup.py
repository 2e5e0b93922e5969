"""Backups that restore: ``run.py backup DIR`` and ``run.py restore DIR`` (docs/deploy.md).

A backup is a directory:

- ``database.sqlite3`` — the embedded database, copied with SQLite's online backup API (a
  consistent copy while the server keeps writing), or ``database.pgdump`` — ``pg_dump
  --format=custom`` of the PostgreSQL database (needs ``pg_dump`` on the PATH);
- ``photos/`` — the photo store's files. They are named by their SHA-256 and never change, and
  they are copied *after* the database: every attachment row in the copy has its file;
- ``manifest.json`` — when, from which backend and schema revision, and the counts (cases, trail
  entries, attachments, photos) the restore checks itself against.

``restore`` writes into an *empty* deployment (no cases: a fresh database file, an empty
PostgreSQL database, or one whose schema was only created), checks every photo's hash, brings the
schema up to date and compares the counts; it refuses anything else and changes nothing then.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from dashboard.storage import migrate
from dashboard.storage.db import Database
from dashboard.storage.models import Attachment, Case, CaseEvent

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
PHOTOS = "photos"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go ahead; nothing was changed."""


@dataclass(frozen=True)
class Counts:
    cases: int
    trail: int
    attachments: int
    photos: int

    def as_dict(self) -> dict[str, int]:
        return {
            "cases": self.cases,
            "trail": self.trail,
            "attachments": self.attachments,
            "photos": self.photos,
        }


def counts(db: Database, photos: Path) -> Counts:
    with db.read() as session:
        if not inspect(session.connection()).has_table("cases"):
            return Counts(0, 0, 0, _photo_count(photos))

        def n(model: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

        return Counts(n(Case), n(CaseEvent), n(Attachment), _photo_count(photos))


def _photo_count(photos: Path) -> int:
    return sum(1 for p in photos.iterdir() if p.is_file()) if photos.is_dir() else 0


def backup(db: Database, photos: Path, dest: Path, now: datetime) -> dict[str, Any]:
    """Write a backup of ``db`` and the photo store ``photos`` into the new directory ``dest``."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty: choose a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    if db.dialect == "sqlite":
        _sqlite_copy(_sqlite_path(db), dest / SQLITE_FILE)
    else:
        _pg_dump(db, dest / PG_FILE)
    taken = counts(db, photos)  # the photos copied below include every row counted here
    (dest / PHOTOS).mkdir()
    copied = 0
    if photos.is_dir():
        for photo in sorted(photos.iterdir()):
            if photo.is_file() and not photo.name.startswith("."):
                shutil.copy2(photo, dest / PHOTOS / photo.name)
                copied += 1
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "backend": db.dialect,
        "revision": migrate.current_revision(db.engine),
        "counts": taken.as_dict() | {"photos": copied},
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def restore(db: Database, photos: Path, src: Path) -> dict[str, Any]:
    """Restore the backup ``src`` into the empty deployment of ``db`` and ``photos``."""
    manifest = _manifest(src)
    expected = manifest["counts"]
    if counts(db, photos).cases:
        raise BackupError("the target deployment has cases: restore only into an empty one")
    photo_files = _checked_photos(src / PHOTOS)
    if db.dialect == "sqlite":
        if not (src / SQLITE_FILE).is_file():
            raise BackupError(f"{src} holds no {SQLITE_FILE} (a backup of another backend?)")
        db.dispose()
        _sqlite_copy(src / SQLITE_FILE, _sqlite_path(db))
    else:
        if not (src / PG_FILE).is_file():
            raise BackupError(f"{src} holds no {PG_FILE} (a backup of another backend?)")
        _pg_restore(db, src / PG_FILE)
    photos.mkdir(parents=True, exist_ok=True)
    for photo in photo_files:
        shutil.copy2(photo, photos / photo.name)
    migrate.upgrade(db.engine)  # a backup of an older version: its schema brought up to date
    found = counts(db, photos)
    missing = {k: (v, found.as_dict()[k]) for k, v in expected.items() if found.as_dict()[k] < v}
    if missing:
        raise BackupError(f"restored fewer than the backup holds (expected, found): {missing}")
    return manifest | {"restored": found.as_dict()}


def _manifest(src: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BackupError(f"{src} is not a backup ({MANIFEST}: {err})") from err
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def _checked_photos(directory: Path) -> list[Path]:
    """The backup's photo files, each one's content checked against its SHA-256 name."""
    files = sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []
    for photo in files:
        digest = hashlib.sha256(photo.read_bytes()).hexdigest()
        if photo.stem != digest:
            raise BackupError(f"photo {photo.name} is damaged (its content has another hash)")
    return files


def _sqlite_path(db: Database) -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _sqlite_copy(src: Path, dest: Path) -> None:
    """SQLite's online backup API: a consistent copy while others write to ``src``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dest)
    try:
        source.backup(target, pages=1024)
    finally:
        target.close()
        source.close()


def _pg_command(db: Database, tool: str) -> tuple[list[str], dict[str, str]]:
    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(f"{tool} is not on the PATH (Debian: apt-get install postgresql-client)")
    url = make_url(db.engine.url.render_as_string(hide_password=False))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # never on the command line (ps shows it)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return [binary, "--dbname", plain], env


def _pg_dump(db: Database, dest: Path) -> None:
    command, env = _pg_command(db, "pg_dump")
    _run([*command, "--format=custom", "--no-owner", "--file", str(dest)], env)


def _pg_restore(db: Database, src: Path) -> None:
    command, env = _pg_command(db, "pg_restore")
    db.dispose()
    flags = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    _run([*command, *flags, str(src)], env)


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-500:]}")
