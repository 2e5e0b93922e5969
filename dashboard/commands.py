"""The commands behind the CLI, each a short sequence of calls into the composition root."""

from __future__ import annotations

import argparse
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from dashboard.accounts import AccountError, create_token, create_user, revoke_tokens
from dashboard.app import Services, build_services, create_app
from dashboard.config import AppConfig
from dashboard.domain.roles import Role
from dashboard.services.villages import rule_from_config
from dashboard.storage import migrate

logger = logging.getLogger(__name__)


def dispatch(
    command: str, args: argparse.Namespace, config: AppConfig, *, password: Callable[[], str]
) -> int:
    services = build_services(config)
    try:
        if command == "db":
            return _db(services, args.db_command)
        migrate.upgrade(services.db.engine)
        if command == "seed":
            return _seed(services, args)
        if command == "token":
            return _token(services, args)
        if command == "user":
            return _user(services, args, password)
        if command == "serve":
            return _serve(services, demo=False)
        if command == "demo":
            return _demo(services)
        raise SystemExit(f"unknown command {command}")
    finally:
        services.close()


def _db(services: Services, sub: str) -> int:
    if sub == "upgrade":
        migrate.upgrade(services.db.engine)
    print(f"schema revision: {migrate.current_revision(services.db.engine)}")
    return 0


def _progress_bar(stage: str, total: int | None) -> Callable[[int], None]:
    from tqdm import tqdm

    labels = {"region": "生成辖区 region", "grids": "写入网格 grids", "cases": "生成事件 cases"}
    bar = tqdm(total=total, desc=labels.get(stage, stage), unit="", leave=True, dynamic_ncols=True)
    return bar.update


def _seed(services: Services, args: argparse.Namespace) -> int:
    from dashboard.seed.loader import SeedError, seed

    demo = services.config.demo
    try:
        report = seed(
            services.db,
            services.reference,
            rule_from_config(services.config.rules.village),
            scale=args.scale or demo.scale,
            seed=demo.seed if args.seed is None else args.seed,
            days=demo.history_days if args.days is None else args.days,
            now=services.clock.now(),
            force=args.force,
            progress=_progress_bar,
        )
    except SeedError as err:
        print(f"error: {err}")
        return 1
    services.locator.reload()
    print(" ".join(f"{k}={v:,}" for k, v in report.counts.items()))
    return 0


def _token(services: Services, args: argparse.Namespace) -> int:
    now = services.clock.now()
    with services.db.transaction() as session:
        if args.token_command == "create":
            expires = timedelta(days=args.expires_days) if args.expires_days else None
            issued = create_token(
                session, args.name, Role(args.role), now, area_code=args.area, expires_in=expires
            )
            print(f"token for {issued.name} ({issued.role}); it is shown once, store it now:")
            print(issued.token)
        elif args.token_command == "revoke":
            n = revoke_tokens(session, args.name, now)
            print(f"revoked {n} token(s) named {args.name}")
        else:
            from sqlalchemy import select

            from dashboard.storage.models import ApiToken

            for tok in session.scalars(select(ApiToken).order_by(ApiToken.id)):
                state = "revoked" if tok.revoked_at else "active"
                print(f"{tok.id}\t{tok.name}\t{tok.role}\t{tok.prefix}…\t{state}")
    return 0


def _user(services: Services, args: argparse.Namespace, password: Callable[[], str]) -> int:
    pw = password()
    try:
        with services.db.transaction() as session:
            user = create_user(
                session,
                args.name,
                Role(args.role),
                pw,
                services.clock.now(),
                area_code=args.area,
                department_code=args.department,
                display_name=args.display_name,
            )
            print(f"created user {user.username} ({user.role})")
    except AccountError as err:
        print(f"error: {err}")
        return 1
    return 0


def _secret_key(services: Services, demo: bool) -> str:
    import os

    key = os.environ.get(services.config.server.secret_key_env)
    if key:
        return key
    if not demo:
        raise SystemExit(
            f"error: set {services.config.server.secret_key_env} (the session signing key)"
        )
    path = services.config.data_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return Path(path).read_text().strip()


def _demo(services: Services) -> int:
    from dashboard.seed.loader import is_seeded

    if not is_seeded(services.db):
        demo = services.config.demo
        print(f"首次启动：生成演示数据 first start: generating the {demo.scale} demo region …")
        args = argparse.Namespace(scale=None, seed=None, days=None, force=False)
        if _seed(services, args) != 0:
            return 1
    return _serve(services, demo=True)


def _serve(services: Services, *, demo: bool) -> int:
    server = create_app(services)
    server.secret_key = _secret_key(services, demo)
    cfg = services.config.server
    print(f"指挥中心已启动 command center on http://{cfg.host}:{cfg.port}/")
    server.run(host=cfg.host, port=cfg.port, threaded=True, use_reloader=False)
    return 0
