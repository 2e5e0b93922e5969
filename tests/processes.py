"""Helpers for the processes tests start (servers, the capture service, the demo)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def terminate(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Ask the process to stop (SIGTERM), kill it if it has not within ``timeout``, reap it."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


class SeedTemplates:
    """Seeded SQLite databases, one per set of seed inputs, each made once and then copied.

    Seeding is most of starting a test's app or server (a few seconds of CPU, 5-15 s on the
    loaded 2-core machine), and tests of the same configuration would seed the very same data
    set. So the first test of a configuration seeds a template with ``run.py seed`` (the
    operator's command: migrations, then the seed with the config's ``[demo]`` scale, seed and
    history_days, ``[rules]`` and ``[data]``, and the given arguments), and every later one starts
    on a copy of it: ``python run.py`` / ``run.py serve`` find the database seeded, as after
    ``run.py seed`` or a restart. The seeded data set is anchored on the time it was made, so a
    template older than ``MAX_AGE`` is made again: a test's "now" stays within minutes of its
    seed's, as when a user starts the demo a few minutes after seeding it.
    """

    MAX_AGE = 600.0  # seconds

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self.made: dict[str, tuple[Path, float]] = {}  # key -> (database file, monotonic time)

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="gcc-seed-templates-"))
        return self._root

    @staticmethod
    def key(config_text: str, seed_args: tuple[str, ...]) -> str:
        """What ``run.py seed`` reads of the configuration (commands._seed, load_reference)."""
        from dashboard.config import parse_config

        config = parse_config(config_text, "test config")
        inputs = {
            "demo": config.demo.model_dump(include={"scale", "seed", "history_days"}),
            "rules": config.rules.model_dump(mode="json"),
            "data": config.data.model_dump(mode="json"),
            "args": list(seed_args),
        }
        text = json.dumps(inputs, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def copy_to(self, database: Path, config_for: Callable[[Path], str], *seed_args: str) -> None:
        """Put a seeded copy at ``database``. ``config_for(data_dir)``: the test's configuration
        with its data directory, and an SQLite database inside it, at ``data_dir``."""
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.database(config_for, *seed_args), database)

    def database(self, config_for: Callable[[Path], str], *seed_args: str) -> Path:
        """The template's database file for this configuration, seeded now if need be."""
        key = self.key(config_for(Path("/unused")), seed_args)
        made = self.made.get(key)
        if made is not None and time.monotonic() - made[1] < self.MAX_AGE:
            return made[0]
        directory = self.root / f"{key}-{len(self.made)}"
        directory.mkdir(parents=True)
        data_dir = directory / "var"
        config = directory / "config.toml"
        config.write_text(config_for(data_dir), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "run.py", "--config", str(config), "seed", *seed_args],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("GCC_")},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"run.py seed failed:\n{done.stdout}\n{done.stderr}"
        files = list(data_dir.iterdir())
        assert len(files) == 1 and files[0].suffix == ".db", f"the seed left {files}"
        self.made[key] = (files[0], time.monotonic())
        return files[0]
