"""The case workspace (``/cases/<id>``): its read model and its one write path.

``CaseWorkspace.view`` gathers everything the page shows about one case in one read transaction:
the case row with its place names, the stage light, the photos, the audit trail interleaved with
the reminders and supervision orders the watchers raised, the village and grid outlines for the
small map and the nearest cameras. A case outside the principal's area or department is the same
``None`` as a missing one, so the page cannot tell anybody that it exists.

``CaseWorkspace.act`` is what a button on the page does: check the role and the scope, refuse when
the case changed since the page showed it (optimistic locking on the row's ``version``), store a
photo when the step carries one, then hand the step to ``CaseService.act`` - the state machine
decides what is legal, nothing here duplicates its table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.case_light import case_light
from dashboard.domain.errors import DomainError, ReadOnlyRole
from dashboard.domain.lifecycle import ActionRequest, allowed_actions
from dashboard.domain.permissions import Permission, may_change_cases
from dashboard.domain.status import Action
from dashboard.read.views import CaseView, TimelineItem
from dashboard.security.principal import Principal
from dashboard.security.scoping import case_visible, ensure_may_change, may_act_on_case
from dashboard.services.cameras import nearest_cameras
from dashboard.services.cases import CaseNotFound
from dashboard.services.photos import PhotoStore
from dashboard.storage.case_rows import to_state
from dashboard.storage.models import (
    Attachment,
    Case,
    CaseEvent,
    Grid,
    GridWorker,
    Reminder,
    SupervisionOrder,
    Town,
    User,
    Village,
)

if TYPE_CHECKING:
    from dashboard.container import Services

CAMERA_LIMIT = 6


class ActionRefused(DomainError):
    """The page's request cannot be taken as given (role, scope or malformed input)."""


@dataclass(frozen=True)
class ActionForm:
    """What a step's form sent; ``photo`` is the raw bytes of one uploaded image."""

    action: Action
    note: str = ""
    reason: str | None = None
    department: str | None = None
    category: str | None = None
    deadline: datetime | None = None
    satisfaction: int | None = None
    report_rating: int | None = None
    photo: bytes | None = None
    photo_name: str = ""


class CaseWorkspace:
    def __init__(self, services: Services, photos: PhotoStore) -> None:
        self.services = services
        self.photos = photos

    # --- read ---------------------------------------------------------------------------------

    def view(self, principal: Principal, case_id: int) -> CaseView | None:
        """The case as ``principal`` may see it, or None (missing or outside the scope)."""
        services = self.services
        now = services.clock.now()
        with services.db.read() as session:
            row = session.get(Case, case_id)
            if row is None or not case_visible(principal, row):
                return None
            view = _case_view(session, row, now, services)
            cameras = self._cameras(session, principal, row)
        return replace(view, cameras=tuple(cameras))

    def _cameras(self, session: Session, principal: Principal, row: Case) -> list[dict[str, Any]]:
        """The nearest cameras the principal may view (none without VIEW_CAMERAS)."""
        if not principal.can(Permission.VIEW_CAMERAS):
            return []
        radius = self.services.config.video.check_radius_m
        found = nearest_cameras(session, row.lon, row.lat, radius, principal.scope, CAMERA_LIMIT)
        return list(found)

    # --- write --------------------------------------------------------------------------------

    def act(self, principal: Principal, case_id: int, version: int, form: ActionForm) -> None:
        """Take one step as ``principal``; raise a DomainError (nothing written) when refused."""
        if not may_change_cases(principal.role):
            raise ReadOnlyRole("read_only", f"the role {principal.role} may not change a case")
        if not principal.can_act(form.action):
            raise ActionRefused(
                "forbidden", f"the role {principal.role} may not {form.action} a case"
            )
        services = self.services
        with services.db.read() as session:
            row = session.get(Case, case_id)
            if row is None or not case_visible(principal, row):
                raise CaseNotFound("case_not_found", f"there is no case {case_id}")
            ensure_may_change(principal, row)
            if not may_act_on_case(principal, form.action, row):
                raise ActionRefused("forbidden", f"case {case_id} is outside your scope")
        request = _request(principal, form)
        photos = []
        if form.photo is not None:  # checked here; stored with the step, in its transaction
            photos.append(self.photos.inspect(form.photo, form.photo_name))
            request = replace(request, attachments=(photos[0].sha256,))
        services.cases.act(case_id, request, photos, expected_version=version)


def _request(principal: Principal, form: ActionForm) -> ActionRequest:
    return ActionRequest(
        action=form.action,
        actor=principal.name,
        role=principal.role,
        note=form.note.strip(),
        reason=(form.reason or "").strip() or None,
        category_code=form.category or None,
        department_code=form.department or None,
        deadline=form.deadline,
        satisfaction=form.satisfaction,
        report_rating=form.report_rating,
    )


def _case_view(session: Session, row: Case, now: datetime, services: Services) -> CaseView:
    village = session.get(Village, row.village_code)
    town = session.get(Town, row.town_code)
    grid = session.get(Grid, row.grid_code)
    state = to_state(row)
    trail = timeline(session, row.id)
    light, remaining = _light(row, now, services)
    return CaseView(
        id=row.id,
        version=row.version,
        status=state.status,
        source=row.source,
        emergency=row.emergency,
        category_code=row.category_code or row.reported_category,
        description=row.description,
        address=row.address,
        lon=row.lon,
        lat=row.lat,
        grid_code=row.grid_code,
        village_code=row.village_code,
        village_name=village.name if village else "",
        town_code=row.town_code,
        town_name=town.name if town else "",
        reporter=row.reporter,
        reported_at=row.reported_at,
        occurred_at=row.occurred_at,
        department_code=row.department_code,
        deadline=row.deadline,
        light=light,
        remaining=remaining,
        allowed=allowed_actions(state, services.cases.policy),
        satisfaction=row.satisfaction,
        report_rating=row.report_rating,
        attachments=tuple(_attachment_ids(session, row.id)),
        timeline=tuple(trail),
        village_geometry=village.geometry if village else None,
        grid_geometry=grid.geometry if grid else None,
        people=people_names(session, {row.reporter, *(i.actor for i in trail if i.actor)}),
        reporter_is_worker=session.get(GridWorker, row.reporter) is not None,
    )


def people_names(session: Session, who: set[str]) -> dict[str, str]:
    """Names of grid workers (by worker id) and users (by user name) among ``who``."""
    names = dict(
        session.execute(select(GridWorker.id, GridWorker.name).where(GridWorker.id.in_(who)))
        .tuples()
        .all()
    )
    users = select(User.username, User.display_name).where(
        User.username.in_(who), User.display_name != ""
    )
    names.update(session.execute(users).tuples().all())
    return names


def _light(row: Case, now: datetime, services: Services) -> tuple[str | None, timedelta | None]:
    """The current stage's light and the time to the deadline; the clock stops while
    suspended (the light is judged at the moment of suspension)."""
    if not row.open or row.deadline is None or row.registered_at is None:
        return None, None
    at = row.suspended_at or now
    light = case_light(
        row.registered_at,
        row.deadline,
        row.suspended_at,
        row.open,
        now,
        services.reference.calendar,
        services.config.rules.deadline.yellow_at,
    )
    return (None if light is None else light.value), row.deadline - at


def _attachment_ids(session: Session, case_id: int) -> list[str]:
    query = select(Attachment.id).where(Attachment.case_id == case_id)
    return list(session.scalars(query.order_by(Attachment.uploaded_at, Attachment.id)))


def timeline(session: Session, case_id: int) -> list[TimelineItem]:
    """The audit trail with the case's reminders and supervision orders, oldest first."""
    items = [_event_item(e) for e in _rows(session, CaseEvent, case_id, CaseEvent.id)]
    items += [
        TimelineItem(
            kind="reminder",
            at=r.raised_at,
            stage=r.stage,
            deadline=r.deadline,
            department=r.department_code,
        )
        for r in _rows(session, Reminder, case_id, Reminder.id)
    ]
    items += [
        _order_item(o) for o in _rows(session, SupervisionOrder, case_id, SupervisionOrder.id)
    ]
    # Stable: trail entries written in the same instant keep their insertion order.
    return sorted(items, key=lambda item: item.at)


def _rows(session: Session, model: Any, case_id: int, order: Any) -> list[Any]:
    return list(session.scalars(select(model).where(model.case_id == case_id).order_by(order)))


def _event_item(e: CaseEvent) -> TimelineItem:
    return TimelineItem(
        kind="event",
        at=e.at,
        action=e.action,
        from_status=e.from_status,
        to_status=e.to_status,
        actor=e.actor,
        role=e.role,
        note=e.note or "",
        reason=e.reason,
        details=dict(e.details or {}),
        attachments=tuple((e.attachments or {}).get("ids", [])),
    )


def _order_item(o: SupervisionOrder) -> TimelineItem:
    return TimelineItem(
        kind="order",
        at=o.issued_at,
        actor=o.supervisor,
        stage=o.stage,
        deadline=o.deadline,
        department=o.department_code,
        opinion=o.opinion,
        status=o.status,
        reply=o.reply,
        replied_at=o.replied_at,
        replied_by=o.replied_by,
    )
