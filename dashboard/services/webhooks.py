"""Webhooks out: which subscriptions a case step concerns, and its delivery rows.

``enqueue_step`` is a CaseService observer: it runs inside the transaction of every case step,
so a step and its deliveries are stored together or not at all (nothing is lost when the
receiver, or this process, is down). A subscription matches a case that came in with its key
(``token_id``, through Open311), or has its 小类, or lies in its area. The payload is the step in
Open311 words (``dashboard.services.open311_rows.update_of``), so a 12345 system reads the same
fields it reads from ``servicerequestupdates``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dashboard.domain.permissions import Scope
from dashboard.domain.webhooks import TARGET_PROBLEMS, target_problem
from dashboard.services.open311_rows import update_of
from dashboard.storage.models import (
    Case,
    CaseEvent,
    Open311Request,
    WebhookDelivery,
    WebhookSubscription,
)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_NAME = 60


class SubscriptionRefused(ValueError):
    """A subscription an admin may not set up as given: ``code`` for the pages (translated),
    the message in English for the command line."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NewSubscription:
    name: str
    url: str
    token_id: int | None = None
    category_code: str | None = None
    area_code: str | None = None


def add_subscription(
    session: Session,
    new: NewSubscription,
    created_by: str,
    now: datetime,
    *,
    allow_private: bool,
) -> tuple[WebhookSubscription, str]:
    """Store a subscription with a fresh secret; returns it and the secret (shown once)."""
    name = new.name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise SubscriptionRefused(f"a name of 1–{MAX_NAME} printable characters", "name")
    if new.token_id is None and not new.category_code and not new.area_code:
        raise SubscriptionRefused("subscribe to a key's cases, a category or an area", "nothing")
    problem = target_problem(new.url, allow_private=allow_private)
    if problem:
        raise SubscriptionRefused(TARGET_PROBLEMS[problem], problem)
    if session.scalar(select(WebhookSubscription.id).where(WebhookSubscription.name == name)):
        raise SubscriptionRefused(f"there is a subscription named {name!r} already", "duplicate")
    secret = secrets.token_hex(32)
    row = WebhookSubscription(
        name=name,
        url=new.url,
        secret=secret,
        token_id=new.token_id,
        category_code=new.category_code or None,
        area_code=new.area_code or None,
        active=True,
        created_at=now,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row, secret


def matches(sub: WebhookSubscription, case: Case, intake_token: int | None) -> bool:
    if sub.token_id is not None and sub.token_id == intake_token:
        return True
    category = case.category_code or case.reported_category
    if sub.category_code and sub.category_code == category:
        return True
    return bool(sub.area_code) and Scope(area_code=sub.area_code).allows_place(case.village_code)


def enqueue_step(session: Session, case: Case, step: CaseEvent, now: datetime) -> None:
    """CaseService observer: one pending delivery per matching active subscription."""
    subs = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    ).all()
    if not subs:
        return
    intake = session.scalar(
        select(Open311Request.token_id).where(Open311Request.case_id == case.id)
    )
    payload: dict[str, Any] | None = None
    for sub in subs:
        if not matches(sub, case, intake):
            continue
        if payload is None:
            payload = update_of(case, step)
        session.add(
            WebhookDelivery(
                subscription_id=sub.id,
                case_id=case.id,
                event_id=step.id,
                payload=payload,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                locked_until=None,
                last_error="",
                last_status=None,
                created_at=now,
                delivered_at=None,
            )
        )


def replay(session: Session, now: datetime, delivery_id: int | None = None) -> int:
    """Send failed deliveries again (one, or every failed one): back to pending, due now."""
    query = update(WebhookDelivery).where(WebhookDelivery.status == FAILED)
    if delivery_id is not None:
        query = query.where(WebhookDelivery.id == delivery_id)
    result = session.execute(
        query.values(status=PENDING, attempts=0, next_attempt_at=now, locked_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class SubscriptionState:
    """One line of the admin page: a subscription and how its deliveries stand."""

    id: int
    name: str
    url: str
    target: str  # what it follows, in codes: "key:3", "category:01002", "area:330681"
    active: bool
    pending: int
    failed: int
    delivered: int
    last_error: str
    next_attempt_at: datetime | None


def subscription_states(session: Session) -> list[SubscriptionState]:
    counts: dict[tuple[int, str], int] = {
        (sub_id, status): int(n)
        for sub_id, status, n in session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count()).group_by(
                WebhookDelivery.subscription_id, WebhookDelivery.status
            )
        )
    }
    states = []
    for sub in session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)):
        head = session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub.id)
            .where(WebhookDelivery.status != DELIVERED)
            .order_by(WebhookDelivery.id)
            .limit(1)
        ).first()
        target = []
        if sub.token_id is not None:
            target.append(f"key:{sub.token_id}")
        if sub.category_code:
            target.append(f"category:{sub.category_code}")
        if sub.area_code:
            target.append(f"area:{sub.area_code}")
        states.append(
            SubscriptionState(
                id=sub.id,
                name=sub.name,
                url=sub.url,
                target=" ".join(target),
                active=sub.active,
                pending=counts.get((sub.id, PENDING), 0),
                failed=counts.get((sub.id, FAILED), 0),
                delivered=counts.get((sub.id, DELIVERED), 0),
                last_error=head.last_error if head is not None else "",
                next_attempt_at=head.next_attempt_at if head is not None else None,
            )
        )
    return states


def open_deliveries(session: Session, limit: int = 100) -> list[WebhookDelivery]:
    """Deliveries not yet delivered (failed first, then the oldest pending)."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.status != DELIVERED)
            .order_by(WebhookDelivery.status, WebhookDelivery.id)
            .limit(limit)
        )
    )
