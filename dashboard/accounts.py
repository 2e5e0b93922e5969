"""Web users and API tokens (storage side). Secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from dashboard.domain.roles import Role
from dashboard.storage.models import ApiToken, User

TOKEN_PREFIX = "gcc_"


class AccountError(Exception):
    """A user or token request that cannot be carried out (the message says why)."""


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


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
    expires_in: timedelta | None = None,
) -> IssuedToken:
    if not name.strip():
        raise AccountError("a token needs a name (the device or integration it belongs to)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name,
            role=role.value,
            token_hash=hash_token(token),
            prefix=token[:12],
            area_code=area_code,
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
        )
    )
    return IssuedToken(name=name, role=role, token=token)


def revoke_tokens(session: Session, name: str, now: datetime) -> int:
    rows = session.scalars(
        select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
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
) -> User:
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise AccountError("a user name uses letters, digits, '.', '_' and '-' only")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists already")
    if role is Role.DEPARTMENT and not department_code:
        raise AccountError("a department user needs --department")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        password_hash=generate_password_hash(password),
        area_code=area_code,
        department_code=department_code,
        created_at=now,
    )
    session.add(user)
    return user
