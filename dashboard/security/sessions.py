"""Web sign-in: passwords, sessions that expire, sign-out, throttled failures.

The browser holds a random token in the ``gcc_session`` cookie (HttpOnly); the database holds only
its SHA-256 (``web_sessions.id``) with an absolute expiry, the last request time (idle timeout), a
revocation time (sign-out) and the session's CSRF token. The CSRF token travels to the page in the
readable ``gcc_csrf`` cookie; dash-renderer sends it back in the ``X-CSRF-Token`` header (see
``csrf_token_name`` in dashboard.app) and forms in the ``csrf_token`` field.

Sign-in answers never say whether the user exists or is locked: an unknown name is checked against
a dummy hash so it costs the same time, and every refusal carries the same message. Every attempt
is in the audit log; the name typed for an unknown user is not (it is often a mistyped password).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.config import SecurityConfig
from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.security.audit import Actor, record, write
from dashboard.security.principal import Principal
from dashboard.security.throttle import SignInThrottle
from dashboard.storage.db import Database
from dashboard.storage.models import User, WebSession

SESSION_COOKIE = "gcc_session"
CSRF_COOKIE = "gcc_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LAST_SEEN_EVERY = timedelta(minutes=1)  # idle-timeout bookkeeping: one write a minute at most
logger = logging.getLogger(__name__)
REFUSED = "wrong user name or password, or the account is locked"


class SignInRefused(Exception):
    """Sign-in refused; the message is the same whatever the reason (see module docstring)."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


class SignInThrottled(Exception):
    """Too many failures from this address or for this account: wait ``wait`` seconds (429).
    Unknown and real accounts are throttled alike, so this says nothing about existence."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"too many sign-in attempts; retry in {wait:.0f} s")
        self.wait = wait


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta
    idle: timedelta

    @classmethod
    def from_config(cls, config: SecurityConfig) -> SessionPolicy:
        return cls(
            lifetime=timedelta(hours=config.session_hours),
            idle=timedelta(minutes=config.idle_minutes),
        )


@dataclass(frozen=True)
class SignedIn:
    """A new session. ``cookie`` goes to the browser once and is never stored or logged."""

    cookie: str
    csrf: str
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True)
class ActiveSession:
    principal: Principal
    csrf: str


def session_id(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def user_principal(user: User) -> Principal:
    role = Role(user.role)
    department = user.department_code if role is Role.DEPARTMENT else None
    return Principal(
        name=user.username,
        role=role,
        kind="user",
        id=user.id,
        scope=Scope(area_code=user.area_code, department_code=department),
        display_name=user.display_name or user.username,
        worker_id=user.worker_id if role is Role.GRID_WORKER else None,
    )


class SessionManager:
    def __init__(
        self,
        db: Database,
        policy: SessionPolicy,
        now: Callable[[], datetime],
        throttle: SignInThrottle,
    ) -> None:
        self._db = db
        self.policy = policy
        self._now = now
        self.throttle = throttle
        # Checked when the user is unknown, so that answer takes as long as a real check.
        self._dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    # --- sign-in ------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, ip: str) -> SignedIn:
        now = self._now()
        wait = self.throttle.wait(username, ip, now)
        if wait > 0:  # refused before the password is checked; logged, not audited (a flood)
            logger.info("sign-in from %s throttled for %.0f s", ip, wait)
            raise SignInThrottled(wait)
        actor = Actor("(unknown)", "", ip)
        with self._db.transaction() as session:
            user = session.scalar(
                select(User).where(User.username == username[:60]).with_for_update()
            )
            if user is None:
                check_password_hash(self._dummy_hash, password)
                record(session, Actor("(unknown)", "", ip), "sign_in_failed", now, reason="unknown")
                failed = True
            else:
                actor = Actor(user.username, user.role, ip)
                failed = not self._check(session, user, password, now, ip)
            if not failed:
                assert user is not None
                self.throttle.succeeded(username, ip)
                return self._start(session, user, now, ip, "password")
        for setback in self.throttle.failed(username, ip, now):
            self.audit(actor, "sign_in_throttled", scope=setback.scope, seconds=setback.seconds)
        raise SignInRefused

    def _check(self, session: Session, user: User, password: str, now: datetime, ip: str) -> bool:
        actor = Actor(user.username, user.role, ip)
        password_ok = check_password_hash(user.password_hash, password)
        if not user.active:
            record(session, actor, "sign_in_failed", now, reason="inactive")
            return False
        if user.locked_until is not None and user.locked_until > now:
            record(session, actor, "sign_in_failed", now, reason="locked")
            return False
        if password_ok:
            user.failed_logins = 0
            user.locked_until = None
            return True
        # Counted for the record only: the back-off is the throttle's (dashboard.security.throttle),
        # never a lock others could set off.
        user.failed_logins = (user.failed_logins or 0) + 1
        record(session, actor, "sign_in_failed", now, reason="password", count=user.failed_logins)
        return False

    def start(self, username: str, ip: str, method: str) -> SignedIn:
        """Open a session without a password (the demo's automatic sign-in)."""
        now = self._now()
        with self._db.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.active:
                raise SignInRefused
            return self._start(session, user, now, ip, method)

    def _start(self, session: Session, user: User, now: datetime, ip: str, method: str) -> SignedIn:
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + self.policy.lifetime
        # Sessions that ended long ago are of no use to anyone; the audit log keeps the history.
        session.execute(
            delete(WebSession).where(
                WebSession.user_id == user.id, WebSession.expires_at < now - timedelta(days=1)
            )
        )
        session.add(
            WebSession(
                id=session_id(cookie),
                user_id=user.id,
                created_at=now,
                expires_at=expires,
                last_seen_at=now,
                csrf_token=csrf,
            )
        )
        record(session, Actor(user.username, user.role, ip), "sign_in", now, method=method)
        return SignedIn(cookie, csrf, user_principal(user), expires)

    # --- every request ------------------------------------------------------------------

    def resolve(self, cookie: str) -> ActiveSession | None:
        """The session behind a cookie, or None when unknown, signed out, expired or idle."""
        now = self._now()
        sid = session_id(cookie)
        with self._db.read() as session:
            found = session.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.id == sid)
            ).first()
        if found is None:
            return None
        web, user = found
        if (
            web.revoked_at is not None
            or web.expires_at <= now
            or web.last_seen_at + self.policy.idle <= now
            or not user.active
        ):
            return None
        self._touch(sid, web.last_seen_at, now)
        return ActiveSession(user_principal(user), web.csrf_token)

    def _touch(self, sid: str, stored: datetime, now: datetime) -> None:
        with self._lock:
            last = max(self._seen.get(sid, stored), stored)
            if now - last < LAST_SEEN_EVERY:
                return
            self._seen[sid] = now
        with self._db.transaction() as session:
            session.execute(update(WebSession).where(WebSession.id == sid).values(last_seen_at=now))

    def sign_out(self, cookie: str, ip: str) -> None:
        now = self._now()
        sid = session_id(cookie)
        with self._db.transaction() as session:
            found = session.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.id == sid, WebSession.revoked_at.is_(None))
            ).first()
            if found is None:
                return
            web, user = found
            web.revoked_at = now
            record(session, Actor(user.username, user.role, ip), "sign_out", now)
        with self._lock:
            self._seen.pop(sid, None)

    def audit(self, actor: Actor, action: str, target: str = "", **details: object) -> None:
        write(self._db, actor, action, self._now(), target, **details)
