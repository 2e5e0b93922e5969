"""The leaders' view of the residents' side (issue 18, ``/trends/residents``): per town of the
area, over a period of local dates — the points claims entered and confirmed, the points
awarded, the service requests opened, those done and how many of them on time, and the requests
open now; and the same per village of the area. Six grouped queries a table, whatever the
number of places or rows.

"On time" is the service rule's own (``service_requests.closed_on_time``), applied to each
request done in the period; everything else is counted in SQL. Only counts leave here: no
resident's name or number.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.domain.points import EntryKind
from dashboard.domain.service_requests import (
    OPEN_STATUSES,
    ServiceRequestState,
    ServiceStatus,
    closed_on_time,
)
from dashboard.read.resident_rows import ResidentsByTown, TownResidents, with_total
from dashboard.storage.models import (
    PointsClaim,
    PointsEntry,
    Resident,
    ServiceRequest,
    Town,
    Village,
)
from dashboard.storage.scoping import in_area, towns_of_area


def residents_by_town(
    session: Session, area: str | None, since: datetime, until: datetime, total_name: str
) -> ResidentsByTown:
    """The towns of ``area`` (a village's own town, only its village counted) with their
    figures between ``since`` (inclusive) and ``until`` (exclusive)."""
    towns = session.execute(
        select(Town.code, Town.name).where(*towns_of_area(Town.code, area)).order_by(Town.code)
    ).all()
    return _by_place(session, area, since, until, total_name, Village.town_code, towns)


def residents_by_village(
    session: Session, area: str | None, since: datetime, until: datetime, total_name: str
) -> ResidentsByTown:
    """The same figures for each village of ``area`` (a town's leaders look one level down)."""
    villages = session.execute(
        select(Village.code, Village.name)
        .where(*in_area(Village.code, area))
        .order_by(Village.code)
    ).all()
    return _by_place(session, area, since, until, total_name, Village.code, villages)


def _by_place(
    session: Session,
    area: str | None,
    since: datetime,
    until: datetime,
    total_name: str,
    place: Any,
    places: Sequence[Any],
) -> ResidentsByTown:
    """The figures grouped by ``place`` (a village column: its town's code or its own), for
    each of ``places`` ((code, name) pairs, in order)."""
    inside = in_area(Village.code, area)
    figures: dict[str, dict[str, int]] = {code: {} for code, _ in places}

    def keep(key: str, rows: Any) -> None:
        for code, *values in rows:
            if code in figures:
                for name, value in zip(key.split(","), values, strict=True):
                    figures[code][name] = int(value or 0)

    keep(
        "claims,confirmed",
        session.execute(
            select(
                place,
                func.count(PointsClaim.id),
                func.count(PointsClaim.id).filter(PointsClaim.status == "confirmed"),
            )
            .join(Resident, Resident.id == PointsClaim.resident_id)
            .join(Village, Village.code == Resident.village_code)
            .where(*inside, PointsClaim.entered_at >= since, PointsClaim.entered_at < until)
            .group_by(place)
        ),
    )
    keep(
        "points",
        session.execute(
            select(place, func.sum(PointsEntry.amount))
            .join(Resident, Resident.id == PointsEntry.resident_id)
            .join(Village, Village.code == Resident.village_code)
            .where(
                *inside,
                PointsEntry.kind == EntryKind.AWARD.value,
                PointsEntry.at >= since,
                PointsEntry.at < until,
            )
            .group_by(place)
        ),
    )
    keep(
        "requests",
        session.execute(
            select(place, func.count(ServiceRequest.id))
            .join(Village, Village.code == ServiceRequest.village_code)
            .where(
                *inside, ServiceRequest.submitted_at >= since, ServiceRequest.submitted_at < until
            )
            .group_by(place)
        ),
    )
    keep(
        "open_now",
        session.execute(
            select(place, func.count(ServiceRequest.id))
            .join(Village, Village.code == ServiceRequest.village_code)
            .where(*inside, ServiceRequest.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(place)
        ),
    )
    done = session.execute(
        select(
            place,
            ServiceRequest.submitted_at,
            ServiceRequest.accepted_at,
            ServiceRequest.deadline,
            ServiceRequest.closed_at,
        )
        .join(Village, Village.code == ServiceRequest.village_code)
        .where(
            *inside,
            ServiceRequest.status == ServiceStatus.DONE.value,
            ServiceRequest.closed_at >= since,
            ServiceRequest.closed_at < until,
        )
    ).all()
    for code, submitted, accepted, deadline, closed in done:
        if code not in figures:
            continue
        state = ServiceRequestState(
            status=ServiceStatus.DONE,
            submitted_at=submitted,
            accepted_at=accepted,
            deadline=deadline,
            closed_at=closed,
        )
        figures[code]["done"] = figures[code].get("done", 0) + 1
        if closed_on_time(state):
            figures[code]["on_time"] = figures[code].get("on_time", 0) + 1
    rows = [TownResidents(code, name, **figures[code]) for code, name in places]
    return with_total(rows, total_name)
