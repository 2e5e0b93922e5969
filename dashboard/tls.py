"""HTTPS for the built-in server: phones get position, camera and service workers only on a
secure page (docs/field-app.md).

``[server] tls_cert`` / ``tls_key`` name a PEM certificate and key (a town's own, or one made
here); ``run.py make-cert`` writes a self-signed pair for the demo, valid for ``localhost``,
127.0.0.1, this machine's name and its network addresses, so a phone on the same network can
open ``https://<address>:<port>/m`` after accepting the certificate once.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"


class TlsError(Exception):
    """A certificate or key that cannot be used (the message names the file and why)."""


def local_names() -> list[str]:
    """Names and addresses a phone on the same network may use for this machine."""
    names = ["localhost", "127.0.0.1", socket.gethostname()]
    try:  # the address of the default route (no packet is sent for a UDP "connect")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            names.append(probe.getsockname()[0])
    except OSError:
        pass
    return list(dict.fromkeys(names))


def make_self_signed(
    directory: Path, hosts: Iterable[str], now: datetime, days: int = 825
) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` (the key readable by the owner only) to ``directory``;
    the certificate names every host (DNS name or IP address)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    hosts = list(dict.fromkeys(hosts))
    if not hosts:
        raise TlsError("a certificate needs at least one host name or address")
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"gcc demo {hosts[0]}"[:64])])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server's TLS context (TLS 1.2 and up), or TlsError naming what is wrong."""
    for path, what in ((cert, "tls_cert"), (key, "tls_key")):
        if not path.is_file():
            raise TlsError(f"server.{what}: {path} is not a file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as err:
        raise TlsError(f"server.tls_cert / tls_key: cannot load {cert} and {key}: {err}") from err
    return context
