"""The case category tree (大类 / 小类) and the departments cases are dispatched to.

Both are data (``dashboard/data/categories.toml``, ``departments.toml``), validated once at
start-up: a bad file fails loudly with the entry and the reason instead of surfacing as a
wrong deadline weeks later. Loaders take text, not paths, to keep the core free of I/O.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dashboard.domain.deadlines import TimeLimit
from dashboard.domain.errors import DeadlineError, InvalidData, UnknownCategory

_MAJOR_RE = re.compile(r"^\d{2}$")
_SUB_RE = re.compile(r"^\d{5}$")
_DEPARTMENT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DIFFICULTIES = range(1, 5)  # Shaoxing's four difficulty levels, 1 (simple) to 4 (hard)


class DepartmentKind(StrEnum):
    TOWN_OFFICE = "town_office"  # 乡镇（街道）内设办公室
    STATIONED = "stationed"  # 县级部门派驻机构（派出所、市场监管所…）
    COUNTY = "county"  # 县级部门（生态环境分局、交通运输局…）
    VILLAGE = "village"  # 村（社区）自治组织


_KINDS = tuple(kind.value for kind in DepartmentKind)


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str
    kind: DepartmentKind


@dataclass(frozen=True)
class SubCategory:
    code: str  # 5 digits: 2-digit 大类 code + 3-digit 小类 number, e.g. "01001"
    major_code: str
    name_zh: str
    name_en: str
    limit: TimeLimit
    closure_zh: str  # 结案条件
    closure_en: str
    default_department: str  # a Department.code
    difficulty: int  # 1-4


@dataclass(frozen=True)
class MajorCategory:
    code: str  # 2 digits
    name_zh: str
    name_en: str
    subs: tuple[SubCategory, ...]


@dataclass(frozen=True)
class CategoryTree:
    majors: tuple[MajorCategory, ...]
    _by_code: dict[str, SubCategory] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code = {sub.code: sub for major in self.majors for sub in major.subs}
        object.__setattr__(self, "_by_code", by_code)

    @property
    def subs(self) -> tuple[SubCategory, ...]:
        """Every 小类, in file order."""
        return tuple(self._by_code.values())

    def get(self, code: str) -> SubCategory:
        """The 小类 with this 5-digit code; ``UnknownCategory`` names the code otherwise."""
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownCategory(
                "unknown_category", f"no sub-category with code {code!r}"
            ) from None

    def major(self, code: str) -> MajorCategory:
        for major in self.majors:
            if major.code == code:
                return major
        raise UnknownCategory("unknown_category", f"no major category with code {code!r}")

    def __contains__(self, code: object) -> bool:
        """True for a known 5-digit 小类 code (the code a case carries)."""
        return isinstance(code, str) and code in self._by_code


# --- loading ------------------------------------------------------------------------------


def _parse_toml(text: str, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InvalidData(f"{what}_toml", f"{what} file is not valid TOML: {err}") from err


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidData("missing_field", f"{where}: {key!r} must be a non-empty string")
    return value.strip()


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    tables = data.get(key)
    if not (isinstance(tables, list) and tables and all(isinstance(t, dict) for t in tables)):
        raise InvalidData("missing_field", f"{where}: expected one or more [[{key}]] tables")
    return tables


def load_departments(text: str) -> tuple[Department, ...]:
    """Departments from ``departments.toml``; codes are unique lowercase identifiers."""
    result: list[Department] = []
    seen: set[str] = set()
    for i, table in enumerate(_tables(_parse_toml(text, "departments"), "department", "file")):
        code = _text(table, "code", f"department #{i + 1}")
        where = f"department {code!r}"
        if not _DEPARTMENT_RE.match(code):
            raise InvalidData("bad_code", f"{where}: code must be lowercase letters, digits, _")
        _claim(code, seen, where)
        kind = _text(table, "kind", where)
        if kind not in _KINDS:
            allowed = ", ".join(_KINDS)
            raise InvalidData("bad_kind", f"{where}: kind {kind!r} is not one of {allowed}")
        names = _text(table, "name_zh", where), _text(table, "name_en", where)
        result.append(Department(code, *names, DepartmentKind(kind)))
    return tuple(result)


def load_categories(text: str, department_codes: Collection[str]) -> CategoryTree:
    """The tree from ``categories.toml``; every default department must be in the codes given."""
    seen: set[str] = set()
    majors: list[MajorCategory] = []
    for i, table in enumerate(_tables(_parse_toml(text, "categories"), "major", "file")):
        code = _text(table, "code", f"major category #{i + 1}")
        where = f"major category {code!r}"
        if not _MAJOR_RE.match(code):
            raise InvalidData("bad_code", f"{where}: code must be two digits")
        _claim(code, seen, where)
        subs = tuple(
            _sub(sub, code, department_codes, seen) for sub in _tables(table, "sub", where)
        )
        majors.append(
            MajorCategory(
                code, _text(table, "name_zh", where), _text(table, "name_en", where), subs
            )
        )
    return CategoryTree(tuple(majors))


def _claim(code: str, seen: set[str], where: str) -> None:
    if code in seen:
        raise InvalidData("duplicate_code", f"{where}: code is used twice")
    seen.add(code)


def _sub(
    table: dict[str, Any], major: str, department_codes: Collection[str], seen: set[str]
) -> SubCategory:
    code = _text(table, "code", f"a sub-category of major {major!r}")
    where = f"sub-category {code!r}"
    if not (_SUB_RE.match(code) and code.startswith(major)):
        raise InvalidData("bad_code", f"{where}: code must be {major!r} followed by 3 digits")
    _claim(code, seen, where)
    where = f"sub-category {code!r} ({table.get('name_zh', '?')})"
    try:
        limit = TimeLimit.parse(_text(table, "limit", where))
    except DeadlineError as err:
        raise InvalidData("bad_limit", f"{where}: {err.message}") from err
    department = _text(table, "default_department", where)
    if department not in department_codes:
        raise InvalidData("unknown_department", f"{where}: unknown department {department!r}")
    difficulty = table.get("difficulty")
    if type(difficulty) is not int or difficulty not in DIFFICULTIES:
        raise InvalidData("bad_difficulty", f"{where}: difficulty {difficulty!r} must be 1-4")
    return SubCategory(
        code=code,
        major_code=major,
        name_zh=_text(table, "name_zh", where),
        name_en=_text(table, "name_en", where),
        limit=limit,
        closure_zh=_text(table, "closure_zh", where),
        closure_en=_text(table, "closure_en", where),
        default_department=department,
        difficulty=difficulty,
    )
