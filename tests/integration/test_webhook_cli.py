"""``run.py webhook …`` and ``token create --source`` as an admin runs them, on an embedded SQLite
file: the first two commands in a child process (``run.py`` as typed), the rest through the
same entry point in this process (``dashboard.cli.main``: a child process costs seconds each).
A subscription to a key's cases, the URL rule, the list, disable / enable, replay; the secret
printed once and stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.cli import main
from dashboard.storage.models import ApiToken, WebhookSubscription
from tests.integration.test_cli import Cli, cli  # noqa: F401 - the fixture


def test_webhook_commands(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    made = cli.run(
        "token",
        "create",
        "zhuji-12345",
        "--role",
        "integration",
        "--area",
        "330681",
        "--source",
        "hotline",
    )
    assert made.returncode == 0, made.stderr
    added = cli.run(
        "webhook", "add", "12345", "--url", "https://hooks.example.org/gcc", "--key", "zhuji-12345"
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert len(secret) == 64

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(cli.config), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, _, err = run(
        "token", "create", "x", "--role", "integration", "--all-areas", "--source", "sms"
    )
    assert code == 1 and "--source must be one of" in err
    code, _, err = run("token", "create", "y", "--role", "wall", "--source", "hotline")
    assert code == 1 and "only for integration" in err
    code, _, err = run("webhook", "add", "h", "--url", "http://169.254.169.254/x", "--area", "33")
    assert code == 1 and "private" in err
    code, _, err = run(
        "webhook", "add", "h", "--url", "https://hooks.example.org/", "--key", "nobody"
    )
    assert code == 1 and "no active integration key" in err
    code, _, err = run(
        "webhook", "add", "12345", "--url", "https://hooks.example.org/", "--area", "33"
    )
    assert code == 1 and "already" in err
    db = cli.database()
    try:
        with db.read() as session:
            sub = session.scalars(select(WebhookSubscription)).one()
            token = session.scalars(select(ApiToken).where(ApiToken.name == "zhuji-12345")).one()
            assert (sub.secret, sub.token_id, sub.active) == (secret, token.id, True)
            assert token.source == "hotline" and token.area_code == "330681"
    finally:
        db.dispose()
    code, listed, _ = run("webhook", "list")
    assert "12345\thttps://hooks.example.org/gcc\tkey:" in listed and "pending=0" in listed
    assert secret not in listed  # shown once, never again
    assert run("webhook", "disable", "12345")[0] == 0
    assert "disabled" in run("webhook", "list")[1]
    assert run("webhook", "enable", "12345")[0] == 0
    assert "0 deliveries queued again" in run("webhook", "replay")[1]
