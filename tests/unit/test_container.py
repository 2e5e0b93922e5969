"""The container's start and stop lists: steps start in order and stop in reverse, a failing stop
does not keep the others from running, and ``close`` stops before it closes the bus and database.

Built by ``build_services`` over an in-memory SQLite database (nothing connects to a server)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from dashboard.clock import FixedClock
from dashboard.config import parse_config
from dashboard.container import Services, Stop
from dashboard.wiring import build_services

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    config = parse_config(
        f'[server]\ndata_dir = "{tmp_path}"\n[database]\nurl = "sqlite://"\n', "container test"
    )
    built = build_services(config, FixedClock(NOW))
    yield built
    built.close()


def _step(log: list[str], name: str, services: Services) -> Stop:
    log.append(f"start {name}")
    return lambda: log.append(f"stop {name}")


def _named(log: list[str], name: str) -> Callable[[Services], Stop]:
    return partial(_step, log, name)  # named "_step" in the stop list (its function's name)


def test_steps_stop_in_the_reverse_order_of_their_starts(services: Services) -> None:
    log: list[str] = []
    services.start(_named(log, "relay"), _named(log, "scheduler"))
    services.start(_named(log, "live"), lambda s: None)  # a step with nothing to stop
    assert services.started() == ["_step", "_step", "_step"]
    services.stop()
    assert log == [
        "start relay",
        "start scheduler",
        "start live",
        "stop live",
        "stop scheduler",
        "stop relay",
    ]
    services.stop()  # stopped once only
    assert log.count("stop relay") == 1 and services.started() == []


def test_a_failing_stop_is_logged_and_the_others_still_run(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[str] = []

    def broken(services: Services) -> Stop:
        def stop() -> None:
            raise RuntimeError("stuck")

        return stop

    services.start(_named(log, "first"), broken, _named(log, "last"))
    with caplog.at_level(logging.ERROR, logger="dashboard.container"):
        services.stop()
    assert log[-2:] == ["stop last", "stop first"]
    assert "stopping broken failed" in caplog.text


def test_close_stops_the_parts_then_the_bus_and_database(tmp_path: Path) -> None:
    config = parse_config(
        f'[server]\ndata_dir = "{tmp_path}"\n[database]\nurl = "sqlite://"\n', "container test"
    )
    services = build_services(config, FixedClock(NOW))
    log: list[str] = []
    services.start(_named(log, "relay"))
    assert services.health_checks().keys() == {"database", "bus"}  # no capture, no scheduler
    services.close()
    assert log == ["start relay", "stop relay"]


def test_build_services_gives_the_photo_store_and_limits_a_home(services: Services) -> None:
    assert services.photos.root == services.config.data_dir() / "photos"
    assert services.full_views.open_views() == 0
    assert services.socketio is None and services.capture is None and services.scheduler is None
