"""The department's services on residents' behalf (代办, issue 18) on /department, beside its
cases: each open request with the resident (personal data masked unless the viewer handles it —
the list answers it so), the papers as links, the status, the time limit and the deadline light
on the working calendar, and the department's steps — 受理 (accept), 退回补正 (return, with
what is missing typed in the row), 办结 (complete). Pure functions of view data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import Lang, t
from layouts import department_ids as ids
from layouts.case_list import light_badge, short, when
from layouts.controls import data_attrs

Row = Mapping[str, Any]


@dataclass(frozen=True)
class DepartmentServices:
    lang: Lang
    tz: ZoneInfo
    rows: Sequence[Row] = ()
    steps: Mapping[int, Sequence[str]] = field(default_factory=dict)  # request → its steps now
    papers: Mapping[int, Sequence[Row]] = field(default_factory=dict)  # request → [{id, label}]
    shown: bool = True  # False: this role does not see residents' services


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _papers(row: Row, page: DepartmentServices) -> Any:
    listed = page.papers.get(row["id"], ())
    if not listed:
        return str(row["papers"]) if row["papers"] else "—"
    return html.Div(
        [
            html.A(
                short(p["label"], 10),
                href=f"/api/v1/service-requests/{row['id']}/papers/{p['id']}",
                target="_blank",
                rel="noopener",
                title=p["label"],
                className="ds-paper",
            )
            for p in listed
        ],
        className="ds-papers",
    )


def _steps(row: Row, page: DepartmentServices) -> html.Div:
    lang, steps = page.lang, page.steps.get(row["id"], ())
    parts: list[Any] = []
    if "return" in steps:
        parts.append(
            dcc.Input(
                id={"type": ids.SERVICE_NOTE, "request": row["id"]},
                type="text",
                value="",
                maxLength=200,
                placeholder=t("department.svc_missing_placeholder", lang),
                className="cl-input ds-note",
            )
        )
    parts += [
        html.Button(
            t(f"department.svc_{step}", lang),
            id={"type": ids.SERVICE_STEP, "request": row["id"], "step": step},
            n_clicks=0,
            className="cl-btn" if step == "return" else "cl-btn primary",
        )
        for step in steps
    ]
    if row["status"] == "returned":
        parts.append(
            html.Span(
                t("department.svc_waiting_paper", lang).format(m=row["missing"]),
                className="dv-muted",
            )
        )
    return html.Div(parts, className="dv-actions ds-actions")


_HEADS = (
    "id",
    "item",
    "resident",
    "id_number",
    "phone",
    "village",
    "status",
    "submitted",
    "deadline",
    "light",
    "papers",
    "",
)


def services_table(page: DepartmentServices) -> html.Table:
    lang = page.lang
    head = html.Thead(
        html.Tr([html.Th(t(f"department.svc_c_{h}", lang) if h else "") for h in _HEADS])
    )
    rows = []
    for r in page.rows:
        item = r["item_zh"] if lang == "zh" else r["item_en"]
        person = r["resident"]
        rows.append(
            html.Tr(
                [
                    html.Td(str(r["id"])),
                    html.Td(short(item, 14), title=item, className="ds-item"),
                    html.Td(person["name"], className="ds-item"),
                    html.Td(person["id_number"] or "—", className="ds-mono"),
                    html.Td(person["phone"] or "—", className="ds-mono"),
                    html.Td(r["village_name"]),
                    html.Td(t(f"residents.status_{r['status']}", lang), className="ds-item"),
                    html.Td(when(_at(r["submitted_at"]), page.tz), className="cl-time"),
                    html.Td(when(_at(r["deadline"]), page.tz), className="cl-time"),
                    html.Td(light_badge(r, lang)),
                    html.Td(_papers(r, page)),
                    html.Td(_steps(r, page)),
                ],
                className="cl-row",
                **data_attrs(request=str(r["id"]), status=r["status"]),
            )
        )
    body = rows or [
        html.Tr(html.Td(t("department.svc_none", lang), colSpan=len(_HEADS), className="empty"))
    ]
    return html.Table([head, html.Tbody(body)], className="cl-table ds-table")


def services_panel(page: DepartmentServices) -> list[Any]:
    """The count and the table: what a step re-renders."""
    waiting = sum(1 for r in page.rows if r["status"] == "submitted")
    late = sum(1 for r in page.rows if r.get("light") == "red")
    count = t("department.svc_count", page.lang).format(n=len(page.rows), w=waiting, o=late)
    return [html.Div(count, className="cl-total"), services_table(page)]


def services_section(page: DepartmentServices) -> html.Section | None:
    if not page.shown:
        return None
    return html.Section(
        [
            html.H2(t("department.services", page.lang)),
            html.Div(id=ids.SERVICE_MESSAGE),
            html.Div(services_panel(page), id=ids.SERVICES),
        ],
        className="dv-panel ds-panel",
        id="department-services-panel",
    )
