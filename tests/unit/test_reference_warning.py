"""The calendar warning: once at a server's start (and on the status page), not on every command."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from dashboard.config import AppConfig
from dashboard.reference import load_reference, warn_calendar_gap


def test_loading_the_reference_data_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dashboard.reference"):
        load_reference(AppConfig())
    assert not caplog.records


@pytest.mark.parametrize(
    ("now", "says"),
    [
        (datetime(2026, 6, 1, tzinfo=UTC), None),
        (datetime(2026, 12, 5, tzinfo=UTC), "from 1 January"),
        (datetime(2027, 1, 4, tzinfo=UTC), "from now on"),
    ],
)
def test_a_server_start_warns_when_the_holidays_run_out(
    caplog: pytest.LogCaptureFixture, now: datetime, says: str | None
) -> None:
    config = AppConfig()
    with caplog.at_level(logging.WARNING, logger="dashboard.reference"):
        warn_calendar_gap(config, load_reference(config), now)
    if says is None:
        assert not caplog.records
    else:
        (record,) = caplog.records
        assert "2027" in record.getMessage() and says in record.getMessage()
        assert "calendar_cn.toml" in record.getMessage()
