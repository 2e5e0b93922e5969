"""Leaders read cases and never change them (issue 13), over the real app on SQLite and
PostgreSQL: a leader's session and a leader's token get 200 on every read of a case in their
area (the case, the list, a photo, the case list and case pages) and 403 on every write path of
a case - a step, photos, camera evidence, a call's still, a report, the case page's callbacks -
and a refused write changes nothing. The same refusal holds one layer down (the services)."""

from __future__ import annotations

import inspect
import io
import json
from typing import Any

import cv2
import dash
import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dashboard.domain.errors import ReadOnlyRole
from dashboard.domain.lifecycle import ActionRequest
from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.security.principal import Principal
from dashboard.services.camera_evidence import save_evidence
from dashboard.services.case_workspace import ActionForm, CaseWorkspace
from dashboard.storage.models import Attachment, Camera, Case, CaseEvent, Grid
from layouts import case_ids as ids
from tests.integration import test_security_support as support
from tests.integration.support import make_report
from tests.integration.test_security_matrix import _router_body
from tests.integration.test_security_support import SecureApp

_secure_apps, secure = support._secure_apps, support.secure  # fixtures


def _jpeg(seed: int) -> bytes:
    image = np.full((60, 80, 3), (seed * 40 % 255, 90, 160), np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


class _Grids:
    """What make_report needs of the seeded town: its first grid's centre."""

    def __init__(self, app: SecureApp) -> None:
        self.db = app.services.db

    def grid(self, index: int = 0) -> Grid:
        with self.db.read() as session:
            return session.scalars(select(Grid).order_by(Grid.code).offset(index).limit(1)).one()


def _case_with_photo(app: SecureApp) -> tuple[int, str, str]:
    """A grid worker's report with a photo (so "accept" is legal next): its id, the photo's id
    and its village."""
    services = app.services
    photo = services.photos.inspect(_jpeg(1), "site.jpg")
    record = services.cases.report(make_report(_Grids(app)), [photo])  # type: ignore[arg-type]
    return record.id, photo.sha256, record.village_code


def _state(app: SecureApp, case_id: int) -> tuple[int, int, int]:
    """The case's version, its trail length and its photos: a refused write changes none."""
    with app.services.db.read() as session:
        row = session.get(Case, case_id)
        assert row is not None
        events = session.scalar(select(func.count()).where(CaseEvent.case_id == case_id))
        photos = session.scalar(select(func.count()).where(Attachment.case_id == case_id))
    return row.version, int(events or 0), int(photos or 0)


def _submit_body(case_id: int, version: int) -> dict[str, Any]:
    """What dash-renderer posts when the case page's confirm button is pressed (an open form of
    the step "accept"): the page's submit callback, as registered."""
    callbacks = dash.get_app().callback_map
    output = next(
        key for key, spec in callbacks.items() if any(i["id"] == ids.SUBMIT for i in spec["inputs"])
    )
    spec = callbacks[output]
    values = {
        (ids.SUBMIT, "n_clicks"): 1,
        (ids.PENDING, "data"): Action.ACCEPT.value,
        (ids.STORE, "data"): {"id": case_id, "version": version, "lang": "zh"},
    }

    def entry(dep: dict[str, Any]) -> Any:
        key = (dep["id"], dep["property"])
        if key in values:
            return {**dep, "value": values[key]}
        return []  # the pattern-matching fields of the form: none filled in

    return {
        "output": output,
        "outputs": [
            {"id": part.split(".")[0], "property": part.split(".")[1]}
            for part in output.strip(".").split("...")
        ],
        "inputs": [entry(i) for i in spec["inputs"]],
        "state": [entry(s) for s in spec["state"]],
        "changedPropIds": [f"{ids.SUBMIT}.n_clicks"],
    }


def _pages_are_read_only(
    client: FlaskClient, headers: dict[str, str], case_id: int, village: str, label: str
) -> None:
    """The case list and the case page open (Dash's router), the case page without a control."""
    for path, search in (("/cases", f"?place={village}"), (f"/cases/{case_id}", "")):
        page = client.post(
            "/_dash-update-component", json=_router_body(path, search), headers=headers
        )
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "access-notice" not in text, (label, path)
        assert str(case_id) in text, (label, path)
        if path.startswith("/cases/"):
            assert "case-ws-readonly" in text and ids.ACTION_BUTTON not in text
            assert ids.UPLOAD not in text


def _pages_serve(app: SecureApp) -> bool:
    """Whether Dash's page registry (one per process) holds this app's pages: each create_app
    registers its pages again, so the pages answer with the services of the app created last
    (the tests' SQLite and PostgreSQL apps live in one process)."""
    layout = inspect.unwrap(dash.page_registry["case"]["layout"])
    page = inspect.getclosurevars(layout).nonlocals.get("page")
    return getattr(page, "services", None) is app.services


def _callers(app: SecureApp, village: str) -> list[tuple[str, FlaskClient, dict[str, str]]]:
    """A leader of the case's town signed in, and a leader's token of the same town."""
    town = village[:9]
    app.user("leader-zhang", Role.LEADER, area_code=town)
    client, csrf = app.signed_in("leader-zhang")
    token = app.token(Role.LEADER, "meeting-room", area_code=town)
    return [
        ("session", client, app.csrf_headers(csrf)),
        ("token", app.client(), {"Authorization": f"Bearer {token}"}),
    ]


def test_a_leader_reads_every_case_of_the_area_and_changes_none(secure: SecureApp) -> None:
    app = secure
    case_id, photo_id, village = _case_with_photo(app)
    before = _state(app, case_id)
    with app.services.db.read() as session:
        camera = session.scalar(select(Camera.id).order_by(Camera.id).limit(1)) or "cam"
    with app.generous():
        for label, client, headers in _callers(app, village):
            # Reads: 200.
            detail = client.get(f"/api/v1/cases/{case_id}", headers=headers)
            assert detail.status_code == 200, label
            assert detail.get_json()["attachments"] == [photo_id]
            listed = client.get(f"/api/v1/cases?place={village}", headers=headers)
            assert listed.status_code == 200, label
            assert case_id in [row["id"] for row in listed.get_json()["cases"]]
            picture = client.get(f"/api/v1/attachments/{photo_id}", headers=headers)
            assert picture.status_code == 200 and picture.mimetype == "image/jpeg", label
            picture.close()
            if _pages_serve(app):  # else Dash answers with the app created last in the process
                _pages_are_read_only(client, headers, case_id, village, label)
            # The CSV of the whole matching base is a desk export, not a leader's (403).
            export = client.get(f"/api/v1/cases.csv?place={village}", headers=headers)
            assert export.status_code == 403, label
            # Writes: 403, each of them, and nothing changes.
            writes = {
                "step": client.post(
                    f"/api/v1/cases/{case_id}/actions",
                    json={"action": "accept"},  # legal now: refused for the role alone
                    headers=headers,
                ),
                "photos": client.post(
                    f"/api/v1/cases/{case_id}/attachments",
                    data={"photos": (io.BytesIO(_jpeg(2)), "more.jpg")},
                    content_type="multipart/form-data",
                    headers=headers,
                ),
                "evidence": client.post(
                    f"/api/v1/cases/{case_id}/evidence", json={"camera_id": camera}, headers=headers
                ),
                "still": client.post(
                    "/m/api/calls/1/still",
                    data={"photos": (io.BytesIO(_jpeg(3)), "still.jpg")},
                    content_type="multipart/form-data",
                    headers=headers,
                ),
                "report": client.post(
                    "/api/v1/cases",
                    json={
                        "category": "01002",
                        "description": "一位领导试图上报",
                        "lon": 120.0,
                        "lat": 29.0,
                        "source": "grid_worker",
                    },
                    headers=headers,
                ),
                "page callback": client.post(
                    "/_dash-update-component",
                    json=_submit_body(case_id, before[0]),
                    headers=headers,
                ),
            }
            refused = {name: r.status_code for name, r in writes.items()}
            assert refused == dict.fromkeys(writes, 403), (label, refused)
            assert json.loads(writes["step"].get_data())["error"] in {"forbidden", "read_only"}
            assert _state(app, case_id) == before, label
        # The control: the same requests from a dispatcher's desk go through (the bodies are
        # right; only the leader's role was refused).
        app.user("desk-li", Role.DISPATCHER)
        desk, csrf = app.signed_in("desk-li")
        headers = app.csrf_headers(csrf)
        added = desk.post(
            f"/api/v1/cases/{case_id}/attachments",
            data={"photos": (io.BytesIO(_jpeg(6)), "desk.jpg")},
            content_type="multipart/form-data",
            headers=headers,
        )
        assert added.status_code == 201
        if not _pages_serve(app):
            return  # the page's callbacks are bound to the app created last in the process
        version = _state(app, case_id)[0]
        pressed = desk.post(
            "/_dash-update-component", json=_submit_body(case_id, version), headers=headers
        )
        assert pressed.status_code == 200
        assert _state(app, case_id)[0] == version + 1  # "accept" taken by the desk


def test_a_leader_of_another_town_does_not_see_the_case(secure: SecureApp) -> None:
    app = secure
    case_id, photo_id, village = _case_with_photo(app)
    other = "999999999"
    app.user("leader-far", Role.LEADER, area_code=other)
    client, _ = app.signed_in("leader-far")
    with app.generous():
        assert client.get(f"/api/v1/cases/{case_id}").status_code == 404
        assert client.get(f"/api/v1/attachments/{photo_id}").status_code == 404
        listed = client.get(f"/api/v1/cases?place={village}").get_json()["cases"]
        assert listed == []


@pytest.mark.parametrize("role", [Role.LEADER, Role.WALL])
def test_the_services_refuse_a_read_only_principal_too(secure: SecureApp, role: Role) -> None:
    """One layer down, for any caller that reaches the services without the web guards: the
    case workspace's step, the case service's step and the camera evidence raise ReadOnlyRole,
    and write nothing."""
    app = secure
    case_id, _photo, _village = _case_with_photo(app)
    who = Principal("reader", role, "user", 99, Scope())
    before = _state(app, case_id)
    workspace = CaseWorkspace(app.services, app.services.photos)
    with pytest.raises(ReadOnlyRole):
        workspace.act(who, case_id, before[0], ActionForm(Action.ACCEPT, photo=_jpeg(4)))
    with pytest.raises(ReadOnlyRole):  # the case service itself, whoever calls it
        app.services.cases.act(case_id, ActionRequest(Action.ACCEPT, "reader", role))
    frame = type("Frame", (), {"at": app.clock.now()})()
    photo = app.services.photos.inspect(_jpeg(5), "cam.jpg")
    if role is Role.LEADER:  # a wall cannot see cases at all: "not found" comes first
        with pytest.raises(ReadOnlyRole):
            save_evidence(app.services, case_id, who, {"id": "cam", "name": "cam"}, frame, photo)
    assert _state(app, case_id) == before
