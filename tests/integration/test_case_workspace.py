"""The case workspace's read model and write path against the seeded town, on SQLite and
PostgreSQL: what the page shows about a case (trail, reminders, orders, photos, light, cameras),
who may see it (a case out of scope is the same ``None`` as a missing one), and what a button does
(legal steps go through, refused ones - illegal, wrong role, stale page, bad photo - write
nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import delete, func, select

from dashboard.config import AppConfig
from dashboard.container import Services
from dashboard.domain.lifecycle import ActionRequest, IllegalTransition
from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus
from dashboard.http.stream_limits import FullViewLimits
from dashboard.security.principal import Principal
from dashboard.services.case_workspace import ActionForm, ActionRefused, CaseWorkspace
from dashboard.services.cases import CaseNotFound, ConcurrentChange
from dashboard.services.photos import InvalidPhoto, PhotoStore
from dashboard.storage.bus import InMemoryBus
from dashboard.storage.models import Attachment, CaseEvent, Reminder, SupervisionOrder
from streams.relay import OutboxRelay
from tests.integration.support import Town, make_report, walk

DEPT = "justice"  # the default department of category 01002
COMMANDER = Principal("shift-wang", Role.COMMANDER, "user", 1)
DISPATCHER = Principal("op-li", Role.DISPATCHER, "user", 2)


def _department(code: str) -> Principal:
    return Principal(f"dept-{code}", Role.DEPARTMENT, "user", 3, Scope(department_code=code))


@pytest.fixture
def workspace(town: Town, tmp_path: Path) -> Iterator[CaseWorkspace]:
    config, bus, photos = AppConfig(), InMemoryBus(), PhotoStore(tmp_path / "photos")
    relay = OutboxRelay(town.db, bus, town.clock)
    limits = FullViewLimits(config.video.max_full_views_per_viewer, config.video.max_full_views)
    services = Services(
        config, town.clock, town.db, bus, town.reference, town.locator, town.cases, photos, relay,
        limits,
    )  # fmt: skip
    yield CaseWorkspace(services, photos)
    with town.db.transaction() as session:  # the town fixture resets cases, not these
        session.execute(delete(Reminder))
        session.execute(delete(SupervisionOrder))


def _jpeg(seed: int) -> bytes:
    image = np.full((60, 80, 3), (seed * 40 % 255, 90, 160), np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


def _counts(town: Town) -> tuple[int, int]:
    with town.db.read() as session:
        events = session.scalar(select(func.count()).select_from(CaseEvent)) or 0
        photos = session.scalar(select(func.count()).select_from(Attachment)) or 0
    return events, photos


def _handling_case(town: Town) -> int:
    case_id = town.cases.report(make_report(town)).id
    walk(town, case_id, (Action.ACCEPT, Action.REGISTER, Action.DISPATCH, Action.START))
    return case_id


def test_the_read_model_shows_the_whole_case(town: Town, workspace: CaseWorkspace) -> None:
    case_id = _handling_case(town)
    view = workspace.view(COMMANDER, case_id)
    assert view is not None
    assert view.status is CaseStatus.HANDLING and view.department_code == DEPT
    assert view.village_name and view.town_name and view.village_geometry
    assert view.light == "green" and view.remaining is not None and view.remaining > timedelta(0)
    assert view.allowed == {
        Action.RETURN,
        Action.EXTEND,
        Action.SUSPEND,
        Action.HANDLED,
    }
    assert [i.action for i in view.timeline] == [
        "report",
        "accept",
        "register",
        "dispatch",
        "start",
    ]
    assert all(i.actor and i.role for i in view.timeline)
    assert view.cameras and all(c["distance_m"] <= 1000 for c in view.cameras)
    distances = [c["distance_m"] for c in view.cameras]
    assert distances == sorted(distances)
    # Cameras only for roles that may view them: a department sees none.
    assert workspace.view(_department(DEPT), case_id).cameras == ()  # type: ignore[union-attr]


def test_reminders_and_orders_are_interleaved_by_time(town: Town, workspace: CaseWorkspace) -> None:
    case_id = _handling_case(town)
    row = town.case(case_id)
    assert row.deadline is not None
    start = town.clock.now()
    with town.db.transaction() as session:
        session.add(
            Reminder(
                case_id=case_id,
                stage="handling",
                deadline=row.deadline,
                due_at=start + timedelta(minutes=1),
                raised_at=start + timedelta(minutes=1),
                department_code=DEPT,
                town_code=row.town_code,
            )
        )
        session.add(
            SupervisionOrder(
                case_id=case_id,
                stage="handling",
                deadline=row.deadline,
                due_at=row.deadline,
                issued_at=start + timedelta(minutes=3),
                supervisor="system",
                department_code=DEPT,
                town_code=row.town_code,
                opinion="请立即处置",
            )
        )
    town.clock.set(start + timedelta(minutes=2))
    later = row.deadline + timedelta(days=2)
    town.cases.act(
        case_id, ActionRequest(Action.EXTEND, "shift-wang", Role.COMMANDER, deadline=later)
    )
    view = workspace.view(COMMANDER, case_id)
    assert view is not None
    kinds = [(i.kind, i.action) for i in view.timeline][-3:]
    assert kinds == [("reminder", ""), ("event", "extend"), ("order", "")]
    assert view.timeline[-1].opinion == "请立即处置"


def test_out_of_scope_is_the_same_as_missing(town: Town, workspace: CaseWorkspace) -> None:
    case_id = town.cases.report(make_report(town)).id
    village = town.case(case_id).village_code
    assert workspace.view(COMMANDER, case_id + 10_000) is None
    assert workspace.view(_department(DEPT), case_id) is None  # not dispatched yet
    other_town = Principal("t", Role.COMMANDER, "user", 4, Scope(area_code="999999999"))
    assert workspace.view(other_town, case_id) is None
    own_town = Principal("t", Role.COMMANDER, "user", 4, Scope(area_code=village[:9]))
    assert workspace.view(own_town, case_id) is not None
    walk(town, case_id, (Action.ACCEPT, Action.REGISTER, Action.DISPATCH))
    assert workspace.view(_department(DEPT), case_id) is not None
    assert workspace.view(_department("police"), case_id) is None
    version = town.case(case_id).version
    with pytest.raises(CaseNotFound):  # acting on it reveals no more than looking at it
        workspace.act(_department("police"), case_id, version, ActionForm(Action.START))


def test_a_step_goes_through_and_a_refused_one_writes_nothing(
    town: Town, workspace: CaseWorkspace
) -> None:
    case_id = town.cases.report(make_report(town)).id
    version = town.case(case_id).version
    workspace.act(DISPATCHER, case_id, version, ActionForm(Action.ACCEPT, note="受理"))
    row = town.case(case_id)
    assert row.status == "accepted" and row.version == version + 1
    before = _counts(town)
    with pytest.raises(IllegalTransition):
        workspace.act(DISPATCHER, case_id, row.version, ActionForm(Action.ACCEPT))
    with pytest.raises(ActionRefused):  # a dispatcher may not void (needs approval)
        workspace.act(DISPATCHER, case_id, row.version, ActionForm(Action.VOID, reason="重复"))
    with pytest.raises(ConcurrentChange):  # the page showed the case before the accept
        workspace.act(DISPATCHER, case_id, version, ActionForm(Action.REGISTER))
    assert _counts(town) == before and town.case(case_id).status == "accepted"


def test_a_photo_step_stores_the_photo_with_the_step(town: Town, workspace: CaseWorkspace) -> None:
    case_id = _handling_case(town)
    dept = _department(DEPT)
    version = town.case(case_id).version
    before = _counts(town)
    with pytest.raises(IllegalTransition):  # the photo is required: nothing without it
        workspace.act(dept, case_id, version, ActionForm(Action.HANDLED))
    with pytest.raises(InvalidPhoto):
        form = ActionForm(Action.HANDLED, photo=b"not an image", photo_name="x.jpg")
        workspace.act(dept, case_id, version, form)
    assert _counts(town) == before
    photo = _jpeg(1)
    form = ActionForm(Action.HANDLED, photo=photo, photo_name="done.jpg", note="已清理")
    workspace.act(dept, case_id, version, form)
    view = workspace.view(dept, case_id)
    assert view is not None and view.status is CaseStatus.HANDLED
    assert len(view.attachments) == 1
    assert view.timeline[-1].attachments == view.attachments
    assert view.timeline[-1].note == "已清理"


def test_a_refused_photo_step_leaves_no_photo_behind(town: Town, workspace: CaseWorkspace) -> None:
    case_id = _handling_case(town)
    grid_worker = Principal("gw-0001", Role.GRID_WORKER, "user", 5)
    version = town.case(case_id).version
    before = _counts(town)
    form = ActionForm(Action.CHECK_PASS, photo=_jpeg(2), photo_name="site.jpg")
    with pytest.raises(IllegalTransition):  # nothing to check: the case is still handling
        workspace.act(grid_worker, case_id, version, form)
    assert _counts(town) == before
