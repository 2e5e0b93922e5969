"""Unknown Dash asset paths: a quiet 404 instead of a 500 with a trace.

Dash answers a ``/_dash-component-suites/<package>/<path>`` it does not know by raising
``DependencyException``; unhandled, that was a 500 and ~40 lines of traceback in the log for
every unauthenticated probe. It is the client's mistake (or a scanner's): 404, one info line.
"""

from __future__ import annotations

import logging

from dash.exceptions import DependencyException
from flask import Flask, request
from flask.typing import ResponseReturnValue

logger = logging.getLogger(__name__)


def _unknown_asset(_err: DependencyException) -> ResponseReturnValue:
    logger.info("unknown Dash asset requested: %s", request.path[:200])
    return "not found", 404, {"Content-Type": "text/plain; charset=utf-8"}


def install_not_found(server: Flask) -> None:
    server.register_error_handler(DependencyException, _unknown_asset)
