"""Reference data loaded from files at start-up: working calendar, departments, categories."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from dashboard.config import AppConfig, ConfigError
from dashboard.domain.calendar import WorkingCalendar, calendar_gap, load_calendar
from dashboard.domain.categories import CategoryTree, Department, load_categories, load_departments
from dashboard.domain.errors import DomainError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferenceData:
    calendar: WorkingCalendar
    departments: tuple[Department, ...]
    categories: CategoryTree

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)


def load_reference(config: AppConfig, now: datetime | None = None) -> ReferenceData:
    """Read and validate the data files; a bad file stops start-up with the file and reason."""
    files = {name: config.data.path(name) for name in ("calendar", "departments", "categories")}
    try:
        calendar = load_calendar(files["calendar"].read_text(encoding="utf-8"))
        departments = load_departments(files["departments"].read_text(encoding="utf-8"))
        categories = load_categories(
            files["categories"].read_text(encoding="utf-8"), {d.code for d in departments}
        )
    except OSError as err:
        raise ConfigError(f"{err.filename}: cannot be read: {err.strerror}") from err
    except DomainError as err:
        raise ConfigError(f"reference data: {err.message}") from err
    gap = None if now is None else calendar_gap(calendar, now)
    if gap is not None:
        logger.warning(
            "the working calendar has no holidays for %s: %s only weekends count as days off "
            "(deadlines are still computed); add the State Council's notice for %s to %s",
            gap.year,
            "from now on" if gap.current else "from 1 January",
            gap.year,
            files["calendar"],
        )
    return ReferenceData(calendar=calendar, departments=departments, categories=categories)
