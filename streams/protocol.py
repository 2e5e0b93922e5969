"""The live protocol between the server and every screen (Socket.IO, websocket transport only).

Server → screen events (namespace ``/live``):

``snapshot``  ``{"seq": int, "at": iso, "data": {...}}`` — sent on connect and whenever the
              screen reports a gap; ``seq`` is the sequence number of the newest delta it includes.
``delta``     ``{"seq": int, "topic": str, "payload": {...}, "at": iso}`` — one domain event, in
              order. ``seq`` is the outbox id (strictly increasing, gap-free per deployment); a
              screen that sees ``seq`` other than ``last + 1`` emits ``resync`` and gets a snapshot.
``positions`` ``{"at": iso, "fixes": [[worker_id, lon, lat, iso_time], ...]}`` — batched, at most
              one message per second per screen; positions are ephemeral (no seq): the next
              batch or snapshot supersedes them.
``alarm``     ``{"case_id": int, ...case payload}`` — a one-click emergency: full-width alarm with
              sound until acknowledged (also present in snapshots while unacknowledged).
``camera``    ``{"id": str, "status": "online"|"offline"|"reconnecting", "fps": float, "age": float}``

Screen → server events: ``resync`` (send me a snapshot), ``ack_alarm`` ``{"case_id": int}``.

Topics of ``delta`` (the outbox ``topic`` column): ``case`` (payload:
dashboard.services.cases.case_payload), ``village`` (dashboard.services.villages.village_payload),
``alarm_ack`` ``{"case_id", "by", "at"}``.
"""

from __future__ import annotations

NAMESPACE = "/live"

EV_SNAPSHOT = "snapshot"
EV_DELTA = "delta"
EV_POSITIONS = "positions"
EV_ALARM = "alarm"
EV_CAMERA = "camera"
EV_RESYNC = "resync"
EV_ACK_ALARM = "ack_alarm"

TOPIC_CASE = "case"
TOPIC_VILLAGE = "village"
TOPIC_ALARM_ACK = "alarm_ack"

POSITIONS_INTERVAL_S = 1.0  # at most one positions batch per screen per second
