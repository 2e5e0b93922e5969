"""The demo's sign-in accounts, one per desk role, so a visitor can see each role's own page.

Demo only (``python run.py``; ``run.py serve`` never calls this). The accounts share one random
password, generated at the first start and kept in ``<data_dir>/demo-password`` (readable by the
owner only); the start-up lines name the accounts and the file, never the password itself. The
browser's automatic sign-in stays the commander ``[demo] auto_login_user``; signing out and in at
``/login`` with one of these shows that role's landing page and its limits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.accounts import create_user
from dashboard.domain.roles import Role
from dashboard.storage.models import GridWorker, User

PASSWORD_FILE = "demo-password"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    display_name: str
    department: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("demo-dispatcher", Role.DISPATCHER, "演示·受理调度员"),
    DemoAccount("demo-supervisor", Role.SUPERVISOR, "演示·督办员"),
    DemoAccount("demo-urban", Role.DEPARTMENT, "演示·综合执法（城管）", department="urban"),
    DemoAccount("demo-leader", Role.LEADER, "演示·分管领导"),
    DemoAccount("demo-wall", Role.WALL, "演示·大屏"),
    DemoAccount("demo-admin", Role.ADMIN, "演示·系统管理员"),
    # The field app (/m): signed in as the first grid worker of the demo town.
    DemoAccount("demo-worker", Role.GRID_WORKER, "演示·网格员"),
)


def demo_password(data_dir: Path) -> str:
    """The demo accounts' password: read from its file, or generated into it at the first start."""
    path = data_dir / PASSWORD_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(12) + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def ensure_demo_accounts(
    session: Session, password: str, now: datetime, known_departments: set[str]
) -> list[str]:
    """Create the missing demo accounts (existing ones are left as an operator changed them);
    the names of those created. A department not in the reference data is skipped."""
    existing = set(session.scalars(select(User.username)))
    created = []
    for account in DEMO_ACCOUNTS:
        if account.username in existing:
            continue
        if account.department is not None and account.department not in known_departments:
            continue
        worker_id = None
        if account.role is Role.GRID_WORKER:
            worker_id = session.scalar(
                select(GridWorker.id).where(GridWorker.active.is_(True)).order_by(GridWorker.id)
            )
            if worker_id is None:
                continue
        create_user(
            session,
            account.username,
            account.role,
            password,
            now,
            department_code=account.department,
            display_name=account.display_name,
            worker_id=worker_id,
        )
        created.append(account.username)
    return created
