"""Logging for the command line and the servers: a few clear lines, nothing a file cannot hold.

- the web server's request line for a static asset (scripts, styles, Dash's component bundles,
  the favicon) is dropped unless it failed: a wall loading its page is not news (before: 2,574 of
  the demo's lines in 22 minutes, mostly assets);
- ANSI colour codes (Werkzeug colours status codes and its banner) are removed, so log files and
  journald stay plain text;
- libraries that narrate their set-up (Alembic's plugin and migration context lines) speak at
  WARNING; ``--verbose`` brings everything back at DEBUG.
"""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Paths of static files: served from disk, the same for every screen.
STATIC_PREFIXES = (
    "/assets/",
    "/_dash-component-suites/",
    "/_favicon.ico",
    "/favicon.ico",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_reload-hash",
)
_QUIET = ("alembic", "apscheduler")
# Werkzeug's own warnings about itself, which the demo (a development server by design) repeats
# at every start; `run.py serve` keeps them until it runs on a production server.
_DEMO_NOISE = ("This is a development server", "appears to be used in a production deployment")


def plain(text: str) -> str:
    """``text`` without ANSI colour codes."""
    return _ANSI.sub("", text)


class RequestLogFilter(logging.Filter):
    """Drops successful static-asset request lines; strips colour from the rest."""

    def __init__(self, *, demo: bool = False) -> None:
        super().__init__()
        self.demo = demo

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = plain(record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(plain(a) if isinstance(a, str) else a for a in record.args)
            if _is_static_success(record.args):
                return False
        message = record.msg if isinstance(record.msg, str) else ""
        return not (self.demo and any(noise in message for noise in _DEMO_NOISE))


def _is_static_success(args: tuple[object, ...]) -> bool:
    """Werkzeug's request line: args are ('GET /path HTTP/1.1', '200', '1234')."""
    if len(args) < 2 or not isinstance(args[0], str):
        return False
    parts = args[0].split(" ")
    if len(parts) < 2 or not parts[1].startswith(STATIC_PREFIXES):
        return False
    return str(args[1]).startswith(("2", "3"))


def configure_logging(*, verbose: bool = False, demo: bool = False) -> None:
    """The process's logging, once at start (``run.py``)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=FORMAT)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    requests = logging.getLogger("werkzeug")
    for old in [f for f in requests.filters if isinstance(f, RequestLogFilter)]:
        requests.removeFilter(old)
    requests.addFilter(RequestLogFilter(demo=demo))
