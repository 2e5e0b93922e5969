"""Reference data loaded from files at start-up: working calendar, departments, categories, and
the residents' points items and service items."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from dashboard.config import AppConfig, ConfigError, DataFile
from dashboard.domain.calendar import WorkingCalendar, calendar_gap, load_calendar
from dashboard.domain.categories import CategoryTree, Department, load_categories, load_departments
from dashboard.domain.errors import DomainError
from dashboard.domain.points import PointsCatalogue, load_points_items
from dashboard.domain.service_requests import ServiceCatalogue, load_service_items

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferenceData:
    calendar: WorkingCalendar
    departments: tuple[Department, ...]
    categories: CategoryTree
    points_items: PointsCatalogue
    service_items: ServiceCatalogue

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)


def load_reference(config: AppConfig) -> ReferenceData:
    """Read and validate the data files; a bad file stops start-up with the file and reason."""
    names: tuple[DataFile, ...] = (
        "calendar",
        "departments",
        "categories",
        "points_items",
        "service_items",
    )
    files = {name: config.data.path(name) for name in names}
    try:
        calendar = load_calendar(files["calendar"].read_text(encoding="utf-8"))
        departments = load_departments(files["departments"].read_text(encoding="utf-8"))
        categories = load_categories(
            files["categories"].read_text(encoding="utf-8"), {d.code for d in departments}
        )
        points_items = load_points_items(files["points_items"].read_text(encoding="utf-8"))
        service_items = load_service_items(
            files["service_items"].read_text(encoding="utf-8"),
            frozenset(d.code for d in departments),
        )
    except OSError as err:
        raise ConfigError(f"{err.filename}: cannot be read: {err.strerror}") from err
    except DomainError as err:
        raise ConfigError(f"reference data: {err.message}") from err
    return ReferenceData(
        calendar=calendar,
        departments=departments,
        categories=categories,
        points_items=points_items,
        service_items=service_items,
    )


def warn_calendar_gap(config: AppConfig, reference: ReferenceData, now: datetime) -> None:
    """Log, once at a server's start, that this or next year's holidays are missing (the status
    page says it too); CLI commands do not repeat it."""
    gap = calendar_gap(reference.calendar, now)
    if gap is None:
        return
    logger.warning(
        "the working calendar has no holidays for %s: %s only weekends count as days off "
        "(deadlines are still computed); add the State Council's notice for %s to %s",
        gap.year,
        "from now on" if gap.current else "from 1 January",
        gap.year,
        config.data.path("calendar"),
    )
