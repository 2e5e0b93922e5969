"""``/admin/webhooks``: the webhooks to other systems, for admins (``manage_users``).

Each subscription with its queue (pending, failed, delivered, the last error, the next attempt),
the deliveries not yet done with a "send again" button for a failed one (or all), and a form to
add a subscription: the target is set here or by ``run.py webhook add``, never by a caller of
the API; the URL rule (no private or link-local address unless configured) applies to both.
Server-rendered like the audit page: Jinja2 escapes every value; POSTs carry the CSRF token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, render_template_string, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy.orm import Session

from dashboard.container import Services
from dashboard.domain.permissions import Permission
from dashboard.i18n import TABLE, Lang, normalise_lang, t
from dashboard.security.audit import record
from dashboard.security.audit_page import fill, role_label
from dashboard.security.landing import home_for
from dashboard.security.pages import PERMISSION_ATTR, signed_in_as
from dashboard.security.principal import Principal
from dashboard.security.sessions import CSRF_FIELD
from dashboard.security.web import browser_page, client_ip, require_principal
from dashboard.services.webhooks import (
    NewSubscription,
    SubscriptionRefused,
    add_subscription,
    open_deliveries,
    replay,
    subscription_states,
)
from dashboard.storage.models import ApiToken, County, Town, Village

bp = Blueprint("webhooks_page", __name__)
PATH = "/admin/webhooks"

_PAGE = """<!DOCTYPE html><html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head>
<meta charset="utf-8"><title>{{ t('title.webhooks', lang) }} · {{ app_title }}</title>
<link rel="icon" href="/_favicon.ico"><link rel="stylesheet" href="/assets/base.css">
<link rel="stylesheet" href="/assets/webhooks.css">
</head><body class="audit-page webhooks-page"><div class="shell">
<header class="shell-bar"><div class="shell-title">{{ t('app.title', lang) }}</div>
<nav class="shell-nav">{% for item in nav %}<a href="{{ item.href }}?lang={{ lang }}"
 class="nav-link">{{ t(item.label_key, lang) }}</a>{% endfor %}
<a href="/admin/webhooks?lang={{ lang }}" class="nav-link active">{{ t('nav.webhooks', lang) }}</a>
</nav><div class="shell-user"><span>{{ who }} · {{ role }}</span>
<a href="{{ switch }}" class="shell-lang">{{ t('lang.switch', lang) }}</a>
<a href="/logout" class="shell-signout">{{ t('nav.sign_out', lang) }}</a></div></header>
<main class="shell-main">{{ body }}</main></div></body></html>"""

_BODY = """<h2>{{ t('webhooks.title', lang) }}</h2>
<p class="webhooks-intro">{{ t('webhooks.intro', lang) }}</p>
{% if message %}<p class="webhooks-message" id="webhooks-message">{{ message }}</p>{% endif %}
{% if secret %}<pre class="webhooks-secret" id="webhooks-secret">{{ secret }}</pre>{% endif %}
<h3>{{ t('webhooks.subscriptions', lang) }}</h3>
<table id="webhooks-subscriptions" class="webhooks-table"><thead><tr>
{% for key in sub_columns %}<th>{{ t('webhooks.col.' + key, lang) }}</th>{% endfor %}
</tr></thead><tbody>{% for s in subs %}<tr>
<td>{{ s.name }}</td><td class="url">{{ s.url }}</td><td>{{ s.target }}</td><td>{{ s.active }}</td>
<td class="num">{{ s.pending }}</td><td class="num failed">{{ s.failed }}</td>
<td class="num">{{ s.delivered }}</td><td class="error">{{ s.last_error }}</td>
<td class="num">{{ s.next }}</td></tr>
{% else %}<tr><td colspan="{{ sub_columns|length }}" class="empty">{{ t('webhooks.none', lang) }}
<code>run.py webhook add NAME --url https://… --key KEY</code></td></tr>{% endfor %}
</tbody></table>
<form method="post" action="/admin/webhooks?lang={{ lang }}" class="audit-filters"
 id="webhooks-add">
<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
<input type="hidden" name="do" value="add">
<label>{{ t('webhooks.add.name', lang) }}<input name="name" maxlength="60" required></label>
<label>{{ t('webhooks.add.url', lang) }}<input name="url" maxlength="500" size="34" required
 placeholder="https://"></label>
<label>{{ t('webhooks.add.key', lang) }}<input name="key" maxlength="100"></label>
<label>{{ t('webhooks.add.category', lang) }}<input name="category" maxlength="10" size="7"></label>
<label>{{ t('webhooks.add.area', lang) }}<input name="area" maxlength="20" size="12"></label>
<button type="submit">{{ t('webhooks.add.submit', lang) }}</button></form>
<h3>{{ t('webhooks.deliveries', lang) }}</h3>
<form method="post" action="/admin/webhooks?lang={{ lang }}" id="webhooks-replay-all">
<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
<input type="hidden" name="do" value="replay">
<button type="submit" class="webhooks-button">{{ t('webhooks.replay_all', lang) }}</button></form>
<table id="webhooks-deliveries" class="webhooks-table"><thead><tr>
{% for key in delivery_columns %}<th>{{ t('webhooks.col.' + key, lang) }}</th>{% endfor %}
</tr></thead><tbody>{% for d in deliveries %}<tr class="state-{{ d.state_code }}">
<td class="num">{{ d.id }}</td><td>{{ d.subscription }}</td>
<td><a href="/cases/{{ d.case }}?lang={{ lang }}">{{ d.case_label }}</a></td>
<td>{{ d.step }}</td><td>{{ d.state }}</td><td class="num">{{ d.attempts }}</td>
<td class="error">{{ d.error }}</td><td class="num">{{ d.next }}</td><td>
{% if d.state_code == 'failed' %}<form method="post" action="/admin/webhooks?lang={{ lang }}">
<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
<input type="hidden" name="do" value="replay">
<input type="hidden" name="delivery" value="{{ d.id }}">
<button type="submit" class="webhooks-button">{{ t('webhooks.replay', lang) }}</button></form>
{% endif %}</td></tr>
{% else %}<tr><td colspan="{{ delivery_columns|length }}" class="empty">
{{ t('webhooks.empty', lang) }}</td></tr>{% endfor %}</tbody></table>"""


def _services() -> Services:
    services: Services = current_app.extensions["gcc"]
    return services


def error_words(last_error: str, status: int | None, lang: Lang) -> str:
    """A delivery's last error in words: its kind (and an HTTP status), never the raw text."""
    if not last_error:
        return ""
    kind = last_error.partition(":")[0]
    if kind == "http":
        number = status or last_error.rpartition(" ")[2]
        return fill(t("webhooks.error.http", lang), str(number))
    key = f"webhooks.error.{kind}"
    return t(key if key in _keys() else "webhooks.error.error", lang)


def _target(code: str, lang: Lang, names: dict[str, str]) -> str:
    """What a subscription follows in words: the key's name, the category's, the area's."""
    parts = []
    for item in code.split():
        kind, _, ident = item.partition(":")
        parts.append(fill(t(f"webhooks.target.{kind}", lang), names.get(item, ident)))
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _names(session: Session, targets: list[str], lang: Lang) -> dict[str, str]:
    """``key:3`` → the key's name, ``category:10001`` → 暴露垃圾, ``area:330681109`` → 枫桥镇."""
    categories = _services().reference.categories
    names: dict[str, str] = {}
    for item in {i for target in targets for i in target.split()}:
        kind, _, ident = item.partition(":")
        if kind == "key" and ident.isdigit():
            token = session.get(ApiToken, int(ident))
            names[item] = token.name if token is not None else ident
        elif kind == "category" and ident in categories:
            sub = categories.get(ident)
            names[item] = sub.name_zh if lang == "zh" else sub.name_en
        elif kind == "area":
            place = (
                session.get(Village, ident)
                or session.get(Town, ident)
                or session.get(County, ident)
            )
            if place is not None:
                names[item] = place.name
    return names


def _render(
    principal: Principal,
    lang: Lang,
    message: str = "",
    secret: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    services = _services()
    tz = services.reference.calendar.tz

    def local(moment: Any) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    with services.db.read() as session:
        states = subscription_states(session)
        targets = _names(session, [s.target for s in states], lang)
        names = {s.id: s.name for s in states}
        rows = open_deliveries(session)
        deliveries = [
            {
                "id": d.id,
                "subscription": names.get(d.subscription_id, ""),
                "case": d.case_id,
                "case_label": fill(t("audit.target.case", lang), str(d.case_id)),
                "step": t(f"case.{d.payload.get('external_status_code', '')}", lang)
                if f"case.{d.payload.get('external_status_code', '')}" in _keys()
                else d.payload.get("action", ""),
                "state_code": d.status,
                "state": t(f"webhooks.state.{d.status}", lang),
                "attempts": d.attempts,
                "error": error_words(d.last_error, d.last_status, lang),
                "next": local(d.next_attempt_at) if d.status == "pending" else "",
            }
            for d in rows
        ]
    subs = [
        {
            "name": s.name,
            "url": s.url,
            "target": _target(s.target, lang, targets),
            "active": t("webhooks.active" if s.active else "webhooks.inactive", lang),
            "pending": s.pending,
            "failed": s.failed,
            "delivered": s.delivered,
            "last_error": error_words(s.last_error, None, lang),
            "next": local(s.next_attempt_at),
        }
        for s in states
    ]
    body = render_template_string(
        _BODY,
        t=t,
        lang=lang,
        message=message,
        secret=secret,
        subs=subs,
        deliveries=deliveries,
        sub_columns=[
            "name",
            "url",
            "target",
            "active",
            "pending",
            "failed",
            "delivered",
            "last_error",
            "next",
        ],
        delivery_columns=[
            "id",
            "name",
            "case",
            "step",
            "status",
            "attempts",
            "last_error",
            "next",
            "replay",
        ],
        csrf_field=CSRF_FIELD,
        csrf=g.get("csrf") or "",
    )
    return _frame(principal, lang, body, status)


def _frame(principal: Principal, lang: Lang, body: str, status: int) -> ResponseReturnValue:
    from layouts.shell import nav_items  # layouts import this package: import when used

    args = request.args.to_dict()
    args["lang"] = "en" if lang == "zh" else "zh"
    page = render_template_string(
        _PAGE,
        t=t,
        lang=lang,
        app_title=_services().config.ui.title,
        nav=nav_items(principal),
        who=principal.display_name or principal.name,
        role=role_label(principal.role.value, lang),
        switch=f"{PATH}?" + urlencode(args),
        body=Markup(body),
    )
    return page, status


def _keys() -> dict[str, tuple[str, str]]:
    return TABLE


@bp.route(PATH, methods=["GET", "POST"])
@browser_page
def webhooks_page() -> ResponseReturnValue:
    services = _services()
    lang = normalise_lang(request.args.get("lang"), services.config.ui.language)
    principal = require_principal()
    if not principal.can(Permission.MANAGE_USERS):
        return _frame(principal, lang, _forbidden(principal, lang), 403)
    if request.method == "GET":
        return _render(principal, lang)
    action = request.form.get("do", "")
    now = services.clock.now()
    actor = principal.actor(client_ip())
    if action == "replay":
        delivery = request.form.get("delivery", "")
        one = int(delivery) if delivery.isdigit() and len(delivery) < 15 else None
        with services.db.transaction() as session:
            n = replay(session, now, one)
            record(session, actor, "webhook_replayed", now, "webhook", count=n)
        return _render(principal, lang, fill(t("webhooks.replayed", lang), str(n)))
    if action == "add":
        return _add(principal, lang)
    return _render(principal, lang, status=400)


def _add(principal: Principal, lang: Lang) -> ResponseReturnValue:
    from dashboard.webhook_commands import integration_key_id

    services = _services()
    form = request.form
    key = form.get("key", "").strip()[:100]
    category = form.get("category", "").strip()[:10]
    token_id = integration_key_id(services, key) if key else None
    refused = t("webhooks.refused", lang)
    if key and token_id is None:
        return _render(principal, lang, refused + t("webhooks.refused.no_key", lang), status=422)
    new = NewSubscription(
        form.get("name", "")[:60],
        form.get("url", "").strip()[:500],
        token_id,
        category or None,
        form.get("area", "").strip()[:20] or None,
    )
    now = services.clock.now()
    try:
        if category and category not in services.reference.categories:
            raise SubscriptionRefused(f"there is no category {category!r}", "category")
        with services.db.transaction() as session:
            row, secret = add_subscription(
                session,
                new,
                principal.name,
                now,
                allow_private=services.config.integrations.webhook_allow_private,
            )
            actor = principal.actor(client_ip())
            record(session, actor, "webhook_added", now, f"webhook:{row.name}", url=row.url)
    except SubscriptionRefused as err:
        message = refused + t(f"webhooks.refused.{err.code}", lang)
        return _render(principal, lang, message, status=422)
    return _render(principal, lang, t("webhooks.added", lang), secret)


def _forbidden(principal: Principal, lang: Lang) -> str:
    return render_template_string(
        """<div class="access-notice" id="access-notice"><div class="notice-code">403</div>
<h2>{{ title }}</h2><p>{{ detail }}</p><div class="notice-links">
<a class="switch-user" href="{{ home }}">{{ home_text }}</a></div></div>""",
        title=t("auth.forbidden", lang),
        detail=f"{t('auth.forbidden_detail', lang)} {signed_in_as(principal, lang)}",
        home=f"{home_for(principal.role)}?lang={lang}",
        home_text=t("nav.home", lang),
    )


setattr(webhooks_page, PERMISSION_ATTR, Permission.MANAGE_USERS)
