"""The one entry point of the case search (issue 12): the case list page, ``GET /api/v1/cases``,
its CSV export, the supervisors' overdue / soon-due table and the department view all ask
``CaseSearch``.

Before, each caller opened a session and passed the clock's ``now``, the working calendar and
the configured ``yellow_at`` to ``case_queries.search_cases`` by hand. ``CaseSearch`` holds those
parts once; callers pass only who searches (a ``Scope``), what (``CaseFilters`` or a parsed
``CaseQuery``) and the language. The query itself stays in ``case_queries`` (``search_cases``,
``iter_case_rows``); ``now`` is read from the clock once per search.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dashboard.clock import Clock
from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.permissions import Scope
from dashboard.read.case_params import CaseQuery
from dashboard.read.case_queries import CaseFilters, CasePage, iter_case_rows, search_cases
from dashboard.read.department_view import DepartmentCases, department_cases
from dashboard.storage.db import Database

if TYPE_CHECKING:
    from dashboard.container import Services


@dataclass(frozen=True)
class CaseSearch:
    db: Database
    clock: Clock
    calendar: WorkingCalendar
    yellow_at: float

    def page(
        self,
        scope: Scope,
        filters: CaseFilters,
        *,
        sort: str = "-reported_at",
        page: int = 1,
        per_page: int = 50,
        lang: str = "zh",
    ) -> CasePage:
        """One page of the cases ``scope`` may see that match ``filters`` (InvalidQuery when a
        filter, the sort or the page cannot be taken)."""
        with self.db.read() as session:
            return search_cases(
                session,
                scope,
                filters,
                self.clock.now(),
                self.calendar,
                sort=sort,
                page=page,
                per_page=per_page,
                yellow_at=self.yellow_at,
                lang=lang,
            )

    def query_page(self, scope: Scope, query: CaseQuery, lang: str) -> CasePage:
        """The page a parsed query string asks for (the case list page and the API)."""
        return self.page(
            scope,
            query.filters,
            sort=query.sort,
            page=query.page,
            per_page=query.per_page,
            lang=lang,
        )

    def department(self, scope: Scope, lang: str) -> DepartmentCases:
        """The open cases dispatched to ``scope.department_code``, overdue first (the
        department view; ``department_view.department_cases`` is the query)."""
        with self.db.read() as session:
            return department_cases(
                session, scope, self.clock.now(), self.calendar, self.yellow_at, lang
            )

    def rows(self, scope: Scope, query: CaseQuery, lang: str) -> Generator[dict[str, Any]]:
        """Every matching row in the query's order, streamed in batches (the CSV export); the
        session stays open until the iteration ends."""
        with self.db.read() as session:
            yield from iter_case_rows(
                session,
                scope,
                query.filters,
                self.clock.now(),
                self.calendar,
                query.sort,
                yellow_at=self.yellow_at,
                lang=lang,
            )


def case_search(services: Services) -> CaseSearch:
    """The search over the deployment's database, clock, calendar and light threshold."""
    return CaseSearch(
        db=services.db,
        clock=services.clock,
        calendar=services.reference.calendar,
        yellow_at=services.config.rules.deadline.yellow_at,
    )
