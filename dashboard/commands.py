"""The commands behind the CLI, each a short sequence of calls into the composition root."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import secrets
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from dashboard.accounts import AccountError, create_token, create_user, revoke_tokens
from dashboard.config import AppConfig
from dashboard.container import Services
from dashboard.domain.roles import Role
from dashboard.scheduler import start_scheduler
from dashboard.security.audit import Actor, record
from dashboard.services.villages import rule_from_config
from dashboard.storage import migrate
from dashboard.wiring import (
    build_services,
    start_capture_child,
    start_relay,
    start_simulator,
    start_webhooks,
)

logger = logging.getLogger(__name__)


def dispatch(
    command: str, args: argparse.Namespace, config: AppConfig, *, password: Callable[[], str]
) -> int:
    services = build_services(config)
    try:
        if command == "db":
            return _db(services, args.db_command)
        if command in ("backup", "restore"):
            return _backup(services, command, Path(args.dir))
        migrate.upgrade(services.db.engine)
        if command == "seed":
            return _seed(services, args)
        if command == "token":
            return _token(services, args)
        if command == "user":
            return _user(services, args, password)
        if command == "device":
            return _device(services, args)
        if command == "serve" and not args.dev:
            from dashboard.launch import serve_production

            return serve_production(services, _secret_key(services, demo=False))
        if command == "make-cert":
            return _make_cert(services, args)
        if command == "webhook":
            from dashboard.webhook_commands import webhook_command

            return webhook_command(services, args)
        if command == "serve":
            return _serve(services, demo=False)
        if command == "demo":
            https = bool(getattr(args, "https", False) or getattr(args, "demo_https", False))
            return _demo(services, args.config, https=https)
        raise SystemExit(f"unknown command {command}")
    finally:
        services.close()


def _db(services: Services, sub: str) -> int:
    if sub == "upgrade":
        migrate.upgrade(services.db.engine)
    print(f"schema revision: {migrate.current_revision(services.db.engine)}")
    return 0


def _backup(services: Services, command: str, directory: Path) -> int:
    from dashboard.backup import BackupError, backup, restore

    photos = services.photos.root
    try:
        if command == "backup":
            migrate.upgrade(services.db.engine)
            done = backup(services.db, photos, directory, services.clock.now())
        else:
            done = restore(services.db, photos, directory)
    except BackupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    counted = ", ".join(f"{k}={v:,}" for k, v in done["counts"].items())
    print(f"{command} {directory}: {done['backend']}, schema {done['revision']}, {counted}")
    return 0


def _progress_bar(stage: str, total: int | None) -> Callable[[int], None]:
    from tqdm import tqdm

    labels = {"region": "生成辖区 region", "grids": "写入网格 grids", "cases": "生成事件 cases"}
    bar = tqdm(total=total, desc=labels.get(stage, stage), unit="", leave=True, dynamic_ncols=True)
    update: Callable[[int], None] = bar.update  # tqdm ships no types: its update(n) as it is
    return update


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
        print(f"error: {err}", file=sys.stderr)
        return 1
    services.locator.reload()
    print(" ".join(f"{k}={v:,}" for k, v in report.counts.items()))
    return 0


def _token(services: Services, args: argparse.Namespace) -> int:
    try:
        return _token_command(services, args)
    except AccountError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def _token_command(services: Services, args: argparse.Namespace) -> int:
    now = services.clock.now()
    if args.token_command == "create" and args.expires_days is not None and args.expires_days < 1:
        raise AccountError("--expires-days must be at least 1 (leave it out for no expiry)")
    with services.db.transaction() as session:
        if args.token_command == "create":
            expires = timedelta(days=args.expires_days) if args.expires_days is not None else None
            issued = create_token(
                session,
                args.name,
                Role(args.role),
                now,
                area_code=args.area,
                department_code=args.department,
                worker_id=args.worker,
                all_areas=args.all_areas,
                expires_in=expires,
                source=args.source,
            )
            print(f"token for {issued.name} ({issued.role}); it is shown once, store it now:")
            print(issued.token)
        elif args.token_command == "revoke":
            n = revoke_tokens(session, args.name, now, _cli_actor())
            print(f"revoked {n} token(s) named {args.name}")
        else:
            from sqlalchemy import select

            from dashboard.storage.models import ApiToken

            for tok in session.scalars(select(ApiToken).order_by(ApiToken.id)):
                state = "revoked" if tok.revoked_at else "active"
                print(f"{tok.id}\t{tok.name}\t{tok.role}\t{tok.prefix}…\t{state}")
    return 0


def _device(services: Services, args: argparse.Namespace) -> int:
    """``run.py device bind|unbind|list``: trackers of the OsmAnd door (docs/tracks.md)."""
    from dashboard.security.audit import write
    from dashboard.services.tracks import DeviceError, DeviceRegistry

    registry = DeviceRegistry(services.db)
    actor = _cli_actor()
    if args.device_command == "bind":
        try:
            bound = registry.bind(args.device_id, args.worker, actor.name, services.clock.now())
        except DeviceError as err:
            print(f"error: {err.message}", file=sys.stderr)
            return 1
        write(
            services.db,
            actor,
            "device.bind",
            services.clock.now(),
            bound.device_id,
            worker=bound.worker_id,
        )
        print(f"device {bound.device_id} → {bound.worker_id} {bound.worker_name}")
    elif args.device_command == "unbind":
        if not registry.unbind(args.device_id):
            print(f"error: no device {args.device_id}", file=sys.stderr)
            return 1
        write(services.db, actor, "device.unbind", services.clock.now(), args.device_id)
        print(f"device {args.device_id} unbound")
    else:
        for b in registry.bindings():
            print(f"{b.device_id}\t{b.worker_id}\t{b.worker_name}\t{b.bound_at:%Y-%m-%d %H:%M}")
    return 0


def _cli_actor() -> Actor:
    import getpass

    return Actor(f"cli:{getpass.getuser()}", "admin")


def _user(services: Services, args: argparse.Namespace, password: Callable[[], str]) -> int:
    if args.user_command != "create":
        return _user_admin(services, args, password)
    if args.department and services.reference.department(args.department) is None:
        known = ", ".join(d.code for d in services.reference.departments)
        print(f"error: unknown department {args.department!r} (known: {known})", file=sys.stderr)
        return 1
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
                min_password_length=services.config.security.min_password_length,
                worker_id=args.worker,
            )
            target = f"user:{user.username}"
            now = services.clock.now()
            record(session, _cli_actor(), "user_created", now, target, role=user.role)
            print(f"created user {user.username} ({user.role})")
    except AccountError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _user_admin(services: Services, args: argparse.Namespace, password: Callable[[], str]) -> int:
    """user list | lock | unlock | set-role | password: each change leaves an audit entry."""
    from sqlalchemy import select

    from dashboard.accounts import set_active, set_password, set_role
    from dashboard.storage.models import User

    now, actor = services.clock.now(), _cli_actor()
    try:
        with services.db.transaction() as session:
            if args.user_command == "list":
                for u in session.scalars(select(User).order_by(User.username)):
                    state = "active" if u.active else "locked"
                    print(f"{u.username}\t{u.role}\t{u.area_code or '-'}\t{state}")
            elif args.user_command in ("lock", "unlock"):
                set_active(session, args.name, args.user_command == "unlock", now, actor)
                print(f"{args.user_command}ed user {args.name}")
            elif args.user_command == "set-role":
                user = set_role(session, args.name, Role(args.role), now, actor)
                print(f"user {user.username} is now {user.role}")
            else:
                minimum = services.config.security.min_password_length
                set_password(session, args.name, password(), now, actor, minimum)
                print(f"password of {args.name} changed; their sessions have ended")
    except AccountError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _secret_key(services: Services, demo: bool) -> str:
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


def _make_cert(services: Services, args: argparse.Namespace) -> int:
    from dashboard.tls import TlsError, local_names, make_self_signed

    directory = services.config.data_dir() / "tls"
    if (directory / "cert.pem").exists() and not args.force:
        print(f"error: {directory / 'cert.pem'} exists (--force replaces it)", file=sys.stderr)
        return 1
    if not 1 <= args.days <= 3650:
        print("error: --days must be 1 to 3650", file=sys.stderr)
        return 1
    hosts = args.cert_hosts or local_names()
    try:
        cert, key = make_self_signed(directory, hosts, services.clock.now(), args.days)
    except TlsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"self-signed certificate for {', '.join(hosts)}")
    print(f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"')
    return 0


def _demo_tls(services: Services) -> tuple[Path, Path]:
    """The demo's self-signed pair under <data_dir>/tls, made at the first --https start."""
    from dashboard.tls import CERT_NAME, KEY_NAME, local_names, make_self_signed

    directory = services.config.data_dir() / "tls"
    cert, key = directory / CERT_NAME, directory / KEY_NAME
    if not cert.exists() or not key.exists():
        make_self_signed(directory, local_names(), services.clock.now())
        print(f"自签名证书 self-signed certificate written to {cert}")
    return cert, key


def _demo(services: Services, config_path: str | None = None, *, https: bool = False) -> int:
    from dashboard.seed.loader import is_seeded

    if not is_seeded(services.db):
        demo = services.config.demo
        print(f"首次启动：生成演示数据 first start: generating the {demo.scale} demo region …")
        args = argparse.Namespace(scale=None, seed=None, days=None, force=False)
        if _seed(services, args) != 0:
            return 1
    _demo_accounts(services)
    services.start(
        start_simulator,  # simulated field workers (off with --no-simulator)
        partial(start_capture_child, config_path=config_path),  # the video wall's cameras
    )
    tls = _demo_tls(services) if https else None
    return _serve(services, demo=True, tls=tls)  # stops them after its own parts


def _demo_accounts(services: Services) -> None:
    from dashboard.demo_accounts import DEMO_ACCOUNTS, PASSWORD_FILE, demo_password
    from dashboard.demo_accounts import ensure_demo_accounts as ensure

    data_dir = services.config.data_dir()
    password = demo_password(data_dir)
    departments = {d.code for d in services.reference.departments}
    with services.db.transaction() as session:
        ensure(session, password, services.clock.now(), departments)
    names = ", ".join(a.username for a in DEMO_ACCOUNTS)
    print(
        f"演示账号 demo accounts (sign in at /login): {names}; "
        f"密码 password in {data_dir / PASSWORD_FILE}"
    )


def _serve(services: Services, *, demo: bool, tls: tuple[Path, Path] | None = None) -> int:
    """The built-in (Werkzeug) server, one process: the demo, and ``serve --dev``."""
    from dashboard.app import create_app  # Dash and the pages: only the commands that serve
    from dashboard.reference import warn_calendar_gap

    server = create_app(services)  # starts the live sockets
    server.secret_key = _secret_key(services, demo)
    demo_user = services.config.demo.auto_login_user
    if demo and services.config.demo.enabled and demo_user:
        from dashboard.security.setup import enable_demo_sign_in

        enable_demo_sign_in(server, services, demo_user)  # demo only: never for `serve`
        print(f"演示模式：浏览器自动登录为 {demo_user} (demo: browsers sign in as {demo_user})")
    cfg = services.config.server
    warn_calendar_gap(services.config, services.reference, services.clock.now())
    tls = tls or cfg.tls_files()
    ssl_context = None
    if tls is not None:
        from dashboard.tls import TlsError, server_context

        try:
            ssl_context = server_context(*tls)
        except TlsError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    scheme = "https" if ssl_context is not None else "http"
    print(f"指挥中心已启动 command center on {scheme}://{cfg.host}:{cfg.port}/")
    # Everything built so far lives as long as the process: move it out of the garbage
    # collector's view, so full collections stay short under load (measured on big position
    # batches: 40-50 ms of GC per 5,000 fixes before, ~3 ms after).
    gc.collect()
    gc.freeze()
    services.start(
        start_relay,  # publishes the outbox while the server runs
        start_webhooks,  # sends the webhook deliveries (issue 17)
        start_scheduler,  # reminders, orders, call list, patrol, roll-ups
    )
    assert services.socketio is not None  # create_app's start_live
    try:
        from dashboard.http.serving import make_request_handler

        services.socketio.run(
            server,
            host=cfg.host,
            port=cfg.port,
            use_reloader=False,
            allow_unsafe_werkzeug=True,
            request_handler=make_request_handler(services.config),  # timeouts, connection caps
            ssl_context=ssl_context,  # [server] tls_cert / tls_key, or the demo's --https
        )
    finally:
        services.stop()  # everything started above and in _demo, the last started first
    return 0
