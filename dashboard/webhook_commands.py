"""``run.py webhook add | list | replay | disable | enable``: an admin sets up webhooks here (or
on the page /admin/webhooks), never a caller of the API (no server-side request forgery)."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from dashboard.container import Services
from dashboard.domain.roles import Role
from dashboard.security.audit import Actor, record
from dashboard.services.webhooks import (
    NewSubscription,
    SubscriptionRefused,
    add_subscription,
    replay,
    subscription_states,
)
from dashboard.storage.models import ApiToken, WebhookSubscription


def integration_key_id(services: Services, name: str) -> int | None:
    """The newest active integration token named ``name``."""
    with services.db.read() as session:
        found = session.scalar(
            select(ApiToken.id)
            .where(ApiToken.name == name, ApiToken.role == Role.INTEGRATION.value)
            .where(ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id.desc())
            .limit(1)
        )
    return None if found is None else int(found)


def webhook_command(services: Services, args: argparse.Namespace) -> int:
    now = services.clock.now()
    actor = Actor(f"cli:{getpass.getuser()}", "admin")
    command = args.webhook_command
    try:
        if command == "add":
            token_id = None
            if args.key:
                token_id = integration_key_id(services, args.key)
                if token_id is None:
                    raise SubscriptionRefused(
                        f"there is no active integration key {args.key!r}", "no_key"
                    )
            if args.category and args.category not in services.reference.categories:
                raise SubscriptionRefused(f"there is no category {args.category!r}", "category")
            new = NewSubscription(args.name, args.url, token_id, args.category, args.area)
            allow = services.config.integrations.webhook_allow_private
            with services.db.transaction() as session:
                row, secret = add_subscription(session, new, actor.name, now, allow_private=allow)
                record(session, actor, "webhook_added", now, f"webhook:{row.name}", url=row.url)
            print(f"subscription {row.name} (id {row.id}) → {row.url}")
            print("signing secret (shown once; give it to the receiver):")
            print(secret)
            return 0
        with services.db.transaction() as session:
            if command == "list":
                for s in subscription_states(session):
                    state = "active" if s.active else "disabled"
                    print(
                        f"{s.id}\t{s.name}\t{s.url}\t{s.target}\t{state}\tpending={s.pending}"
                        f"\tfailed={s.failed}\tdelivered={s.delivered}\t{s.last_error}"
                    )
            elif command == "replay":
                n = replay(session, now, args.delivery)
                record(session, actor, "webhook_replayed", now, "webhook", count=n)
                print(f"{n} deliveries queued again")
            else:
                sub = session.scalar(
                    select(WebhookSubscription).where(WebhookSubscription.name == args.name)
                )
                if sub is None:
                    raise SubscriptionRefused(f"there is no subscription {args.name!r}", "missing")
                sub.active = command == "enable"
                record(session, actor, f"webhook_{command}d", now, f"webhook:{sub.name}")
                print(f"{command}d {sub.name}")
    except SubscriptionRefused as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
