"""Webhook rules (dashboard.domain.webhooks) and the Open311 mapping (dashboard.domain.open311)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.open311 import Open311Problem, check_range, open311_status, parse_datetime
from dashboard.domain.status import CaseStatus
from dashboard.domain.webhooks import (
    address_refused,
    check_target_url,
    retry_delay,
    signature,
    verify,
)

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_signature_verifies_only_the_same_body_secret_and_time() -> None:
    body = b'{"update_id":"7"}'
    header = signature("s3cret", int(NOW.timestamp()), body)
    assert header.startswith(f"t={int(NOW.timestamp())},v1=") and len(header.split("v1=")[1]) == 64
    assert verify("s3cret", header, body, NOW)
    assert verify("s3cret", header, body, NOW + timedelta(minutes=4, seconds=59))
    assert not verify("s3cret", header, body, NOW + timedelta(minutes=5, seconds=1))  # replay
    assert not verify("s3cret", header, body, NOW - timedelta(minutes=6))
    assert not verify("other", header, body, NOW)
    assert not verify("s3cret", header, body + b" ", NOW)
    assert not verify("s3cret", header.replace("t=", "t=1"), body, NOW)
    assert not verify("s3cret", "garbage", body, NOW)


def test_retry_delays_double_up_to_the_longest() -> None:
    first, longest = timedelta(seconds=10), timedelta(hours=1)
    waits = [retry_delay(n, first, longest).total_seconds() for n in range(1, 11)]
    assert waits == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    assert retry_delay(10_000, first, longest) == longest


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_local_private_and_link_local_addresses_are_refused(address: str) -> None:
    assert address_refused(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "114.114.114.114", "2400:3200::1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not address_refused(address)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://example.org/x", "http"),
        ("file:///etc/passwd", "http"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "http"),
        ("http://", "no host"),
        ("http://user:pw@example.org/", "no user"),
        ("http://127.0.0.1:8050/api/v1/cases", "private"),
        ("http://[::1]/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "private"),
        ("http://10.0.0.8/hook", "private"),
        ("http://localhost/hook", "private"),
        ("http://example.org:99999/", "port"),
        ("http://example.org/a b", "printable"),
        ("https://example.org/" + "a" * 500, "at most"),
    ],
)
def test_bad_targets_are_refused(url: str, fragment: str) -> None:
    problem = check_target_url(url, allow_private=False)
    assert problem is not None and fragment in problem


def test_private_targets_only_when_allowed() -> None:
    assert check_target_url("https://hooks.example.org/gcc", allow_private=False) is None
    assert check_target_url("http://127.0.0.1:9000/hook", allow_private=True) is None
    assert check_target_url("gopher://127.0.0.1/", allow_private=True) is not None


def test_every_status_before_closure_is_open() -> None:
    closed = {s for s in CaseStatus if open311_status(s) == "closed"}
    assert closed == {CaseStatus.CLOSED, CaseStatus.EVALUATED, CaseStatus.VOIDED}


def test_the_window_is_at_most_ninety_days() -> None:
    assert check_range(None, None, NOW) == (NOW - timedelta(days=90), NOW)
    start = NOW - timedelta(days=10)
    assert check_range(start, None, NOW) == (start, NOW)
    assert check_range(None, NOW, NOW) == (NOW - timedelta(days=90), NOW)
    with pytest.raises(Open311Problem):
        check_range(NOW - timedelta(days=91), NOW, NOW)
    with pytest.raises(Open311Problem):
        check_range(NOW, NOW - timedelta(seconds=1), NOW)


@pytest.mark.parametrize(
    "text", ["2026-11-23", "2026-11-23T09:00:00", "yesterday", "", "2" * 41, "2026-13-01T00:00:00Z"]
)
def test_times_need_a_zone_and_a_shape(text: str) -> None:
    with pytest.raises(Open311Problem):
        parse_datetime(text, "start_date")


def test_times_with_z_or_an_offset() -> None:
    assert parse_datetime("2026-11-23T01:00:00Z", "t") == NOW
    assert parse_datetime("2026-11-23T09:00:00+08:00", "t") == NOW
