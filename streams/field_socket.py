"""The field app's live channel: namespace ``/field`` on the existing Socket.IO server.

- A grid worker's phone (a principal with a worker record) joins the rooms ``grid:<grid code>``
  and ``worker:<id>``. When a case of their grid starts waiting for them — sent to verify
  (``request_verify``) or reported handled by a department (``handled``) — the phone gets
  ``task`` ``{"id", "kind": "verify"|"check", "category"}`` and fetches its task list
  (``GET /m/api/tasks``, scoped to the worker there).
- Anyone else is refused here, except the command room (``streams.field_calls``: the video call
  signalling joins the room ``command`` for the roles that may call).

Bus events reach each process through the bus (as for ``/live``), so every process tells its own
phones and nothing arrives twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import request
from flask_socketio import ConnectionRefusedError as Refused
from flask_socketio import Namespace

from dashboard.security.principal import Principal
from dashboard.services.field import worker_of
from dashboard.storage.bus import Event
from streams import protocol as p
from streams.field_calls import CallDesk

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

NAMESPACE = "/field"
EV_TASK = "task"
# A case action that puts a task in front of the grid's worker, and the kind of task.
TASK_ACTIONS = {"request_verify": "verify", "handled": "check"}


def start_field_socket(services: Services) -> Callable[[], None]:
    """The start step (after start_live): the ``/field`` namespace and its bus subscription."""
    assert services.socketio is not None, "start_live first"
    sio = services.socketio
    desk = CallDesk(services, sio.server, NAMESPACE)
    sio.on_namespace(FieldNamespace(services, desk))

    def on_event(event: Event) -> None:
        if event.topic != p.TOPIC_CASE:
            return
        kind = TASK_ACTIONS.get(str(event.payload.get("action")))
        grid = event.payload.get("grid")
        if kind is None or not isinstance(grid, str):
            return
        body = {
            "id": event.payload.get("id"),
            "kind": kind,
            "category": event.payload.get("category"),
        }
        sio.server.emit(EV_TASK, body, to=f"grid:{grid}", namespace=NAMESPACE, ignore_queue=True)

    return services.bus.subscribe(on_event)


class FieldNamespace(Namespace):
    def __init__(self, services: Services, desk: CallDesk) -> None:
        super().__init__(NAMESPACE)
        self.services = services
        self.desk = desk

    def on_connect(self, auth: Any = None) -> None:
        hook = self.services.authenticate_socket
        principal: Principal | None = hook(auth) if hook is not None else None
        if principal is None:
            raise Refused("unauthorized")
        sid = _sid()
        with self.services.db.read() as session:
            worker = worker_of(session, principal)
            grid = worker.grid_code if worker is not None else None
        if worker is not None and grid is not None:
            self.enter_room(sid, f"grid:{grid}")
            self.enter_room(sid, f"worker:{worker.id}")
            self.desk.worker_joined(sid, worker.id, principal)
            return
        if self.desk.may_call(principal):
            self.enter_room(sid, "command")
            self.desk.command_joined(sid, principal)
            return
        logger.info("field: refused %s (%s): no worker record", principal.name, principal.role)
        raise Refused("forbidden")

    def on_disconnect(self, reason: Any = None) -> None:
        self.desk.left(_sid())

    def on_call(self, data: Any = None) -> dict[str, Any]:
        return self.desk.call(str(request.sid), data)  # type: ignore[attr-defined]

    def on_answer(self, data: Any = None) -> dict[str, Any]:
        return self.desk.answer(str(request.sid), data)  # type: ignore[attr-defined]

    def on_signal(self, data: Any = None) -> dict[str, Any]:
        return self.desk.signal(str(request.sid), data)  # type: ignore[attr-defined]

    def on_hangup(self, data: Any = None) -> dict[str, Any]:
        return self.desk.hangup(str(request.sid), data)  # type: ignore[attr-defined]


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]  # set by Flask-SocketIO
