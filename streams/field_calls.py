"""Video calls from the command room to a grid worker's phone (视频连线): the signalling.

Media go peer to peer (WebRTC); only the offer, the answer and the ICE candidates pass here, over
the ``/field`` namespace (streams.field_socket). The rules:

- only the command room calls (``CALLING_ROLES``, within its area); a phone can only answer,
  decline or hang up a call made to *its* worker — it cannot call anyone;
- ``call`` ``{"worker_id", "case_id"?}`` (command) → the phone(s) of that worker get ``ring``
  ``{"call_id", "caller", "case_id"}``; answer ``{"ok": true, "call_id", "worker_name"}`` or
  ``{"ok": false, "error": "offline"|"forbidden"|"bad_request"}``;
- ``answer`` ``{"call_id", "decline"?}`` (phone) → the caller gets ``answered`` (then sends its
  offer) or ``hangup`` with ``reason: "declined"``;
- ``signal`` ``{"call_id", "data"}`` from either side of a call goes to the other side;
- ``hangup`` ``{"call_id"}`` from either side, or either side disconnecting, ends the call on both.

Every call is a ``field_calls`` row (who, whom, when answered, when ended, outcome); a call made
from a case adds a ``video_call`` step to the case's trail (status unchanged) when it ends.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dashboard.security.principal import Principal
from dashboard.security.scoping import case_visible
from dashboard.services.field import CALLING_ROLES
from dashboard.storage.models import Case, CaseEvent, FieldCall, GridWorker

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)

CALL_ACTION = "video_call"
MAX_SIGNAL_CHARS = 32_000


@dataclass
class _Call:
    id: int
    worker_id: str
    command_sid: str
    caller: Principal
    case_id: int | None
    worker_sid: str | None = None


class CallDesk:
    def __init__(self, services: Services, server: Any, namespace: str) -> None:
        self.services = services
        self.server = server
        self.namespace = namespace
        self._lock = threading.Lock()
        self._workers: dict[str, str] = {}  # sid -> worker id
        self._commands: dict[str, Principal] = {}
        self._calls: dict[int, _Call] = {}

    # --- who is here ----------------------------------------------------------------------

    @staticmethod
    def may_call(principal: Principal) -> bool:
        return principal.role in CALLING_ROLES

    def worker_joined(self, sid: str, worker_id: str, principal: Principal) -> None:
        with self._lock:
            self._workers[sid] = worker_id

    def command_joined(self, sid: str, principal: Principal) -> None:
        with self._lock:
            self._commands[sid] = principal

    def left(self, sid: str) -> None:
        with self._lock:
            self._workers.pop(sid, None)
            self._commands.pop(sid, None)
            mine = [c for c in self._calls.values() if sid in (c.command_sid, c.worker_sid)]
        for call in mine:
            self._end(call, "disconnected", sid)

    def online(self, worker_id: str) -> bool:
        with self._lock:
            return worker_id in self._workers.values()

    # --- events -----------------------------------------------------------------------------

    def call(self, sid: str, data: Any) -> dict[str, Any]:
        with self._lock:
            caller = self._commands.get(sid)
        if caller is None:
            return {"ok": False, "error": "forbidden"}
        worker_id = data.get("worker_id") if isinstance(data, dict) else None
        case_id = data.get("case_id") if isinstance(data, dict) else None
        if not isinstance(worker_id, str) or not 0 < len(worker_id) <= 40:
            return {"ok": False, "error": "bad_request"}
        if case_id is not None and (not isinstance(case_id, int) or isinstance(case_id, bool)):
            return {"ok": False, "error": "bad_request"}
        now = self.services.clock.now()
        with self.services.db.transaction() as session:
            worker = session.get(GridWorker, worker_id)
            if worker is None or not caller.scope.allows_place(worker.village_code):
                return {"ok": False, "error": "forbidden"}
            if case_id is not None:
                case = session.get(Case, case_id)
                if case is None or not case_visible(caller, case):
                    return {"ok": False, "error": "forbidden"}
            if not self.online(worker_id):
                return {"ok": False, "error": "offline"}
            row = FieldCall(
                caller=caller.name,
                caller_role=caller.role.value,
                worker_id=worker_id,
                case_id=case_id,
                started_at=now,
                outcome="ringing",
            )
            session.add(row)
            session.flush()
            call_id, worker_name = row.id, worker.name
        with self._lock:
            self._calls[call_id] = _Call(call_id, worker_id, sid, caller, case_id)
        ring = {
            "call_id": call_id,
            "caller": caller.display_name or caller.name,
            "case_id": case_id,
        }
        self._emit("ring", ring, f"worker:{worker_id}")
        logger.info("field call %s: %s calls worker %s", call_id, caller.name, worker_id)
        return {"ok": True, "call_id": call_id, "worker_name": worker_name}

    def answer(self, sid: str, data: Any) -> dict[str, Any]:
        call = self._call_of(data)
        with self._lock:
            mine = call is not None and self._workers.get(sid) == call.worker_id
            if call is None or not mine or call.worker_sid is not None:
                return {"ok": False, "error": "forbidden"}
            if isinstance(data, dict) and data.get("decline") is True:
                declined = True
            else:
                declined = False
                call.worker_sid = sid
        if declined:
            self._end(call, "declined", sid)
            return {"ok": True}
        with self.services.db.transaction() as session:
            row = session.get(FieldCall, call.id)
            if row is not None:
                row.answered_at, row.outcome = self.services.clock.now(), "talking"
        self._emit("answered", {"call_id": call.id}, call.command_sid)
        # The worker's other phones stop ringing.
        self._emit("taken", {"call_id": call.id}, f"worker:{call.worker_id}", skip=sid)
        return {"ok": True}

    def signal(self, sid: str, data: Any) -> dict[str, Any]:
        call = self._call_of(data)
        payload = data.get("data") if isinstance(data, dict) else None
        if call is None or not isinstance(payload, dict) or len(str(payload)) > MAX_SIGNAL_CHARS:
            return {"ok": False, "error": "bad_request"}
        if sid == call.command_sid and call.worker_sid is not None:
            self._emit("signal", {"call_id": call.id, "data": payload}, call.worker_sid)
        elif sid == call.worker_sid:
            self._emit("signal", {"call_id": call.id, "data": payload}, call.command_sid)
        else:
            return {"ok": False, "error": "forbidden"}
        return {"ok": True}

    def hangup(self, sid: str, data: Any) -> dict[str, Any]:
        call = self._call_of(data)
        if call is None or sid not in (call.command_sid, call.worker_sid):
            return {"ok": False, "error": "forbidden"}
        self._end(call, "ended" if call.worker_sid else "cancelled", sid)
        return {"ok": True}

    # --- helpers ----------------------------------------------------------------------------

    def _call_of(self, data: Any) -> _Call | None:
        call_id = data.get("call_id") if isinstance(data, dict) else None
        if not isinstance(call_id, int) or isinstance(call_id, bool):
            return None
        with self._lock:
            return self._calls.get(call_id)

    def _end(self, call: _Call, outcome: str, by_sid: str) -> None:
        with self._lock:
            if self._calls.pop(call.id, None) is None:
                return  # ended already (both sides hung up at once)
        now = self.services.clock.now()
        by = call.caller.name if by_sid == call.command_sid else call.worker_id
        if outcome == "disconnected" and call.worker_sid is None and by_sid != call.command_sid:
            outcome = "missed"
        with self.services.db.transaction() as session:
            row = session.get(FieldCall, call.id)
            if row is not None:
                row.ended_at, row.ended_by = now, by
                row.outcome = outcome if row.answered_at is None else "ended"
                seconds = (now - row.answered_at).total_seconds() if row.answered_at else 0.0
                case = session.get(Case, call.case_id) if call.case_id is not None else None
                worker = session.get(GridWorker, call.worker_id)
                if case is not None:
                    session.add(
                        CaseEvent(
                            case_id=case.id,
                            action=CALL_ACTION,
                            from_status=case.status,
                            to_status=case.status,
                            at=now,
                            actor=call.caller.name,
                            role=call.caller.role.value,
                            note="",
                            reason=None,
                            details={
                                "call_id": call.id,
                                "call_worker": worker.name if worker else call.worker_id,
                                "call_seconds": round(seconds),
                            },
                            attachments={},
                        )
                    )
        body = {"call_id": call.id, "reason": outcome}
        self._emit("hangup", body, call.command_sid)
        self._emit("hangup", body, f"worker:{call.worker_id}")
        logger.info("field call %s ended: %s", call.id, outcome)

    def _emit(self, event: str, data: dict[str, Any], to: str, skip: str | None = None) -> None:
        self.server.emit(
            event, data, to=to, namespace=self.namespace, skip_sid=skip, ignore_queue=True
        )
