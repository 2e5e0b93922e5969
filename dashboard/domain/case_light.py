"""The deadline light of one case: the one home for that rule (issue 12).

``case_light(registered_at, deadline, suspended_at, is_open, now, calendar)`` answers green,
yellow or red for an open, registered case with a deadline, and None otherwise. The clock stands
still while the case is suspended: the light is judged at ``suspended_at``. The case API, the
case workspace and the case search all call this function, so a case shows the same light
everywhere.

One error policy: a stage that cannot be measured (no working time before the deadline, or a
stored stage longer than ``time_bounds.MAX_STAGE_SPAN``) shows no light and is logged at WARNING,
never raised to the caller (a page or an API response does not fail because of one bad row).

Pure: ``now`` is an argument; no clock, database or framework is read here.
"""

from __future__ import annotations

import logging
from datetime import datetime

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.deadlines import DEFAULT_YELLOW_AT, Light, stage_light
from dashboard.domain.errors import DomainError

logger = logging.getLogger(__name__)


def case_light(
    registered_at: datetime | None,
    deadline: datetime | None,
    suspended_at: datetime | None,
    is_open: bool,
    now: datetime,
    calendar: WorkingCalendar,
    yellow_at: float = DEFAULT_YELLOW_AT,
) -> Light | None:
    """The light of the case's current stage (None: closed, not registered, no deadline, or a
    stage that cannot be measured — the last is logged)."""
    if not is_open or registered_at is None or deadline is None:
        return None
    try:
        return stage_light(
            registered_at, deadline, suspended_at or now, calendar, yellow_at=yellow_at
        )
    except DomainError as err:
        logger.warning("no light for the stage %s -> %s: %s", registered_at, deadline, err.message)
        return None
