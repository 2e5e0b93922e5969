"""The real Open311 clients from PyPI against the running server, and webhooks to a real
receiver, on both backends.

The app is the real one (``create_app(build_services(config))`` over the seeded town) served
over HTTP by werkzeug in a thread, with the controlled clock, so the webhook back-off (10 s,
20 s, 40 s …) runs on that clock: the receiver is "down for a minute" without the test waiting
a real minute. ``georeport`` (read-only) reads services, definitions and requests in JSON and
XML; ``civicbot`` creates the request (its own validation against the live service list and
definition included; its polite 0.5 s between calls is set to 0 here). Every JSON answer is
validated against the schemas written from the spec (open311_schemas). A case created over
Open311 goes through the lifecycle over ``/api/v1`` with the roles' tokens; each step reaches
the receiver once, in order, signed, although the receiver was down for a minute in between.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport
from werkzeug.serving import BaseWSGIServer, make_server

from dashboard.accounts import create_token
from dashboard.app import create_app
from dashboard.clock import FixedClock
from dashboard.config import parse_config
from dashboard.container import Services
from dashboard.domain.roles import Role
from dashboard.domain.status import Action
from dashboard.domain.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from dashboard.services.webhook_sender import WebhookDispatcher, WebhookSender
from dashboard.services.webhooks import NewSubscription, add_subscription
from dashboard.storage.models import Grid, WebhookDelivery
from dashboard.wiring import build_services
from tests.integration import open311_schemas as schemas
from tests.integration.live_helpers import free_port, wait_until
from tests.integration.support import ACTORS, TO_CLOSED, TOWN_NOW, SeededTown, token_scope
from tests.integration.test_api_support import _reset, image


@dataclass
class Received:
    """What the receiver got: (signature header, delivery id, body, its clock's time then) in
    arrival order."""

    calls: list[tuple[str, str, bytes, datetime]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Receiver:
    """A real HTTP server taking webhook POSTs; ``down()`` closes its port, ``up()`` reopens."""

    def __init__(self, port: int, clock: FixedClock) -> None:
        self.port = port
        self.clock = clock
        self.received = Received()
        self._server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        received, clock = self.received, self.clock

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with received.lock:
                    received.calls.append(
                        (
                            self.headers[SIGNATURE_HEADER],
                            self.headers[DELIVERY_HEADER],
                            body,
                            clock.now(),
                        )
                    )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def count(self) -> int:
        with self.received.lock:
            return len(self.received.calls)


@dataclass
class Door:
    services: Services
    clock: FixedClock
    base: str  # http://127.0.0.1:PORT
    photos_dir: Path

    def token(self, role: Role, name: str, **scope: Any) -> str:
        with self.services.db.transaction() as session:
            given = token_scope(session, role, name, **scope)
            return create_token(session, name, role, TOWN_NOW, **given).token

    def grid(self, index: int = 0) -> Grid:
        from sqlalchemy import select

        with self.services.db.read() as session:
            return session.scalars(select(Grid).order_by(Grid.code).offset(index).limit(1)).one()


def _serve(seeded: SeededTown, data_dir: Path) -> Iterator[Door]:
    url = seeded.db.engine.url.render_as_string(hide_password=False)
    config = parse_config(
        f'[server]\ndata_dir = "{data_dir}"\n[database]\nurl = "{url}"\n'
        "[security]\ntoken_rate_per_second = 10000\ntoken_burst = 100000\n"
        "[integrations]\nopen311_anonymous_reads = true\nopen311_anonymous_burst = 10000\n"
        "open311_anonymous_rate_per_second = 1000\nwebhook_allow_private = true\n"
        "webhook_poll_seconds = 0.02\nwebhook_timeout_seconds = 2\n",
        "test config",
    )
    clock = FixedClock(TOWN_NOW)
    services = build_services(config, clock)
    app = create_app(services)
    port = free_port()
    server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Door(services, clock, f"http://127.0.0.1:{port}", data_dir / "photos")
    finally:
        server.shutdown()
        services.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def _door(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Door]:
    seeded: SeededTown = request.getfixturevalue(f"_town_{request.param}")
    yield from _serve(seeded, tmp_path_factory.mktemp(f"open311-{request.param}"))


@pytest.fixture
def door(_door: Door) -> Iterator[Door]:
    _door.clock.set(TOWN_NOW)
    _reset(_door.services, _door.photos_dir)
    yield _door
    _reset(_door.services, _door.photos_dir)


def test_georeport_reads_services_and_requests_in_json_and_xml(door: Door) -> None:
    root = f"{door.base}/open311/v2"
    key = door.token(Role.INTEGRATION, "hotline-12345", source="hotline")
    grid = door.grid()
    created = requests.post(
        f"{root}/requests.json",
        data={
            "api_key": key,
            "service_code": "01002",
            "lat": grid.lat,
            "long": grid.lon,
            "description": "市民来电：垃圾堆放",
            "media_url": "https://img.example/a.jpg",
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    case_id = schemas.check(schemas.CREATED, created.json())[0]["service_request_id"]
    police = door.token(Role.INTEGRATION, "police-110", source="police")
    from_110 = requests.post(
        f"{root}/requests.json",
        data={
            "api_key": police,
            "service_code": "02001",
            "lat": grid.lat,
            "long": grid.lon,
            "description": "110转来：可疑人员",
        },
        timeout=10,
    )
    assert from_110.status_code == 201, from_110.text  # 110 cases are not shown without a key
    as_json, as_xml = GeoReport(root), GeoReport(root, output_format="xml")
    services = schemas.check(schemas.SERVICES, as_json.get_service_list())
    services_xml = as_xml.get_service_list()
    assert [s["service_code"] for s in services_xml] == [s["service_code"] for s in services]
    assert (
        services_xml[0]["metadata"] == "true" and services_xml[0]["group"] == services[0]["group"]
    )
    definition = schemas.check(schemas.SERVICE_DEFINITION, as_json.get_service_definition("01002"))
    definition_xml = as_xml.get_service_definition("01002")
    xml_codes = [a["code"] for a in definition_xml["attributes"]["attribute"]]
    assert xml_codes == [a["code"] for a in definition["attributes"]]
    listed = schemas.check(schemas.REQUESTS, as_json.get_service_requests(status="open"))
    assert [r["service_request_id"] for r in listed] == [case_id]
    assert listed[0]["description"] == ""  # anonymous reads never show descriptions
    listed_xml = as_xml.get_service_requests(service_code="01002")
    assert listed_xml["service_request_id"] == case_id  # xmltodict: one item is a dict
    assert listed_xml["media_url"] == "https://img.example/a.jpg"
    assert float(listed_xml["lat"]) == listed[0]["lat"]
    one = schemas.check(schemas.REQUESTS, [as_json.get_service_request(case_id)])[0]
    assert one == listed[0]
    assert as_xml.get_service_request(case_id)["status"] == "open"
    assert as_json.get_service_requests(status="closed") == []
    with pytest.raises(requests.HTTPError) as missing:
        as_json.get_service_request("999999")
    assert missing.value.response.status_code == 404
    schemas.check(schemas.ERRORS, missing.value.response.json())


def _civicbot(door: Door) -> Open311Client:
    endpoint = Endpoint(
        id="fengqiao", name="枫桥镇", base_url=f"{door.base}/open311/v2", write=True
    )
    return Open311Client(endpoint, HttpTransport(rate_limiter=RateLimiter(min_interval=0.0)))


def _signed_steps(door: Door, receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    steps = []
    with receiver.received.lock:
        calls = list(receiver.received.calls)
    for header, delivery, body, at in calls:
        assert verify(secret, header, body, at), "a bad signature"
        assert not verify("another secret", header, body, at)
        assert not verify(secret, header, body + b" ", at)
        assert not verify(secret, header, body, at + timedelta(minutes=6))  # a replay, later
        payload = schemas.check(schemas.UPDATES, [json.loads(body)])[0]
        assert payload["update_id"] == delivery
        steps.append(payload)
    return steps


def test_civicbot_creates_a_case_whose_steps_reach_the_webhook_once_each_in_order(
    door: Door,
) -> None:
    receiver = Receiver(free_port(), door.clock)
    receiver.up()
    key = door.token(Role.INTEGRATION, "hotline-12345", source="hotline")
    with door.services.db.transaction() as session:
        from sqlalchemy import select

        from dashboard.storage.models import ApiToken

        key_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "hotline-12345"))
        _sub, secret = add_subscription(
            session,
            NewSubscription("hotline", f"http://127.0.0.1:{receiver.port}/gcc", token_id=key_id),
            "test-admin",
            TOWN_NOW,
            allow_private=True,
        )
    cfg = door.services.config.integrations
    dispatcher = WebhookDispatcher(
        WebhookSender(door.services.db, door.clock, cfg), cfg.webhook_poll_seconds
    )
    dispatcher.start()
    try:
        grid = door.grid()
        prepared = _civicbot(door).create_request(
            "01002",
            dry_run=False,
            confirm="SEND",
            api_key=key,
            validate_remote=True,  # civicbot checks the code and the definition's attributes
            lat=grid.lat,
            lng=grid.lon,
            description="市民来电：两户因排水沟堵塞发生争执",
            attributes={"emergency": "false"},
        )
        created = schemas.check(schemas.CREATED, prepared.response)[0]
        case_id = created["service_request_id"]
        assert _civicbot(door).get_token(created["token"]) == [
            {"service_request_id": case_id, "token": created["token"]}
        ]
        wait_until(lambda: receiver.count() == 1, 10, "the report's webhook")

        tokens = {
            Role.DISPATCHER: door.token(Role.DISPATCHER, "op-li"),
            Role.COMMANDER: door.token(Role.COMMANDER, "shift-wang"),
            Role.DEPARTMENT: door.token(Role.DEPARTMENT, "dept-justice"),
            Role.GRID_WORKER: door.token(Role.GRID_WORKER, "gw-phone"),
        }

        def step(action: Action) -> None:
            role = ACTORS[action][1]
            auth = {"Authorization": f"Bearer {tokens[role]}"}
            body: dict[str, Any] = {"action": action.value}
            if action is Action.HANDLED:  # the department's result photo first
                uploaded = requests.post(
                    f"{door.base}/api/v1/cases/{case_id}/attachments",
                    files={"photos": ("result.jpg", image(".jpg"), "image/jpeg")},
                    headers=auth,
                    timeout=10,
                )
                assert uploaded.status_code == 201, uploaded.text
                body |= {"note": "已调解", "attachments": uploaded.json()["attachments"]}
            answer = requests.post(
                f"{door.base}/api/v1/cases/{case_id}/actions", json=body, headers=auth, timeout=10
            )
            assert answer.status_code == 200, (action, answer.text)

        step(Action.ACCEPT)
        wait_until(lambda: receiver.count() == 2, 10, "the accept step's webhook")
        receiver.down()  # the 12345 system is away for a minute
        step(Action.REGISTER)
        step(Action.DISPATCH)
        for _ in range(6):  # 10 s apart on the controlled clock: attempts at 0, 10, 30, 70 s
            wait_until(lambda: _attempted(door), 10, "an attempt to the receiver")
            door.clock.set(door.clock.now() + timedelta(seconds=10))
        assert receiver.count() == 2
        with door.services.db.read() as session:
            head = session.query(WebhookDelivery).order_by(WebhookDelivery.id).all()[2]
            assert head.status == "pending" and head.attempts >= 2 and head.last_error
        receiver.up()  # back after a minute
        door.clock.set(door.clock.now() + timedelta(seconds=60))
        wait_until(lambda: receiver.count() == 4, 10, "the two steps held while it was down")
        for action in TO_CLOSED[3:]:
            door.clock.set(door.clock.now() + timedelta(minutes=5))
            step(action)
        wait_until(lambda: receiver.count() == len(TO_CLOSED) + 1, 10, "every step")
        door.clock.set(door.clock.now() + timedelta(hours=2))  # any retry would be due now
        import time

        time.sleep(0.3)  # several passes of the sender: nothing more arrives
        steps = _signed_steps(door, receiver, secret)
        assert [s["external_status_code"] for s in steps] == [
            "reported",
            "accepted",
            "registered",
            "dispatched",
            "handling",
            "handled",
            "checked",
            "closed",
        ]
        assert [s["status"] for s in steps] == ["open"] * 7 + ["closed"]
        assert len({s["update_id"] for s in steps}) == len(steps)  # once each
        # georeport sees the closed request; the steps match servicerequestupdates.
        closed = GeoReport(f"{door.base}/open311/v2").get_service_request(case_id)
        assert schemas.check(schemas.REQUESTS, [closed])[0]["status"] == "closed"
        updates = requests.get(
            f"{door.base}/open311/v2/servicerequestupdates.json",
            params={"api_key": key, "start_date": TOWN_NOW.isoformat()},
            timeout=10,
        ).json()
        assert schemas.check(schemas.UPDATES, updates) == steps
    finally:
        dispatcher.stop()
        receiver.down()


def _attempted(door: Door) -> bool:
    """The sender has looked at the held delivery since the clock last moved."""
    with door.services.db.read() as session:
        rows = session.query(WebhookDelivery).order_by(WebhookDelivery.id).all()
    pending = [r for r in rows if r.status == "pending"]
    return bool(pending) and pending[0].next_attempt_at > door.clock.now()
