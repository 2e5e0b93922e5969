"""The case workspace (``/cases/<case_id>``): thin glue between the page, its buttons and
dashboard.services.case_workspace.

Four callbacks (module-level functions, registered per app by ``on.register``), each behind
``guard_callback(CHANGE_CASES)`` - a read-only role (a leader) reads the page but none of its
callbacks answers it - and the service checks again that the principal may change this case
(``scoping.may_change_case``), the role for the step and the case's scope: a button opens the
form of its step; cancel closes it; confirm parses the form, calls ``CaseWorkspace.act`` and
re-renders the parts of the page a step changes (head, details, actions, photos, timeline) from
a fresh read - no page reload; a chosen photo shows its file name. A refused step changes
nothing and says why in the page's language.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import dash
from dash import ALL, MATCH, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.frame_pages import page_title, unknown_refusal
from callbacks.page_callbacks import PageCallbacks
from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import Permission
from dashboard.domain.status import Action
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.read.views import CaseView
from dashboard.security.pages import page_guard
from dashboard.security.principal import Principal
from dashboard.security.web import require_principal
from dashboard.services.case_workspace import ActionForm, ActionRefused, CaseWorkspace
from dashboard.services.cases import ConcurrentChange
from dashboard.services.photos import InvalidPhoto
from layouts import case_ids as ids
from layouts.case_actions import action_form
from layouts.case_format import TIME_FORMAT, CasePageContext, action_word
from layouts.case_workspace import dynamic_parts, not_found, store_data, workspace
from layouts.shell import page_shell

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

PATH_TEMPLATE = "/cases/<case_id>"
_PARTS = (ids.HEAD, ids.DETAILS, ids.ACTIONS, ids.PHOTOS, ids.TIMELINE)


class _Page:
    """What the layout and the callbacks share: the services and the names per language."""

    def __init__(self, services: Services) -> None:
        self.services = services
        subs = services.reference.categories.subs
        depts = services.reference.departments
        self.categories = {
            "zh": {s.code: s.name_zh for s in subs},
            "en": {s.code: s.name_en for s in subs},
        }
        self.departments = {
            "zh": {d.code: d.name_zh for d in depts},
            "en": {d.code: d.name_en for d in depts},
        }

    def workspace(self) -> CaseWorkspace:
        return CaseWorkspace(self.services, self.services.photos)

    def context(self, principal: Principal, lang: Lang) -> CasePageContext:
        services = self.services
        return CasePageContext(
            lang=lang,
            tz=services.reference.calendar.tz,
            now=services.clock.now(),
            role=principal.role,
            categories=self.categories[lang],
            departments=self.departments[lang],
            policy=services.cases.policy,
            tile_url=services.config.ui.tile_url,
            can_view_cameras=principal.can(Permission.VIEW_CAMERAS),
            can_view_tracks=principal.can(Permission.VIEW_POSITIONS),
        )

    def view(self, principal: Principal, case_id: Any) -> CaseView | None:
        try:
            number = int(str(case_id))
        except ValueError:
            return None
        if not 0 < number < 2**31:
            return None
        return self.workspace().view(principal, number)


def register_case_workspace_page(services: Services) -> None:
    page = _Page(services)

    @page_guard(Permission.VIEW_CASES)
    def layout(
        principal: Principal, case_id: str = "", lang: str | None = None, **_query: str
    ) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        view = page.view(principal, case_id)
        if view is None:
            content: Any = not_found(str(case_id)[:20], language)
        else:
            content = workspace(view, page.context(principal, language))
        path = f"/cases/{quote(str(case_id)[:20], safe='')}"
        return page_shell("cases", language, principal, content, path=path)

    dash.register_page(
        "case",
        path_template=PATH_TEMPLATE,
        layout=layout,
        title=page_title("title.case", services),
    )
    on.register(page)


# Every callback of the page opens, fills or sends a step's form: only roles that change cases.
on: PageCallbacks[_Page] = PageCallbacks(Permission.CHANGE_CASES)


@on(
    Output(ids.FORM, "children"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),  # a new step, a clean slate
    Input({"type": ids.ACTION_BUTTON, "action": ALL}, "n_clicks"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def open_form(page: _Page, _clicks: list[int | None], store: dict[str, Any]) -> Any:
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not dash.ctx.triggered[0].get("value"):
        raise PreventUpdate  # the bar was re-rendered, nobody clicked
    principal = require_principal()
    view = page.view(principal, store["id"])
    lang = normalise_lang(store.get("lang"))
    if view is None:
        return not_found(str(store["id"]), lang), None
    form = action_form(Action(trigger["action"]), view, page.context(principal, lang))
    return form, None


@on(
    Output(ids.FORM, "children", allow_duplicate=True),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def close_form(page: _Page, clicks: int | None) -> tuple[Any, Any]:
    if not clicks:
        raise PreventUpdate
    return [], None


@on(
    Output({"type": ids.UPLOAD_NAME, "name": MATCH}, "children"),
    Input({"type": ids.UPLOAD, "name": MATCH}, "filename"),
    State(ids.STORE, "data"),
    prevent_initial_call=True,
)
def show_chosen(page: _Page, filename: str | None, store: dict[str, Any]) -> str:
    lang = normalise_lang(store.get("lang"))
    return t("case_ws.photo_chosen", lang).format(f=filename) if filename else ""


@on(
    *[Output(part, "children") for part in _PARTS],
    Output(ids.STORE, "data"),
    Output(ids.MESSAGE, "children"),
    Output(ids.FORM, "children", allow_duplicate=True),
    Input(ids.SUBMIT, "n_clicks"),
    State(ids.PENDING, "data"),
    State(ids.STORE, "data"),
    State({"type": ids.FIELD, "name": ALL}, "value"),
    State({"type": ids.UPLOAD, "name": ALL}, "contents"),
    State({"type": ids.UPLOAD, "name": ALL}, "filename"),
    prevent_initial_call=True,
)
def submit(
    page: _Page,
    clicks: int | None,
    pending: str,
    store: dict[str, Any],
    _values: list[Any],
    contents: list[str | None],
    filenames: list[str | None],
) -> tuple[Any, ...]:
    if not clicks or not pending:
        raise PreventUpdate
    lang = normalise_lang(store.get("lang"))
    principal = require_principal()
    action = Action(pending)
    try:
        form = _form(action, _field_values(), contents, filenames, page)
        page.workspace().act(principal, int(store["id"]), int(store["version"]), form)
    except ConcurrentChange:
        return _render(page, principal, store, lang, _message(t("case_ws.changed", lang)))
    except DomainError as err:
        text = t("case_ws.refused", lang).format(m=_reason(err, lang))
        return (*[no_update] * len(_PARTS), no_update, _message(text, error=True), no_update)
    done = t("case_ws.done", lang).format(a=action_word(action.value, lang))
    return _render(page, principal, store, lang, _message(done, error=False))


def _render(
    page: _Page, principal: Principal, store: dict[str, Any], lang: Lang, message: Any
) -> tuple[Any, ...]:
    """Every part a step changes, from a fresh read (the form closes)."""
    view = page.view(principal, store["id"])
    if view is None:  # e.g. a department that returned the case no longer sees it
        gone = [not_found(str(store["id"]), lang), *[[]] * (len(_PARTS) - 1)]
        return (*gone, store, message, [])
    parts = dynamic_parts(view, page.context(principal, lang))
    return (*[parts[p] for p in _PARTS], store_data(view, lang), message, [])


def _message(text: str, error: bool = False) -> html.Div:
    return html.Div(text, className="case-ws-error" if error else "case-ws-ok")


def _reason(err: DomainError, lang: Lang) -> str:
    key = f"case_ws.err.{err.code}"
    return t(key, lang) if key in TABLE else unknown_refusal(err, lang)


def _field_values() -> dict[str, Any]:
    """The form's fields by name (pattern-matching ids {"type": FIELD, "name": ...})."""
    values: dict[str, Any] = {}
    for group in dash.ctx.states_list:
        if isinstance(group, list):
            for entry in group:
                ident = entry.get("id")
                if isinstance(ident, dict) and ident.get("type") == ids.FIELD:
                    values[str(ident["name"])] = entry.get("value")
    return values


def _form(
    action: Action,
    values: dict[str, Any],
    contents: list[str | None],
    filenames: list[str | None],
    page: _Page,
) -> ActionForm:
    photo = next((c for c in contents if c), None)
    name = next((f for f in filenames if f), None) or ""
    return ActionForm(
        action=action,
        note=str(values.get("note") or ""),
        reason=str(values.get("reason") or "") or None,
        department=values.get("department") or None,
        category=values.get("category") or None,
        deadline=_deadline(values.get("deadline"), page),
        satisfaction=_rating(values.get("satisfaction")),
        report_rating=_rating(values.get("report_rating")),
        photo=_decode(photo, name) if photo else None,
        photo_name=name,
    )


def _deadline(text: Any, page: _Page) -> datetime | None:
    if text is None or not str(text).strip():
        return None
    try:
        naive = datetime.strptime(str(text).strip(), TIME_FORMAT)
    except ValueError as err:
        raise ActionRefused("bad_deadline", f"{text!r} is not YYYY-MM-DD HH:MM") from err
    return naive.replace(tzinfo=page.services.reference.calendar.tz)


def _rating(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _decode(contents: str, name: str) -> bytes:
    """dcc.Upload's ``data:<type>;base64,<data>``; the type is the browser's guess - the photo
    check reads the bytes themselves."""
    _, _, data = contents.partition(",")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidPhoto("not_an_image", f"photo {name!r} could not be read") from err
