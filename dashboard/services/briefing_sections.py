"""The monthly briefing's leadership sections (issue 13): the rising problems found at the
month's end and the effect of the campaigns that ran in it, as hooks of
``trend_briefing.BRIEFING_SECTIONS`` (registered once per process by ``register``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from dashboard.clock import Clock
from dashboard.i18n import t
from dashboard.read.trend_views import BriefingSection
from dashboard.reference import ReferenceData
from dashboard.services.campaigns import campaign_effects_for_briefing
from dashboard.services.rising import rising_for_briefing
from dashboard.services.trend_briefing import BRIEFING_SECTIONS, BriefingContext, BriefingHook
from dashboard.storage.db import Database

_MARK = "_leadership_section"


def register(db: Database, reference: ReferenceData, clock: Clock) -> None:
    """Put the two sections in the briefing, replacing those of an earlier ``register`` (a
    process builds its services once; tests build them many times)."""
    BRIEFING_SECTIONS[:] = [h for h in BRIEFING_SECTIONS if not getattr(h, _MARK, False)]
    for hook in (_rising(db, reference), _campaigns(db, reference, clock)):
        setattr(hook, _MARK, True)
        BRIEFING_SECTIONS.append(hook)


def _month_end(ctx: BriefingContext, reference: ReferenceData) -> datetime:
    """The moment the briefing's month ends (local midnight after its last day)."""
    return datetime.combine(
        ctx.month.last + timedelta(days=1), time(0), tzinfo=reference.calendar.tz
    )


def _rising(db: Database, reference: ReferenceData) -> BriefingHook:
    def section(ctx: BriefingContext) -> BriefingSection | None:
        found = rising_for_briefing(db, reference, ctx.scope, _month_end(ctx, reference), ctx.lang)
        lines = [*found["rises"], *found["falls"]]
        if not lines:
            lines = [t("briefing.no_rises", ctx.lang).format(n=found["tested"])]
        return BriefingSection(t("briefing.rising_title", ctx.lang), lines)

    return section


def _campaigns(db: Database, reference: ReferenceData, clock: Clock) -> BriefingHook:
    def section(ctx: BriefingContext) -> BriefingSection | None:
        found = campaign_effects_for_briefing(
            db, reference, ctx.scope, ctx.month.first, ctx.month.last, clock.now()
        )
        if not found:
            return None
        lines = []
        for c in found:
            during = c["during"]
            if during["change_pct"] is None:
                lines.append(t("briefing.campaign_unmeasured", ctx.lang).format(name=c["name"]))
                continue
            lines.append(
                t("briefing.campaign_line", ctx.lang).format(
                    name=c["name"],
                    change=during["change_pct"],
                    low=during["low_pct"],
                    high=during["high_pct"],
                )
            )
        return BriefingSection(t("briefing.campaigns_title", ctx.lang), lines)

    return section
