"""``GET /admin/audit``: the audit log as a page of the desk frame, in the user's language.

Local times, people and things by name (a user's display name, a camera's name, "事件 42"),
actions and roles in words, filters (who, which kind of action, from/until a local date) and
paging (newest first, "older" keeps the filters). A role without the audit permission gets the
"not allowed" page in the same frame, not an API error. Server-rendered: Jinja2 escapes every
value. The JSON form of the same log stays ``GET /api/v1/audit`` (dashboard.http.admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template_string, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from dashboard.domain.permissions import Permission
from dashboard.domain.status import Action
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.security import audit
from dashboard.security.landing import home_for
from dashboard.security.pages import PERMISSION_ATTR, signed_in_as
from dashboard.security.principal import Principal
from dashboard.security.web import browser_page, require_principal
from dashboard.storage.models import AuditEntry, Camera, GridWorker, User

bp = Blueprint("audit_page", __name__)

PAGE_SIZE = 50
# The action filter offers kinds of action, not codes: each kind is an action prefix.
KINDS: dict[str, str] = {
    "case.*": "audit.kind.case",
    "sign_*": "audit.kind.sign",
    "camera_*": "audit.kind.camera",
    "call_*": "audit.kind.call",
    "order_*": "audit.kind.order",
    "user_*": "audit.kind.user",
    "token_*": "audit.kind.token",
    "campaign_*": "audit.kind.campaign",
}
_TARGETS = {
    "case": "audit.target.case",
    "supervision_order": "audit.target.order",
    "call_list": "audit.target.call",
    "token": "audit.target.token",
    "campaign": "audit.target.campaign",
}


@dataclass(frozen=True)
class Filters:
    actor: str = ""
    kind: str = ""
    since: str = ""  # a local date, yyyy-mm-dd
    until: str = ""

    def query(self, tz: ZoneInfo, before: int | None) -> audit.AuditQuery:
        return audit.AuditQuery(
            actor=self.actor or None,
            action=self.kind or None,  # a kind of the list, or an action a link names
            since=_local_day(self.since, tz, 0),
            until=_local_day(self.until, tz, 1),
            before_id=before,
            limit=PAGE_SIZE,
        )

    def args(self, lang: Lang, **more: Any) -> str:
        pairs = {
            "actor": self.actor,
            "kind": self.kind,
            "since": self.since,
            "until": self.until,
            "lang": lang,
        }
        pairs.update({k: str(v) for k, v in more.items()})
        return urlencode({k: v for k, v in pairs.items() if v})


class BadFilter(ValueError):
    """A filter the page cannot use (the message is already in the user's language)."""


def _local_day(value: str, tz: ZoneInfo, plus_days: int) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as err:
        raise BadFilter(value) from err
    return datetime.combine(day.fromordinal(day.toordinal() + plus_days), time(), tzinfo=tz)


def action_label(action: str, lang: Lang) -> str:
    """An action in words: ``case.accept`` → 受理; an unknown code is shown as it is."""
    if action.startswith("case.") and action[5:] in {a.value for a in Action} | {"report"}:
        return t(f"case_ws.action.{action[5:]}", lang)
    key = f"audit.action.{action}"
    return t(key, lang) if key in TABLE else action


def role_label(role: str, lang: Lang) -> str:
    key = f"role.{role}"
    return t(key, lang) if key in TABLE else role


def status_label(status: str, lang: Lang) -> str:
    key = f"case.{status}"
    return t(key, lang) if key in TABLE else status


class Names:
    """Display names of the people and cameras on one page (two queries per page)."""

    def __init__(self, rows: list[AuditEntry]) -> None:
        db = current_app.extensions["gcc"].db
        users = {r.actor for r in rows} | {
            r.target.partition(":")[2] for r in rows if r.target.startswith("user:")
        }
        cameras = {r.target.partition(":")[2] for r in rows if r.target.startswith("camera:")}
        with db.read() as session:
            self.users = dict(
                session.execute(
                    select(User.username, User.display_name).where(User.username.in_(users))
                ).all()
            )
            self.cameras = dict(
                session.execute(select(Camera.id, Camera.name).where(Camera.id.in_(cameras))).all()
            )
            # A phone or the simulator acts as its grid worker's id: show the worker's name.
            workers = users - set(self.users)
            self.users |= dict(
                session.execute(
                    select(GridWorker.id, GridWorker.name).where(GridWorker.id.in_(workers))
                ).all()
            )

    def actor(self, name: str, lang: Lang) -> str:
        return actor_label(name, self.users, lang)

    def target(self, target: str, lang: Lang) -> tuple[str, str]:
        """The target in words, and a link to it when there is a page for it."""
        kind, _, ident = target.partition(":")
        if kind == "case" and ident.isdigit():
            return fill(t("audit.target.case", lang), ident), f"/cases/{ident}?lang={lang}"
        if kind == "camera":
            return self.cameras.get(ident, ident), ""
        if kind == "user":
            return self.users.get(ident) or ident, ""
        if kind in _TARGETS:
            return fill(t(_TARGETS[kind], lang), ident), ""
        return target, ""


def actor_label(name: str, users: dict[str, str], lang: Lang) -> str:
    """A user by display name; the command line, a token, the system in words."""
    kind, _, rest = name.partition(":")
    if rest and f"audit.actor.{kind}" in TABLE:  # "cli:root", "token:camera-gw"
        return fill(t(f"audit.actor.{kind}", lang), rest)
    if f"audit.actor.{name}" in TABLE:  # "system", "(unknown)"
        return t(f"audit.actor.{name}", lang)
    return users.get(name) or name


def fill(text: str, ident: str) -> str:
    return text.replace("{id}", ident)


def details_text(details: dict[str, Any], lang: Lang) -> str:
    """A case step's details as "已受理 → 已立案"; other details as "key: value" pairs."""
    details = dict(details or {})
    parts = []
    if "from" in details or "to" in details:
        before, after = details.pop("from", None), details.pop("to", None)
        parts.append(
            " → ".join(status_label(str(s), lang) for s in (before, after) if s is not None)
        )
    for key, value in sorted(details.items()):
        label, said = f"audit.detail.{key}", f"audit.value.{value}"
        shown = t(said, lang) if said in TABLE else role_label(str(value), lang)
        parts.append(f"{t(label, lang) if label in TABLE else key}: {shown}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


_PAGE = """<!DOCTYPE html><html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head>
<meta charset="utf-8"><title>{{ t('title.audit', lang) }} · {{ app_title }}</title>
<link rel="icon" href="/_favicon.ico"><link rel="stylesheet" href="/assets/base.css">
</head><body class="audit-page"><div class="shell">
<header class="shell-bar"><div class="shell-title">{{ t('app.title', lang) }}</div>
<nav class="shell-nav">{% for item in nav %}<a href="{{ item.href }}?lang={{ lang }}"
 class="nav-link{{ ' active' if item.key == 'audit' else '' }}">{{ t(item.label_key, lang) }}</a>
{% endfor %}</nav>
<div class="shell-user"><span>{{ who }} · {{ role }}</span>
<a href="{{ switch }}" class="shell-lang">{{ t('lang.switch', lang) }}</a>
<a href="/logout" class="shell-signout">{{ t('nav.sign_out', lang) }}</a></div></header>
<main class="shell-main">{{ body }}</main></div></body></html>"""

_LOG = """<h2>{{ t('audit.title', lang) }}</h2>
<form method="get" action="/admin/audit" class="audit-filters" id="audit-filters">
<input type="hidden" name="lang" value="{{ lang }}">
<label>{{ t('audit.filter.actor', lang) }}
<input type="text" name="actor" value="{{ f.actor }}" maxlength="100"></label>
<label>{{ t('audit.filter.action', lang) }}<select name="kind">
<option value="">{{ t('audit.filter.any', lang) }}</option>
{% for value, key in kinds %}
<option value="{{ value }}"{{ ' selected' if f.kind == value else '' }}>
{{ t(key, lang) }}</option>{% endfor %}</select></label>
<label>{{ t('audit.filter.since', lang) }}
<input type="date" name="since" value="{{ f.since }}"></label>
<label>{{ t('audit.filter.until', lang) }}
<input type="date" name="until" value="{{ f.until }}"></label>
<button type="submit">{{ t('audit.filter.submit', lang) }}</button>
<a href="/admin/audit?lang={{ lang }}">{{ t('audit.filter.reset', lang) }}</a></form>
{% if error %}<p class="audit-error" id="audit-error">{{ error }}</p>{% endif %}
<table id="audit-table"><thead><tr>
{% for key in columns %}<th>{{ t('audit.col.' + key, lang) }}</th>{% endfor %}
</tr></thead><tbody>
{% for row in items %}<tr>
<td class="num">{{ row.at }}</td><td>{{ row.actor }}</td><td>{{ row.role }}</td>
<td>{{ row.action }}</td>
<td>{% if row.href %}<a href="{{ row.href }}">{{ row.target }}</a>
{% else %}{{ row.target }}{% endif %}</td>
<td>{{ row.ip }}</td><td>{{ row.details }}</td></tr>
{% else %}<tr><td colspan="{{ columns|length }}" class="empty">
{{ t('audit.empty', lang) }}</td></tr>
{% endfor %}</tbody></table>
<p class="audit-paging">
{% if newer %}<a href="?{{ newer }}">{{ t('audit.newer', lang) }}</a>{% endif %}
{% if older %}<a href="?{{ older }}" id="audit-older">{{ t('audit.older', lang) }}</a>
{% endif %}</p>"""


def _frame(principal: Principal, lang: Lang, body: Any, status: int = 200) -> ResponseReturnValue:
    from markupsafe import Markup

    from layouts.shell import nav_items  # layouts import this package: import when used

    other = "en" if lang == "zh" else "zh"
    args = request.args.to_dict()
    args["lang"] = other
    page = render_template_string(
        _PAGE,
        t=t,
        lang=lang,
        app_title=current_app.extensions["gcc"].config.ui.title,
        nav=nav_items(principal),
        who=principal.display_name or principal.name,
        role=role_label(principal.role.value, lang),
        switch="/admin/audit?" + urlencode(args),
        body=Markup(body),
    )
    return page, status


def _forbidden(principal: Principal, lang: Lang) -> str:
    who = signed_in_as(principal, lang)
    return render_template_string(
        """<div class="access-notice" id="access-notice"><div class="notice-code">403</div>
<h2>{{ title }}</h2><p>{{ detail }}</p><div class="notice-links">
<a class="switch-user" href="{{ home }}">{{ home_text }}</a>
<a class="switch-user" href="/logout">{{ switch_text }}</a></div></div>""",
        title=t("auth.forbidden", lang),
        detail=f"{t('auth.forbidden_detail', lang)} {who}",
        home=f"{home_for(principal.role)}?lang={lang}",
        home_text=t("nav.home", lang),
        switch_text=t("auth.switch_user", lang),
    )


@bp.get("/admin/audit")
@browser_page
def audit_page() -> ResponseReturnValue:
    services = current_app.extensions["gcc"]
    lang = normalise_lang(request.args.get("lang"), services.config.ui.language)
    principal = require_principal()
    if not principal.can(Permission.VIEW_AUDIT):
        return _frame(principal, lang, _forbidden(principal, lang), 403)
    tz = services.reference.calendar.tz
    args = request.args
    f = Filters(
        args.get("actor", "").strip()[:100],
        (args.get("kind") or args.get("action") or "")[:40],
        args.get("since", ""),
        args.get("until", ""),
    )
    before_text = args.get("before", "")
    before = int(before_text) if before_text.isdigit() else None
    error = ""
    try:
        rows = audit.read(services.db, f.query(tz, before))
    except BadFilter:
        rows, error = [], t("audit.bad_filter", lang) + t("audit.bad_date", lang)
    names = Names(rows)
    items = []
    for row in rows:
        target, href = names.target(row.target, lang)
        items.append(
            {
                "at": row.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                "actor": names.actor(row.actor, lang),
                "role": role_label(row.role, lang),
                "action": action_label(row.action, lang),
                "target": target,
                "href": href,
                "ip": row.ip,
                "details": details_text(row.details, lang),
            }
        )
    older = f.args(lang, before=rows[-1].id) if len(rows) == PAGE_SIZE else ""
    body = render_template_string(
        _LOG,
        t=t,
        lang=lang,
        f=f,
        kinds=list(KINDS.items()),
        error=error,
        items=items,
        columns=["at", "actor", "role", "action", "target", "ip", "details"],
        older=older,
        newer=f.args(lang) if before is not None else "",
    )
    return _frame(principal, lang, body)


# The page checks the permission itself (to answer a page, not an API error); declare it, so
# the permission matrix (dashboard.security.pages.guarded_permission) sees the same rule.
setattr(audit_page, PERMISSION_ATTR, Permission.VIEW_AUDIT)
