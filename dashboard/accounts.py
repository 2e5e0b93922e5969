"""Web users and API tokens (storage side). Secrets are stored only as hashes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from dashboard.config import DATA_DIR
from dashboard.domain.permissions import token_scope_problem
from dashboard.domain.roles import Role
from dashboard.security.audit import Actor, record
from dashboard.security.tokens import TOKEN_PREFIX, hash_token
from dashboard.storage.models import ApiToken, Department, GridWorker, User, WebSession

MIN_PASSWORD = 10  # security.min_password_length, the default
MIN_DISTINCT = 4
COMMON_PASSWORDS = DATA_DIR / "common_passwords.txt"


class AccountError(Exception):
    """A user or token request that cannot be carried out (the message says why)."""


@dataclass(frozen=True)
class IssuedToken:
    name: str
    role: Role
    token: str


def create_token(
    session: Session,
    name: str,
    role: Role,
    now: datetime,
    *,
    area_code: str | None = None,
    department_code: str | None = None,
    worker_id: str | None = None,
    all_areas: bool = False,
    expires_in: timedelta | None = None,
    source: str | None = None,
) -> IssuedToken:
    """Issue a token scoped like a user of ``role`` (``token_scope_problem`` says what each role
    needs). A grid worker's token is limited to that worker's village and sends only their
    fixes; a department's token sees only the cases dispatched to it."""
    if not name.strip():
        raise AccountError("a token needs a name (the device or integration it belongs to)")
    problem = token_scope_problem(
        role,
        area_code=area_code,
        department_code=department_code,
        worker_id=worker_id,
        all_areas=all_areas,
        source=source,
    )
    if problem:
        raise AccountError(problem)
    if department_code and session.get(Department, department_code) is None:
        raise AccountError(f"there is no department {department_code!r}")
    if worker_id:
        worker = session.get(GridWorker, worker_id)
        if worker is None:
            raise AccountError(f"there is no grid worker {worker_id!r}")
        if area_code and not worker.village_code.startswith(area_code):
            raise AccountError(f"worker {worker_id} works outside the area {area_code}")
        area_code = worker.village_code
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name,
            role=role.value,
            token_hash=hash_token(token),
            prefix=token[:12],
            area_code=area_code,
            department_code=department_code,
            worker_id=worker_id,
            source=source,
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
        )
    )
    return IssuedToken(name=name, role=role, token=token)


def revoke_tokens(session: Session, name: str, now: datetime, actor: Actor | None = None) -> int:
    rows = session.scalars(
        select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    if rows and actor is not None:
        record(session, actor, "token_revoked", now, f"token:{name}", count=len(rows))
    return len(rows)


def create_user(
    session: Session,
    username: str,
    role: Role,
    password: str,
    now: datetime,
    *,
    area_code: str | None = None,
    department_code: str | None = None,
    display_name: str = "",
    min_password_length: int = MIN_PASSWORD,
    worker_id: str | None = None,
) -> User:
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise AccountError("a user name uses letters, digits, '.', '_' and '-' only")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists already")
    if role is Role.DEPARTMENT and not department_code:
        raise AccountError("a department user needs --department")
    if worker_id is not None:
        area_code = _worker_area(session, role, worker_id, area_code)
    check_password(password, min_password_length)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        password_hash=generate_password_hash(password),
        area_code=area_code,
        department_code=department_code,
        created_at=now,
        worker_id=worker_id,
    )
    session.add(user)
    return user


def _worker_area(session: Session, role: Role, worker_id: str, area_code: str | None) -> str:
    """A grid worker's sign-in is bound to their worker record and limited to its village (like
    a phone token, dashboard.domain.permissions.token_scope_problem)."""
    if role is not Role.GRID_WORKER:
        raise AccountError("--worker is only for grid_worker users")
    worker = session.get(GridWorker, worker_id)
    if worker is None:
        raise AccountError(f"there is no grid worker {worker_id!r}")
    if area_code and not worker.village_code.startswith(area_code):
        raise AccountError(f"worker {worker_id} works outside the area {area_code}")
    return worker.village_code


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def check_password(password: str, min_length: int = MIN_PASSWORD) -> None:
    """Refuse a password that is short, blank, one or a few characters repeated, or common."""
    if len(password) < min_length or not password.strip():
        raise AccountError(f"a password needs at least {min_length} characters (not only spaces)")
    if len(set(password)) < MIN_DISTINCT:
        raise AccountError(f"a password needs at least {MIN_DISTINCT} different characters")
    if password.strip().lower() in _common_passwords():
        raise AccountError("this password is among the most common ones; choose another")


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"there is no user {username!r}")
    return user


def set_role(session: Session, username: str, role: Role, now: datetime, actor: Actor) -> User:
    """Change a user's role; the change and its audit entry commit together. Open sessions pick
    up the new role on their next request (the role is read from the user row every time)."""
    user = find_user(session, username)
    if role is Role.DEPARTMENT and not user.department_code:
        raise AccountError("a department user needs a department (create the user with one)")
    before = user.role
    user.role = role.value
    record(session, actor, "role_changed", now, f"user:{username}", before=before, after=role.value)
    return user


def set_active(session: Session, username: str, active: bool, now: datetime, actor: Actor) -> User:
    """Lock (``active=False``: every session ends now) or unlock (also clears a lock-out)."""
    user = find_user(session, username)
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    else:
        end_sessions(session, user.id, now)
    record(session, actor, "user_unlocked" if active else "user_locked", now, f"user:{username}")
    return user


def set_password(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    actor: Actor,
    min_password_length: int = MIN_PASSWORD,
) -> User:
    check_password(password, min_password_length)
    user = find_user(session, username)
    user.password_hash = generate_password_hash(password)
    end_sessions(session, user.id, now)
    record(session, actor, "password_changed", now, f"user:{username}")
    return user


def end_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def ensure_user(session: Session, username: str, role: Role, now: datetime) -> User:
    """The user named ``username``, created with a random password (never shown) if missing:
    the demo's automatic sign-in user, who cannot sign in with a password."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = create_user(session, username, role, secrets.token_urlsafe(32), now)
        session.flush()
    return user
