"""Everything the trends page (and its exports and the monthly briefing) shows, as plain data.

``trend_view(services-like parts, request)`` reads the figures of the chosen period and place
(dashboard.services.trends), with their 环比 and 同比, and the breakdowns, the series, the
hour × weekday matrix, the points of the map and the oldest open cases; layouts.trends and
layouts.trend_charts draw it, the exports write it. Scoped to the principal's area; the place
picked by drilling down must lie inside it (else the area itself is shown).

Drill levels: ``city`` (the whole area: towns), ``town`` (its villages), ``village`` (its cases).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from dashboard.domain.permissions import Scope
from dashboard.domain.trend_periods import (
    DateRange,
    PeriodKind,
    compare,
)
from dashboard.read.trend_views import Place, Row, TrendView, _names, _where, kpis
from dashboard.reference import ReferenceData
from dashboard.services.trend_rollups import TrendCase
from dashboard.services.trends import TrendQueries
from dashboard.storage.db import Database
from dashboard.storage.models import Case, Town, Village
from dashboard.storage.scoping import case_scope, in_area

DAILY_UP_TO = 92  # a period up to this many days has a daily series, else weekly
OLDEST = 10
CASE_LIST_LIMIT = 200
RISING_MIN = 5  # a category needs this many reports in the period to be called rising
RISING_TOP = 3


class TrendViews:
    """Builds ``TrendView``s over one database and reference."""

    def __init__(self, db: Database, reference: ReferenceData) -> None:
        self.db, self.reference = db, reference
        self.queries = TrendQueries(db, reference.calendar)

    # --- places -------------------------------------------------------------------------------

    def place(self, scope: Scope, town: str | None, village: str | None) -> Place:
        """The drilled place, if inside the scope; else the scope's own area. A town's user
        starts at the town, a village's at the village (they cannot climb above their area)."""
        area = scope.area_code or ""
        if len(area) >= 12:
            village = area
        elif len(area) == 9 and not (village or "").startswith(area):
            town, village = area, None
        with self.db.read() as session:
            towns = dict(session.execute(select(Town.code, Town.name)).all())
            found = None
            if village and village.startswith(area):
                found = session.execute(
                    select(Village.name, Village.town_code).where(Village.code == village)
                ).first()
        top: tuple[tuple[str | None, str, str], ...] = (
            ((None, "city", ""),) if len(area) < 9 else ()
        )
        if found is not None and village is not None:
            name, town_code = found
            above = (*top, (town_code, "town", towns.get(town_code, town_code)))
            trail = (*(above if len(area) < 12 else ()), (village, "village", name))
            return Place("village", village, name, trail)
        if town and town in towns and town.startswith(area):
            return Place("town", town, towns[town], (*top, (town, "town", towns[town])))
        return Place("city", None, "", top)

    # --- the view -------------------------------------------------------------------------------

    def build(
        self,
        scope: Scope,
        lang: str,
        now: datetime,
        dates: DateRange,
        kind: PeriodKind | None = None,
        town: str | None = None,
        village: str | None = None,
        can_open_cases: bool = False,
    ) -> TrendView:
        with self.queries.once():  # one refresh of the roll-ups for the page's reads
            return self._build(scope, lang, now, dates, kind, town, village)

    def _build(
        self,
        scope: Scope,
        lang: str,
        now: datetime,
        dates: DateRange,
        kind: PeriodKind | None,
        town: str | None,
        village: str | None,
    ) -> TrendView:
        place = self.place(scope, town, village)
        where = _where(place)
        comparison = compare(dates, kind)
        q = self.queries
        current = q.total(comparison.current, scope, now, where)
        previous = q.total(comparison.previous, scope, now, where)
        last_year = q.total(comparison.last_year.range, scope, now, where)
        names = _names(self.reference, lang)
        with self.db.read() as session:
            villages = session.execute(
                select(Village.code, Village.name).where(*in_area(Village.code, scope.area_code))
            ).all()
        names |= {f"village:{code}": name for code, name in villages}
        child = {"city": "town", "town": "village", "village": None}[place.level]
        places: list[Row] = []
        if child is not None:
            by_place = q.figures(comparison.current, scope, now, (child,), where)
            place_names = self._place_names(child)
            places = sorted(
                (
                    Row(k[0], place_names.get(k[0], k[0]), f.page(), drill=True)
                    for k, f in by_place.items()
                ),
                key=lambda r: (-int(r.figures["reported"]), r.code),
            )

        def rows(dim: str) -> list[Row]:
            found = q.figures(comparison.current, scope, now, (dim,), where)
            return sorted(
                (
                    Row(
                        k[0],
                        names.get(f"{dim}:{k[0]}", k[0]) if dim != "source" else k[0],
                        f.page(),
                    )
                    for k, f in found.items()
                ),
                key=lambda r: (-int(r.figures["reported"]), r.code),
            )

        majors, categories = rows("major"), rows("category")
        sources, departments = rows("source"), [r for r in rows("department") if r.code]
        series_days, series = self._series(comparison.current, scope, now, where)
        before = q.figures(comparison.previous, scope, now, ("major",), where)
        rising = _rising(majors, {k[0]: f.parts.reported for k, f in before.items()})
        matrix, points, case_rows = self._cases(comparison.current, scope, where, place)
        return TrendView(
            lang=lang,
            now=now,
            comparison=comparison,
            place=place,
            kpis=kpis(current, previous, last_year),
            places=places,
            majors=majors,
            categories=categories,
            sources=sources,
            departments=departments,
            series_days=series_days,
            series=series,
            rising=rising,
            matrix=matrix,
            points=points,
            oldest=self._oldest(scope, where, now),
            cases=case_rows if place.level == "village" else [],
            names=names,
        )

    def _place_names(self, level: str) -> dict[str, str]:
        model = Town if level == "town" else Village
        with self.db.read() as session:
            return dict(session.execute(select(model.code, model.name)).all())

    def _series(
        self, dates: DateRange, scope: Scope, now: datetime, where: dict[str, str]
    ) -> tuple[list[str], dict[str, list[int]]]:
        weekly = dates.days > DAILY_UP_TO
        found = self.queries.series(dates, scope, where, weekly)
        xs: list[date] = []
        day = dates.first
        end = min(dates.last, now.astimezone(self.reference.calendar.tz).date())
        while day <= max(end, dates.first):
            x = day - timedelta(days=day.weekday()) if weekly else day
            if not xs or xs[-1] != x:
                xs.append(x)
            day += timedelta(days=1)
        index = {x.isoformat(): i for i, x in enumerate(xs)}
        series: dict[str, list[int]] = defaultdict(lambda: [0] * len(xs))
        for (x_text, major), n in found.items():
            if x_text in index:
                series[major][index[x_text]] += n
        return [x.isoformat() for x in xs], dict(series)

    def _cases(
        self, dates: DateRange, scope: Scope, where: dict[str, str], place: Place
    ) -> tuple[list[list[int]], list[tuple[float, float, int]], list[dict[str, Any]]]:
        """The hour × weekday matrix and the map's cells from their roll-ups; the case list
        (a village only: its first ``CASE_LIST_LIMIT`` cases) from the cases."""
        tz = self.reference.calendar.tz
        matrix = self.queries.matrix(dates, scope, where)
        points = self.queries.cells(dates, scope, where)
        case_rows: list[dict[str, Any]] = []
        if place.level == "village":
            with self.db.read() as session:
                cases = self.queries.cases_in(session, dates, scope, where, CASE_LIST_LIMIT)
            case_rows = [_case_row(c, tz) for c, _, _ in cases]
        return matrix, points, case_rows

    def _oldest(self, scope: Scope, where: dict[str, str], now: datetime) -> list[dict[str, Any]]:
        tz = self.reference.calendar.tz
        conditions = [Case.open.is_(True), *case_scope(scope)]
        conditions += in_area(Case.village_code, next(iter(where.values()), None))
        with self.db.read() as session:
            found = session.execute(
                select(
                    Case.id,
                    Case.status,
                    Case.category_code,
                    Case.reported_category,
                    Case.village_code,
                    Case.department_code,
                    Case.reported_at,
                    Case.deadline,
                )
                .where(*conditions)
                .order_by(Case.reported_at, Case.id)
                .limit(OLDEST)
            ).all()
        return [
            {
                "id": r.id,
                "status": r.status,
                "category": r.category_code or r.reported_category,
                "village": r.village_code,
                "department": r.department_code or "",
                "reported_at": r.reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "age_days": (now - r.reported_at).days,
                "overdue": r.deadline is not None and r.deadline < now,
            }
            for r in found
        ]


def _case_row(case: TrendCase, tz: Any) -> dict[str, Any]:
    f = case.facts
    closed = f.closed_at
    return {
        "id": case.id,
        "status": f.status.value,
        "category": case.category,
        "department": f.department_code or "",
        "source": f.source,
        "reported_at": f.reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "closed_at": "" if closed is None else closed.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
    }


def _rising(majors: Sequence[Row], before: dict[str, int]) -> list[str]:
    """The majors whose reports rose most against the previous period (at least ``RISING_MIN``
    reports now, and more than before): by the ratio now / (before + 1)."""
    scored = []
    for row in majors:
        now = int(row.figures["reported"])
        then = before.get(row.code, 0)
        if now >= RISING_MIN and now > then:
            scored.append(((now + 0.0) / (then + 1), row.code))
    scored.sort(reverse=True)
    return [code for _, code in scored[:RISING_TOP]]
