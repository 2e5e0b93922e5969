"""Emergency alarms acknowledged on a screen: an ``alarm_ack`` outbox row.

The live layer (``streams/socket.py``) calls ``record_alarm_ack`` when a screen acknowledges an
alarm and no wall hook is set; the wall's snapshot reads the acknowledgements back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dashboard.domain.topics import TOPIC_ALARM_ACK
from dashboard.storage.db import Database
from dashboard.storage.models import Case
from dashboard.storage.outbox import enqueue


class AckRefused(Exception):
    """An alarm acknowledgement that cannot be recorded; ``code`` is what the screen is told."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def record_alarm_ack(db: Database, case_id: int, by: str, now: datetime) -> dict[str, Any]:
    """Write an ``alarm_ack`` outbox row for an emergency case (used without a wall hook)."""
    with db.transaction() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise AckRefused("case_not_found")
        if not case.emergency:
            raise AckRefused("not_an_emergency")
        payload: dict[str, Any] = {
            "case_id": case_id,
            "by": by,
            "at": now.isoformat(),
            "village": case.village_code,
            "town": case.town_code,
        }
        enqueue(session, TOPIC_ALARM_ACK, payload, now)
    return payload
