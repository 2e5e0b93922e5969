"""Row scoping has one home, ``dashboard/storage/scoping.py`` (issue 12).

The rule "inside the area, and for a department only the cases dispatched to it" was written
by hand ~20 times and drifted (the wall forgot ``dispatched_at``; five copies did not escape
``LIKE``). This test reads the source and fails when a new hand-written copy appears: a prefix
match (``startswith`` / ``like`` / ``ilike``) of a model column against an area code, or a
model column compared with a principal's ``scope.department_code``. Use the helpers of
``dashboard.storage.scoping`` instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from dashboard.domain.permissions import Scope
from dashboard.storage.models import Case, Village
from dashboard.storage.scoping import around_area, case_scope, in_area, towns_of_area

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dashboard", "streams", "layouts", "callbacks")
HOME = Path("dashboard/storage/scoping.py")
_PREFIX_MATCHES = {"startswith", "like", "ilike", "contains", "icontains", "istartswith"}


def _mentions(node: ast.AST, word: str) -> bool:
    """Whether a name or attribute inside ``node`` contains ``word`` (``area``, ``scope``…)."""
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else getattr(sub, "attr", None)
        if isinstance(name, str) and word in name.lower():
            return True
    return False


def _is_column(node: ast.AST) -> bool:
    """``Model.column`` (a capitalised class name followed by an attribute)."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id[:1].isupper()
    )


def hand_written_scoping(source: str) -> list[int]:
    """Line numbers of hand-written scoping conditions in ``source``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _PREFIX_MATCHES
            and _is_column(node.func.value)
            and any(_mentions(arg, "area") for arg in node.args)
        ):
            lines.append(node.lineno)
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_column(s) for s in sides) and any(
                isinstance(s, ast.Attribute)
                and s.attr == "department_code"
                and _mentions(s, "scope")
                for s in sides
            ):
                lines.append(node.lineno)
    return lines


def _sources() -> list[Path]:
    return sorted(
        path.relative_to(ROOT)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.relative_to(ROOT) != HOME
    )


def test_no_hand_written_scoping_outside_its_home() -> None:
    found = [
        f"{path}:{line}"
        for path in _sources()
        for line in hand_written_scoping((ROOT / path).read_text(encoding="utf-8"))
    ]
    assert found == [], f"scope with dashboard.storage.scoping, not by hand: {found}"


@pytest.mark.parametrize(
    "copy",
    [
        "q.where(Case.village_code.startswith(scope.area_code))",
        "q.where(Village.code.startswith(area, autoescape=True))",
        "q.where(Town.code.startswith(area[:9]))",
        "q.where(Camera.village_code.like(who.scope.area_code + '%'))",
        "q.where(Case.department_code == scope.department_code)",
        "q.where(Reminder.department_code == principal.scope.department_code)",
    ],
)
def test_the_check_sees_a_copy(copy: str) -> None:
    assert hand_written_scoping(copy) == [1]


@pytest.mark.parametrize(
    "fine",
    [
        "q.where(*in_area(Case.village_code, scope.area_code))",
        "q.where(Case.grid_code.startswith(place, autoescape=True))",  # a search filter
        "ok = worker.village_code.startswith(area_code)",  # a Python string, not SQL
        "q.where(Case.department_code == filters.department)",  # a search filter
    ],
)
def test_the_check_leaves_other_code_alone(fine: str) -> None:
    assert hand_written_scoping(fine) == []


def _sql(*conditions: object) -> str:
    query = select(Case.id).where(*conditions)  # type: ignore[arg-type]
    sql = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return str(sql).replace("%%", "%")  # the driver's paramstyle doubles a literal %


def test_area_prefix_is_like_escaped() -> None:
    sql = _sql(*in_area(Case.village_code, "1_%"))
    assert "LIKE '1/_/%' || '%' ESCAPE '/'" in sql


def test_no_area_no_condition() -> None:
    assert in_area(Case.village_code, None) == []
    assert in_area(Case.village_code, "") == []
    assert around_area(Village.code, None) == []
    assert towns_of_area(Village.code, None) == []
    assert case_scope(Scope()) == []


def test_a_department_sees_only_cases_dispatched_to_it() -> None:
    sql = _sql(*case_scope(Scope(area_code="110101", department_code="d01")))
    assert "cases.village_code LIKE '110101' || '%' ESCAPE '/'" in sql
    assert "cases.department_code = 'd01'" in sql
    assert "cases.dispatched_at IS NOT NULL" in sql


def test_a_village_screen_picks_its_own_town() -> None:
    sql = _sql(*towns_of_area(Village.code, "110101001002"))
    assert "villages.code LIKE '110101001' || '%' ESCAPE '/'" in sql
