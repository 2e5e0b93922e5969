"""The role matrix: every role, as a signed-in user and as a bearer token, against every route of
the Flask app, every Dash page, every Dash callback and the live websocket.

Data-driven so new parts are covered without a new test: routes come from ``server.url_map``,
pages from Dash's page registry, callbacks from Dash's callback map. ``EXPECT`` says who may use
an endpoint; an endpoint missing from it must still refuse anonymous callers, and when its view
wears ``require(permission)`` the matrix checks exactly the roles holding that permission. A new
route with a path parameter needs a sample value in ``SAMPLES`` (the test says which).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dash
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from dashboard.domain.permissions import ROLE_PERMISSIONS, Permission, roles_with
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.security.pages import guarded_permission
from dashboard.security.web import STATIC_ENDPOINTS
from dashboard.services.campaigns import RECORDERS
from dashboard.services.cases import CaseReport
from dashboard.services.field import CALLING_ROLES
from dashboard.storage.models import GridWorker
from tests.integration import test_security_support as support
from tests.integration.test_security_support import SecureApp

_secure_apps, lite_secure = support._secure_apps, support.lite_secure  # fixtures

P = Permission


@dataclass(frozen=True)
class Rule_:
    """Who may call an endpoint: ``public`` (anyone), or principals (all, or these roles)."""

    public: bool = False
    roles: frozenset[Role] | None = None  # None: every signed-in principal

    def allows(self, role: Role | None) -> bool:
        if self.public:
            return True
        return role is not None and (self.roles is None or role in self.roles)


PUBLIC = Rule_(public=True)
ANY = Rule_()


def perm(permission: Permission) -> Rule_:
    return Rule_(roles=roles_with(permission))


# The intended access of every known endpoint. Pages (the Dash shell) are open to any principal:
# what a page shows is decided by its page_guard, checked by test_every_page_checks_the_role.
EXPECT: dict[str, Rule_] = {
    **{endpoint: PUBLIC for endpoint in STATIC_ENDPOINTS},
    "health.healthz": PUBLIC,
    "health.live": PUBLIC,
    "security.login": PUBLIC,
    "security.logout": ANY,
    "admin.me": ANY,
    "admin.audit_log": perm(P.VIEW_AUDIT),
    "admin.audit_page": perm(P.VIEW_AUDIT),
    "api.cases.report_case": perm(P.REPORT_CASE),
    "api.cases.get_case": perm(P.VIEW_CASES),
    # writes: never a read-only role (a leader reads cases); the action's role check is inside
    "api.cases.act_on_case": perm(P.CHANGE_CASES),
    "api.cases.add_photos": perm(P.CHANGE_CASES),
    "api.cases.get_attachment": perm(P.VIEW_CASES),
    "api.case_list.list_cases": perm(P.VIEW_CASES),  # scoped: see test_api_case_list
    "api.case_list.export_cases": perm(P.EXPORT_CASES),
    "api.reference.villages": perm(P.VIEW_REFERENCE),
    "api.reference.villages_geojson": perm(P.VIEW_REFERENCE),
    "api.reference.categories": perm(P.VIEW_REFERENCE),
    "api.positions.submit_positions": perm(P.SUBMIT_POSITIONS),
    "api.supervision_actions.log_call": perm(P.SUPERVISE),
    # Departments read the orders addressed to them (filtered inside the view).
    "api.supervision.orders": Rule_(roles=roles_with(P.SUPERVISE) | {Role.DEPARTMENT}),
    "api.supervision.calls": perm(P.SUPERVISE),
    "api.supervision_actions.snooze_call": perm(P.SUPERVISE),
    "api.supervision_actions.close_order": perm(P.SUPERVISE),
    # the target department replies to its own orders (others' answer 404: not "denied")
    "api.supervision_actions.reply_order": Rule_(roles=roles_with(P.SUPERVISE) | {Role.DEPARTMENT}),
    "api.cameras.list_cameras": perm(P.VIEW_CAMERAS),  # area-scoped: see test_video_api
    "api.cameras.snapshot": perm(P.VIEW_CAMERAS),
    "video.live_mjpeg": perm(P.VIEW_CAMERAS),
    # a camera's frame saved on a case: both the cameras and changing the case
    "api.cameras.save_case_evidence": Rule_(
        roles=roles_with(P.VIEW_CAMERAS) & roles_with(P.CHANGE_CASES)
    ),
    "api.camera_layouts.list_layouts": perm(P.VIEW_CAMERAS),
    "api.camera_layouts.create_layout": perm(P.VIEW_CAMERAS),
    "api.camera_layouts.update_layout": perm(P.VIEW_CAMERAS),
    "api.camera_layouts.delete_layout": perm(P.VIEW_CAMERAS),
    # campaigns: every trends reader reads them; leaders, commanders, admins record (issue 13)
    **{
        f"api.leadership.{name}": Rule_(roles=RECORDERS)
        for name in ("create_campaign", "update_campaign", "delete_campaign")
    },
    "api.trends.summary": perm(P.VIEW_TRENDS),  # area-scoped: see test_trends_summary
    "api.trend_exports.chart": perm(P.VIEW_TRENDS),
    "api.trend_exports.table": perm(P.VIEW_TRENDS),
    "api.trend_exports.briefings": perm(P.VIEW_TRENDS),
    "api.trend_exports.make": perm(P.VIEW_TRENDS),
    "api.trend_exports.briefing": perm(P.VIEW_TRENDS),
    "api.no_route": ANY,  # unknown /api/v1/… paths: 404 JSON, but only to a principal
    # Patrol tracks (issue 16): the OsmAnd door is the protocol's (a bound device id, no login);
    # a grid worker reads only their own track (the sample worker is nobody's: denied).
    "osmand.osmand": PUBLIC,
    "api.tracks.track": perm(P.VIEW_POSITIONS),
    "api.tracks.worker_patrol": perm(P.VIEW_POSITIONS),
    "api.tracks.area_patrol": perm(P.VIEW_POSITIONS),
    "api.tracks.moment": perm(P.VIEW_POSITIONS),
    "api.tracks.geofence": perm(P.VIEW_POSITIONS),
    # The field app (issue 14): the shell for whoever may report; its data for a principal bound
    # to a grid worker; the command room's side of a video call for the roles that may call.
    "field.shell": perm(P.REPORT_CASE),
    "field.manifest": PUBLIC,
    "field.service_worker": PUBLIC,
    "field.me": Rule_(roles=frozenset({Role.GRID_WORKER})),
    "field.my_tasks": Rule_(roles=frozenset({Role.GRID_WORKER})),
    "field.my_reports": Rule_(roles=frozenset({Role.GRID_WORKER})),
    "field.my_track": Rule_(roles=frozenset({Role.GRID_WORKER})),
    "field_calls.case_reporter": Rule_(roles=CALLING_ROLES),
    "field_calls.save_still": Rule_(roles=CALLING_ROLES),
    "field_calls.call_log": Rule_(roles=CALLING_ROLES),
    # The doors to other systems (issue 17): the description and Open311's reference data are
    # public; requests and updates need an integration key (a token: see TOKENS_ONLY).
    "openapi.openapi": PUBLIC,
    "open311.discovery": PUBLIC,
    "open311.services": PUBLIC,
    "open311.service_definition": PUBLIC,
    "open311.no_route": PUBLIC,
    **{
        f"open311.{view}": Rule_(roles=frozenset({Role.INTEGRATION}))
        for view in (
            "create_request",
            "list_requests",
            "get_request",
            "get_token",
            "list_updates",
            "post_update",
        )
    },
    "/": ANY,
    "/<path:path>": ANY,
    "/_dash-layout": ANY,
    "/_dash-dependencies": ANY,
    "/_dash-update-component": ANY,
    "/_reload-hash": ANY,
}
# Sample values of path parameters ({case} and {asset} are filled in per test).
SAMPLES: dict[str, str] = {
    "case_id": "{case}",
    "attachment_id": "0" * 64,
    "filename": "base.css",
    "path": "wall",
    "package_name": "{package}",
    "fingerprinted_path": "{asset}",
    "_rest": "no-such-endpoint",
    "camera_id": "{camera}",
    "entry_id": "1",
    "order_id": "1",
    "layout_id": "1",
    "worker_id": "W-none",
    "claim_id": "1",
    "resident_id": "1",
    "request_id": "1",
    "paper_id": "1",
    "file_id": "1",  # a claim's evidence photo (issue 18)
    "call_id": "1",
    "fmt": "json",
    "service_code": "01002",
    "service_request_id": "{case}",
    "token": "no-such-token",
    "campaign_id": "1",
    "name": "places",  # a trends chart, table or briefing
}
# Endpoints that take tokens only (a key), never a signed-in browser of the same role.
TOKENS_ONLY = {endpoint for endpoint in EXPECT if endpoint.startswith("open311.")}
# Endpoints a request would change for the next caller: each call gets a fresh session.
CONSUMES_SESSION = {"security.logout"}
SKIP_METHODS = {"HEAD", "OPTIONS"}


def _router_body(pathname: str, search: str = "") -> dict[str, Any]:
    """What dash-renderer posts when the address changes (Dash pages' router callback)."""
    return {
        "output": "..\u005fpages_content.children...\u005fpages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


BODIES: dict[str, dict[str, Any]] = {"/_dash-update-component": _router_body("/")}


@dataclass
class Caller:
    label: str
    role: Role | None
    client: FlaskClient
    headers: dict[str, str]
    username: str | None = None


def _callers(app: SecureApp) -> Iterator[Caller]:
    yield Caller("anonymous", None, app.client(), {})
    for role in Role:
        username = f"matrix-{role.value}"
        # A grid worker signs in as their worker record (the field app's data needs one).
        app.user(
            username, role, **({"worker_id": _a_worker(app)} if role is Role.GRID_WORKER else {})
        )
        client, csrf = app.signed_in(username)
        yield Caller(f"{role.value} user", role, client, app.csrf_headers(csrf), username)
        token = app.token(role, f"matrix-{role.value}")
        yield Caller(
            f"{role.value} token", role, app.client(), {"Authorization": f"Bearer {token}"}
        )


def _a_worker(app: SecureApp) -> str:
    with app.services.db.read() as session:
        worker = session.scalar(select(GridWorker.id).order_by(GridWorker.id).limit(1))
    assert worker is not None
    return str(worker)


def _url(rule: Rule, values: dict[str, str]) -> str:
    missing = [arg for arg in rule.arguments if arg not in SAMPLES]
    assert not missing, f"{rule.rule}: add a sample value for {missing} to SAMPLES"
    url = rule.rule
    for arg in rule.arguments:
        sample = SAMPLES[arg].format(**values)
        url = re.sub(r"<(?:[^:<>]+:)?" + arg + r">", sample, url)
    return url


def _denied(response: TestResponse) -> bool:
    if response.status_code in (401, 403):
        return True
    # the guard sends strangers to /login?next=…; signing out ends on /login itself
    return response.status_code == 302 and response.location.startswith("/login?next=")


def _seed_case(app: SecureApp) -> int:
    with app.services.db.read() as session:
        from dashboard.storage.models import Grid

        grid = session.query(Grid).order_by(Grid.code).first()
        assert grid is not None
    record = app.services.cases.report(
        CaseReport(
            "01002", "matrix", grid.lon, grid.lat, Source.GRID_WORKER, "gw", Role.GRID_WORKER
        )
    )
    return record.id


def _asset(app: SecureApp, username: str = "matrix-admin") -> tuple[str, str]:
    """A real script of the page shell (package, path), as the component-suite route wants."""
    client, _ = app.signed_in(username)
    html = client.get("/").get_data(as_text=True)
    found = re.search(r'src="/_dash-component-suites/([^/"]+)/([^"?]+)', html)
    assert found, "no component suite script in the page"
    return found.group(1), found.group(2)


def _rule_for(app: SecureApp, endpoint: str) -> Rule_:
    if endpoint in EXPECT:
        return EXPECT[endpoint]
    declared = guarded_permission(app.app.view_functions[endpoint])
    return perm(declared) if declared is not None else ANY


def test_every_route_allows_exactly_the_roles_it_should(lite_secure: SecureApp) -> None:
    app = lite_secure
    callers = list(_callers(app))
    package, asset = _asset(app)
    values = {"case": str(_seed_case(app)), "package": package, "asset": asset, "camera": "cam"}
    failures: list[str] = []
    with app.generous():
        for rule in app.app.url_map.iter_rules():
            expected = _rule_for(app, rule.endpoint)
            url = _url(rule, values)
            for method in sorted((rule.methods or set()) - SKIP_METHODS):
                for caller in callers:
                    failures += _check(app, rule.endpoint, method, url, caller, expected)
    assert not failures, "\n".join(failures)


def _check(
    app: SecureApp, endpoint: str, method: str, url: str, caller: Caller, expected: Rule_
) -> list[str]:
    client, headers = caller.client, caller.headers
    if endpoint in CONSUMES_SESSION and caller.username:
        client, csrf = app.signed_in(caller.username)
        headers = app.csrf_headers(csrf)
    kwargs: dict[str, Any] = {"headers": headers}
    if method != "GET":
        kwargs["json"] = BODIES.get(endpoint, {})
    response = client.open(url, method=method, **kwargs)
    denied = _denied(response)
    response.close()  # static files are streamed from open files
    if endpoint in TOKENS_ONLY and caller.username and not expected.public:
        expected = Rule_(roles=frozenset())
    if expected.allows(caller.role) == (not denied):
        return []
    want = "allowed" if expected.allows(caller.role) else "denied"
    return [f"{method} {url} ({endpoint}) as {caller.label}: want {want}, got {response.status}"]


def test_every_page_checks_the_role(lite_secure: SecureApp) -> None:
    """Each Dash page wears page_guard; its content reaches exactly the roles it names."""
    app = lite_secure
    callers = [c for c in _callers(app) if c.role is not None]
    app.client().get("/healthz")  # Dash sets its pages up on the first request
    pages = list(dash.page_registry.values())
    assert pages, "no Dash page registered"
    failures: list[str] = []
    with app.generous():
        for page in pages:
            permission = guarded_permission(page["layout"])
            if permission is None:
                failures.append(f"page {page['path']} has no page_guard")
                continue
            for caller in callers:
                body = _router_body(page["path"])
                response = caller.client.post(
                    "/_dash-update-component", json=body, headers=caller.headers
                )
                assert response.status_code == 200, (page["path"], caller.label, response.status)
                shown = "access-notice" not in response.get_data(as_text=True)
                if shown != (caller.role in roles_with(permission)):
                    failures.append(f"page {page['path']} as {caller.label}: shown={shown}")
    assert not failures, "\n".join(failures)


def test_the_html_shell_carries_no_page_data(lite_secure: SecureApp) -> None:
    """Dash embeds a validation layout built from every page in the HTML shell: it must be the
    guard's placeholder, never a page built for whoever made the process's first request."""
    app = lite_secure
    app.user("shell-admin", Role.ADMIN)
    client, _ = app.signed_in("shell-admin")
    client.get("/")
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r'id="_dash-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    shell = json.dumps(config.get("validation_layout", {}), ensure_ascii=False)
    assert "page-placeholder" in shell or not config.get("validation_layout")
    assert "kpi" not in shell


def test_every_server_callback_checks_the_role(lite_secure: SecureApp) -> None:
    app = lite_secure
    app.client().get("/healthz")
    unguarded = [
        output
        for output, spec in dash.get_app().callback_map.items()
        if "callback" in spec
        and "_pages_content" not in output  # the page router: each page has its page_guard
        and guarded_permission(spec["callback"]) is None
    ]
    assert not unguarded, f"callbacks without guard_callback: {unguarded}"


def test_the_live_websocket_admits_only_wall_viewers(lite_secure: SecureApp) -> None:
    app = lite_secure
    socketio = app.services.socketio
    assert socketio is not None, "create_app did not start the live websocket"
    failures: list[str] = []
    with app.generous():
        for caller in _callers(app):
            auth = None
            if "Authorization" in caller.headers:
                auth = {"token": caller.headers["Authorization"].split(" ", 1)[1]}
            client = socketio.test_client(
                app.app, namespace="/live", auth=auth, flask_test_client=caller.client
            )
            connected = client.is_connected("/live")
            if connected:
                client.disconnect("/live")
            want = caller.role is not None and P.VIEW_WALL in ROLE_PERMISSIONS[caller.role]
            if connected != want:
                failures.append(f"/live as {caller.label}: connected={connected}, want {want}")
    assert not failures, "\n".join(failures)


def test_the_video_websocket_admits_only_camera_viewers(lite_secure: SecureApp) -> None:
    app = lite_secure
    socketio = app.services.socketio
    failures: list[str] = []
    with app.generous():
        for caller in _callers(app):
            auth = None
            if "Authorization" in caller.headers:
                auth = {"token": caller.headers["Authorization"].split(" ", 1)[1]}
            client = socketio.test_client(
                app.app, namespace="/video", auth=auth, flask_test_client=caller.client
            )
            connected = client.is_connected("/video")
            if connected:
                client.disconnect("/video")
            want = caller.role is not None and P.VIEW_CAMERAS in ROLE_PERMISSIONS[caller.role]
            if connected != want:
                failures.append(f"/video as {caller.label}: connected={connected}, want {want}")
    assert not failures, "\n".join(failures)
