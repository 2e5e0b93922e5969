"""HTTPS for phones (dashboard/tls.py): a self-signed pair that a client trusting it accepts for
the names it was made for, a key only its owner reads, and clear refusals of bad files."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.config import ConfigError, parse_config
from dashboard.tls import TlsError, make_self_signed, server_context

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_a_self_signed_pair_serves_tls_to_a_client_that_trusts_it(tmp_path: Path) -> None:
    # The client checks validity on this machine's clock: a pair made around now (not NOW).
    made = datetime.now(UTC)
    cert, key = make_self_signed(tmp_path / "tls", ["127.0.0.1", "phone.local"], made, days=30)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    server = server_context(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def serve() -> None:
            conn, _ = listener.accept()
            with server.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        raw = socket.create_connection(listener.getsockname(), timeout=5)
        with client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.recv(2) == b"ok"
            names = tls.getpeercert()["subjectAltName"]
        thread.join(5)
    assert ("IP Address", "127.0.0.1") in names and ("DNS", "phone.local") in names


def test_the_certificate_names_every_host(tmp_path: Path) -> None:
    from cryptography import x509

    cert, _ = make_self_signed(tmp_path, ["localhost", "10.0.0.8", "phone.local"], NOW)
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    alt = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert alt.get_values_for_type(x509.DNSName) == ["localhost", "phone.local"]
    assert [str(a) for a in alt.get_values_for_type(x509.IPAddress)] == ["10.0.0.8"]
    assert parsed.not_valid_before_utc < NOW < parsed.not_valid_after_utc


def test_missing_or_mismatched_files_are_refused_by_name(tmp_path: Path) -> None:
    cert, _ = make_self_signed(tmp_path / "a", ["localhost"], NOW)
    _, other_key = make_self_signed(tmp_path / "b", ["localhost"], NOW)
    with pytest.raises(TlsError, match="tls_key"):
        server_context(cert, tmp_path / "missing.pem")
    with pytest.raises(TlsError, match="cannot load"):
        server_context(cert, other_key)
    with pytest.raises(TlsError):
        make_self_signed(tmp_path / "c", [], NOW)


def test_the_config_takes_both_files_or_neither() -> None:
    config = parse_config(
        '[server]\ntls_cert = "/etc/gcc/cert.pem"\ntls_key = "/etc/gcc/key.pem"\n'
    )
    assert config.server.tls_files() == (Path("/etc/gcc/cert.pem"), Path("/etc/gcc/key.pem"))
    assert parse_config("").server.tls_files() is None
    with pytest.raises(ConfigError, match="tls_cert and tls_key"):
        parse_config('[server]\ntls_cert = "cert.pem"\n')
