"""What the department view (/department) reads: the open cases dispatched to one department,
most overdue first (through ``case_queries.search_cases``, so lights and overdue minutes are the
same everywhere), each with its row version for the page's optimistic check, and the open
supervision orders addressed to the department.

``department_scope`` decides which department a principal looks at: a department user always
its own (a ``?dept=`` in the address cannot widen it); anyone else who may view cases the one
they picked, inside their own area - read-only unless their role may take the steps (commander,
administrator), which the buttons and ``CaseWorkspace.act`` check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT
from dashboard.domain.permissions import Permission, Scope
from dashboard.domain.roles import Role
from dashboard.read.case_queries import CaseFilters, search_cases
from dashboard.security.principal import Principal
from dashboard.storage.models import Case, SupervisionOrder
from dashboard.storage.scoping import in_area, in_department

MAX_CASES = 500  # one desk's open cases; more would be a page of its own


@dataclass(frozen=True)
class DepartmentCases:
    rows: list[dict[str, Any]]  # search_cases rows plus "version"
    total: int
    overdue: int


def department_scope(
    role: Role, scope: Scope, picked: str | None, known: frozenset[str]
) -> Scope | None:
    """The scope of the view, or None when there is no department to show."""
    if role is Role.DEPARTMENT:
        if not scope.department_code:
            return None
        return scope
    if picked in known:  # any other case viewer: read-only unless the role may act
        return Scope(area_code=scope.area_code, department_code=picked)
    return None


def may_reply(principal: Principal) -> bool:
    """Who answers a supervision order: the department, or a supervisor taking it by phone
    (the same rule as ``POST /api/v1/supervision/orders/<id>/reply``)."""
    return principal.role is Role.DEPARTMENT or principal.can(Permission.SUPERVISE)


def department_cases(
    session: Session,
    scope: Scope,
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
    lang: str = "zh",
) -> DepartmentCases:
    """Open cases dispatched to ``scope.department_code`` (inside its area), overdue first."""
    found = search_cases(
        session,
        scope,
        CaseFilters(status="open"),
        now,
        calendar,
        sort="overdue",
        per_page=MAX_CASES,
        yellow_at=yellow_at,
        lang=lang,
    )
    ids = [row["id"] for row in found.rows]
    versions = dict(session.execute(select(Case.id, Case.version).where(Case.id.in_(ids))).all())
    rows = [row | {"version": versions.get(row["id"], 0)} for row in found.rows]
    overdue = sum(1 for row in rows if row["overdue_minutes"] is not None)
    return DepartmentCases(rows, found.total, overdue)


def open_orders(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Supervision orders to the department that are not closed, newest first."""
    query = (
        select(SupervisionOrder, Case.village_code, Case.description)
        .join(Case, Case.id == SupervisionOrder.case_id)
        .where(
            *in_department(SupervisionOrder.department_code, scope),
            SupervisionOrder.status != "closed",
        )
        .order_by(SupervisionOrder.issued_at.desc(), SupervisionOrder.id.desc())
        .limit(200)
    )
    query = query.where(*in_area(Case.village_code, scope.area_code))
    return [
        {
            "id": order.id,
            "case_id": order.case_id,
            "stage": order.stage,
            "deadline": order.deadline,
            "issued_at": order.issued_at,
            "supervisor": order.supervisor,
            "opinion": order.opinion,
            "status": order.status,
            "reply": order.reply,
            "village": village,
            "description": description,
        }
        for order, village, description in session.execute(query)
    ]
