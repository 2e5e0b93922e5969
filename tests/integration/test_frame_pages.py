"""The frame's own pages: the root address leads a role that may not see it to its own page; the
audit log as a page of the desk frame (words and names, local times, filters, paging, and a page,
not JSON, for a role that may not read it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dashboard.domain.roles import Role
from dashboard.security import audit
from dashboard.security.audit import Actor
from dashboard.security.audit_page import PAGE_SIZE
from dashboard.storage.models import GridWorker
from tests.integration import test_security_support as support
from tests.integration.test_security_support import SecureApp

_secure_apps, lite_secure = support._secure_apps, support.lite_secure


def test_the_root_leads_a_department_and_a_grid_worker_to_their_own_page(
    lite_secure: SecureApp,
) -> None:
    lite_secure.user("qian", Role.DEPARTMENT)
    lite_secure.user("wu", Role.GRID_WORKER)
    for username, home in (("qian", "/department"), ("wu", "/m")):
        client, _ = lite_secure.signed_in(username)
        response = client.get("/?lang=en")
        assert response.status_code == 302 and response.location == f"{home}?lang=en"
    lite_secure.user("wang", Role.COMMANDER)
    client, _ = lite_secure.signed_in("wang")
    assert client.get("/").status_code == 200  # the status page is the commander's own


def test_a_commander_gets_a_page_that_says_no(lite_secure: SecureApp) -> None:
    lite_secure.user("wang", Role.COMMANDER, display_name="王值班")
    client, _ = lite_secure.signed_in("wang")
    response = client.get("/admin/audit")
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "无权访问" in page and "王值班" in page and 'class="shell-bar"' in page
    assert 'href="/?lang=zh"' in page  # the way back to their own page


def test_the_log_in_words_names_and_local_time(lite_secure: SecureApp) -> None:
    app = lite_secure
    app.user("boss", Role.ADMIN, display_name="张管理")
    app.user("li", Role.DISPATCHER, display_name="李受理")
    at = app.clock.now()
    audit.write(
        app.services.db,
        Actor("li", "dispatcher"),
        "case.accept",
        at,
        "case:42",
        **{"from": "reported", "to": "accepted"},
    )
    client, _ = app.signed_in("boss")
    # Our row alone (the log is shared with other tests, and append-only).
    page = client.get("/admin/audit?actor=li&kind=case.accept").get_data(as_text=True)
    row = page[page.index("<tbody>") :]
    assert "李受理" in row and "受理派遣员" in row and "已上报 → 已受理" in row
    assert 'href="/cases/42?lang=zh"' in row and "事件 42" in row
    assert "case.accept" not in row and "dispatcher" not in row
    local = at.astimezone(app.services.reference.calendar.tz).strftime("%Y-%m-%d %H:%M:%S")
    assert local in row


def test_filters_and_paging_keep_each_other(lite_secure: SecureApp) -> None:
    app = lite_secure
    app.user("boss", Role.ADMIN)
    now = app.clock.now()
    for i in range(PAGE_SIZE + 3):
        audit.write(app.services.db, Actor("cli:root", "admin"), "camera_view", now, f"camera:c{i}")
    audit.write(app.services.db, Actor("li", "dispatcher"), "sign_in", now)
    client, _ = app.signed_in("boss")
    first = client.get("/admin/audit?kind=camera_*").get_data(as_text=True)
    assert first.count("查看视频") == PAGE_SIZE and "登录</td>" not in first
    older = first[first.index('id="audit-older"') - 200 :]
    assert "kind=camera_%2A" in older and "before=" in older
    # A day before anything in the shared audit log (other tests of this app move its clock
    # forward and their rows stay: the log is append-only), then one where only ours are.
    tz = app.services.reference.calendar.tz
    long_ago = (now - timedelta(days=5 * 365)).astimezone(tz).date()
    earlier = client.get(f"/admin/audit?until={long_ago.isoformat()}").get_data(as_text=True)
    assert "没有符合条件的记录" in earlier
    today = now.astimezone(tz).date().isoformat()
    ours = client.get(f"/admin/audit?since={today}&until={today}&kind=camera_*")
    assert ours.get_data(as_text=True).count("查看视频") == PAGE_SIZE
    bad = client.get("/admin/audit?since=yesterday").get_data(as_text=True)
    assert "筛选条件有误" in bad


def test_a_grid_workers_report_names_the_worker_not_its_id(lite_secure: SecureApp) -> None:
    """A phone (and the simulator) acts as its worker's id; the log shows the worker's name."""
    app = lite_secure
    app.user("boss", Role.ADMIN)
    with app.services.db.read() as session:
        worker = session.scalars(select(GridWorker).order_by(GridWorker.id).limit(1)).one()
    audit.write(
        app.services.db, Actor(worker.id, "grid_worker"), "case.report", app.clock.now(), "case:7"
    )
    client, _ = app.signed_in("boss")
    page = client.get(f"/admin/audit?actor={worker.id}").get_data(as_text=True)
    row = page[page.index("<tbody>") :]
    assert worker.name in row and worker.id not in row
