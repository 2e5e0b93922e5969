"""The domain core imports no framework or I/O library (STYLE.md: a pure core)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "dashboard" / "domain"
FORBIDDEN = {
    "flask",
    "dash",
    "sqlalchemy",
    "redis",
    "cv2",
    "flask_socketio",
    "socketio",
    "apscheduler",
    "pydantic",
    "requests",
    "psycopg",
    "alembic",
    "plotly",
}
ALLOWED_THIRD_PARTY = {"shapely", "numpy"}  # geometry is data, not I/O


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_is_pure(path: Path) -> None:
    imported = _imports(path)
    assert not imported & FORBIDDEN, f"{path.name} imports {sorted(imported & FORBIDDEN)}"
    import sys

    stdlib = set(sys.stdlib_module_names)
    unknown = {
        m for m in imported if m not in stdlib and m != "dashboard" and m not in ALLOWED_THIRD_PARTY
    }
    assert not unknown, f"{path.name} imports {sorted(unknown)}"
    dashboard_imports = {
        n.module
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("dashboard")
    }
    assert all(m.startswith("dashboard.domain") for m in dashboard_imports), dashboard_imports
