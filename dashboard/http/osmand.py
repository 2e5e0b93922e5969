"""The OsmAnd door: positions from the Traccar Client app and any tracker that speaks OsmAnd.

``/osmand`` on the web port (GET query, POST form, POST JSON) and, with ``[tracks] osmand_port``,
``/`` on a port of its own (Traccar's 5055), so a phone set up for a Traccar server works
unchanged. The protocol has no credentials: the device id is what an admin bound to a worker
(``run.py device bind``); an unknown device is refused — 400 in the query/form variant, 404 in the
JSON one, as Traccar answers — and nothing is stored. A bad request is a 400 with the reason in
plain text. Success is an empty 200. Parsing: dashboard.domain.osmand; storing, the filters and
``alarm=sos``: dashboard.services.tracks.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from dashboard.domain.osmand import OsmandError, device_of, parse_json, parse_query
from dashboard.security.web import public
from dashboard.services.tracks import OsmandIntake, UnknownDevice

if TYPE_CHECKING:
    from dashboard.container import Services, Stop

logger = logging.getLogger(__name__)

MAX_BODY = 512 * 1024  # a JSON backlog of 1,000 locations fits; more is a 413
_KEY = "gcc_osmand"

bp = Blueprint("osmand", __name__)


def _plain(text: str, status: int) -> Response:
    return Response(text, status=status, mimetype="text/plain")


def handle(intake: OsmandIntake, now: Callable[[], datetime], request: Request) -> Response:
    """One OsmAnd request on whichever port it came in."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _plain("request body too large", 413)
    moment = now()
    json_variant = request.method == "POST" and request.mimetype == "application/json"
    try:
        if json_variant:
            try:
                body = json.loads(request.get_data(cache=False) or b"null")
            except (ValueError, UnicodeDecodeError):
                return _plain("the body is not JSON", 400)
            worker = _known(intake, device_of(None, body))
            fixes = parse_json(body, moment)
        else:
            params = dict(request.args.items())
            if request.method == "POST":
                params.update(request.form.items())
            worker = _known(intake, device_of(params))
            fixes = [parse_query(params, moment)]
        intake.receive(fixes, moment, worker)
    except UnknownDevice as err:
        return _plain(err.message, 404 if json_variant else 400)
    except OsmandError as err:
        return _plain(f"{err.field or 'request'}: {err.message}", 400)
    return Response(status=200)


def _known(intake: OsmandIntake, device: str | None) -> str:
    """The worker of a bound device; UnknownDevice before anything else is looked at."""
    if device is None:
        raise OsmandError("missing_device", "id (or deviceid) is required", "id")
    worker = intake.devices.worker_of(device[:64])
    if worker is None:
        raise UnknownDevice("unknown_device", f"device {device[:64]!r} is not bound to a worker")
    return worker


@bp.route("/osmand", methods=["GET", "POST"])
@public
def osmand() -> ResponseReturnValue:
    intake, services = current_app.extensions[_KEY]
    return handle(intake, services.clock.now, request)


def install_osmand(server: Flask, services: Services, intake: OsmandIntake) -> None:
    server.extensions[_KEY] = (intake, services)
    server.register_blueprint(bp)


class _PortRequest(Request):
    max_content_length = MAX_BODY
    max_form_memory_size = MAX_BODY


WsgiApp = Callable[[dict[str, Any], Any], Any]


def port_app(services: Services, intake: OsmandIntake) -> WsgiApp:
    """The app of the OsmAnd port: ``/`` and any path (trackers are configured with a bare
    host:port), nothing else. A plain WSGI callable over Werkzeug's request (no Flask: the
    port has one door, and every fix pays for what runs per request)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        req = _PortRequest(environ)
        try:
            response = handle(intake, services.clock.now, req)
        except RequestEntityTooLarge:
            response = _plain("request body too large", 413)
        except Exception:  # the database away: the tracker keeps the fix and sends it again
            logger.exception("OsmAnd request failed")
            response = _plain("try again later", 503)
            response.headers["Retry-After"] = "5"
        return response(environ, start_response)

    return app


def osmand_port_app(server_app: Flask, services: Services) -> WsgiApp | None:
    """The app of the OsmAnd port with the web app's intake; None without ``osmand_port``."""
    if not services.config.tracks.osmand_port:
        return None
    intake: OsmandIntake = server_app.extensions[_KEY][0]
    return port_app(services, intake)


def start_osmand_port(server_app: Flask, services: Services) -> Stop | None:
    """The built-in server (the demo, ``serve --dev``, one process): serve the OsmAnd port in
    a thread when ``[tracks] osmand_port`` is set (a thread per connection, the same connection
    limits as the web port). The production server (gunicorn, N workers) binds that port once
    in its master instead (dashboard.http.production), and its workers do not call this."""
    port = services.config.tracks.osmand_port
    app = osmand_port_app(server_app, services)
    if app is None:
        return None
    from dashboard.http.serving import make_request_handler

    server = make_server(
        services.config.server.host,
        port,
        app,
        threaded=True,
        request_handler=make_request_handler(services.config),
    )
    thread = threading.Thread(target=server.serve_forever, name="osmand-port", daemon=True)
    thread.start()
    logger.info("OsmAnd door on %s:%s", services.config.server.host, port)

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return stop
