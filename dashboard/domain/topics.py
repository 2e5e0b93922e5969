"""The names of the domain events (the outbox ``topic`` column and the bus topics).

A neutral home below every layer: the services write events under these names, the live layer
(``streams/protocol.py``, which documents each payload) forwards them, the read side looks them
up. Pure constants, no imports.
"""

from __future__ import annotations

TOPIC_CASE = "case"
TOPIC_VILLAGE = "village"
TOPIC_ALARM_ACK = "alarm_ack"
TOPIC_REMINDER = "reminder"
TOPIC_SUPERVISION_ORDER = "supervision_order"
TOPIC_CALL_LIST = "call_list"
TOPIC_PATROL_FLAG = "patrol_flag"
TOPIC_SUPERVISION_BATCH = "supervision_batch"  # many of the above at once, per place
TOPIC_POSITIONS = "positions"  # bus only (not in the outbox)
TOPIC_CAMERA = "camera"  # bus only (not in the outbox)
