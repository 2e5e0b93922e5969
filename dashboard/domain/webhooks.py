"""Webhook rules, pure: the signature, the retry schedule, which targets are allowed.

Signature: ``X-GCC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
A receiver recomputes it over the raw body and refuses a timestamp more than
``REPLAY_WINDOW`` away from its clock (a captured request cannot be replayed later).

Retries: after the n-th failed attempt the next one waits ``min(first * 2**(n-1), longest)``;
after ``max_attempts`` the delivery is failed and holds its subscription's later deliveries
back (their order matters) until an admin replays it.

Targets: http(s) only, no user:password in the URL, and no loopback, private, link-local,
multicast or reserved address (literal or resolved: the sender checks the addresses it connects
to) unless ``allow_private`` (a LAN deployment, the tests).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import datetime, timedelta
from urllib.parse import urlsplit

REPLAY_WINDOW = timedelta(minutes=5)
SIGNATURE_HEADER = "X-GCC-Signature"
DELIVERY_HEADER = "X-GCC-Delivery"
EVENT_HEADER = "X-GCC-Event"
MAX_URL = 500


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: datetime) -> bool:
    """What a receiver does: the signature matches and its time is within the window."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp = parts.get("t", "")
    if not stamp.isdigit():
        return False
    if abs(now.timestamp() - int(stamp)) > REPLAY_WINDOW.total_seconds():
        return False
    expected = signature(secret, int(stamp), body)
    return hmac.compare_digest(expected.encode(), header.encode())


def retry_delay(attempts: int, first: timedelta, longest: timedelta) -> timedelta:
    """The wait after the ``attempts``-th failure (1, 2, …)."""
    factor = 2 ** min(max(attempts - 1, 0), 30)
    return min(first * factor, longest)


def address_refused(address: str) -> bool:
    """An address a webhook may not reach without ``allow_private``."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_target_url(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` may not be a webhook target (None: it may, so far as the URL shows)."""
    if not url or len(url) > MAX_URL or not url.isprintable() or " " in url:
        return f"a URL of at most {MAX_URL} printable characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "the URL must be http:// or https://"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "no user or password in the URL (the signature authenticates the sender)"
    try:
        port = parts.port
    except ValueError:
        return "the URL's port is not a number 1–65535"
    if port == 0:
        return "the URL's port is not a number 1–65535"
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not allow_private and address_refused(host):
        return f"{host} is a private, loopback or link-local address (not allowed)"
    if literal is None and not allow_private and host.lower() in ("localhost", "localhost."):
        return "localhost is not allowed"
    return None
