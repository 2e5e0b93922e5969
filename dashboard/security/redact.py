"""Keep secrets out of the logs: tokens, passwords in URLs, camera credentials.

``redact(text)`` removes them from a string; ``install_log_redaction()`` wraps the process's log
record factory so every record is cleaned before any handler sees it (werkzeug's access log with
a kiosk's ``?token=``, an exception message quoting ``rtsp://user:pass@camera``, a mistaken
``logger.info("%s", headers)``). Code should still not log secrets; this is the safety net.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dashboard.security.tokens import TOKEN_PREFIX

MASK = "***"
_PATTERNS = (
    # user:password@ in any URL (rtsp://admin:12345@10.0.0.8/…, postgresql://u:p@host/db)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]*@"), r"\1" + MASK + "@"),
    # a token in a query string or form body
    (re.compile(r"(?i)\b([a-z_]*(?:token|password|passwd|secret)=)[^&\s\"']+"), r"\1" + MASK),
    # Authorization headers and bare tokens of this project
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]+"), r"\1" + MASK),
    (re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]{8,}"), TOKEN_PREFIX + MASK),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """A URL without its user and password (``rtsp://host:554/path``), for display and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


_state: dict[str, Any] = {}


def install_log_redaction() -> None:
    """Clean every log record of this process (idempotent)."""
    if _state.get("installed"):
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is for the handler to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
    _state["installed"] = True
