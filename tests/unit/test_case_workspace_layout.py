"""The case workspace layout as a pure function: which buttons are enabled for each state and
role (table-driven, against the state machine's own ``allowed_actions``), what each step's form
asks for, and that user text stays text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dash import dcc, html

from dashboard.domain.lifecycle import ActionRequest, CaseState, allowed_actions, apply_action
from dashboard.domain.permissions import READ_ONLY_ROLES, may_change_cases
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.read.views import CaseView, TimelineItem
from layouts import case_ids as ids
from layouts.case_actions import ACTION_ORDER, action_bar, action_form
from layouts.case_format import CasePageContext
from layouts.case_workspace import READ_ONLY, dynamic_parts, not_found, workspace

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
_A, _S = Action, CaseStatus


def _view(status: CaseStatus, source: Source = Source.GRID_WORKER, **changes: Any) -> CaseView:
    state = CaseState(status=status, source=source, **changes.pop("state", {}))
    values: dict[str, Any] = {
        "id": 42,
        "version": 3,
        "status": status,
        "source": source.value,
        "emergency": False,
        "category_code": "01002",
        "description": "两户因排水沟堵塞发生争执",
        "address": "枫桥镇某路1号",
        "lon": 120.45,
        "lat": 29.63,
        "grid_code": "330681109296002",
        "village_code": "330681109296",
        "village_name": "魏廉村",
        "town_code": "330681109",
        "town_name": "枫桥镇",
        "reporter": "gw-0001",
        "reported_at": NOW - timedelta(hours=5),
        "occurred_at": None,
        "department_code": "civil",
        "deadline": NOW + timedelta(hours=30),
        "light": "green",
        "remaining": timedelta(hours=30),
        "allowed": allowed_actions(state),
        "satisfaction": None,
        "report_rating": None,
        "attachments": (),
        "timeline": (),
    }
    values.update(changes)
    return CaseView(**values)


def _ctx(role: Role, lang: str = "zh") -> CasePageContext:
    return CasePageContext(
        lang=lang,  # type: ignore[arg-type]
        tz=TZ,
        now=NOW,
        role=role,
        categories={"01002": "婚姻家庭纠纷"},
        departments={"civil": "民政办", "justice": "司法所"},
    )


def _enabled(view: CaseView, role: Role) -> set[Action]:
    return {Action(b.id["action"]) for b in action_bar(view, _ctx(role)) if not b.disabled}


# (status, role, the buttons that must be enabled - nothing else)
TABLE: list[tuple[CaseStatus, Role, set[Action]]] = [
    (_S.REPORTED, Role.DISPATCHER, {_A.ACCEPT}),
    (_S.REPORTED, Role.COMMANDER, {_A.ACCEPT, _A.VOID, _A.SELF_HANDLE}),
    (_S.REPORTED, Role.GRID_WORKER, {_A.SELF_HANDLE}),
    (_S.REPORTED, Role.DEPARTMENT, set()),
    (_S.ACCEPTED, Role.DISPATCHER, {_A.REQUEST_VERIFY, _A.REGISTER}),
    (_S.REGISTERED, Role.DISPATCHER, {_A.DISPATCH}),
    (_S.REGISTERED, Role.DEPARTMENT, set()),
    (_S.DISPATCHED, Role.DEPARTMENT, {_A.START, _A.RETURN}),
    (_S.DISPATCHED, Role.COMMANDER, {_A.START, _A.RETURN, _A.EXTEND, _A.SUSPEND}),
    (_S.HANDLING, Role.DEPARTMENT, {_A.RETURN, _A.HANDLED}),
    (_S.HANDLING, Role.DISPATCHER, set()),
    (_S.HANDLED, Role.GRID_WORKER, {_A.CHECK_PASS, _A.CHECK_FAIL}),
    (_S.HANDLED, Role.DEPARTMENT, set()),
    (_S.REWORK, Role.DEPARTMENT, {_A.START, _A.HANDLED}),
    (_S.CHECKED, Role.COMMANDER, {_A.CLOSE}),
    (_S.CHECKED, Role.GRID_WORKER, set()),
    (_S.SUSPENDED, Role.COMMANDER, {_A.RESUME}),
    (_S.CLOSED, Role.DEPARTMENT, {_A.EVALUATE}),
    (_S.CLOSED, Role.DISPATCHER, set()),
    (_S.VOIDED, Role.ADMIN, set()),
    (_S.EVALUATED, Role.LEADER, set()),
]


@pytest.mark.parametrize(("status", "role", "expected"), TABLE)
def test_buttons_enabled_only_when_legal_and_allowed(
    status: CaseStatus, role: Role, expected: set[Action]
) -> None:
    assert _enabled(_view(status), role) == expected


CHANGERS = [role for role in Role if may_change_cases(role)]


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("role", CHANGERS)
def test_every_state_and_role_shows_every_button_once(status: CaseStatus, role: Role) -> None:
    buttons = action_bar(_view(status), _ctx(role))
    assert [b.id["action"] for b in buttons] == [a.value for a in ACTION_ORDER]
    assert set(ACTION_ORDER) == set(Action)
    for button in buttons:
        assert button.title, "every button says what it is or why it is off"


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("role", sorted(READ_ONLY_ROLES))
def test_a_read_only_role_sees_no_action_and_no_form(status: CaseStatus, role: Role) -> None:
    """A leader reads the case (details, trail, photos) with no button, form or upload; the
    page says it is read-only."""
    view = _view(status, attachments=("a" * 64,))
    assert action_bar(view, _ctx(role)) == []
    page = workspace(view, _ctx(role))
    found = _ids(page)
    assert READ_ONLY in found and ids.TIMELINE in found and ids.PHOTOS in found
    assert ids.ACTIONS not in found and ids.FORM not in found
    assert not any(isinstance(c, (html.Button, dcc.Upload)) for c in _walk(page))
    text = json.dumps(page.to_plotly_json(), default=str, ensure_ascii=False)
    assert "只读" in text


def _walk(component: Any) -> list[Any]:
    found = [component]
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        for child in children:
            found += _walk(child)
    elif children is not None and hasattr(children, "children"):
        found += _walk(children)
    return found


def _ids(component: Any) -> set[str]:
    return {c.id for c in _walk(component) if isinstance(getattr(c, "id", None), str)}


def test_a_public_report_must_be_verified_before_it_is_registered() -> None:
    accepted = _view(_S.ACCEPTED, Source.PUBLIC)
    assert _enabled(accepted, Role.DISPATCHER) == {_A.REQUEST_VERIFY}
    verified = _view(_S.VERIFIED, Source.PUBLIC)
    assert _A.REGISTER in _enabled(verified, Role.DISPATCHER)


def test_evaluation_is_offered_until_both_sides_rated() -> None:
    once = _view(_S.EVALUATED, state={"evaluation": 5})
    assert _enabled(once, Role.DEPARTMENT) == {_A.EVALUATE}
    both = _view(_S.EVALUATED, state={"evaluation": 5, "report_rating": 4})
    assert _enabled(both, Role.COMMANDER) == set()


def test_disabled_buttons_say_why() -> None:
    buttons = {b.id["action"]: b for b in action_bar(_view(_S.HANDLING), _ctx(Role.DISPATCHER))}
    assert "角色" in buttons["handled"].title  # legal now, but not for a dispatcher
    english = {
        b.id["action"]: b for b in action_bar(_view(_S.HANDLING), _ctx(Role.DEPARTMENT, "en"))
    }
    assert english["start"].disabled and "Handling" in english["start"].title
    assert not english["handled"].disabled


def _walk(node: Any) -> list[Any]:
    if isinstance(node, list | tuple):
        return [n for child in node for n in _walk(child)]
    found = [node]
    children = getattr(node, "children", None)
    if isinstance(children, list | tuple):
        for child in children:
            found += _walk(child)
    elif children is not None:
        found += _walk(children)
    return found


def _field_names(form: html.Div) -> list[str]:
    return [
        n.id["name"]
        for n in _walk(form)
        if isinstance(getattr(n, "id", None), dict) and n.id.get("type") in (ids.FIELD, ids.UPLOAD)
    ]


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        (_A.ACCEPT, ["note"]),
        (_A.VOID, ["reason", "note"]),
        (_A.RETURN, ["reason", "note"]),
        (_A.DISPATCH, ["department", "note"]),
        (_A.REGISTER, ["category", "note"]),
        (_A.EXTEND, ["deadline", "note"]),
        (_A.HANDLED, ["photo", "note"]),
        (_A.CHECK_PASS, ["photo", "note"]),
        (_A.CHECK_FAIL, ["reason", "photo", "note"]),
        (_A.EVALUATE, ["satisfaction", "report_rating", "note"]),
    ],
)
def test_each_form_asks_for_what_its_step_needs(action: Action, fields: list[str]) -> None:
    form = action_form(action, _view(_S.HANDLING), _ctx(Role.ADMIN))
    assert _field_names(form) == fields
    pending = [n for n in _walk(form) if getattr(n, "id", None) == ids.PENDING]
    assert pending[0].data == action.value


def test_dispatch_offers_the_reference_departments_and_preselects_the_current_one() -> None:
    form = action_form(_A.DISPATCH, _view(_S.REGISTERED), _ctx(Role.DISPATCHER))
    (dropdown,) = [n for n in _walk(form) if isinstance(n, dcc.Dropdown)]
    assert [o["value"] for o in dropdown.options] == ["civil", "justice"]
    assert dropdown.value == "civil"


def test_a_rating_already_given_is_not_asked_again() -> None:
    view = _view(_S.EVALUATED, satisfaction=5, state={"evaluation": 5})
    form = action_form(_A.EVALUATE, view, _ctx(Role.DEPARTMENT))
    assert _field_names(form) == ["report_rating", "note"]


def _texts(node: Any) -> list[str]:
    return [n for n in _walk(node) if isinstance(n, str)]


def test_user_text_is_rendered_as_text_never_markup() -> None:
    event = TimelineItem(
        kind="event",
        at=NOW,
        action="check_fail",
        from_status="handled",
        to_status="rework",
        actor=PAYLOAD,
        role="grid_worker",
        note=PAYLOAD,
        reason=PAYLOAD,
        details={"department": PAYLOAD},
        attachments=("a" * 64,),
    )
    order = TimelineItem(kind="order", at=NOW, actor="system", opinion=PAYLOAD, reply=PAYLOAD)
    view = _view(
        _S.REWORK,
        description=PAYLOAD,
        address=PAYLOAD,
        reporter=PAYLOAD,
        village_name=PAYLOAD,
        attachments=("a" * 64, "b" * 64),
        timeline=(event, order),
        cameras=({"id": "c1", "name": PAYLOAD, "lon": 120.45, "lat": 29.63, "distance_m": 80},),
    )
    page = workspace(view, _ctx(Role.COMMANDER))
    nodes = _walk(page)
    assert not [n for n in nodes if isinstance(n, dcc.Markdown)]
    assert not [n for n in nodes if getattr(n, "dangerously_allow_html", False)]
    texts = _texts(page)
    assert PAYLOAD in texts  # the description, exactly as written, as a text child
    assert sum(PAYLOAD in t for t in texts) >= 7  # description, address, reporter, note, ...
    (map_div,) = [n for n in nodes if getattr(n, "id", None) == ids.MAP]
    data = json.loads(getattr(map_div, "data-map"))
    assert data["cameras"][0]["name"] == PAYLOAD  # JSON in an attribute; case.js uses textContent
    photos = [
        n.href for n in nodes if isinstance(n, html.A) and n.className.startswith("case-photo")
    ]
    assert photos == [f"/api/v1/attachments/{c * 64}" for c in "aab"]  # timeline, then the gallery


def test_light_and_time_left_or_overdue() -> None:
    lang_zh = _texts(dynamic_parts(_view(_S.HANDLING), _ctx(Role.ADMIN))[ids.HEAD])
    assert any("正常" in t and "剩余 1天6小时" in t for t in lang_zh)
    late = _view(_S.HANDLING, light="red", remaining=-timedelta(hours=2, minutes=5))
    english = _texts(dynamic_parts(late, _ctx(Role.ADMIN, "en"))[ids.HEAD])
    assert any("Overdue" in t and "overdue by 2 h 5 min" in t for t in english)
    fresh = _view(_S.REPORTED, light=None, remaining=None, deadline=None)
    assert "未立案，暂无期限" in _texts(dynamic_parts(fresh, _ctx(Role.ADMIN))[ids.HEAD])


def test_missing_and_foreign_cases_look_the_same() -> None:
    assert _texts(not_found("42", "zh")) == _texts(not_found("42", "zh"))
    assert "事件不存在" in _texts(not_found("42", "zh"))
    assert not_found("42", "zh").id == ids.NOT_FOUND


def test_the_video_check_links_to_the_video_page_for_the_case() -> None:
    cams = ({"id": "c1", "name": "路口", "lon": 120.45, "lat": 29.63, "distance_m": 123.4},)
    page = workspace(replace(_view(_S.HANDLING), cameras=cams), _ctx(Role.COMMANDER))
    links = [n for n in _walk(page) if isinstance(n, html.A) and n.id == "case-ws-video-check"]
    assert links[0].href == "/video?case=42&lang=zh"
    assert "123 米" in _texts(page)


@pytest.mark.parametrize("overdue", [timedelta(0), timedelta(hours=3), timedelta(days=2)])
def test_the_extension_form_suggests_a_deadline_the_domain_accepts(overdue: timedelta) -> None:
    """Issue 10 §4: "deadline + 1 day" of a case two days overdue suggested a past deadline."""
    deadline = NOW - overdue
    form = action_form(_A.EXTEND, _view(_S.HANDLING, deadline=deadline), _ctx(Role.COMMANDER))
    (field,) = [n for n in _walk(form) if isinstance(n, dcc.Input)]
    suggested = datetime.strptime(field.value, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)
    state = CaseState(
        status=_S.HANDLING, source=Source.GRID_WORKER, deadline=deadline, updated_at=deadline
    )
    step = apply_action(
        state,
        ActionRequest(_A.EXTEND, actor="c-01", role=Role.COMMANDER, deadline=suggested),
        NOW,
    )
    assert step.state.deadline == suggested > NOW
