"""Command-line interface. Other issues and outside checks rely on these exact command names."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from dashboard.config import AppConfig, ConfigError, SimulatorConfig, explain, load_config
from dashboard.domain.roles import Role
from dashboard.logs import configure_logging

logger = logging.getLogger("dashboard")

ROLES = [r.value for r in Role]
SCALES = ["town", "county", "city"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py", description="Grid-governance command center (网格化社会治理综合指挥中心)"
    )
    p.add_argument("--config", metavar="PATH", help="configuration file (default: config.toml)")
    p.add_argument("--host", help="override server.host")
    p.add_argument("--port", type=int, help="override server.port")
    p.add_argument(
        "--no-simulator", action="store_true", help="demo without the built-in simulator"
    )
    p.add_argument(
        "--https",
        action="store_true",
        help="demo over HTTPS with a self-signed certificate (made by make-cert when missing)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command")
    demo = sub.add_parser(
        "demo", help="the embedded demo (default): seeds an empty database, then serves"
    )
    demo.add_argument(
        "--https",
        action="store_true",
        dest="demo_https",
        help="serve over HTTPS with a self-signed certificate (made when missing)",
    )
    mc = sub.add_parser(
        "make-cert",
        help="write a self-signed certificate and key for HTTPS (phones need it: "
        "docs/field-app.md)",
    )
    mc.add_argument(
        "--host",
        action="append",
        default=[],
        dest="cert_hosts",
        help="a name or address the certificate is for (repeatable; default: localhost, "
        "127.0.0.1, this machine's name and network address)",
    )
    mc.add_argument("--days", type=int, default=825, help="validity in days (default 825)")
    mc.add_argument("--force", action="store_true", help="replace an existing pair")
    srv = sub.add_parser("serve", help="the production server (gunicorn): no seeding, no simulator")
    srv.add_argument("--workers", type=_count, help="server processes (default: server.workers)")
    srv.add_argument(
        "--dev",
        action="store_true",
        help="the built-in development server (one process) instead of gunicorn",
    )
    cap = sub.add_parser("capture", help="the camera capture service (video wall), its own process")
    cap.add_argument(
        "--shard", type=_shard, default=(0, 1), metavar="I/N", help="serve shard I of N (0-based)"
    )
    db = sub.add_parser("db", help="database schema")
    db.add_argument("db_command", choices=["upgrade", "current"])
    seed = sub.add_parser("seed", help="generate a demo region and its history into the database")
    seed.add_argument("--scale", choices=SCALES, default=None)
    seed.add_argument("--seed", type=int, default=None, help="random seed")
    seed.add_argument("--days", type=int, default=None, help="days of case history")
    seed.add_argument("--force", action="store_true", help="replace an existing data set")
    bk = sub.add_parser("backup", help="back up the database and the photo store into DIR")
    bk.add_argument("dir", metavar="DIR", help="a new (or empty) directory")
    rs = sub.add_parser("restore", help="restore a backup DIR into this (empty) deployment")
    rs.add_argument("dir", metavar="DIR")
    cc = sub.add_parser("check-config", help="validate the configuration file and exit")
    cc.add_argument("--explain", action="store_true", help="list every key with its meaning")
    _add_simulate(sub)
    tok = sub.add_parser("token", help="API tokens for devices and integrations")
    tok_sub = tok.add_subparsers(dest="token_command", required=True)
    tc = tok_sub.add_parser("create", help="create a token; it is printed once, on the last line")
    tc.add_argument("name")
    tc.add_argument("--role", required=True, choices=ROLES)
    tc.add_argument("--area", help="restrict to an area code (county, town or village)")
    tc.add_argument("--department", help="a department token: the department (required)")
    tc.add_argument("--worker", help="a grid worker's phone: the worker id (required)")
    tc.add_argument(
        "--all-areas",
        action="store_true",
        help="an integration serving the whole deployment (else --area is required)",
    )
    tc.add_argument("--expires-days", type=int, help="expire after this many days")
    tc.add_argument(
        "--source",
        help="an integration's source: hotline (12345), police (110), city_management "
        "(数字城管) or public (the public app); its Open311 requests are reported as this",
    )
    tr = tok_sub.add_parser("revoke", help="revoke every token with this name")
    tr.add_argument("name")
    tok_sub.add_parser("list", help="list tokens (never their secret)")
    dev = sub.add_parser("device", help="trackers (OsmAnd / Traccar Client) bound to workers")
    dev_sub = dev.add_subparsers(dest="device_command", required=True)
    db_ = dev_sub.add_parser("bind", help="bind a tracker's device id to a grid worker")
    db_.add_argument("device_id")
    db_.add_argument("--worker", required=True, help="the grid worker's id (e.g. gw-00012)")
    dev_sub.add_parser("unbind", help="forget a tracker's binding").add_argument("device_id")
    dev_sub.add_parser("list", help="list the bound trackers")
    _add_webhook(sub)
    usr = sub.add_parser("user", help="web users")
    usr_sub = usr.add_subparsers(dest="user_command", required=True)
    uc = usr_sub.add_parser(
        "create", help="create a web user (password from GCC_USER_PASSWORD or a prompt)"
    )
    uc.add_argument("name")
    uc.add_argument("--role", required=True, choices=ROLES)
    uc.add_argument("--area", help="area code the user is limited to (town or county)")
    uc.add_argument("--department", help="department code (for the department role)")
    uc.add_argument("--display-name", default="")
    uc.add_argument("--worker", help="a grid_worker user: the worker id they sign in as")
    usr_sub.add_parser("list", help="list users (never their password)")
    for verb, text in (
        ("lock", "lock a user out: every session ends now"),
        ("unlock", "let a locked user sign in again"),
        ("password", "set a new password (GCC_USER_PASSWORD or a prompt); sessions end"),
    ):
        usr_sub.add_parser(verb, help=text).add_argument("name")
    sr = usr_sub.add_parser("set-role", help="change a user's role (recorded in the audit log)")
    sr.add_argument("name")
    sr.add_argument("--role", required=True, choices=ROLES)
    return p


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _shard(text: str) -> tuple[int, int]:
    index, _, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected I/N such as 0/2, got {text}") from err
    if n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"need 0 <= I < N, got {text}")
    return i, n


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _add_webhook(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hook = sub.add_parser("webhook", help="webhooks out to other systems (docs/integrations.md)")
    hook_sub = hook.add_subparsers(dest="webhook_command", required=True)
    add = hook_sub.add_parser(
        "add", help="POST every step of the matching cases to URL; prints the signing secret once"
    )
    add.add_argument("name")
    add.add_argument("--url", required=True, help="the receiver (http:// or https://)")
    add.add_argument("--key", help="the cases sent with this integration token (its name)")
    add.add_argument("--category", help="the cases of this 小类 code")
    add.add_argument("--area", help="the cases in this area (county, town or village code)")
    hook_sub.add_parser("list", help="subscriptions and their deliveries (pending, failed …)")
    replay = hook_sub.add_parser("replay", help="send failed deliveries again")
    replay.add_argument("delivery", nargs="?", type=int, help="one delivery id (default: all)")
    off = hook_sub.add_parser("disable", help="stop a subscription (its queue is kept)")
    off.add_argument("name")
    on = hook_sub.add_parser("enable", help="start a stopped subscription again")
    on.add_argument("name")


def _add_simulate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser(
        "simulate", help="run the simulator against a server through its public API"
    )
    sim.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8050")
    sim.add_argument(
        "--token",
        default=os.environ.get("GCC_SIMULATOR_TOKEN"),
        help="API token of a commander (or admin): `run.py token create sim --role commander`; "
        "default: $GCC_SIMULATOR_TOKEN",
    )
    sim.add_argument("--rate", type=_positive, help="override simulator.rate_multiplier")
    sim.add_argument("--speed", type=_positive, help="override simulator.handling_speed")
    sim.add_argument(
        "--scale", choices=SCALES, help="the server's demo scale (default: demo.scale)"
    )
    sim.add_argument("--seed", type=int, help="the server's demo seed (default: demo.seed)")
    sim.add_argument("--duration", type=_positive, metavar="SECONDS", help="stop after this long")
    sim.add_argument(
        "--burst", type=_count, metavar="N", help="send N reports as fast as possible, then stop"
    )
    sim.add_argument("--threads", type=_count, default=1, help="parallel requests of a --burst")


def _simulate(args: argparse.Namespace, config: AppConfig) -> int:
    from dashboard.simulator.launch import RemoteRun, run_remote

    if not args.token:
        print("error: pass --token or set GCC_SIMULATOR_TOKEN", file=sys.stderr)
        return 2
    overrides = {"rate_multiplier": args.rate, "handling_speed": args.speed}
    try:
        simulator = SimulatorConfig.model_validate(
            config.simulator.model_dump() | {k: v for k, v in overrides.items() if v is not None}
        )
    except ValidationError as err:
        reasons = "; ".join(f"simulator.{e['loc'][0]}: {e['msg']}" for e in err.errors())
        print(f"error: {reasons}", file=sys.stderr)
        return 2
    run = RemoteRun(
        url=args.url,
        token=args.token,
        scale=args.scale or config.demo.scale,
        seed=config.demo.seed if args.seed is None else args.seed,
        duration_s=args.duration,
        burst=args.burst,
        threads=args.threads,
    )
    return run_remote(run, config.model_copy(update={"simulator": simulator}))


def _capture(args: argparse.Namespace, config: AppConfig) -> int:
    from streams.capture.service import CaptureStartError, run_capture

    shard, shards = args.shard
    try:
        return run_capture(config, shard, shards)
    except CaptureStartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _config(args: argparse.Namespace) -> AppConfig:
    config = load_config(args.config)
    server = config.server.model_copy(
        update={k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    )
    demo = config.demo.model_copy(update={"simulator": False}) if args.no_simulator else config.demo
    if getattr(args, "workers", None):
        server = server.model_copy(update={"workers": args.workers})
    return config.model_copy(update={"server": server, "demo": demo})


def _password() -> str:
    pw = os.environ.get("GCC_USER_PASSWORD")
    if pw is None:
        if not sys.stdin.isatty():
            raise SystemExit(
                "error: set GCC_USER_PASSWORD or run in a terminal to be asked for the password"
            )
        pw = getpass.getpass("Password: ")
        if pw != getpass.getpass("Repeat: "):
            raise SystemExit("error: the passwords differ")
    return pw  # checked by dashboard.accounts.check_password (length, common passwords)


def _web_port_free(config: AppConfig) -> bool:
    from dashboard.ports import port_free

    host, port = config.server.host, config.server.port
    if port_free(host, port):
        return True
    print(
        f"错误：端口 {host}:{port} 已被占用（指挥中心是否已在运行？）。"
        f"请先停止它，或用 --port 指定其他端口。\n"
        f"error: port {host}:{port} is already in use (is the command center already running?). "
        f"Stop it, or choose another port with --port N (or [server] port in the config file).",
        file=sys.stderr,
    )
    return False


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    configure_logging(verbose=args.verbose, demo=(args.command or "demo") == "demo")
    try:
        config = _config(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    command = args.command or "demo"
    if command == "check-config":
        print("\n".join(explain()) if args.explain else "configuration OK")
        return 0
    if command == "simulate":  # a client of a remote server: no local database
        return _simulate(args, config)
    if command == "capture":  # its own lean process: no web stack (starts faster, less memory)
        return _capture(args, config)

    if command in ("demo", "serve") and not _web_port_free(config):
        return 2  # before anything is read or written: a second demo must not touch the first
    from dashboard import commands  # heavy imports only once the config is known to be good

    return commands.dispatch(command, args, config, password=_password)
