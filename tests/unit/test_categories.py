"""The category tree and departments: the shipped data files and every validation rule."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pytest

from dashboard.domain.categories import (
    CategoryTree,
    Department,
    DepartmentKind,
    load_categories,
    load_departments,
)
from dashboard.domain.deadlines import TimeLimit, TimeUnit
from dashboard.domain.errors import DomainError, InvalidData, UnknownCategory


def _data(name: str) -> str:
    return resources.files("dashboard").joinpath(f"data/{name}").read_text("utf-8")


@cache
def departments() -> tuple[Department, ...]:
    return load_departments(_data("departments.toml"))


@cache
def tree() -> CategoryTree:
    return load_categories(_data("categories.toml"), {d.code for d in departments()})


# --- the shipped data ---------------------------------------------------------------------


def test_shipped_departments() -> None:
    codes = [d.code for d in departments()]
    assert codes == [
        "police",
        "market",
        "urban",
        "environment",
        "housing",
        "civil",
        "safety",
        "fire",
        "justice",
        "water",
        "transport",
        "health",
        "agriculture",
        "village",
    ]
    assert all(
        d.name_zh and d.name_en and isinstance(d.kind, DepartmentKind) for d in departments()
    )


def test_shipped_tree_has_10_majors_and_42_subs() -> None:
    assert len(tree().majors) == 10
    assert len(tree().subs) == 42
    assert [m.code for m in tree().majors] == [f"{i:02d}" for i in range(1, 11)]
    assert tree().major("01").name_zh == "矛盾纠纷"


def test_shipped_subs_are_consistent() -> None:
    used_departments = set()
    for sub in tree().subs:
        assert sub.code.startswith(sub.major_code) and len(sub.code) == 5
        assert sub in tree().major(sub.major_code).subs
        assert 1 <= sub.difficulty <= 4
        assert sub.name_zh and sub.name_en and sub.closure_zh and sub.closure_en
        used_departments.add(sub.default_department)
    # Every department receives at least one category by default, and all levels occur.
    assert used_departments == {d.code for d in departments()}
    assert {s.difficulty for s in tree().subs} == {1, 2, 3, 4}


@pytest.mark.parametrize(
    ("code", "name_zh", "limit", "department"),
    [
        ("10001", "暴露垃圾", TimeLimit(4, TimeUnit.WORKING_HOURS), "village"),
        ("06001", "违法建设", TimeLimit(15, TimeUnit.WORKING_DAYS), "urban"),
        ("04003", "电动自行车违规停放充电", TimeLimit(4, TimeUnit.WORKING_HOURS), "fire"),
        ("01001", "邻里纠纷", TimeLimit(5, TimeUnit.WORKING_DAYS), "village"),
    ],
)
def test_get(code: str, name_zh: str, limit: TimeLimit, department: str) -> None:
    sub = tree().get(code)
    assert (sub.code, sub.name_zh, sub.limit, sub.default_department) == (
        code,
        name_zh,
        limit,
        department,
    )
    assert code in tree()


@pytest.mark.parametrize("code", ["99999", "01", "1001", "", "10001 "])
def test_unknown_category_names_the_code(code: str) -> None:
    assert code not in tree()
    with pytest.raises(UnknownCategory) as info:
        tree().get(code)
    assert info.value.code == "unknown_category"
    assert repr(code) in info.value.message


def test_contains_tolerates_any_object() -> None:
    assert None not in tree()
    assert ["10001"] not in tree()
    with pytest.raises(UnknownCategory):
        tree().major("11")


# --- validation ---------------------------------------------------------------------------

GOOD_SUB = {
    "code": '"01001"',
    "name_zh": '"邻里纠纷"',
    "name_en": '"Neighbour dispute"',
    "limit": '"5d"',
    "closure_zh": '"已调解"',
    "closure_en": '"Mediated"',
    "default_department": '"village"',
    "difficulty": "2",
}
DEPARTMENTS = {"village", "police"}


def categories_toml(major: str = "01", **changes: str | None) -> str:
    """One major with one sub; a change of ``None`` drops the field."""
    fields = {**GOOD_SUB, **changes}
    sub = "\n".join(f"{k} = {v}" for k, v in fields.items() if v is not None)
    head = f'[[major]]\ncode = "{major}"\nname_zh = "矛盾纠纷"\nname_en = "Disputes"\n'
    return f"{head}\n[[major.sub]]\n{sub}\n"


def test_minimal_tree_loads() -> None:
    loaded = load_categories(categories_toml(), DEPARTMENTS)
    assert loaded.get("01001").limit == TimeLimit(5, TimeUnit.WORKING_DAYS)


@pytest.mark.parametrize(
    ("text", "code", "mentions"),
    [
        ("[[major]\ncode = ", "categories_toml", "not valid TOML"),
        ("", "missing_field", "[[major]]"),
        (categories_toml(default_department='"planning"'), "unknown_department", "'planning'"),
        (categories_toml(limit='"4x"'), "bad_limit", "'01001' (邻里纠纷)"),
        (categories_toml(limit='"0h"'), "bad_limit", "01001"),
        (categories_toml(limit="4"), "missing_field", "'limit'"),
        (categories_toml(code='"1001"'), "bad_code", "'1001'"),
        (categories_toml(code='"02001"'), "bad_code", "'01' followed by 3 digits"),
        (categories_toml(major="1"), "bad_code", "major category '1'"),
        (categories_toml(difficulty="5"), "bad_difficulty", "01001"),
        (categories_toml(difficulty='"2"'), "bad_difficulty", "01001"),
        (categories_toml(closure_zh=None), "missing_field", "'closure_zh'"),
        (categories_toml(name_en='"  "'), "missing_field", "01001"),
        (categories_toml() + "\n" + categories_toml(), "duplicate_code", "'01'"),
        (
            categories_toml()
            + "\n[[major.sub]]\n"
            + "\n".join(f"{k} = {v}" for k, v in GOOD_SUB.items()),
            "duplicate_code",
            "'01001'",
        ),
        ('[[major]]\ncode = "01"\nname_zh = "x"\nname_en = "x"\n', "missing_field", "[[sub]]"),
    ],
)
def test_bad_category_files_name_the_entry(text: str, code: str, mentions: str) -> None:
    with pytest.raises(InvalidData) as info:
        load_categories(text, DEPARTMENTS)
    assert isinstance(info.value, DomainError)
    assert info.value.code == code
    assert mentions in info.value.message


def department_toml(code: str = "police", kind: str = "stationed", name_en: str = "Police") -> str:
    fields = f'code = "{code}"\nname_zh = "派出所"\nname_en = "{name_en}"\nkind = "{kind}"'
    return f"[[department]]\n{fields}\n"


@pytest.mark.parametrize(
    ("text", "code", "mentions"),
    [
        ("[[department]\n", "departments_toml", "not valid TOML"),
        ("", "missing_field", "[[department]]"),
        (department_toml() + department_toml(), "duplicate_code", "'police'"),
        (department_toml(code="Police"), "bad_code", "'Police'"),
        (department_toml(code="派出所"), "bad_code", "派出所"),
        (department_toml(kind="bureau"), "bad_kind", "'bureau'"),
        (department_toml(name_en=""), "missing_field", "'name_en'"),
    ],
)
def test_bad_department_files_name_the_entry(text: str, code: str, mentions: str) -> None:
    with pytest.raises(InvalidData) as info:
        load_departments(text)
    assert info.value.code == code
    assert mentions in info.value.message
