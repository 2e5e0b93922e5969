"""The field app for grid workers' phones (issue 14): ``/m`` and what it reads.

- ``GET /m``: the app shell (server-rendered HTML, every value escaped; the texts of the user's
  language as a JSON block the script reads, never as markup). The app's script
  (``dashboard/assets/field/*.js``, plain JS, no build step) draws the pages: patrol, report,
  one-click emergency, my tasks, my reports, and the residents' side (residents.js: claim a
  deed, open a service request on a resident's behalf, my residents' requests; issue 18).
- ``GET /m/manifest.webmanifest`` and ``GET /m/sw.js``: the web app manifest and the service
  worker (scope ``/m``) that caches the app shell so the app opens with no network. Public:
  they carry no data.
- ``GET /m/api/me | tasks | reports | track``: the signed-in worker's own record and grid, the
  tasks waiting in their grid, their own reports with the trail, their fixes of today
  (dashboard.services.field). Everything the phone *sends* goes through the existing ``/api/v1``
  (``POST /cases`` with an Idempotency-Key, ``/cases/{id}/attachments``, ``/cases/{id}/actions``,
  ``/positions``): one contract for phones, tokens and the simulator.

Who: any signed-in principal with ``report_case`` may open the shell; the data needs a worker
record (a ``grid_worker`` user created with ``--worker``, or a phone token): others get 403
``no_worker`` and the page says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template_string, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from dashboard.container import Services
from dashboard.domain.permissions import Permission
from dashboard.http import field_calls  # the command room's side of a video call
from dashboard.http.errors import ApiError
from dashboard.i18n import Lang, normalise_lang, t
from dashboard.i18n.field import ENTRIES as FIELD_TEXTS
from dashboard.i18n.residents_field import ENTRIES as RESIDENT_TEXTS
from dashboard.security.landing import home_for
from dashboard.security.principal import Principal
from dashboard.security.web import (
    browser_page,
    current_principal,
    public,
    require,
    require_principal,
)
from dashboard.services import field as field_data
from dashboard.services.field import CALLING_ROLES
from dashboard.storage.models import GridWorker

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "field"
APP_PATH = "/m"
# The emergency kinds of 一键上报 and their 小类 (the simulator's emergencies use the same).
EMERGENCIES = (("fire", "04001"), ("crowd", "01005"), ("traffic", "03004"))
# The field app needs the phone's position and camera (and microphone for a video call); every
# other page keeps them off (dashboard.security.headers).
PERMISSIONS = "camera=(self), microphone=(self), geolocation=(self), payment=(), usb=()"

bp = Blueprint("field", __name__)


# The command room's pages may use camera and microphone for a video call to a worker
# (assets/field_call.js); no one else's page, and no page the position.
CALLER_PERMISSIONS = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()"


def register_field_app(server: Flask) -> None:
    server.register_blueprint(bp)
    server.register_blueprint(field_calls.bp)
    server.after_request(_caller_permissions)


def _caller_permissions(response: Response) -> Response:
    """Camera and microphone for the command room's pages (whichever of the two after-request
    hooks runs first: dashboard.security.headers only fills in a missing header); the field
    app's shell keeps its own policy."""
    who = current_principal()
    own = response.headers.get("Permissions-Policy") == PERMISSIONS
    if who is not None and who.role in CALLING_ROLES and not own:
        response.headers["Permissions-Policy"] = CALLER_PERMISSIONS
    return response


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> ResponseReturnValue:
    return err.response()


def _services() -> Services:
    return current_app.extensions["gcc"]  # type: ignore[no-any-return]


def _lang() -> Lang:
    return normalise_lang(request.args.get("lang"), _services().config.ui.language)


@bp.get(APP_PATH)
@browser_page
def shell() -> ResponseReturnValue:
    who = require_principal()
    lang = _lang()
    if not who.can(Permission.REPORT_CASE):
        # A browser page, not JSON: a role without the app is shown the way to its own page.
        page = render_template_string(
            _REFUSED, lang=lang, t=t, home=home_for(who.role), app_title=_services().config.ui.title
        )
        return Response(page, status=403, mimetype="text/html")
    services = _services()
    texts = {key: t(key, lang) for key in (*FIELD_TEXTS, *RESIDENT_TEXTS) if key.startswith("m.")}
    departments = services.reference.departments
    config = {
        "lang": lang,
        # The departments' names: a service request says who handles it (residents.js).
        "departments": {d.code: d.name_zh if lang == "zh" else d.name_en for d in departments},
        "emergencies": [{"kind": k, "category": c} for k, c in EMERGENCIES],
        "ice_servers": services.config.field.ice_servers(),
        "patrol_seconds": services.config.field.patrol_seconds,
        "tile_url": services.config.ui.tile_url,
    }
    boot = json.dumps({"texts": texts, "config": config}, ensure_ascii=False)
    # "</" cannot end the script block early: JSON allows "<\/".
    boot = boot.replace("</", "<\\/")
    page = render_template_string(
        _SHELL,
        lang=lang,
        t=t,
        boot=Markup(boot),  # JSON in a type="application/json" block: data, never run
        who=who.display_name or who.name,
        app_title=services.config.ui.title,
    )
    response = Response(page, mimetype="text/html")
    response.headers["Permissions-Policy"] = PERMISSIONS
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get(f"{APP_PATH}/manifest.webmanifest")
@public
def manifest() -> ResponseReturnValue:
    lang = _lang()
    body = {
        "name": t("m.app_name", lang),
        "short_name": t("m.app_short", lang),
        "lang": "zh-CN" if lang == "zh" else "en",
        "start_url": f"{APP_PATH}?lang={lang}",
        "scope": APP_PATH,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#000000",
        "theme_color": "#000000",
        "icons": [
            {"src": "/assets/field/icon.svg", "sizes": "any", "type": "image/svg+xml"},
            {"src": "/assets/field/icon-192.png", "sizes": "192x192", "type": "image/png"},
        ],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


@bp.get(f"{APP_PATH}/sw.js")
@public
def service_worker() -> ResponseReturnValue:
    response = Response((ASSETS / "sw.js").read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # a new version reaches phones at once
    response.headers["Service-Worker-Allowed"] = APP_PATH
    return response


# --- the worker's data ----------------------------------------------------------------------


@bp.get(f"{APP_PATH}/api/me")
@require(Permission.REPORT_CASE)
def me() -> ResponseReturnValue:
    who = require_principal()
    with _services().db.read() as session:
        worker = _worker(session, who)
        body: dict[str, Any] = field_data.profile(session, worker)
    body["user"] = who.name
    body["display_name"] = who.display_name or who.name
    return _private(jsonify(body))


@bp.get(f"{APP_PATH}/api/tasks")
@require(Permission.VIEW_CASES)
def my_tasks() -> ResponseReturnValue:
    who = require_principal()
    with _services().db.read() as session:
        worker = _worker(session, who)
        rows = field_data.tasks(session, worker, _context())
    return _private(jsonify({"tasks": rows}))


@bp.get(f"{APP_PATH}/api/reports")
@require(Permission.VIEW_CASES)
def my_reports() -> ResponseReturnValue:
    who = require_principal()
    with _services().db.read() as session:
        _worker(session, who)
        rows = field_data.my_reports(session, who, _context())
    return _private(jsonify({"reports": rows}))


@bp.get(f"{APP_PATH}/api/track")
@require(Permission.SUBMIT_POSITIONS)
def my_track() -> ResponseReturnValue:
    who = require_principal()
    with _services().db.read() as session:
        worker = _worker(session, who)
        points = field_data.track_today(session, worker.id, _context())
    return _private(jsonify({"track": points}))


def _worker(session: Any, who: Principal) -> GridWorker:
    worker = field_data.worker_of(session, who)
    if worker is None:
        raise ApiError(
            403,
            "no_worker",
            "this sign-in is not bound to a grid worker (user create … --worker ID)",
        )
    return worker


def _context() -> field_data.FieldContext:
    services = _services()
    return field_data.FieldContext(
        reference=services.reference,
        now=services.clock.now(),
        yellow_at=services.config.rules.deadline.yellow_at,
    )


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-cache"
    return response


_REFUSED = """<!DOCTYPE html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t('m.app_name', lang) }} · {{ app_title }}</title>
<link rel="stylesheet" href="/assets/field/field.css"></head>
<body><div class="m-app"><p class="m-card m-empty" id="m-refused">{{ t('m.refused', lang) }}</p>
<p class="m-empty"><a class="m-btn" href="{{ home }}?lang={{ lang }}">
{{ t('m.refused_home', lang) }}</a></p>
</div></body></html>"""

_SHELL = """<!DOCTYPE html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#000000">
<title>{{ t('m.app_name', lang) }} · {{ app_title }}</title>
<link rel="manifest" href="/m/manifest.webmanifest?lang={{ lang }}">
<link rel="icon" href="/assets/field/icon.svg">
<link rel="stylesheet" href="/assets/vendor/leaflet.css">
<link rel="stylesheet" href="/assets/field/field.css">
</head>
<body>
<div id="field-app" class="m-app">
<header class="m-top">
  <div class="m-who"><span id="m-name">{{ who }}</span><span id="m-grid" class="m-sub"></span></div>
  <div class="m-state"><span id="m-net" class="m-net"></span>
  <button type="button" id="m-queue" class="m-queue hidden"></button></div>
</header>
<main id="m-main">
 <section id="page-patrol" class="m-page" data-page="patrol"></section>
 <section id="page-report" class="m-page hidden" data-page="report"></section>
 <section id="page-sos" class="m-page hidden" data-page="sos"></section>
 <section id="page-tasks" class="m-page hidden" data-page="tasks"></section>
 <section id="page-mine" class="m-page hidden" data-page="mine"></section>
 <section id="page-residents" class="m-page hidden" data-page="residents"></section>
 <section id="page-call" class="m-page hidden" data-page="call"></section>
</main>
<nav class="m-tabs" id="m-tabs">
 <button type="button" data-go="patrol" class="active">{{ t('m.tab.patrol', lang) }}</button>
 <button type="button" data-go="report">{{ t('m.tab.report', lang) }}</button>
 <button type="button" data-go="sos" class="m-tab-sos">{{ t('m.tab.sos', lang) }}</button>
 <button type="button" data-go="tasks">{{ t('m.tab.tasks', lang) }}<span id="m-task-count"
  class="m-badge hidden"></span></button>
 <button type="button" data-go="mine">{{ t('m.tab.mine', lang) }}</button>
 <button type="button" data-go="residents">{{ t('m.tab.residents', lang) }}<span
  id="m-res-count" class="m-badge hidden"></span></button>
</nav>
<div id="m-toast" class="m-toast hidden" role="status"></div>
</div>
<script type="application/json" id="m-boot">{{ boot }}</script>
<script src="/assets/vendor/leaflet.js"></script>
<script src="/assets/vendor/socket.io.min.js"></script>
<script src="/assets/field/dom.js"></script>
<script src="/assets/field/queue.js"></script>
<script src="/assets/field/photos.js"></script>
<script src="/assets/field/patrol.js"></script>
<script src="/assets/field/report.js"></script>
<script src="/assets/field/tasks.js"></script>
<script src="/assets/field/residents.js"></script>
<script src="/assets/field/call.js"></script>
<script src="/assets/field/app.js"></script>
</body></html>"""
