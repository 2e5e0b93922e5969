"""The layers of docs/architecture.md hold: import-linter's contracts (pyproject.toml) pass,
every module of the project sits in a layer (a new module cannot slip past the contracts), and no
module imports itself back even through an import deferred inside a function."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

from tests.unit.test_import_cycles import cycles, project_modules

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dashboard", "streams", "layouts", "callbacks")
# Packages' own __init__ files, and Alembic's scripts (run by Alembic, never imported).
OUTSIDE = {"dashboard", "dashboard.security", "dashboard.migrations"}


def _config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return dict(tomllib.load(fh)["tool"]["importlinter"])


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    for index, members in enumerate(layers):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    return None


def test_the_contracts_hold(tmp_path: Path) -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-logo", "--cache-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_sits_in_a_layer() -> None:
    contracts = _config()["contracts"]
    assert isinstance(contracts, list)
    (layered,) = [c for c in contracts if c["type"] == "layers"]
    layers = [
        [m.strip().strip("()") for m in re.split(r"[:|]", layer.replace("\\\n", " ")) if m.strip()]
        for layer in layered["layers"]
    ]
    outside = sorted(
        name for name in project_modules() if name not in OUTSIDE and layer_of(name, layers) is None
    )
    assert outside == [], f"modules in no layer of pyproject.toml: {outside}"


def test_no_cycle_even_through_deferred_imports() -> None:
    """test_import_cycles.py counts the imports that run at import time; this counts every import
    but those under ``TYPE_CHECKING`` (grimp, the graph import-linter reads): a cycle held open
    only by an import inside a function is a cycle too."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    modules = {m for m in graph.modules if ".migrations" not in m}
    edges = {m: set(graph.find_modules_directly_imported_by(m)) & modules for m in modules}
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)
