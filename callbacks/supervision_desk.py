"""The supervisors' page's desk: what it reads and does, for one principal at a time (their scope).

Reads: the overdue / soon-due cases come from dashboard.read.case_queries (the one overdue
query), the orders and the call list from dashboard.read.supervision_queries, the call
history from dashboard.services.supervision_actions. Writes go through supervision_actions (and
CaseService for a one-click emergency). Names for filters and forms are loaded once per language.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dashboard.domain.permissions import Permission
from dashboard.i18n import Lang
from dashboard.read import places
from dashboard.read import supervision_queries as queries
from dashboard.read.case_queries import CaseFilters
from dashboard.read.case_search import case_search
from dashboard.security.principal import Principal
from dashboard.security.web import client_ip
from dashboard.services import supervision_actions as actions
from dashboard.services.cases import CaseRecord
from layouts.supervision import SupervisionView
from layouts.supervision_tables import SectionData

if TYPE_CHECKING:
    from dashboard.container import Services

CAP = 200  # rows per case list (overdue, soon due); the summary says how many there are
ORDERS_SHOWN = 200
HISTORY_SHOWN = 40
_LIGHTS = ("green", "yellow", "red")


class SupervisionDesk:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.tz = services.reference.calendar.tz
        reference = services.reference
        subs, majors = reference.categories.subs, reference.categories.majors
        self.majors = [m.code for m in majors]
        self.categories = {
            "zh": {**{m.code: m.name_zh for m in majors}, **{s.code: s.name_zh for s in subs}},
            "en": {**{m.code: m.name_en for m in majors}, **{s.code: s.name_en for s in subs}},
        }
        self.departments = {
            "zh": {d.code: d.name_zh for d in reference.departments},
            "en": {d.code: d.name_en for d in reference.departments},
        }

    # --- the view ---------------------------------------------------------------------------

    def view(self, principal: Principal, lang: Lang) -> SupervisionView:
        area = principal.scope.area_code or ""
        return SupervisionView(
            lang=lang,
            tz=self.tz,
            now=self.services.clock.now(),
            towns=places.towns_of(self.services.db, area),
            departments=self.departments[lang],
            categories=self.categories[lang],
            majors=self.majors,
            villages=places.villages_of(self.services.db, area),
            can_ack=principal.can(Permission.ACKNOWLEDGE_ALARM),
        )

    def all_sections(self, principal: Principal, lang: Lang, window: int) -> SectionData:
        cases = self.cases(principal, lang, window, {}, [])
        calls = self.calls(principal)
        return replace(
            cases, orders=self.orders(principal).orders, calls=calls.calls, history=calls.history
        )

    # --- reads ------------------------------------------------------------------------------

    def cases(
        self,
        principal: Principal,
        lang: Lang,
        window: int,
        filters: dict[str, str | None],
        lights: list[str],
    ) -> SectionData:
        wanted = [x for x in lights if x in _LIGHTS] or list(_LIGHTS)
        base = CaseFilters(
            town=filters.get("town") or None,
            department=filters.get("department") or None,
            category=filters.get("category") or None,
            light=wanted[0] if len(wanted) == 1 else None,
        )
        overdue = self._search(principal, lang, replace(base, overdue=True), wanted)
        soon = self._search(principal, lang, replace(base, due_within_hours=float(window)), wanted)
        return SectionData(
            overdue=overdue[0],
            soon=soon[0],
            overdue_total=overdue[1],
            soon_total=soon[1],
            window=window,
            cap=CAP,
        )

    def _search(
        self, principal: Principal, lang: Lang, filters: CaseFilters, lights: list[str]
    ) -> tuple[list[dict[str, Any]], int]:
        if filters.overdue and "red" not in lights:
            return [], 0  # an overdue case's light is red
        page = case_search(self.services).page(
            principal.scope,
            filters,
            sort="overdue" if filters.overdue else "deadline",
            per_page=CAP,
            lang=lang,
        )
        rows = [r for r in page.rows if r.get("light") in lights or r.get("light") is None]
        return rows, page.total if len(lights) != 2 else len(rows)

    def orders(self, principal: Principal) -> SectionData:
        """Orders not yet closed (waiting for a reply, or replied), newest first."""
        rows = [
            row
            for status in ("open", "replied")
            for row in queries.list_orders(
                self.services.db, principal.scope, status, limit=ORDERS_SHOWN
            )
        ]
        rows.sort(key=lambda o: (str(o.get("issued_at") or ""), o["id"]), reverse=True)
        return SectionData(orders=rows[:ORDERS_SHOWN])

    def calls(self, principal: Principal) -> SectionData:
        services = self.services
        entries = queries.call_list(services.db, principal.scope, services.clock.now())
        with services.db.read() as session:
            history = actions.call_history(session, principal.scope, limit=HISTORY_SHOWN)
        return SectionData(calls=entries, history=history)

    def entry(self, principal: Principal, entry_id: int) -> dict[str, Any] | None:
        entries = self.calls(principal).calls
        return next((dict(e) for e in entries if e.get("id") == entry_id), None)

    # --- actions ----------------------------------------------------------------------------

    def log_call(self, who: Principal, entry_id: int, outcome: str, note: str) -> dict[str, Any]:
        now = self.services.clock.now()
        actor = who.actor(client_ip())
        return actions.log_call(
            self.services.db, entry_id, actor, None, None, outcome, note, now, scope=who.scope
        )

    def snooze(self, who: Principal, entry_id: int, until: datetime, reason: str) -> dict[str, Any]:
        now = self.services.clock.now()
        return actions.snooze(
            self.services.db, entry_id, who.actor(client_ip()), until, reason, now, scope=who.scope
        )

    def close_order(self, who: Principal, order_id: int) -> dict[str, Any]:
        now = self.services.clock.now()
        return actions.close_order(
            self.services.db, order_id, who.actor(client_ip()), now, scope=who.scope
        )

    def report_emergency(self, who: Principal, kind: str, village: str, text: str) -> CaseRecord:
        return actions.report_emergency(
            self.services.cases, kind, village, text, who.name, who.role, scope=who.scope
        )

    # --- time -------------------------------------------------------------------------------

    def local_now(self) -> datetime:
        return self.services.clock.now().astimezone(self.tz)

    def parse_local(self, value: str | None) -> datetime:
        """A ``datetime-local`` input (the command room's zone) as an aware time."""
        try:
            return datetime.fromisoformat(str(value or "")).replace(tzinfo=self.tz)
        except ValueError:
            raise actions.SupervisionError(
                422, "until_required", "enter until when", "until"
            ) from None
