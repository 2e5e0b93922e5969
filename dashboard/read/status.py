"""Queries that feed the pages: plain data out, no layout, no framework types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.read.views import LatestCase, RedVillage, StatusSummary
from dashboard.storage.models import (
    Camera,
    Case,
    County,
    Department,
    Grid,
    GridWorker,
    SchemaInfo,
    Town,
    Village,
)
from dashboard.storage.scoping import around_area, in_area


def _count(session: Session, model: Any, area: str | None) -> int:
    """Units of ``model`` in the area: those below it and the ones it lies in (its parents)."""
    query = select(func.count()).select_from(model)
    if area is not None:
        code = model.village_code if hasattr(model, "village_code") else model.code
        if hasattr(model, "village_code") or model is Village or model is Grid:
            query = query.where(*in_area(code, area))
        else:  # counties and towns: below the area, or the one containing it
            query = query.where(*around_area(code, area))
    return int(session.scalar(query) or 0)


def status_summary(
    session: Session, now: datetime, day_start: datetime, area: str | None = None
) -> StatusSummary:
    """What the status page shows; ``day_start`` is the start of today in local time.

    ``area`` (a county, town or village code) limits everything to that part of the region.
    """
    cases_in_area = in_area(Case.village_code, area)
    counts = {
        name: _count(session, model, None if model is Department else area)
        for name, model in {
            "counties": County,
            "towns": Town,
            "villages": Village,
            "grids": Grid,
            "workers": GridWorker,
            "cameras": Camera,
            "departments": Department,
        }.items()
    }

    def count(*where: Any) -> int:
        return int(session.scalar(select(func.count()).where(*where, *cases_in_area)) or 0)

    by_status = dict(
        session.execute(
            select(Case.status, func.count()).where(*cases_in_area).group_by(Case.status)
        ).all()
    )
    reported_today = count(Case.reported_at >= day_start)
    closed_today = count(Case.closed_at >= day_start)
    open_cases = count(Case.open.is_(True))
    # Suspended cases have their clock stopped (挂账): not overdue, as in the domain's rule.
    overdue = count(Case.open.is_(True), Case.deadline <= now, Case.status != "suspended")
    red_rows = session.execute(
        select(Village, Town.name)
        .join(Town, Town.code == Village.town_code)
        .where(Village.status == "red", *in_area(Village.code, area))
        .order_by(Village.red_since)
        .limit(20)
    ).all()
    red = [
        RedVillage(
            v.code,
            v.name,
            town,
            v.red_since,
            v.open_ratio,
            v.contact_name,
            v.contact_phone,
            tuple(r for r in (v.red_reasons or "").split(",") if r),
        )
        for v, town in red_rows
    ]
    latest_rows = session.execute(
        select(
            Case.id,
            Case.reported_at,
            Case.reported_category,
            Village.name,
            Case.status,
            Case.source,
        )
        .join(Village, Village.code == Case.village_code)
        .where(*cases_in_area)
        .order_by(Case.reported_at.desc(), Case.id.desc())
        .limit(12)
    ).all()
    latest = [LatestCase(*row) for row in latest_rows]
    info = dict(session.execute(select(SchemaInfo.key, SchemaInfo.value)).all())
    return StatusSummary(
        counts=counts,
        cases_by_status={str(k): int(v) for k, v in by_status.items()},
        reported_today=int(reported_today),
        closed_today=int(closed_today),
        open_cases=int(open_cases),
        overdue_now=int(overdue),
        red_villages=red,
        latest=latest,
        info={str(k): str(v) for k, v in info.items()},
    )
