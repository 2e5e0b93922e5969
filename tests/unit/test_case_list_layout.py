"""The case list and department view as pure functions of data, the search parameters, and
the CSV cells - no database, no browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from dash import dcc, html

from dashboard.http.api_case_list import CSV_COLUMNS, csv_cells, csv_header, safe_cell
from dashboard.read.case_params import case_params, parse_case_params
from dashboard.read.case_queries import CaseFilters, InvalidQuery
from layouts import case_list_ids as ids
from layouts import department_ids as dids
from layouts.case_list import CaseListView, case_list_page, export_href, pages
from layouts.department import DepartmentPage, department_page

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _row(case_id: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": case_id,
        "status": "handling",
        "source": "grid_worker",
        "emergency": False,
        "category": "05003",
        "description": "<script>alert(1)</script>",
        "address": "",
        "village": "330681105001",
        "village_name": "枫源村",
        "town": "330681105",
        "town_name": "枫桥镇",
        "department": "urban",
        "department_name": "综合行政执法队",
        "reporter": "",
        "reported_at": AT,
        "deadline": AT,
        "light": "red",
        "overdue_minutes": 150,
        "open": True,
        "version": 3,
    }
    return row | changes


def _walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)


def _by_id(root: Any, ident: Any) -> Any:
    return next(n for n in _walk(root) if getattr(n, "id", None) == ident)


def _texts(root: Any) -> list[str]:
    found = []
    for node in _walk(root):
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if isinstance(child, str):
                found.append(child)
    return found


def _view(**changes: Any) -> CaseListView:
    values: dict[str, Any] = {
        "lang": "zh",
        "tz": TZ,
        "params": {"status": "open", "sort": "deadline"},
        "rows": [_row(7), _row(8, light="green", overdue_minutes=None, emergency=True)],
        "total": 120,
        "page": 2,
        "per_page": 50,
        "sort": "deadline",
    }
    return CaseListView(**(values | changes))


def _query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_rows_link_to_the_case_and_show_text_as_text() -> None:
    page = case_list_page(_view())
    links = [n for n in _walk(page) if isinstance(n, dcc.Link) and n.href.startswith("/cases/")]
    assert [link.href for link in links] == ["/cases/7?lang=zh", "/cases/8?lang=zh"]
    assert "<script>alert(1)</script>" in _texts(page)  # a plain string: Dash shows it as text
    assert "超期 2小时30分" in _texts(page) and "—" not in _texts(page)
    assert "紧急" in _texts(page)


def test_paging_links_and_total_carry_the_filters() -> None:
    page = case_list_page(_view())
    assert _by_id(page, ids.TOTAL).children == "共 120 件"
    prev, nxt = _by_id(page, ids.PREV), _by_id(page, ids.NEXT)
    assert _query(prev.href) == {"status": ["open"], "sort": ["deadline"], "lang": ["zh"]}
    assert _query(nxt.href)["page"] == ["3"] and _query(nxt.href)["status"] == ["open"]
    assert pages(120, 50) == 3 and pages(0, 50) == 1
    last = case_list_page(_view(page=3))
    assert isinstance(_by_id(last, ids.NEXT), html.Span)  # no next page: not a link


def test_sort_headers_toggle_the_direction_and_reset_the_page() -> None:
    page = case_list_page(_view())
    deadline = _by_id(page, f"{ids.SORT_PREFIX}deadline")
    assert _query(deadline.href)["sort"] == ["-deadline"] and "page" not in _query(deadline.href)
    assert deadline.children.endswith("▲")
    light = _by_id(page, f"{ids.SORT_PREFIX}light")
    assert _query(light.href)["sort"] == ["light"]


def test_export_link_has_the_filters_but_not_the_page() -> None:
    view = _view(params={"status": "open", "page": "2", "per_page": "20", "light": "red"})
    query = _query(export_href(view))
    assert urlsplit(export_href(view)).path == "/api/v1/cases.csv"
    assert query == {"status": ["open"], "light": ["red"], "lang": ["zh"]}
    assert _by_id(case_list_page(view), ids.EXPORT).children == "导出CSV"
    assert _by_id(case_list_page(_view(lang="en")), ids.EXPORT).children == "Export CSV"


def test_an_invalid_search_shows_the_reason_and_no_rows() -> None:
    page = case_list_page(_view(rows=[], total=0, error="page: page must be 1-1000000"))
    assert "查询条件有误" in _by_id(page, ids.MESSAGE).children
    assert "没有符合条件的事件" in _texts(page)


def test_params_round_trip_and_refuse_bad_values() -> None:
    raw = {
        "text": " 井盖 ",
        "status": "open",
        "overdue": "true",
        "from": "2026-11-01",
        "to": "2026-11-02",
        "sort": "-deadline",
        "page": "2",
        "per_page": "100",
    }
    query = parse_case_params(raw, TZ)
    assert query.filters.text == "井盖" and query.filters.overdue is True
    assert query.filters.reported_from == datetime(2026, 11, 1, tzinfo=TZ)
    assert query.filters.reported_to == datetime(2026, 11, 3, tzinfo=TZ)  # the whole 2nd
    assert case_params(query) == {k: v.strip() for k, v in raw.items()}
    assert case_params(parse_case_params({}, TZ)) == {}
    assert parse_case_params({"emergency": "false"}, TZ).filters == CaseFilters(emergency=False)
    for bad in ({"page": "0"}, {"per_page": "501"}, {"sort": "x"}, {"nope": "1"}, {"id": "-1"}):
        with pytest.raises(InvalidQuery) as err:
            parse_case_params(bad, TZ)
        assert err.value.field in bad or err.value.field == next(iter(bad))


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_are_quoted(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    assert safe_cell("井盖缺失") == "井盖缺失" and safe_cell(-5) == -5


def test_csv_cells_follow_the_header_in_words() -> None:
    cells = csv_cells(_row(9, address="=HYPERLINK(1)"), "zh", TZ, {"05003": "暴露垃圾"})
    assert len(cells) == len(csv_header("zh")) == len(CSV_COLUMNS)
    by = dict(zip(CSV_COLUMNS, cells, strict=True))
    assert by["status"] == "处置中" and by["light"] == "超期" and by["emergency"] == "否"
    assert by["address"] == "'=HYPERLINK(1)" and by["category_name"] == "暴露垃圾"
    assert by["reported_at"] == "2026-11-23 09:00:00+08:00" and by["overdue_minutes"] == 150


def _department(**changes: Any) -> DepartmentPage:
    values: dict[str, Any] = {
        "lang": "zh",
        "tz": TZ,
        "department": "urban",
        "department_name": "综合行政执法队",
        "rows": [
            _row(1, status="dispatched"),
            _row(2),
            _row(3, status="rework"),
            _row(4, status="handled"),
        ],
        "total": 4,
        "overdue": 4,
        "can_start": True,
        "can_report": True,
        "can_reply": True,
        "orders": [
            {
                "id": 5,
                "case_id": 2,
                "issued_at": AT,
                "opinion": "请尽快处置",
                "status": "open",
                "reply": None,
            }
        ],
    }
    return DepartmentPage(**(values | changes))


def _buttons(root: Any) -> set[tuple[str, int]]:
    return {
        (n.id["type"], n.id["case"])
        for n in _walk(root)
        if isinstance(n, html.Button) and isinstance(n.id, dict) and "case" in n.id
    }


def test_department_buttons_follow_the_state_machine_and_the_role() -> None:
    page = department_page(_department())
    assert _buttons(page) == {
        (dids.ACCEPT, 1),
        (dids.REPORT, 2),
        (dids.ACCEPT, 3),
        (dids.REPORT, 3),
    }
    assert _buttons(department_page(_department(can_start=False, can_report=False))) == set()
    reply = [
        n for n in _walk(page) if getattr(n, "id", None) == {"type": dids.REPLY_SEND, "order": 5}
    ]
    assert reply and "请尽快处置" in _texts(page)


def test_department_without_a_department_says_so() -> None:
    page = department_page(_department(department=None, rows=[], orders=[]))
    assert any("未关联职能部门" in text for text in _texts(page))
    assert _buttons(page) == set()


def test_the_search_form_becomes_url_parameters() -> None:
    from callbacks.case_list import form_params

    values = {
        "id": None,
        "text": " 井盖 ",
        "place": "",
        "category": "05",
        "status": None,
        "town": None,
        "department": "urban",
        "light": "red",
        "overdue": ["true"],
        "from": "2026-11-01",
        "to": "",
    }
    assert form_params(values, 50) == {
        "text": "井盖",
        "category": "05",
        "department": "urban",
        "light": "red",
        "overdue": "true",
        "from": "2026-11-01",
    }
    assert form_params(values | {"overdue": []}, 200)["per_page"] == "200"
    assert "overdue" not in form_params(values | {"overdue": []}, 50)
