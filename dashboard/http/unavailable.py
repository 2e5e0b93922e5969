"""503 when the database is away: JSON for the API and Dash's callbacks, a page for browsers.

The storage boundary (dashboard.storage.db) turns "no answer in time" into DatabaseUnavailable;
this answers it quickly with ``Retry-After`` instead of a 500: the API in the house format
``{"error": "database_unavailable", "message", …}``, a page request with a short page in the
user's language (Chinese by default). Nothing was written, so a client may simply retry.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template_string, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dashboard.i18n import normalise_lang, t
from dashboard.storage.db import DatabaseUnavailable

RETRY_AFTER_S = 5
CODE = "database_unavailable"
MESSAGE = "the database is unreachable or too slow right now; nothing was written, retry shortly"
JSON_PREFIXES = ("/api/", "/_dash-")

_PAGE = """<!DOCTYPE html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head><meta charset="utf-8">
<title>{{ title }}</title><style>body{margin:0;min-height:100vh;display:flex;align-items:center;
justify-content:center;background:#0b1220;color:#e6edf7;font-family:"Noto Sans CJK SC",sans-serif}
main{background:#111a2e;padding:32px 40px;border-radius:8px;max-width:480px}a{color:#9fb0c8}
</style></head><body><main id="unavailable"><h1>{{ title }}</h1><p>{{ detail }}</p>
<p><a href="">{{ retry }}</a></p></main></body></html>"""


def unavailable_response() -> ResponseReturnValue:
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if request.path.startswith(JSON_PREFIXES):
        return jsonify({"error": CODE, "message": MESSAGE}), 503, headers
    services = current_app.extensions["gcc"]
    lang = normalise_lang(request.args.get("lang"), services.config.ui.language)
    page = render_template_string(
        _PAGE,
        lang=lang,
        title=t("unavailable.title", lang),
        detail=t("unavailable.detail", lang),
        retry=t("unavailable.retry", lang),
    )
    return page, 503, headers


def _handle(_err: Exception) -> ResponseReturnValue:
    return unavailable_response()


def install_unavailable(server: Flask) -> None:
    """App-wide: pages, sign-in, Dash callbacks (the API blueprint registers its own too, as its
    catch-all Exception handler would otherwise win)."""
    for kind in (DatabaseUnavailable, OperationalError, InterfaceError, PoolTimeout):
        server.register_error_handler(kind, _handle)
