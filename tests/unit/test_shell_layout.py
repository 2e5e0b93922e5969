"""The desk pages' frame: each role sees the pages it may open, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.security.principal import Principal
from layouts.shell import NAV, nav_items, page_shell


def _principal(role: Role, name: str = "li") -> Principal:
    return Principal(name=name, role=role, kind="user", id=1, scope=Scope())


def _links(component: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        href = getattr(node, "href", None)
        if href is not None:
            found.append((str(node.children), href))
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if hasattr(child, "children"):
                walk(child)

    walk(component)
    return found


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # "residents" (issue 18), "trends" (issue 13): the pages of the roles that use them
        (
            Role.ADMIN,
            {
                *("wall", "video", "tracks", "supervision", "trends", "cases", "department"),
                *("residents", "status", "audit"),
            },
        ),
        (
            Role.COMMANDER,
            {
                *("wall", "video", "tracks", "supervision", "trends", "cases", "department"),
                *("residents", "status"),
            },
        ),
        (
            Role.SUPERVISOR,
            {"wall", "video", "tracks", "supervision", "trends", "cases", "residents", "status"},
        ),
        (Role.DISPATCHER, {"wall", "video", "tracks", "cases", "residents", "status"}),
        (Role.DEPARTMENT, {"cases", "department", "residents"}),
        # a leader reads the cases behind the trends' figures (read-only)
        (Role.LEADER, {"wall", "video", "tracks", "trends", "cases", "residents", "status"}),
        (Role.WALL, {"wall", "video", "tracks", "status"}),
        (Role.GRID_WORKER, {"cases", "residents", "field"}),
    ],
)
def test_each_role_sees_only_the_pages_it_may_open(role: Role, expected: set[str]) -> None:
    assert {item.key for item in nav_items(_principal(role))} == expected


def test_menu_order_is_the_declared_order() -> None:
    keys = [item.key for item in nav_items(_principal(Role.ADMIN))]
    assert keys == [item.key for item in NAV if item.roles is None or Role.ADMIN in item.roles]


def test_language_switch_keeps_the_query_and_links_keep_the_language() -> None:
    shell = page_shell("cases", "zh", _principal(Role.COMMANDER), [], query="status=open")
    links = dict((href, text) for text, href in _links(shell))
    assert "/cases?status=open&lang=en" in links
    assert links["/cases?status=open&lang=en"] == "English"
    assert "/supervision?lang=zh" in links
    assert "/logout" in links


def test_the_signed_in_name_is_text_not_markup() -> None:
    shell = page_shell("wall", "en", _principal(Role.LEADER, name="<b>x</b>"), [])
    assert "<b>x</b> · Leader" in repr(shell)  # a plain string child: Dash renders it as text


def test_a_page_below_a_menu_entry_switches_language_in_place() -> None:
    shell = page_shell("cases", "zh", _principal(Role.COMMANDER), [], path="/cases/12")
    assert "/cases/12?lang=en" in {href for _text, href in _links(shell)}
