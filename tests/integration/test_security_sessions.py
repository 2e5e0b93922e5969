"""Web sign-in: passwords, expiry, sign-out, lock-out, CSRF, redirects, the demo and the kiosk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.domain.roles import Role
from dashboard.security.pages import LOGIN_CSRF_COOKIE
from dashboard.security.sessions import CSRF_COOKIE, SESSION_COOKIE, session_id
from dashboard.security.web import KIOSK_COOKIE, safe_next
from dashboard.storage.models import User, WebSession
from tests.integration import test_security_support as support
from tests.integration.test_security_matrix import _router_body
from tests.integration.test_security_support import PASSWORD, SecureApp, later

_secure_apps, secure, lite_secure = support._secure_apps, support.secure, support.lite_secure


def _form_csrf(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _sign_in(client: FlaskClient, username: str, password: str, next_: str = "/") -> int:
    csrf = _form_csrf(client)
    form = {"username": username, "password": password, "csrf_token": csrf, "next": next_}
    return client.post("/login", data=form).status_code


def _me(client: FlaskClient) -> int:
    return client.get("/api/v1/me").status_code


def test_sign_in_sets_a_hardened_cookie_and_opens_the_pages(secure: SecureApp) -> None:
    secure.user("op-li", Role.DISPATCHER)
    client = secure.client()
    assert client.get("/").status_code == 302
    csrf = _form_csrf(client, "/login?next=/wall%3Flang%3Den")
    form = {"username": "op-li", "password": PASSWORD, "csrf_token": csrf, "next": "/wall?lang=en"}
    response = client.post("/login", data=form)
    assert response.status_code == 302 and response.location == "/wall?lang=en"
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert "HttpOnly" in cookies[SESSION_COOKIE] and "SameSite=Lax" in cookies[SESSION_COOKIE]
    assert "HttpOnly" not in cookies[CSRF_COOKIE]  # dash-renderer reads it
    assert "Secure" not in cookies[SESSION_COOKIE]  # plain http here; https sets it
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").get_json()["role"] == "dispatcher"
    # Only the cookie's SHA-256 is stored.
    raw = client.get_cookie(SESSION_COOKIE)
    assert raw is not None
    with secure.services.db.read() as session:
        ids = list(session.scalars(select(WebSession.id)))
    assert ids == [session_id(raw.value)] and raw.value not in ids
    assert [e.actor for e in secure.audit("sign_in")] == ["op-li"]


def test_https_sign_in_marks_cookies_secure(lite_secure: SecureApp) -> None:
    lite_secure.user("op-li", Role.DISPATCHER)
    client = lite_secure.client()
    csrf = _form_csrf(client)
    form = {"username": "op-li", "password": PASSWORD, "csrf_token": csrf}
    response = client.post("/login", data=form, base_url="https://localhost")
    assert all("Secure" in c for c in response.headers.getlist("Set-Cookie") if "=;" not in c)
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_refusals_look_the_same_whoever_you_are(secure: SecureApp) -> None:
    secure.user("op-li", Role.DISPATCHER)
    answers = []
    for username, password in (("op-li", "wrong password"), ("nobody", "wrong password")):
        client = secure.client()
        csrf = _form_csrf(client)
        form = {"username": username, "password": password, "csrf_token": csrf}
        response = client.post("/login", data=form)
        answers.append((response.status_code, response.get_data(as_text=True)))
    assert answers[0][0] == answers[1][0] == 401
    error = [re.search(r'id="login-error">([^<]+)<', body) for _, body in answers]
    assert error[0] and error[1] and error[0].group(1) == error[1].group(1)
    failed = secure.audit("sign_in_failed")
    assert [(e.actor, e.details["reason"]) for e in failed] == [
        ("op-li", "password"),
        ("(unknown)", "unknown"),  # what was typed as a name is not kept: often a password
    ]


def test_repeated_failures_back_off_the_address_but_never_lock_the_user_out(
    secure: SecureApp,
) -> None:
    """Five wrong passwords used to lock any account for 15 minutes: anyone could keep the duty
    commander out. Now the guessing address backs off (429) and the real user is let in."""
    secure.user("op-li", Role.DISPATCHER)  # the test config: back-off after 3, up to 10 min
    attacker = secure.client()
    attacker.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    for _ in range(3):
        assert _sign_in(attacker, "op-li", "wrong password") == 401
    csrf = _form_csrf(attacker)
    form = {"username": "op-li", "password": PASSWORD, "csrf_token": csrf}
    refused = attacker.post("/login", data=form)  # backing off: even the right password waits
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "秒后再试" in refused.get_data(as_text=True)
    assert [e.details["scope"] for e in secure.audit("sign_in_throttled")] == ["pair"]
    user = secure.client()  # the real user, at their own desk
    user.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert _sign_in(user, "op-li", PASSWORD) == 302
    later(secure, seconds=int(refused.headers["Retry-After"]))
    assert _sign_in(attacker, "op-li", PASSWORD) == 302  # the wait is over
    with secure.services.db.read() as session:
        row = session.scalars(select(User).where(User.username == "op-li")).one()
    assert row.failed_logins == 0 and row.locked_until is None


@pytest.mark.parametrize(
    ("advance", "alive"),
    [
        ({"minutes": 29}, True),  # idle limit is 30 minutes in the test config
        ({"minutes": 30}, False),
    ],
)
def test_an_idle_session_ends(
    lite_secure: SecureApp, advance: dict[str, float], alive: bool
) -> None:
    lite_secure.user("op-li", Role.DISPATCHER)
    client, _ = lite_secure.signed_in("op-li")
    later(lite_secure, **advance)
    assert (_me(client) == 200) is alive


def test_an_active_session_still_ends_at_its_absolute_expiry(secure: SecureApp) -> None:
    secure.user("op-li", Role.DISPATCHER)
    client, _ = secure.signed_in("op-li")
    for _ in range(16):  # 16 × 29 min < 8 h: every request keeps it from idling out
        later(secure, minutes=29)
        assert _me(client) == 200
    later(secure, minutes=29)  # 8 h 13 min after sign-in: past session_hours = 8
    assert _me(client) == 401
    assert client.get("/wall").status_code == 302


def test_sign_out_ends_the_session_and_needs_the_csrf_token(secure: SecureApp) -> None:
    secure.user("op-li", Role.DISPATCHER)
    client, csrf = secure.signed_in("op-li")
    page = client.get("/logout").get_data(as_text=True)
    assert csrf in page  # the confirmation form carries the token
    assert client.post("/logout").status_code == 403  # no token: refused, still signed in
    assert _me(client) == 200
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 302 and response.location == "/login"
    assert _me(client) == 401
    assert [e.actor for e in secure.audit("sign_out")] == ["op-li"]


def test_state_changes_need_the_csrf_token_but_bearer_calls_do_not(lite_secure: SecureApp) -> None:
    app = lite_secure
    app.user("op-li", Role.DISPATCHER)
    client, csrf = app.signed_in("op-li")
    body = {"category": "01002", "description": "x", "lat": 0, "lon": 0}
    assert client.post("/api/v1/cases", json=body).status_code == 403
    assert (
        client.post("/api/v1/cases", json=body, headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    cross = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    assert client.post("/api/v1/cases", json=body, headers=cross).status_code == 403
    same = {"X-CSRF-Token": csrf, "Origin": "http://localhost"}
    assert client.post("/api/v1/cases", json=body, headers=same).status_code == 422  # validated
    token = app.token(Role.GRID_WORKER)
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.client().post("/api/v1/cases", json=body, headers=bearer).status_code == 422
    # Dash callbacks too: the renderer sends the token from the gcc_csrf cookie.
    assert client.post("/_dash-update-component", json={}).status_code == 403


def test_the_login_form_has_its_own_csrf_check(lite_secure: SecureApp) -> None:
    lite_secure.user("op-li", Role.DISPATCHER)
    client = lite_secure.client()
    form = {"username": "op-li", "password": PASSWORD, "csrf_token": "guess"}
    assert client.post("/login", data=form).status_code == 400  # no cookie: a forged post
    _form_csrf(client)
    assert client.get_cookie(LOGIN_CSRF_COOKIE) is not None
    assert client.post("/login", data=form).status_code == 400  # cookie, wrong field
    assert lite_secure.audit("sign_in") == []


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/wall?lang=en", "/wall?lang=en"),
        ("/", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=y", "/"),
        ("", "/"),
    ],
)
def test_next_is_a_local_path_only(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_strangers_go_to_the_sign_in_page_and_come_back(lite_secure: SecureApp) -> None:
    client = lite_secure.client()
    response = client.get("/wall?lang=en")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Fwall%3Flang%3Den"
    assert client.get("/api/v1/me").status_code == 401  # the API answers, never redirects
    assert client.get("/_dash-layout").status_code == 401


def test_role_changes_apply_at_once_and_are_audited(secure: SecureApp) -> None:
    from dashboard.accounts import set_role
    from dashboard.security.audit import Actor

    secure.user("op-li", Role.DISPATCHER)
    client, _ = secure.signed_in("op-li")
    assert client.get("/api/v1/audit").status_code == 403
    with secure.services.db.transaction() as session:
        set_role(session, "op-li", Role.ADMIN, secure.clock.now(), Actor("cli:root", "admin"))
    assert client.get("/api/v1/audit").status_code == 200
    [change] = secure.audit("role_changed")
    assert (change.actor, change.target, change.details) == (
        "cli:root",
        "user:op-li",
        {"before": "dispatcher", "after": "admin"},
    )


def test_locking_a_user_ends_their_sessions(lite_secure: SecureApp) -> None:
    from dashboard.accounts import set_active
    from dashboard.security.audit import Actor

    lite_secure.user("op-li", Role.DISPATCHER)
    client, _ = lite_secure.signed_in("op-li")
    with lite_secure.services.db.transaction() as session:
        set_active(session, "op-li", False, lite_secure.clock.now(), Actor("cli:root", "admin"))
    assert _me(client) == 401
    assert _sign_in(lite_secure.client(), "op-li", PASSWORD) == 401


def test_the_demo_signs_browsers_in_only_when_enabled(lite_secure: SecureApp) -> None:
    from dashboard.security.setup import enable_demo_sign_in

    app = lite_secure
    assert app.client().get("/").status_code == 302  # not the demo: sign in first
    enable_demo_sign_in(app.app, app.services, "demo")
    try:
        client = app.client()
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/me").get_json() == {
            **client.get("/api/v1/me").get_json(),
            "name": "demo",
            "role": "commander",
        }
        assert [e.details["method"] for e in app.audit("sign_in")] == ["demo_auto"]
        assert app.client().get("/api/v1/me").status_code == 401  # the API is never automatic
        # The demo user's password is random and unknown: nobody signs in with a guess.
        assert _sign_in(app.client(), "demo", "demo") == 401
    finally:
        app.security.demo_user = None


def test_a_wall_token_opens_a_kiosk_once_and_leaves_the_address_bar(secure: SecureApp) -> None:
    token = secure.token(Role.WALL, "hall-screen")
    client = secure.client()
    response = client.get(f"/wall?lang=en&token={token}")
    assert response.status_code == 302 and response.location == "/wall?lang=en"
    kiosk = client.get_cookie(KIOSK_COOKIE)
    assert kiosk is not None and kiosk.http_only
    assert client.get("/wall?lang=en").status_code == 200
    assert client.get("/api/v1/me").get_json()["role"] == "wall"
    # Dash's callbacks carry the kiosk's CSRF token from its cookie, as for a signed-in user.
    csrf = client.get_cookie(CSRF_COOKIE)
    assert csrf is not None
    body = _router_body("/wall", "?lang=en")
    assert client.post("/_dash-update-component", json=body).status_code == 403
    shown = client.post("/_dash-update-component", json=body, headers={"X-CSRF-Token": csrf.value})
    assert shown.status_code == 200 and "access-notice" not in shown.get_data(as_text=True)
    [opened] = secure.audit("kiosk_sign_in")
    assert opened.actor == "token:hall-screen"
    # Revoking the token ends the kiosk at its next request.
    from dashboard.accounts import revoke_tokens

    with secure.services.db.transaction() as session:
        revoke_tokens(session, "hall-screen", secure.clock.now())
    assert client.get("/wall").status_code == 302


def test_only_a_wall_token_makes_a_kiosk(lite_secure: SecureApp) -> None:
    token = lite_secure.token(Role.COMMANDER, "not-a-screen")
    client = lite_secure.client()
    response = client.get(f"/wall?token={token}")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert token not in response.location
    assert client.get_cookie(KIOSK_COOKIE) is None
    assert [e.actor for e in lite_secure.audit("kiosk_refused")] == ["token:not-a-screen"]


def test_the_cli_changes_roles_and_locks_users_with_an_audit_entry(
    lite_secure: SecureApp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.cli import main

    lite_secure.user("op-li", Role.DISPATCHER)
    url = lite_secure.services.db.engine.url.render_as_string(hide_password=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path}"\n[database]\nurl = "{url}"\n')
    assert main(["--config", str(config), "user", "set-role", "op-li", "--role", "leader"]) == 0
    assert main(["--config", str(config), "user", "lock", "op-li"]) == 0
    assert main(["--config", str(config), "user", "list"]) == 0
    assert "op-li\tleader\t-\tlocked" in capsys.readouterr().out
    assert main(["--config", str(config), "user", "set-role", "nobody", "--role", "admin"]) == 1
    changed = lite_secure.audit("role_changed")
    assert [(e.target, e.details["after"]) for e in changed] == [("user:op-li", "leader")]
    assert changed[0].actor.startswith("cli:")
    assert [e.target for e in lite_secure.audit("user_locked")] == ["user:op-li"]
