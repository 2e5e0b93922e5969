"""Bearer tokens: look a presented token up by its SHA-256; refuse revoked and expired ones."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from dashboard.domain.permissions import Scope
from dashboard.domain.roles import Role
from dashboard.security.principal import Principal
from dashboard.storage.db import Database
from dashboard.storage.models import ApiToken

_BY_DIGEST = select(
    ApiToken.id,
    ApiToken.name,
    ApiToken.role,
    ApiToken.area_code,
    ApiToken.department_code,
    ApiToken.worker_id,
    ApiToken.expires_at,
    ApiToken.revoked_at,
).where(ApiToken.token_hash == bindparam("digest"))  # built once: it runs on every request

LAST_USED_EVERY = timedelta(minutes=1)  # write last_used_at at most this often per token

TOKEN_PREFIX = "gcc_"  # every token this system issues starts so (the log redaction finds them)


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRefused(Exception):
    """The token is unknown, revoked or expired (the message says which, without the token).

    ``name`` and ``role`` are set when the token is known (revoked or expired), so the refusal
    can be audited under the token's name; never the token itself.
    """

    def __init__(self, message: str, name: str | None = None, role: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.role = role


class TokenAuthenticator:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._touched: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str, now: datetime) -> Principal:
        return self.authenticate_digest(hash_token(token), now)

    def authenticate_digest(self, digest: str, now: datetime) -> Principal:
        """As ``authenticate``, for a caller that already hashed the token (the rate limiter)."""
        with self._db.read() as session:
            row = session.execute(_BY_DIGEST, {"digest": digest}).one_or_none()
        if row is None:
            raise TokenRefused("unknown token")
        if row.revoked_at is not None:
            raise TokenRefused("token revoked", row.name, row.role)
        if row.expires_at is not None and row.expires_at <= now:
            raise TokenRefused("token expired", row.name, row.role)
        role = Role(row.role)
        if (role is Role.DEPARTMENT and not row.department_code) or (
            role is Role.GRID_WORKER and not row.worker_id
        ):
            # Issued before tokens carried their role's scope (migration 0005): it would see
            # every case. Refused until re-issued with --department / --worker.
            raise TokenRefused("token has no scope for its role; re-issue it", row.name, row.role)
        self._touch(row.id, now)
        return Principal(
            name=row.name,
            role=role,
            kind="token",
            id=row.id,
            scope=Scope(area_code=row.area_code, department_code=row.department_code),
            display_name=row.name,
            worker_id=row.worker_id,
        )

    def _touch(self, token_id: int, now: datetime) -> None:
        with self._lock:
            last = self._touched.get(token_id)
            if last is not None and now - last < LAST_USED_EVERY:
                return
            self._touched[token_id] = now
        with self._db.transaction() as session:
            session.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
