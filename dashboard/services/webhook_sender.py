"""Sends the webhook deliveries: in order per subscription, signed, retried with back-off.

``send_due`` looks at the head of each subscription's queue (its oldest delivery not yet
delivered): a failed head holds the subscription (order matters: "closed" must not overtake
"dispatched") until an admin replays it; a head whose next attempt is due is claimed (a short
lock in the row, so two processes never send it together), POSTed, and marked delivered on a
2xx answer, else rescheduled by ``dashboard.domain.webhooks.retry_delay`` on the controlled
clock. ``WebhookDispatcher`` calls it every ``webhook_poll_seconds`` in a thread of the server.

The connection goes to an address resolved and checked here (no loopback, private, link-local
… unless ``webhook_allow_private``), with the URL's host in ``Host`` and TLS's SNI, so a DNS
answer that changes between the check and the connect cannot send it elsewhere; redirects are
not followed.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select, update

from dashboard.clock import Clock
from dashboard.config import IntegrationsConfig
from dashboard.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    address_refused,
    check_target_url,
    retry_delay,
    signature,
)
from dashboard.services.webhooks import DELIVERED, FAILED, PENDING
from dashboard.storage.db import Database
from dashboard.storage.models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

CLAIM = timedelta(seconds=60)  # a claimed delivery is retried by anyone after this
KEEP_DELIVERED = timedelta(days=7)  # delivered rows are deleted after this (the queue stays small)
PRUNE_EVERY_S = 3600.0
MAX_ERROR = 300


class DeliveryFailed(Exception):
    """The receiver did not take it. The message, kept as ``last_error``, starts with its kind
    (``http``, ``connect``, ``timeout``, ``resolve``, ``target``, ``error``) and a colon: the
    admin page shows the kind in words, ``run.py webhook list`` the whole text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]


Poster = Callable[[Outgoing, float, bool], int]


def post(outgoing: Outgoing, timeout: float, allow_private: bool) -> int:
    """POST to a checked address; the status code (DeliveryFailed when there is none)."""
    problem = check_target_url(outgoing.url, allow_private=allow_private)
    if problem:
        raise DeliveryFailed(f"target: refused, {problem}")
    parts = urlsplit(outgoing.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise DeliveryFailed(f"resolve: cannot resolve {host}: {err}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private and any(address_refused(a) for a in addresses):
        raise DeliveryFailed(f"target: refused, {host} resolves to a private or local address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    last: Exception | None = None
    for address in addresses[:3]:
        conn = _connection(parts.scheme, host, address, port, timeout)
        try:
            conn.request("POST", path, body=outgoing.body, headers=outgoing.headers)
            response = conn.getresponse()
            response.read(64 * 1024)
            return int(response.status)
        except (OSError, http.client.HTTPException) as err:
            last = err
        finally:
            conn.close()
    kind = "timeout" if isinstance(last, TimeoutError | socket.timeout) else "connect"
    raise DeliveryFailed(f"{kind}: {type(last).__name__}: {last}"[:MAX_ERROR])


def _connection(
    scheme: str, host: str, address: str, port: int, timeout: float
) -> http.client.HTTPConnection:
    """A connection to ``address`` that says ``host`` (Host header, TLS server name)."""

    class Pinned(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.create_connection((address, port), timeout)

    class PinnedTls(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection((address, port), timeout)
            self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host)

    kind = PinnedTls if scheme == "https" else Pinned
    return kind(host, port, timeout=timeout)


class WebhookSender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: IntegrationsConfig,
        poster: Poster = post,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.poster = poster
        self.sent = 0

    def send_due(self) -> int:
        """One pass over the queue heads; how many were delivered."""
        delivered = 0
        for head_id in self._heads():
            delivered += self._attempt(head_id)
        return delivered

    def prune(self) -> int:
        """Delete deliveries delivered longer ago than ``KEEP_DELIVERED``."""
        cutoff = self.clock.now() - KEEP_DELIVERED
        with self.db.transaction() as session:
            result = session.execute(
                delete(WebhookDelivery)
                .where(WebhookDelivery.status == DELIVERED)
                .where(WebhookDelivery.delivered_at < cutoff)
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    def _heads(self) -> list[int]:
        with self.db.read() as session:
            heads = (
                select(func.min(WebhookDelivery.id))
                .join(
                    WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id
                )
                .where(WebhookSubscription.active.is_(True))
                .where(WebhookDelivery.status != DELIVERED)
                .group_by(WebhookDelivery.subscription_id)
            )
            return [int(i) for i in session.scalars(heads) if i is not None]

    def _attempt(self, delivery_id: int) -> int:
        now = self.clock.now()
        with self.db.transaction() as session:
            claimed = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .where(WebhookDelivery.status == PENDING)
                .where(WebhookDelivery.next_attempt_at <= now)
                .where(
                    or_(
                        WebhookDelivery.locked_until.is_(None),
                        WebhookDelivery.locked_until <= now,
                    )
                )
                .values(locked_until=now + CLAIM)
            )
            if not getattr(claimed, "rowcount", 0):
                return 0  # not due, failed (holding), or another process has it
            row = session.get(WebhookDelivery, delivery_id)
            sub = session.get(WebhookSubscription, row.subscription_id) if row else None
            if row is None or sub is None:
                return 0
            body = json.dumps(row.payload, ensure_ascii=False, sort_keys=True).encode()
            outgoing = Outgoing(
                sub.url,
                body,
                {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "grid-command-center-webhooks/1",
                    SIGNATURE_HEADER: signature(sub.secret, int(now.timestamp()), body),
                    DELIVERY_HEADER: str(row.event_id),
                    EVENT_HEADER: "case.step",
                },
            )
            active, attempts = sub.active, row.attempts
        if not active:
            self._release(delivery_id)
            return 0
        status: int | None = None
        error = ""
        try:
            status = self.poster(
                outgoing,
                self.config.webhook_timeout_seconds,
                self.config.webhook_allow_private,
            )
            if not 200 <= status < 300:
                error = f"http: HTTP {status}"
        except DeliveryFailed as err:
            error, status = str(err)[:MAX_ERROR], err.status
        except Exception as err:  # a bug must not end the thread; the delivery waits
            logger.exception("webhook delivery %s failed unexpectedly", delivery_id)
            error = f"error: {type(err).__name__}"[:MAX_ERROR]
        return self._record(delivery_id, attempts + 1, status, error)

    def _release(self, delivery_id: int) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(locked_until=None)
            )

    def _record(self, delivery_id: int, attempts: int, status: int | None, error: str) -> int:
        now = self.clock.now()
        cfg = self.config
        values: dict[str, object] = {
            "attempts": attempts,
            "last_status": status,
            "last_error": error,
            "locked_until": None,
        }
        if not error:
            values |= {"status": DELIVERED, "delivered_at": now}
        elif attempts >= cfg.webhook_max_attempts:
            values |= {"status": FAILED}
            logger.warning("webhook delivery %s failed %s times: %s", delivery_id, attempts, error)
        else:
            wait = retry_delay(
                attempts,
                timedelta(seconds=cfg.webhook_first_retry_seconds),
                timedelta(seconds=cfg.webhook_longest_retry_seconds),
            )
            values |= {"next_attempt_at": now + wait}
        with self.db.transaction() as session:
            session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values)
            )
        if not error:
            self.sent += 1
            return 1
        return 0


class WebhookDispatcher:
    """The sender's thread: a pass every ``webhook_poll_seconds`` (real time; the deliveries'
    due times are on the controlled clock)."""

    def __init__(self, sender: WebhookSender, poll_seconds: float) -> None:
        self.sender = sender
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        next_prune = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_S
                    self.sender.prune()
                self.sender.send_due()
                self.last_error = None
            except Exception as err:  # the database away: try again at the next pass
                if self.last_error is None:
                    logger.warning("webhook sender: %s; deliveries wait", type(err).__name__)
                self.last_error = type(err).__name__
            self._stop.wait(self.poll_seconds)
