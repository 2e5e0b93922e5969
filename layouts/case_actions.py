"""The case workspace's action bar and the small form each step asks for. Pure functions of data.

Which actions are *legal* comes from the state machine (``CaseView.allowed`` is
``lifecycle.allowed_actions`` of the case as stored); which ones this *role* may take from
``permissions.can_act``. A button is enabled only when both say yes; otherwise it is disabled
and its tooltip says why. ``FIELDS`` only says what each step's form asks for - the domain still
checks that it got it (a reason, a photo, a later deadline...).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dash import dcc, html
from dash.development.base_component import Component

from dashboard.domain.deadlines import suggested_extension
from dashboard.domain.permissions import can_act, may_change_cases
from dashboard.domain.status import Action
from dashboard.i18n import t
from dashboard.read.views import CaseView
from layouts import case_ids as ids
from layouts.case_format import CasePageContext, action_word, local, role_word, status_word
from layouts.controls import data_attrs, dropdown_labels

_A = Action
# The order of the bar: the lifecycle from report to evaluation, side branches next to their step.
ACTION_ORDER: tuple[Action, ...] = (
    _A.ACCEPT,
    _A.REQUEST_VERIFY,
    _A.VERIFY,
    _A.VOID,
    _A.SELF_HANDLE,
    _A.REGISTER,
    _A.DISPATCH,
    _A.START,
    _A.RETURN,
    _A.EXTEND,
    _A.SUSPEND,
    _A.RESUME,
    _A.HANDLED,
    _A.CHECK_FAIL,
    _A.CHECK_PASS,
    _A.CLOSE,
    _A.EVALUATE,
)
# What each step's form asks for besides the optional note.
FIELDS: Mapping[Action, tuple[str, ...]] = MappingProxyType(
    {
        _A.VOID: ("reason",),
        _A.RETURN: ("reason",),
        _A.SUSPEND: ("reason",),
        _A.CHECK_FAIL: ("reason", "photo"),
        _A.CHECK_PASS: ("photo",),
        _A.HANDLED: ("photo",),
        _A.SELF_HANDLE: ("photo",),
        _A.REGISTER: ("category",),
        _A.DISPATCH: ("department",),
        _A.EXTEND: ("deadline",),
        _A.EVALUATE: ("satisfaction", "report_rating"),
    }
)
DANGER = frozenset({_A.VOID, _A.RETURN, _A.CHECK_FAIL, _A.SUSPEND})
MAX_NOTE = 500
MAX_REASON = 500


def button_state(action: Action, view: CaseView, ctx: CasePageContext) -> tuple[bool, str]:
    """(enabled, tooltip): enabled only when legal now and the role may take it."""
    lang = ctx.lang
    if not can_act(ctx.role, action):
        return False, t("case_ws.why_role", lang).format(r=role_word(ctx.role.value, lang))
    if action not in view.allowed:
        return False, t("case_ws.why_state", lang).format(s=status_word(view.status, lang))
    return True, action_word(action.value, lang)


def action_bar(view: CaseView, ctx: CasePageContext) -> list[html.Button]:
    """Every step's button (enabled or not, with the reason); none for a read-only role."""
    if not may_change_cases(ctx.role):
        return []
    buttons = []
    for action in ACTION_ORDER:
        enabled, tip = button_state(action, view, ctx)
        tone = " danger" if action in DANGER else ""
        buttons.append(
            html.Button(
                action_word(action.value, ctx.lang),
                id={"type": ids.ACTION_BUTTON, "action": action.value},
                disabled=not enabled,
                title=tip,
                className=f"case-ws-btn{tone}" + ("" if enabled else " off"),
                n_clicks=0,
            )
        )
    return buttons


def photo_required(action: Action, ctx: CasePageContext) -> bool:
    if action in (_A.HANDLED, _A.SELF_HANDLE):
        return ctx.policy.require_handled_photo
    return action in (_A.CHECK_PASS, _A.CHECK_FAIL) and ctx.policy.require_check_photo


def action_form(action: Action, view: CaseView, ctx: CasePageContext) -> html.Div:
    """The form of one step: what it needs, an optional note, confirm and cancel."""
    lang = ctx.lang
    fields = [_field(name, action, view, ctx) for name in FIELDS.get(action, ())]
    fields = [f for f in fields if f is not None]
    note = _labelled(
        t("case_ws.note", lang),
        dcc.Textarea(
            id={"type": ids.FIELD, "name": "note"}, maxLength=MAX_NOTE, className="case-ws-input"
        ),
    )
    buttons = html.Div(
        [
            html.Button(t("case_ws.confirm", lang), id=ids.SUBMIT, className="case-ws-btn primary"),
            html.Button(t("case_ws.cancel", lang), id=ids.CANCEL, className="case-ws-btn"),
        ],
        className="case-ws-form-buttons",
    )
    return html.Div(
        [
            dcc.Store(id=ids.PENDING, data=action.value),
            html.H3(action_word(action.value, lang)),
            *fields,
            note,
            buttons,
        ],
        className="case-ws-form",
        **data_attrs(action=action.value),
    )


def _labelled(label: str, control: Component) -> html.Div:
    # Not an html.Label: a label forwards clicks to its control, which reopens dropdowns.
    return html.Div(
        [html.Span(label, className="case-ws-label"), control], className="case-ws-field"
    )


def _field(name: str, action: Action, view: CaseView, ctx: CasePageContext) -> Component | None:
    lang = ctx.lang
    fid = {"type": ids.FIELD, "name": name}
    if name == "reason":
        reason = dcc.Textarea(id=fid, maxLength=MAX_REASON, className="case-ws-input")
        return _labelled(t("case_ws.reason", lang), reason)
    if name == "department":
        options = [{"label": n, "value": c} for c, n in ctx.departments.items()]
        value = view.department_code if view.department_code in ctx.departments else None
        department = dcc.Dropdown(
            options,
            value,
            id=fid,
            clearable=False,
            className="case-ws-select",
            labels=dropdown_labels(lang),
        )
        return _labelled(t("case_ws.department", lang), department)
    if name == "category":
        options = [{"label": f"{c} {n}", "value": c} for c, n in ctx.categories.items()]
        category = dcc.Dropdown(
            options,
            view.category_code,
            id=fid,
            clearable=False,
            className="case-ws-select",
            labels=dropdown_labels(lang),
        )
        return _labelled(t("case_ws.category", lang), category)
    if name == "deadline":
        suggested = suggested_extension(view.deadline, ctx.now)  # valid: after now and it
        deadline = dcc.Input(
            id=fid, type="text", value=local(suggested, ctx.tz), className="case-ws-input"
        )
        return _labelled(t("case_ws.new_deadline", lang), deadline)
    if name in ("satisfaction", "report_rating"):
        given = view.satisfaction if name == "satisfaction" else view.report_rating
        if given is not None:
            return None
        ratings: list[dict[str, Any]] = [{"label": str(n), "value": n} for n in range(1, 6)]
        rating = dcc.RadioItems(ratings, None, id=fid, inline=True, className="case-ws-rating")
        return _labelled(t(f"case_ws.{name}", lang), rating)
    return _photo(action, ctx)


def _photo(action: Action, ctx: CasePageContext) -> html.Div:
    lang = ctx.lang
    label = "case_ws.photo_required" if photo_required(action, ctx) else "case_ws.photo"
    return html.Div(
        [
            html.Span(t(label, lang), className="case-ws-label"),
            dcc.Upload(
                html.Div(t("case_ws.photo_drop", lang)),
                id={"type": ids.UPLOAD, "name": "photo"},
                accept="image/jpeg,image/png,image/webp",
                multiple=False,
                max_size=10 * 1024 * 1024,
                className="case-ws-upload",
            ),
            html.Div(id={"type": ids.UPLOAD_NAME, "name": "photo"}, className="case-ws-chosen"),
        ]
    )
