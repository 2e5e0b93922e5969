"""``/admin/devices``: the trackers (OsmAnd / Traccar Client) bound to grid workers, for admins.

The same bindings as ``run.py device bind|unbind|list`` (dashboard.services.tracks.DeviceRegistry):
a table of the bound devices with an "unbind" button each, and a form to bind a device id to a
worker. Server-rendered (Jinja2 escapes every value); the forms post with the session's CSRF
token, and each change is an audit entry (``device.bind`` / ``device.unbind``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, g, redirect, render_template_string, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from dashboard.domain.permissions import Permission
from dashboard.i18n import Lang, normalise_lang, t
from dashboard.security import audit
from dashboard.security.audit_page import role_label
from dashboard.security.pages import PERMISSION_ATTR
from dashboard.security.sessions import CSRF_FIELD
from dashboard.security.web import browser_page, client_ip, require_principal
from dashboard.services.tracks import DeviceError, DeviceRegistry

bp = Blueprint("devices_page", __name__)

_PAGE = """<!DOCTYPE html><html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head>
<meta charset="utf-8"><title>{{ t('devices.title', lang) }} · {{ app_title }}</title>
<link rel="icon" href="/_favicon.ico"><link rel="stylesheet" href="/assets/base.css">
</head><body class="devices-page"><div class="shell">
<header class="shell-bar"><div class="shell-title">{{ t('app.title', lang) }}</div>
<nav class="shell-nav">{% for item in nav %}<a href="{{ item.href }}?lang={{ lang }}"
 class="nav-link">{{ t(item.label_key, lang) }}</a>{% endfor %}</nav>
<div class="shell-user"><span>{{ who }} · {{ role }}</span>
<a href="/admin/devices?lang={{ other }}" class="shell-lang">{{ t('lang.switch', lang) }}</a>
<a href="/logout" class="shell-signout">{{ t('nav.sign_out', lang) }}</a></div></header>
<main class="shell-main">
<h2>{{ t('devices.title', lang) }}</h2>
<p>{{ t('devices.help', lang) }}</p>
{% if message %}<p class="notice warn" id="devices-message">{{ message }}</p>{% endif %}
<form method="post" action="/admin/devices/bind" id="devices-bind">
<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
<input type="hidden" name="lang" value="{{ lang }}">
<label>{{ t('devices.device', lang) }} <input name="device" maxlength="64" required></label>
<label>{{ t('devices.worker', lang) }} <input name="worker" maxlength="40" required></label>
<button type="submit">{{ t('devices.bind', lang) }}</button></form>
<table id="devices-table"><thead><tr><th>{{ t('devices.device', lang) }}</th>
<th>{{ t('devices.worker', lang) }}</th><th>{{ t('devices.bound_at', lang) }}</th><th></th>
</tr></thead><tbody>
{% for b in bindings %}<tr><td>{{ b.device_id }}</td>
<td>{{ b.worker_name }}（{{ b.worker_id }}）</td>
<td>{{ b.bound_at }}</td><td><form method="post" action="/admin/devices/unbind">
<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
<input type="hidden" name="lang" value="{{ lang }}">
<input type="hidden" name="device" value="{{ b.device_id }}">
<button type="submit">{{ t('devices.unbind', lang) }}</button></form></td></tr>
{% else %}<tr><td colspan="4" class="empty">{{ t('devices.none', lang) }}</td></tr>{% endfor %}
</tbody></table></main></div></body></html>"""

_MESSAGES = {
    "bound": "devices.bound",
    "unbound": "devices.unbound",
    "unknown_worker": "devices.unknown_worker",
    "bad_device": "devices.bad_device",
    "no_device": "devices.no_device",
}


def _lang() -> Lang:
    services = current_app.extensions["gcc"]
    return normalise_lang(request.values.get("lang"), services.config.ui.language)


def _back(lang: Lang, done: str) -> Response:
    return redirect("/admin/devices?" + urlencode({"lang": lang, "done": done}), 303)


@bp.get("/admin/devices")
@browser_page
def devices_page() -> ResponseReturnValue:
    from layouts.shell import nav_items  # layouts import this package: import when used

    services = current_app.extensions["gcc"]
    lang = _lang()
    principal = require_principal()
    if not principal.can(Permission.MANAGE_USERS):
        return t("auth.forbidden", lang), 403
    tz = services.reference.calendar.tz
    bindings = [
        {
            "device_id": b.device_id,
            "worker_id": b.worker_id,
            "worker_name": b.worker_name,
            "bound_at": b.bound_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        }
        for b in DeviceRegistry(services.db).bindings()
    ]
    done = request.args.get("done", "")
    return render_template_string(
        _PAGE,
        t=t,
        lang=lang,
        other="en" if lang == "zh" else "zh",
        app_title=services.config.ui.title,
        nav=nav_items(principal),
        who=principal.display_name or principal.name,
        role=role_label(principal.role.value, lang),
        bindings=bindings,
        message=t(_MESSAGES[done], lang) if done in _MESSAGES else "",
        csrf=g.get("csrf") or "",
        csrf_field=CSRF_FIELD,
    )


def _registry() -> DeviceRegistry:
    api = current_app.extensions.get("gcc_api")
    if api is not None:
        return api.devices  # type: ignore[no-any-return]  # the OsmAnd door's: its cache too
    return DeviceRegistry(current_app.extensions["gcc"].db)


@bp.post("/admin/devices/bind")
@browser_page
def bind_device() -> ResponseReturnValue:
    services = current_app.extensions["gcc"]
    lang, principal = _lang(), require_principal()
    if not principal.can(Permission.MANAGE_USERS):
        return t("auth.forbidden", lang), 403
    device = request.form.get("device", "")[:64]
    worker = request.form.get("worker", "").strip()[:40]
    now = services.clock.now()
    try:
        _registry().bind(device, worker, principal.name, now)
    except DeviceError as err:
        return _back(lang, err.code)
    audit.write(
        services.db, principal.actor(client_ip()), "device.bind", now, device.strip(), worker=worker
    )
    return _back(lang, "bound")


@bp.post("/admin/devices/unbind")
@browser_page
def unbind_device() -> ResponseReturnValue:
    services = current_app.extensions["gcc"]
    lang, principal = _lang(), require_principal()
    if not principal.can(Permission.MANAGE_USERS):
        return t("auth.forbidden", lang), 403
    device = request.form.get("device", "")[:64]
    if not _registry().unbind(device):
        return _back(lang, "no_device")
    audit.write(
        services.db, principal.actor(client_ip()), "device.unbind", services.clock.now(), device
    )
    return _back(lang, "unbound")


for _view in (devices_page, bind_device, unbind_device):
    setattr(_view, PERMISSION_ATTR, Permission.MANAGE_USERS)
