"""Pages and sign-in: ``/login`` and ``/logout`` (small server-rendered forms), and the guards
every Dash page layout and callback wears.

- ``page_guard(permission)`` wraps a Dash page's layout function. The layout runs only inside a
  callback request (Dash's page router), for a principal holding ``permission``; otherwise it
  answers a sign-in or "not allowed" notice. Outside a callback request it returns an empty
  placeholder and never runs the layout: Dash builds a "validation layout" from every page on the
  first request of the process and sends it to every visitor in the HTML shell, so a layout run
  there would show one user's data to everybody.
- ``guard_callback(permission)`` wraps a Dash callback function: 403 unless the caller holds it.

The forms are Jinja2 templates rendered by Flask, which escapes every value (autoescape), so a
user name or a ``next`` address cannot inject markup. The sign-in form has its own CSRF token
(double submit: a cookie and a hidden field that must match), because there is no session yet.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar, cast

from dash import html
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template_string,
    request,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from dashboard.domain.permissions import Permission
from dashboard.http.errors import ApiError
from dashboard.i18n import Lang, normalise_lang, t
from dashboard.security.landing import home_for, landing
from dashboard.security.principal import Principal
from dashboard.security.ratelimit import retry_after
from dashboard.security.sessions import CSRF_FIELD, SESSION_COOKIE, SignInRefused, SignInThrottled
from dashboard.security.web import (
    browser_page,
    clear_cookies,
    client_ip,
    cookies_secure,
    current_principal,
    public,
    safe_next,
    security_of,
    set_session_cookies,
)

F = TypeVar("F", bound=Callable[..., Any])

DASH_CALLBACK_ENDPOINT = "/_dash-update-component"
LOGIN_CSRF_COOKIE = "gcc_login_csrf"
PERMISSION_ATTR = "_gcc_permission"

bp = Blueprint("security", __name__)

_FRAME = """<!DOCTYPE html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ heading }} · {{ app_title }}</title><link rel="icon" href="/_favicon.ico">
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#0b1220;color:#e6edf7;font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif}
form{background:#111a2e;padding:32px 40px;border-radius:8px;min-width:320px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;font-weight:normal;margin:0 0 24px;color:#9fb0c8}
label{display:block;margin:12px 0 4px;color:#9fb0c8}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;
border:1px solid #2a3a5c;border-radius:4px;background:#0b1220;color:#e6edf7;font-size:16px}
button{margin-top:20px;width:100%;padding:10px;border:0;border-radius:4px;background:#2f6fed;
color:#fff;font-size:16px;cursor:pointer}.error{color:#ff6b6b;margin:12px 0 0}
a{color:#9fb0c8}
</style></head>
<body>{{ body }}</body></html>"""

_LOGIN = """<form method="post" action="/login" id="login-form">
<h1>{{ app_title }}</h1><h2>{{ t('login.title', lang) }}</h2>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<input type="hidden" name="lang" value="{{ lang }}">
<label for="username">{{ t('login.username', lang) }}</label>
<input type="text" id="username" name="username" value="{{ username }}" autocomplete="username"
 autofocus required maxlength="60">
<label for="password">{{ t('login.password', lang) }}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
{% if error %}<p class="error" id="login-error">{{ error }}</p>{% endif %}
<button type="submit" id="login-submit">{{ t('login.submit', lang) }}</button>
</form>"""

_LOGOUT = """<form method="post" action="/logout" id="logout-form">
<h1>{{ app_title }}</h1><h2>{{ t('auth.signed_in_as', lang) }}: {{ who }}</h2>
<p>{{ t('logout.confirm', lang) }}</p>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit" id="logout-submit">{{ t('logout.submit', lang) }}</button>
</form>"""


def _lang() -> Lang:
    services = current_app.extensions["gcc"]
    return normalise_lang(request.values.get("lang"), services.config.ui.language)


def _render(template: str, heading_key: str, status: int = 200, **values: Any) -> tuple[str, int]:
    lang = _lang()
    app_title = current_app.extensions["gcc"].config.ui.title
    heading = t(heading_key, lang)
    body = render_template_string(template, t=t, lang=lang, app_title=app_title, **values)
    # The body is already escaped markup: mark it safe for the frame, and only it.
    page = render_template_string(
        _FRAME, lang=lang, heading=heading, app_title=app_title, body=Markup(body)
    )
    return page, status


@bp.before_app_request
def _root_to_own_page() -> ResponseReturnValue | None:
    """The root address (the status page) opened by a role that may not see it - a department
    or a grid worker following an old bookmark - leads to the role's own page, not a refusal.
    Runs after the principal is resolved (dashboard.security.web registers that hook first)."""
    principal = current_principal()
    if request.method != "GET" or request.path != "/" or principal is None:
        return None
    if principal.can(Permission.VIEW_WALL) or home_for(principal.role) == "/":
        return None  # never a redirect to itself
    query = request.query_string.decode()
    return redirect(home_for(principal.role) + (f"?{query}" if query else ""))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return _login_form(token, target, "", "")
    username = request.form.get("username", "").strip()
    sent = request.form.get(CSRF_FIELD, "")
    if not request.cookies.get(LOGIN_CSRF_COOKIE) or not hmac.compare_digest(
        sent.encode(), token.encode()
    ):
        return _login_form(token, target, username, t("login.expired", _lang()), 400)
    security = security_of(current_app)
    try:
        issued = security.sessions.sign_in(username, request.form.get("password", ""), client_ip())
    except SignInThrottled as err:
        message = t("login.throttled", _lang()).format(seconds=retry_after(err.wait))
        response = _login_form(token, target, username, message, 429)
        response.headers["Retry-After"] = retry_after(err.wait)
        return response
    except SignInRefused:
        return _login_form(token, target, username, t("login.refused", _lang()), 401)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # signing in as someone else ends the session this browser had
        security.sessions.sign_out(previous, client_ip())
    signed_in = redirect(landing(target, issued.principal.role))
    set_session_cookies(signed_in, issued, security.now())
    signed_in.delete_cookie(LOGIN_CSRF_COOKIE)
    return signed_in


def _login_form(token: str, target: str, username: str, error: str, status: int = 200) -> Response:
    body, code = _render(
        _LOGIN, "login.title", status, csrf=token, next=target, username=username, error=error
    )
    response = current_app.make_response((body, code))
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=cookies_secure()
    )
    return response


@bp.route("/logout", methods=["GET", "POST"])
@browser_page
def logout() -> ResponseReturnValue:
    """GET asks (a link cannot sign anyone out by surprise); POST, with the CSRF token, does."""
    principal = current_principal()
    assert principal is not None  # the request hook sends strangers to /login
    if request.method == "GET":
        who = principal.display_name or principal.name
        return _render(_LOGOUT, "logout.title", csrf=g.get("csrf") or "", who=who)
    security = security_of(current_app)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        security.sessions.sign_out(cookie, client_ip())
    else:
        security.audit(principal.actor(client_ip()), "sign_out")
    response = redirect("/login")
    clear_cookies(response)
    return response


# --- Dash guards -----------------------------------------------------------------------------


def _notice(
    title: str,
    detail: str,
    lang: Lang,
    links: list[tuple[str, str]],
    code: str = "",
    kind: str = "access-notice",  # tests tell a refusal by this class: other notices differ
) -> html.Div:
    return html.Div(
        [
            *([html.Div(code, className="notice-code")] if code else []),
            html.H2(title),
            html.P(detail),
            html.Div(
                [html.A(text, href=href, className="switch-user") for href, text in links],
                className="notice-links",
            ),
        ],
        className=kind,
        id=kind,
    )


def signed_in_as(principal: Principal, lang: Lang) -> str:
    colon = "：" if lang == "zh" else ": "
    return f"{t('auth.signed_in_as', lang)}{colon}{principal.display_name or principal.name}"


def forbidden_page(principal: Principal, lang: Lang) -> html.Div:
    """ "Not allowed", inside the desk frame: who is signed in, their own page, switch user."""
    from layouts.shell import page_shell  # layouts import this package: import when used

    who = signed_in_as(principal, lang)
    detail = f"{t('auth.forbidden_detail', lang)} {who}"
    links = [
        (f"{home_for(principal.role)}?lang={lang}", t("nav.home", lang)),
        ("/logout", t("auth.switch_user", lang)),
    ]
    return page_shell(
        "", lang, principal, _notice(t("auth.forbidden", lang), detail, lang, links, "403")
    )


def not_found_page(principal: Principal, lang: Lang) -> html.Div:
    """ "Page not found", inside the desk frame (any signed-in user; it shows no data)."""
    from layouts.shell import page_shell

    links = [(f"{home_for(principal.role)}?lang={lang}", t("nav.home", lang))]
    notice = _notice(
        t("page.not_found", lang),
        t("page.not_found_detail", lang),
        lang,
        links,
        "404",
        kind="frame-notice",
    )
    return page_shell("", lang, principal, notice)


def page_guard(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a Dash page layout ``layout(principal, **query)``: it runs only inside Dash's page
    router, for a principal holding ``permission``, and gets that principal first (for scoping).
    The wrapped function takes the query only, as Dash calls it."""

    def decorate(layout: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(layout)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not has_request_context() or request.endpoint != DASH_CALLBACK_ENDPOINT:
                return html.Div(className="page-placeholder")  # see the module docstring
            lang = normalise_lang(
                kwargs.get("lang"), current_app.extensions["gcc"].config.ui.language
            )
            principal = current_principal()
            if principal is None:
                return _notice(
                    t("auth.sign_in", lang), "", lang, [("/login", t("login.title", lang))]
                )
            if not principal.can(permission):
                return forbidden_page(principal, lang)
            return layout(principal, *args, **kwargs)

        setattr(guarded, PERMISSION_ATTR, permission)
        return guarded

    return decorate


def refuse_callback(principal: Principal, what: str) -> NoReturn:
    """Refuse a page callback the principal may not run: 403 with the house error body (the
    callbacks raise no HTTP errors themselves)."""
    raise ApiError(403, "forbidden", f"the role {principal.role} may not {what}")


def guard_callback(permission: Permission) -> Callable[[F], F]:
    """Wrap a Dash callback function (under ``@callback``): 401/403 unless allowed."""

    def decorate(func: F) -> F:
        @wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise ApiError(401, "unauthorized", "sign in")
            if not principal.can(permission):
                refuse_callback(principal, f"{permission}")
            return func(*args, **kwargs)

        setattr(guarded, PERMISSION_ATTR, permission)
        return cast(F, guarded)

    return decorate


def guarded_permission(func: Callable[..., Any]) -> Permission | None:
    """The permission a guarded function (or anything wrapping one) requires, else None."""
    seen: Callable[..., Any] | None = func
    while seen is not None:
        found = getattr(seen, PERMISSION_ATTR, None)
        if found is not None:
            return cast(Permission, found)
        seen = getattr(seen, "__wrapped__", None)
    return None
