"""The status page's figures are limited to the viewer's area (a town's staff see their town)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dashboard.read.status import status_summary
from dashboard.storage.models import Village
from tests.integration.support import Town


def test_area_limits_every_figure(town: Town) -> None:
    now = datetime(2026, 11, 23, 1, tzinfo=UTC)
    with town.db.read() as session:
        villages = session.scalars(select(Village).order_by(Village.code)).all()
        whole = status_summary(session, now, now - timedelta(hours=8))
        one = villages[0]
        limited = status_summary(session, now, now - timedelta(hours=8), one.code)
        elsewhere = status_summary(session, now, now - timedelta(hours=8), "330602")
    assert whole.counts["villages"] == len(villages) > 1
    assert limited.counts["villages"] == 1
    assert limited.counts["towns"] == 1 and limited.counts["counties"] == 1  # its parents
    assert 0 < limited.counts["grids"] < whole.counts["grids"]
    assert 0 < limited.counts["workers"] < whole.counts["workers"]
    assert limited.counts["departments"] == whole.counts["departments"]
    assert elsewhere.counts["villages"] == 0 and elsewhere.counts["grids"] == 0


def test_an_area_code_is_matched_as_text_not_as_a_pattern(town: Town) -> None:
    """Issue 12: the status page's area filter did not escape LIKE, so ``_`` and ``%`` in an
    area code matched any digit and every village. Escaped, such a code matches nothing."""
    now = datetime(2026, 11, 23, 1, tzinfo=UTC)
    with town.db.read() as session:
        one = session.scalars(select(Village).order_by(Village.code)).first()
        assert one is not None
        pattern = one.code[:-1] + "_"  # the village's code with its last digit as a wildcard
        summary = status_summary(session, now, now - timedelta(hours=8), pattern)
        everything = status_summary(session, now, now - timedelta(hours=8), "%")
    assert summary.counts["villages"] == 0 and summary.counts["grids"] == 0
    assert everything.counts["villages"] == 0 and everything.counts["grids"] == 0
    assert everything.open_cases == 0
