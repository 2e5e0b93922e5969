"""Backups that restore (issue 15): ``run.py backup`` on a deployment with history and photos,
``run.py restore`` into an empty deployment, on SQLite and on PostgreSQL; the restored one has
every case, every trail entry and every photo (byte for byte). A backup with a damaged photo is
refused before anything is written; a deployment that already has cases is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from dashboard.backup import BackupError, backup, restore
from dashboard.config import load_config
from dashboard.container import Services
from dashboard.services.photos import attach_photos
from dashboard.storage.models import Attachment, Case, CaseEvent
from dashboard.wiring import build_services
from tests.integration.live_helpers import ROOT
from tests.integration.support import fresh_postgres_database

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@contextmanager
def _deployment(tmp: Path, name: str, backend: str, postgres_url: str) -> Iterator[Path]:
    """A config file of its own; SQLite in ``tmp`` or a new empty PostgreSQL database."""
    directory = tmp / name
    directory.mkdir()
    config = directory / "config.toml"
    body = f'[server]\ndata_dir = "{directory}/var"\n[demo]\nsimulator = false\n'
    if backend == "sqlite":
        config.write_text(body + f'[database]\nurl = "sqlite:///{directory}/var/cc.db"\n')
        yield config
        return
    with fresh_postgres_database(postgres_url, f"backup_{name}") as url:
        config.write_text(body + f'[database]\nurl = "{url}"\n')
        yield config


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCC_")}
    return subprocess.run(
        [sys.executable, "run.py", "--config", str(config), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def _in_process(config: Path, call: Callable[[Services], object]) -> None:
    services = build_services(load_config(config))
    try:
        call(services)
    finally:
        services.close()


def _photo(seed: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data.tobytes())


def _add_photos(config: Path, n: int) -> None:
    services = build_services(load_config(config))
    try:
        with services.db.transaction() as session:
            case_ids = list(session.scalars(select(Case.id).order_by(Case.id).limit(n)))
            for i, case_id in enumerate(case_ids):
                photo = services.photos.inspect(_photo(i), f"p{i}.png")
                attach_photos(session, case_id, [photo], "gw-test", NOW)
    finally:
        services.close()


def _contents(config: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]], dict]:
    """Every case (id, status), trail entry (case, action, at) and photo (id → bytes)."""
    services = build_services(load_config(config))
    try:
        with services.db.read() as session:
            cases = [(i, s) for i, s in session.execute(select(Case.id, Case.status))]
            trail = [
                (c, a, at.isoformat())
                for c, a, at in session.execute(
                    select(CaseEvent.case_id, CaseEvent.action, CaseEvent.at).order_by(CaseEvent.id)
                )
            ]
            photos = {
                a.id: services.photos.path_for(a.id, a.content_type).read_bytes()
                for a in session.scalars(select(Attachment))
            }
        return sorted(cases), trail, photos
    finally:
        services.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_backup_restores_every_case_trail_entry_and_photo(
    tmp_path: Path, postgres_url: str, backend: str
) -> None:
    with (
        _deployment(tmp_path, "source", backend, postgres_url) as source,
        _deployment(tmp_path, "target", backend, postgres_url) as target,
    ):
        seeded = _run(source, "seed", "--scale", "town", "--days", "1")
        assert seeded.returncode == 0, seeded.stderr
        _add_photos(source, 3)
        before = _contents(source)
        assert before[0] and before[1] and len(before[2]) == 3

        dump = tmp_path / "backup"
        done = _run(source, "backup", str(dump))
        assert done.returncode == 0, done.stderr
        assert f"cases={len(before[0]):,}" in done.stdout
        assert len(list((dump / "photos").iterdir())) == 3
        with pytest.raises(BackupError, match="not empty"):  # never over an existing backup
            _in_process(source, lambda s: backup(s.db, s.photos.root, dump, NOW))

        damaged = tmp_path / "damaged"
        shutil.copytree(dump, damaged)
        photo = next((damaged / "photos").iterdir())
        photo.write_bytes(photo.read_bytes()[:-10])
        with pytest.raises(BackupError, match="damaged"):  # checked before anything is written
            _in_process(target, lambda s: restore(s.db, s.photos.root, damaged))

        restored = _run(target, "restore", str(dump))
        assert restored.returncode == 0, restored.stderr
        assert _contents(target) == before

        with pytest.raises(BackupError, match="empty"):  # the target has cases now
            _in_process(target, lambda s: restore(s.db, s.photos.root, dump))
        assert _contents(target) == before
