"""The frame's own rules: where each role lands after sign-in, and the audit log in words."""

from __future__ import annotations

import pytest

from dashboard.domain.roles import Role
from dashboard.security.audit_page import action_label, actor_label, details_text, role_label
from dashboard.security.landing import HOME, landing


@pytest.mark.parametrize(
    ("role", "page"),
    [
        (Role.DEPARTMENT, "/department"),
        (Role.SUPERVISOR, "/supervision"),
        (Role.WALL, "/wall"),
        (Role.LEADER, "/trends"),
        (Role.GRID_WORKER, "/m"),
        (Role.DISPATCHER, "/cases"),
        (Role.COMMANDER, "/"),
    ],
)
def test_a_role_without_a_wanted_page_lands_on_its_own(role: Role, page: str) -> None:
    assert landing("/", role) == page
    assert landing("", role) == page


def test_a_page_asked_for_is_kept_and_every_role_has_a_home() -> None:
    assert landing("/cases/12", Role.DEPARTMENT) == "/cases/12"
    assert set(HOME) == set(Role)


def test_a_role_whose_home_is_the_root_may_open_the_root() -> None:
    """Else the root would send it to itself (dashboard.security.pages._root_to_own_page)."""
    from dashboard.domain.permissions import Permission, can

    for role, home in HOME.items():
        assert home != "/" or can(role, Permission.VIEW_WALL), role


@pytest.mark.parametrize(
    ("code", "lang", "words"),
    [
        ("case.accept", "zh", "受理"),
        ("case.report", "zh", "上报"),
        ("sign_in", "zh", "登录"),
        ("camera_view", "en", "Viewed a camera"),
        ("something_new", "zh", "something_new"),  # unknown: shown as it is, not dropped
    ],
)
def test_audit_actions_in_words(code: str, lang: str, words: str) -> None:
    assert action_label(code, lang) == words  # type: ignore[arg-type]


def test_audit_roles_and_case_steps_in_words() -> None:
    assert role_label("commander", "zh") == "值班长"
    assert details_text({"from": "reported", "to": "accepted"}, "zh") == "已上报 → 已受理"
    assert details_text({"method": "password"}, "zh") == "方式: 密码"
    assert details_text({"role": "department"}, "zh") == "角色: 职能部门"


def test_audit_actors_by_name_and_in_words() -> None:
    users = {"wang": "王值班"}
    assert actor_label("wang", users, "zh") == "王值班"
    assert actor_label("cli:root", users, "zh") == "命令行（root）"
    assert actor_label("token:gw-7", users, "zh") == "令牌 gw-7"
    assert actor_label("(unknown)", users, "zh") == "未知用户"
    assert actor_label("li", users, "zh") == "li"  # no display name known: the user name


def test_refusals_and_search_errors_never_show_the_services_english() -> None:
    from callbacks.case_list import query_error
    from callbacks.frame_pages import unknown_refusal
    from dashboard.domain.errors import DomainError
    from dashboard.read.case_queries import InvalidQuery

    bad_id = InvalidQuery("bad_number", "id must be a whole number", "id")
    assert query_error(bad_id, "zh") == "事件编号：应为整数"
    assert query_error(bad_id, "en") == "Case no.: must be a whole number"
    odd = InvalidQuery("brand_new", "whatever changed", "nonsense")
    assert query_error(odd, "zh") == "查询参数：无法使用"
    new = DomainError("brand_new_rule", "the deadline must be after now")
    assert unknown_refusal(new, "zh").startswith("系统未能完成此操作")
    assert unknown_refusal(new, "en") == "the deadline must be after now"
