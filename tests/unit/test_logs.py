"""The log: request lines for static assets dropped, no colour codes, quiet libraries."""

from __future__ import annotations

import logging

import pytest

from dashboard.logs import RequestLogFilter, configure_logging, plain


def _request(line: str, status: str, msg: str = '"%s" %s %s') -> logging.LogRecord:
    args = (line, status, "123")
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)


@pytest.mark.parametrize(
    ("line", "status", "kept"),
    [
        ("GET /assets/wall.js?m=1 HTTP/1.1", "200", False),
        ("GET /_dash-component-suites/dash/deps/react.min.js HTTP/1.1", "304", False),
        ("GET /_favicon.ico?v=4 HTTP/1.1", "200", False),
        ("GET /assets/missing.js HTTP/1.1", "404", True),  # a failure is news
        ("GET /_dash-component-suites/../../etc/passwd HTTP/1.1", "500", True),
        ("POST /api/v1/cases HTTP/1.1", "201", True),
        ("GET /wall HTTP/1.1", "200", True),
        ("POST /_dash-update-component HTTP/1.1", "200", True),
    ],
)
def test_static_asset_requests_are_dropped_unless_they_failed(
    line: str, status: str, kept: bool
) -> None:
    coloured = f"\x1b[32m{status}\x1b[0m"
    record = _request(line, coloured)
    assert RequestLogFilter().filter(record) is kept
    if kept:
        assert record.getMessage() == f'"{line}" {status} 123'  # and no colour codes


def test_colour_codes_are_removed_from_messages() -> None:
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "\x1b[33mPress CTRL+C to quit\x1b[0m", None, None
    )
    assert RequestLogFilter().filter(record)
    assert record.getMessage() == "Press CTRL+C to quit"
    assert plain("\x1b[31m\x1b[1mred bold\x1b[0m") == "red bold"


def test_the_demo_drops_werkzeugs_warnings_about_itself_serve_keeps_them() -> None:
    text = "WARNING: This is a development server. Do not use it in a production deployment."
    for demo, kept in ((True, False), (False, True)):
        record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, text, None, None)
        assert RequestLogFilter(demo=demo).filter(record) is kept


def test_configure_logging_quiets_alembic_and_installs_one_filter() -> None:
    configure_logging()
    configure_logging()  # twice (tests, reloads): still one filter
    filters = [f for f in logging.getLogger("werkzeug").filters if isinstance(f, RequestLogFilter)]
    assert len(filters) == 1
    assert logging.getLogger("alembic").level == logging.WARNING
    configure_logging(verbose=True)
    assert logging.getLogger("alembic").level == logging.NOTSET
    werkzeug = logging.getLogger("werkzeug")
    for f in [f for f in werkzeug.filters if isinstance(f, RequestLogFilter)]:
        werkzeug.removeFilter(f)  # leave the process's logging as it was
