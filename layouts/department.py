"""The department view (/department): the open cases dispatched to one department, overdue
first, with the two steps a department takes on this page - accept (开始处置) and report handled
(处置完毕, with a photo) - its open services on residents' behalf (layouts.department_services)
and its open supervision orders with a reply box. Pure functions of data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.domain.status import Action, CaseStatus
from dashboard.domain.transitions import TRANSITIONS
from dashboard.i18n import Lang, t
from layouts import department_ids as ids
from layouts.case_format import status_word
from layouts.case_list import light_badge, place_text, short, when
from layouts.controls import data_attrs, dropdown_labels
from layouts.department_services import DepartmentServices, services_section

ACCEPTABLE = TRANSITIONS[Action.START].sources  # dispatched, rework
REPORTABLE = TRANSITIONS[Action.HANDLED].sources  # handling, rework


@dataclass(frozen=True)
class DepartmentPage:
    lang: Lang
    tz: ZoneInfo
    department: str | None  # the department shown (None: none assigned / none picked)
    department_name: str = ""
    departments: Sequence[tuple[str, str]] = ()  # for the picker; empty: no picker
    rows: Sequence[Mapping[str, Any]] = ()
    total: int = 0
    overdue: int = 0
    orders: Sequence[Mapping[str, Any]] = ()
    can_start: bool = False
    can_report: bool = False
    can_reply: bool = False
    categories: Mapping[str, str] = field(default_factory=dict)
    services: DepartmentServices | None = None  # services on residents' behalf (issue 18)


def _buttons(row: Mapping[str, Any], page: DepartmentPage) -> html.Div:
    key = {"case": row["id"], "version": row["version"]}
    status = CaseStatus(row["status"])
    buttons = []
    if page.can_start and status in ACCEPTABLE:
        buttons.append(
            html.Button(
                t("department.accept", page.lang),
                n_clicks=0,
                id={"type": ids.ACCEPT, **key},
                className="cl-btn primary",
            )
        )
    if page.can_report and status in REPORTABLE:
        buttons.append(
            html.Button(
                t("department.report", page.lang),
                n_clicks=0,
                id={"type": ids.REPORT, **key},
                className="cl-btn",
            )
        )
    return html.Div(buttons, className="dv-actions")


_COLUMNS = ("id", "status", "category_name", "description", "place", "deadline", "light")


def case_table(page: DepartmentPage) -> html.Table:
    lang = page.lang
    head = html.Thead(
        html.Tr([*(html.Th(t(f"case_list.c_{c}", lang)) for c in _COLUMNS), html.Th("")])
    )
    body = [
        html.Tr(
            [
                html.Td(
                    dcc.Link(str(r["id"]), href=f"/cases/{r['id']}?lang={lang}", className="cl-id")
                ),
                html.Td(status_word(r["status"], lang), className=f"cl-status st-{r['status']}"),
                html.Td(page.categories.get(r["category"], r["category"])),
                html.Td(
                    short(r["description"], 36), title=r["description"], className="cl-description"
                ),
                html.Td(place_text(r)),
                html.Td(when(r["deadline"], page.tz), className="cl-time"),
                html.Td(light_badge(r, lang)),
                html.Td(_buttons(r, page)),
            ],
            className="cl-row",
            **data_attrs(case=str(r["id"]), status=r["status"]),
        )
        for r in page.rows
    ] or [
        html.Tr(
            html.Td(t("department.no_cases", lang), colSpan=len(_COLUMNS) + 1, className="empty")
        )
    ]
    return html.Table([head, html.Tbody(body)], className="cl-table")


def cases_panel(page: DepartmentPage) -> list[Any]:
    """The table and its count: what a step re-renders."""
    count = t("department.count", page.lang).format(n=page.total, o=page.overdue)
    return [html.Div(count, id=ids.SUMMARY, className="cl-total"), case_table(page)]


def _order(order: Mapping[str, Any], page: DepartmentPage) -> html.Div:
    lang = page.lang
    status = t(f"department.order_status_{order['status']}", lang)
    parts: list[Any] = [
        html.Div(
            [
                t("department.order_head", lang).format(n=order["id"], c=order["case_id"]),
                html.Span(status, className="dv-muted"),
            ],
            className="dv-order-head",
        ),
        html.Div(
            f"{t('department.order_issued', lang)}: {when(order['issued_at'], page.tz)}",
            className="dv-order-meta",
        ),
        html.Div(order["opinion"], className="dv-order-text"),
    ]
    if order.get("reply"):
        parts.append(
            html.Div(
                f"{t('department.order_reply', lang)}: {order['reply']}",
                className="dv-order-text dv-muted",
            )
        )
    if page.can_reply:
        parts += [
            dcc.Textarea(
                id={"type": ids.REPLY_TEXT, "order": order["id"]},
                value="",
                placeholder=t("department.reply_placeholder", lang),
                maxLength=2000,
            ),
            html.Button(
                t("department.reply_send", lang),
                n_clicks=0,
                id={"type": ids.REPLY_SEND, "order": order["id"]},
                className="cl-btn",
            ),
        ]
    return html.Div(parts, className="dv-order", **data_attrs(order=str(order["id"])))


def orders_panel(page: DepartmentPage) -> list[Any]:
    if not page.orders:
        return [html.Div(t("department.no_orders", page.lang), className="dv-muted")]
    return [_order(o, page) for o in page.orders]


def handled_form(case_id: int, lang: Lang) -> html.Div:
    """The form of "report handled": the photo (required) and what was done."""
    return html.Div(
        [
            html.H3(t("department.report_title", lang).format(n=case_id)),
            dcc.Upload(
                html.Div(t("department.photo_drop", lang)),
                id=ids.UPLOAD,
                accept="image/jpeg,image/png,image/webp",
                multiple=False,
                className="dv-upload",
            ),
            html.Div(id=ids.UPLOAD_NAME, className="dv-chosen"),
            dcc.Textarea(
                id=ids.NOTE,
                value="",
                placeholder=t("department.note", lang),
                maxLength=2000,
                className="cl-input",
            ),
            html.Div(
                [
                    html.Button(
                        t("department.submit", lang),
                        id=ids.SUBMIT,
                        n_clicks=0,
                        className="cl-btn primary",
                    ),
                    html.Button(
                        t("department.cancel", lang), id=ids.CANCEL, n_clicks=0, className="cl-btn"
                    ),
                ],
                className="cl-buttons",
            ),
        ],
        className="dv-form",
    )


def _picker(page: DepartmentPage) -> Any:
    if not page.departments:
        return None
    return html.Label(
        [
            html.Span(t("department.pick", page.lang), className="cl-label"),
            dcc.Dropdown(
                id=ids.PICK,
                options=[{"value": c, "label": n} for c, n in page.departments],
                value=page.department,
                clearable=False,
                className="cl-select dv-pick",
                labels=dropdown_labels(page.lang),
            ),
        ],
        className="dv-head",
    )


def message(text: str, error: bool) -> html.Div:
    return html.Div(text, className="cl-error" if error else "cl-ok")


def department_page(page: DepartmentPage) -> html.Div:
    lang = page.lang
    title = page.department_name
    head = html.Div(
        [
            html.H1(
                " · ".join(x for x in (t("department.title", lang), title) if x),
                className="cl-title",
            ),
            _picker(page),
        ],
        className="dv-head",
    )
    if page.department is None:
        body: Any = html.Div(t("department.none_assigned", lang), className="dv-muted")
    else:
        body = html.Div(
            [
                html.Section(
                    [
                        html.H2(t("department.cases", lang)),
                        html.Div(cases_panel(page), id=ids.CASES),
                        html.Div(id=ids.FORM),
                    ],
                    className="dv-panel",
                ),
                html.Section(
                    [
                        html.H2(t("department.orders", lang)),
                        html.Div(orders_panel(page), id=ids.ORDERS),
                    ],
                    className="dv-panel",
                ),
                # Services on residents' behalf: the whole width under the two columns.
                services_section(page.services) if page.services else None,
            ],
            className="dv-grid",
        )
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            dcc.Store(id=ids.STORE, data={"lang": lang, "dept": page.department}),
            dcc.Store(id=ids.PENDING, data=None),
            head,
            html.Div(id=ids.MESSAGE),
            body,
        ],
        id=ids.ROOT,
        className="dv-page",
    )
