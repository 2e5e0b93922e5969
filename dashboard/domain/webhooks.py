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
    factor: int = 2 ** min(max(attempts - 1, 0), 30)
    wait: timedelta = first * factor
    return min(wait, longest)


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


# Why a target is refused: a code (the pages translate it) and the English of the CLI and logs.
TARGET_PROBLEMS = {
    "url": f"a URL of at most {MAX_URL} printable characters",
    "scheme": "the URL must be http:// or https://",
    "host": "the URL has no host",
    "credentials": "no user or password in the URL (the signature authenticates the sender)",
    "port": "the URL's port is not a number 1–65535",
    "private": "a private, loopback or link-local address is not allowed",
}


def target_problem(url: str, *, allow_private: bool) -> str | None:
    """The code of what is wrong with ``url`` as a webhook target (None: nothing, so far as the
    URL shows; the sender checks the addresses the host resolves to)."""
    if not url or len(url) > MAX_URL or not url.isprintable() or " " in url:
        return "url"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "scheme"
    if not parts.hostname:
        return "host"
    if parts.username or parts.password:
        return "credentials"
    try:
        port = parts.port
    except ValueError:
        return "port"
    if port == 0:
        return "port"
    if allow_private:
        return None
    host = parts.hostname
    if host.lower().rstrip(".") == "localhost":
        return "private"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return "private" if address_refused(host) else None


def check_target_url(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` may not be a webhook target, in English (None: it may)."""
    code = target_problem(url, allow_private=allow_private)
    return None if code is None else TARGET_PROBLEMS[code]
