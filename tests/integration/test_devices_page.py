"""The admin page of tracker bindings (/admin/devices): bind and unbind with the session's CSRF
token, audited; other roles refused; the OsmAnd door hears a device once it is bound."""

from __future__ import annotations

from sqlalchemy import delete, select

from dashboard.domain.roles import Role
from dashboard.storage.models import GridWorker, TrackerDevice
from tests.integration import test_security_support as support
from tests.integration.test_security_support import SecureApp

_secure_apps, lite_secure = support._secure_apps, support.lite_secure


def test_an_admin_binds_and_unbinds_a_tracker(lite_secure: SecureApp) -> None:
    app = lite_secure
    with app.services.db.read() as session:
        worker = session.scalars(select(GridWorker.id).order_by(GridWorker.id).limit(1)).one()
    app.user("boss", Role.ADMIN)
    client, csrf = app.signed_in("boss")
    try:
        assert client.get("/osmand?id=phone-7&lat=29.6&lon=120.3").status_code == 400
        page = client.get("/admin/devices").get_data(as_text=True)
        assert "定位终端绑定" in page and "尚无绑定的定位终端" in page
        no_token = client.post("/admin/devices/bind", data={"device": "x", "worker": worker})
        assert no_token.status_code == 403  # CSRF
        form = {"device": "phone-7", "worker": worker, "csrf_token": csrf}
        done = client.post("/admin/devices/bind", data=form)
        assert done.status_code == 303 and "done=bound" in done.headers["Location"]
        assert "phone-7" in client.get("/admin/devices").get_data(as_text=True)
        assert client.get("/osmand?id=phone-7&lat=29.6&lon=120.3").status_code == 200
        bad = client.post("/admin/devices/bind", data={**form, "worker": "nobody"})
        assert "done=unknown_worker" in bad.headers["Location"]
        gone = client.post("/admin/devices/unbind", data={"device": "phone-7", "csrf_token": csrf})
        assert "done=unbound" in gone.headers["Location"]
        assert client.get("/osmand?id=phone-7&lat=29.6&lon=120.3").status_code == 400
        assert [e.action for e in app.audit() if e.action.startswith("device.")] == [
            "device.bind",
            "device.unbind",
        ]
        app.user("watcher", Role.SUPERVISOR)
        other, _ = app.signed_in("watcher")
        assert other.get("/admin/devices").status_code == 403
    finally:
        with app.services.db.transaction() as session:
            session.execute(delete(TrackerDevice))
