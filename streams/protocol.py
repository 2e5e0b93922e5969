"""The live protocol between the server and every screen (Socket.IO, websocket transport only).

Connecting (namespace ``/live``): send ``auth={"token": "<bearer token>"}`` (a wall or device
token), or connect from a signed-in page (the session cookie; see streams.socket). Refused with
``connect_error`` ``"unauthorized"`` without a principal and ``"forbidden"`` without
``Permission.VIEW_WALL``. A screen whose principal is limited to an area only receives what lies
inside it, as dashboard.security.scoping decides: a delta whose payload's ``village`` code starts
with the area code (an event without a place goes only to unlimited screens), the positions of
the area's workers, the cameras of its villages.

Server → screen events (namespace ``/live``):

``snapshot``  ``{"seq": int, "at": iso, "data": {...}}`` — sent on connect and whenever the
              screen reports a gap; ``seq`` is the sequence number of the newest delta it includes
              (for an area-limited screen: the newest one of its area's stream). ``data`` comes
              from the wall's snapshot provider; without one it is the built-in minimal snapshot
              ``{"kind": "minimal", "open_cases": int, "open_by_status": {status: int},
              "open_emergencies": [case_id, ...]}``. A *refresh* (answering ``resync`` with
              ``{"refresh": true}``, from a screen that holds a snapshot) carries ``"refresh":
              true``: every key of ``data`` as usual except ``positions`` (absent: the screen
              keeps the positions it holds, which stream as ``positions``) and ``villages``
              (only the rows that changed since this screen's last snapshot, or that a
              ``village`` delta touched since; the screen merges them by ``code``). At city
              scale a refresh is a few kB instead of ~1.2 MB. The first snapshot of a
              connection, and any the server sends of its own accord, are whole.
``delta``     ``{"seq": int, "prev": int, "topic": str, "payload": {...}, "at": iso}`` — one
              domain event, in order. ``seq`` is the outbox id; ``prev`` is the ``seq`` of the
              delta this screen's stream carried just before (or of the snapshot). A screen applies
              a delta when ``prev`` equals the ``seq`` it holds; any other ``prev`` means it missed
              something: it emits ``resync`` and gets a snapshot. (Refined from "seq == last + 1":
              outbox ids have gaps — PostgreSQL sequences skip rolled-back ids, area-limited
              screens skip other areas' events — so only ``prev`` is exact. For an unlimited
              screen on the SQLite demo, ``seq == prev + 1`` holds as well.) After a snapshot a
              screen gets each delta once, in publish order (= id order, except that on
              PostgreSQL a transaction that commits after a later id's may come after it).
``positions`` ``{"at": iso, "fixes": [[worker_id, lon, lat, iso_time], ...]}`` — batched, at most
              one message per second per screen, the newest fix per worker; positions are
              ephemeral (no seq): the next batch or snapshot supersedes them. A screen that
              reads slowly has at most two messages queued before a batch waits (its fixes
              stay merged, newest per worker, until it reads again).
``alarm``     ``{"case_id": int, ...case payload}`` — a one-click emergency: full-width alarm with
              sound until acknowledged (also present in snapshots while unacknowledged). Sent right
              after the ``delta`` of a ``case`` event with ``emergency: true`` and action
              ``report``.
``camera``    ``{"id": str, "status": "online"|"offline"|"reconnecting", "fps": float,
              "age": float}``

Screen → server events: ``resync`` (send me a snapshot; ``{"refresh": true}``: a refresh will
do; several within a second are merged into one, whole if any asked for a whole one),
``ack_alarm`` ``{"case_id": int}`` — needs ``Permission.ACKNOWLEDGE_ALARM``; its Socket.IO
acknowledgement answers ``{"ok": true}`` or ``{"ok": false, "error": code}`` with code one of
``forbidden``, ``bad_request``, ``rate_limited``, ``case_not_found``, ``not_an_emergency``.

Topics of ``delta`` (the outbox ``topic`` column): ``case`` (payload:
dashboard.services.cases.case_payload), ``village`` (dashboard.services.villages.village_payload),
``alarm_ack`` ``{"case_id", "by", "at"}`` (the live layer's own acknowledgements also carry the
case's ``village`` and ``town``); the supervision watchers' and supervisors' topics (payloads:
dashboard.services.watchers and watchers_places; each carries ``village`` and ``town``, so area
screens get their own, and department screens get the ``reminder`` / ``supervision_order`` rows
whose ``department`` is theirs):
``reminder`` ``{"id", "case_id", "stage", "deadline", "due_at", "raised_at", "department",
"village", "town"}`` — a stage turned yellow;
``supervision_order`` ``{"id", "case_id", "stage", "deadline", "issued_at", "department",
"status", "opinion", "reply", "village", "town"}`` — a stage turned red (督办单), or its reply /
close;
``call_list`` ``{"id", "village", "village_name", "town", "status", "red_since", "listed_at",
"snoozed_until", "last_call"}`` — a red village on the call list, or its call / snooze / end;
``patrol_flag`` ``{"id", "worker_id", "kind", "since", "cleared_at", "village", "town"}`` — a
grid worker silent (``kind`` ``silent``) or outside their grid (``outside_grid``), or cleared;
``supervision_batch`` ``{"kind": <one of the four topics above>, "count", "village", "town",
"department"}`` — a watcher run that raised more than a few items at once (a first run, or a
catch-up after downtime) sends one of these per village and department instead of one event per
item: screens refresh what they show of that kind.

Bus topics that are not deltas (published directly on the bus, ``seq = 0``):
``positions`` ``{"fixes": [[worker_id, lon, lat, iso_time], ...]}`` (an optional fifth element,
the grid or village code of the fix, overrides the worker's home village for area screens; the
object form ``{"worker_id", "lon", "lat", "at", "grid"}`` is accepted too), and ``camera`` (the
``camera`` payload above, plus the camera's ``village``: without it only unlimited screens get it).

Other processes may also emit straight to the screens through Redis with
``SocketIO(message_queue=redis_url, channel=streams.socket.socketio_channel(config))``, to the
namespace ``/live`` (every screen) or a room: ``"all"`` (unlimited screens) or ``"area:<code>"``.
"""

from __future__ import annotations

from dashboard.domain.topics import (
    TOPIC_ALARM_ACK as TOPIC_ALARM_ACK,
)
from dashboard.domain.topics import (
    TOPIC_CALL_LIST as TOPIC_CALL_LIST,
)
from dashboard.domain.topics import (
    TOPIC_CAMERA as TOPIC_CAMERA,
)
from dashboard.domain.topics import (  # the topic names: one home, below every layer
    TOPIC_CASE as TOPIC_CASE,
)
from dashboard.domain.topics import (
    TOPIC_PATROL_FLAG as TOPIC_PATROL_FLAG,
)
from dashboard.domain.topics import (
    TOPIC_POSITIONS as TOPIC_POSITIONS,
)
from dashboard.domain.topics import (
    TOPIC_REMINDER as TOPIC_REMINDER,
)
from dashboard.domain.topics import (
    TOPIC_SUPERVISION_BATCH as TOPIC_SUPERVISION_BATCH,
)
from dashboard.domain.topics import (
    TOPIC_SUPERVISION_ORDER as TOPIC_SUPERVISION_ORDER,
)
from dashboard.domain.topics import (
    TOPIC_VILLAGE as TOPIC_VILLAGE,
)

NAMESPACE = "/live"

EV_SNAPSHOT = "snapshot"
EV_DELTA = "delta"
EV_POSITIONS = "positions"
EV_ALARM = "alarm"
EV_CAMERA = "camera"
EV_RESYNC = "resync"
EV_ACK_ALARM = "ack_alarm"

POSITIONS_INTERVAL_S = 1.0  # at most one positions batch per screen per second
