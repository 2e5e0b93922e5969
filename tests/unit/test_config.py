from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "config.toml")
    assert config.database.url.startswith("sqlite")
    assert config.bus.backend == "memory"


def test_empty_file_gives_the_defaults() -> None:
    config = parse_config("")
    assert config.server.port == 8050
    assert config.rules.village.enter_ratio == 0.8


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[server]\nport = 70000\n", "server.port"),
        ("[server]\nprot = 8050\n", "server.prot: unknown key"),
        ("[database]\nurl = 'mysql://x/y'\n", "database.url"),
        ("[database]\nurl = 'postgresql+psycopg://u:secret@h/db'\n", "contains a password"),
        ("[bus]\nbackend = 'kafka'\n", "bus.backend"),
        ("[rules.village]\nenter_ratio = 0.6\nleave_ratio = 0.7\n", "hysteresis"),
        ("[rules.village]\nmin_cases = 0\n", "rules.village.min_cases"),
        ("[demo]\nscale = 'planet'\n", "demo.scale"),
        ("[server\nport = 1\n", "not valid TOML"),
        ("surprise = 1\n", "surprise: unknown key"),
    ],
)
def test_bad_config_names_the_key_and_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "test.toml")
    assert fragment in str(err.value)
    assert "test.toml" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCC_DATABASE_URL", "postgresql+psycopg://app:pw@db/gcc")
    assert parse_config("").database_url() == "postgresql+psycopg://app:pw@db/gcc"


def test_relative_sqlite_path_is_anchored_at_the_project_root() -> None:
    url = parse_config("[database]\nurl = 'sqlite:///var/x.db'\n").database_url()
    assert url == f"sqlite:///{ROOT / 'var/x.db'}"
