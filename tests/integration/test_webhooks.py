"""Webhooks out (both backends): deliveries are written with the step or not at all, a failing
receiver is retried with back-off, a failed delivery holds its subscription's later ones until
replayed, targets resolving to local addresses are refused at send time, and the admin page
(/admin/webhooks) shows the queue, adds a subscription (CSRF, URL rule) and replays."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.config import IntegrationsConfig
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.security.sessions import CSRF_COOKIE, SESSION_COOKIE
from dashboard.security.web import security_of
from dashboard.services.webhook_sender import WebhookSender
from dashboard.services.webhooks import NewSubscription, add_subscription, replay
from dashboard.storage.models import WebhookDelivery, WebhookSubscription
from tests.integration.live_helpers import free_port
from tests.integration.support import TOWN_NOW
from tests.integration.support import request as step
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401
    apps_fixture,  # noqa: F401
    case_body,
    lite_api_fixture,  # noqa: F401
)


class Flaky:
    """A real receiver answering ``status`` (500 until told otherwise); keeps the bodies."""

    def __init__(self) -> None:
        self.status = 500
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    receiver = Flaky()
    yield receiver
    receiver.close()


def subscribe(api: Api, url: str, **match: Any) -> int:
    with api.services.db.transaction() as session:
        row, _secret = add_subscription(
            session, NewSubscription("test", url, **match), "test", TOWN_NOW, allow_private=True
        )
        return row.id


def deliveries(api: Api) -> list[WebhookDelivery]:
    with api.services.db.read() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def report(api: Api, headers: dict[str, str], **overrides: Any) -> int:
    answer = api.post("/api/v1/cases", json=case_body(api, **overrides), headers=headers)
    assert answer.status_code == 201, answer.data
    return int(answer.get_json()["id"])


def test_a_delivery_is_written_with_its_step_or_not_at_all(api: Api) -> None:
    subscribe(api, "http://127.0.0.1:9/hook", category_code="01002")
    phone = api.token(Role.GRID_WORKER)
    case_id = report(api, phone)
    other = report(api, phone, category="01001")  # another category: not followed
    assert [(d.case_id, d.payload["action"]) for d in deliveries(api)] == [(case_id, "report")]
    before = api.counts()
    refused = api.post("/api/v1/cases", json=case_body(api, lat=0, lon=0), headers=phone)
    assert refused.status_code == 422 and api.counts() == before
    api.services.cases.act(case_id, step(Action.ACCEPT))
    api.services.cases.act(other, step(Action.ACCEPT))
    assert [d.payload["external_status_code"] for d in deliveries(api)] == ["reported", "accepted"]


def test_retries_back_off_then_a_failed_delivery_holds_the_rest_until_replayed(
    api: Api, flaky: Flaky
) -> None:
    subscribe(api, flaky.url, area_code=api.grid(0).village_code[:6])
    config = IntegrationsConfig(
        webhook_allow_private=True, webhook_max_attempts=3, webhook_first_retry_seconds=10
    )
    sender = WebhookSender(api.services.db, api.clock, config)
    case_id = report(api, api.token(Role.GRID_WORKER))
    api.services.cases.act(case_id, step(Action.ACCEPT))
    assert sender.send_due() == 0  # 500: attempt 1 failed
    first = deliveries(api)[0]
    assert (first.attempts, first.last_status, first.last_error) == (1, 500, "http: HTTP 500")
    assert first.next_attempt_at == api.clock.now() + timedelta(seconds=10)
    assert sender.send_due() == 0 and len(flaky.bodies) == 1  # not due yet: nothing sent
    api.clock.set(api.clock.now() + timedelta(seconds=10))
    sender.send_due()  # attempt 2, then 20 s
    api.clock.set(api.clock.now() + timedelta(seconds=20))
    sender.send_due()  # attempt 3: failed
    head, held = deliveries(api)
    assert (head.status, head.attempts, held.status, held.attempts) == ("failed", 3, "pending", 0)
    api.clock.set(api.clock.now() + timedelta(hours=5))
    assert sender.send_due() == 0 and len(flaky.bodies) == 3  # the later one waits behind it
    flaky.status = 200
    with api.services.db.transaction() as session:
        assert replay(session, api.clock.now()) == 1
    assert sender.send_due() == 1  # the head …
    assert sender.send_due() == 1  # … then the one it held, in order
    assert [d.status for d in deliveries(api)] == ["delivered", "delivered"]
    assert [json.loads(b)["action"] for b in flaky.bodies] == ["report"] * 4 + ["accept"]
    api.clock.set(api.clock.now() + timedelta(days=6))
    assert sender.prune() == 0  # delivered rows are kept a week
    api.clock.set(api.clock.now() + timedelta(days=2))
    assert sender.prune() == 2 and deliveries(api) == []


def test_a_target_resolving_to_a_local_address_is_refused_when_sending(
    lite_api: Api, flaky: Flaky
) -> None:
    api = lite_api
    port = flaky.server.server_address[1]
    subscribe(api, f"http://localhost:{port}/hook", category_code="01002")  # set up on a LAN
    strict = WebhookSender(api.services.db, api.clock, IntegrationsConfig())
    report(api, api.token(Role.GRID_WORKER))
    assert strict.send_due() == 0
    assert flaky.bodies == []
    assert deliveries(api)[0].last_error.startswith("target: refused")


def _admin(api: Api, role: Role = Role.ADMIN) -> tuple[Any, str]:
    api.user("root", role)
    issued = security_of(api.app).sessions.start("root", "127.0.0.1", "test")
    client = api.app.test_client()
    client.set_cookie(SESSION_COOKIE, issued.cookie)
    client.set_cookie(CSRF_COOKIE, issued.csrf)
    return client, issued.csrf


def test_the_admin_page_shows_adds_and_replays(api: Api) -> None:
    client, csrf = _admin(api)
    page = client.get("/admin/webhooks?lang=en")
    assert page.status_code == 200
    assert "No subscriptions yet" in page.get_data(as_text=True)
    refused = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf,
            "do": "add",
            "name": "h",
            "url": "http://169.254.169.254/",
            "category": "01002",
        },
    )
    assert refused.status_code == 422, refused.status_code
    assert "不允许推送到内网" in refused.get_data(as_text=True), refused.get_data(as_text=True)
    no_csrf = client.post(
        "/admin/webhooks", data={"do": "add", "name": "h", "url": "https://hooks.example.org/"}
    )
    assert no_csrf.status_code == 403
    with api.services.db.read() as session:
        assert session.scalar(select(WebhookSubscription.id)) is None
    added = client.post(
        "/admin/webhooks?lang=zh",
        data={
            "csrf_token": csrf,
            "do": "add",
            "name": "12345热线",
            "url": "https://hooks.example.org/gcc",
            "category": "01002",
        },
    )
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and "签名密钥只显示这一次" in html
    secret = re.search(r'id="webhooks-secret">([0-9a-f]{64})<', html)
    assert secret is not None
    with api.services.db.read() as session:
        row = session.scalars(select(WebhookSubscription)).one()
        assert (row.name, row.secret, row.category_code) == ("12345热线", secret[1], "01002")
    case_id = report(api, api.token(Role.GRID_WORKER))
    with api.services.db.transaction() as session:
        session.execute(
            WebhookDelivery.__table__.update().values(
                status="failed", last_error="http: HTTP 503", last_status=503
            )
        )
    page = client.get("/admin/webhooks?lang=zh").get_data(as_text=True)
    assert "HTTP 503" in page and f"/cases/{case_id}" in page and "重新推送" in page
    assert "对方返回错误（HTTP 503）" in page and "Add" not in page and "Webhook" not in page
    replayed = client.post(
        "/admin/webhooks",
        data={"csrf_token": csrf, "do": "replay", "delivery": str(deliveries(api)[0].id)},
    )
    assert replayed.status_code == 200
    assert deliveries(api)[0].status == "pending"


def test_only_admins_open_the_page(lite_api: Api) -> None:
    client, csrf = _admin(lite_api, Role.COMMANDER)
    assert client.get("/admin/webhooks").status_code == 403
    answer = client.post("/admin/webhooks", data={"csrf_token": csrf, "do": "replay"})
    assert answer.status_code == 403
    assert lite_api.app.test_client().get("/admin/webhooks").status_code == 302  # sign in first
