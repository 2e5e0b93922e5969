"""Campaigns (专项整治): what a valid one is, and its effect against a control.

**Effect** — a difference-in-differences on counts (a before/after with a control):

    R = (T_during / T_before) / (C_during / C_before)

with ``T`` the reports of the campaign's categories in its area and ``C`` the control's (the
same categories in the towns without the campaign, or other categories in the same area), per
week over the same weeks, so the weeks cancel. ``R − 1`` is the change the campaign is credited
with: what happened in its area beyond what happened in the control at the same time. The
uncertainty: ``log R`` has variance ``φ_T (1/T_d + 1/T_b) + φ_C (1/C_d + 1/C_b)`` (Poisson counts,
inflated by each group's dispersion φ ≥ 1 estimated from its weekly counts around their period
means); the 95 % interval is ``exp(log R ± 1.96 se) − 1``. A zero count gets 0.5 added to all
four (the usual continuity correction). The same for "after" (the weeks after the end).

Pure: counts and dates in, numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.domain.errors import DomainError
from dashboard.domain.text import check_text

__all__ = [
    "MAX_CATEGORIES",
    "MAX_NAME",
    "MAX_NOTE",
    "MAX_SPAN_DAYS",
    "CampaignSpec",
    "Effect",
    "InvalidCampaign",
    "check_campaign",
    "effect",
    "overlaps",
    "period_weeks",
]

MAX_NAME = 60
MAX_NOTE = 500
MAX_CATEGORIES = 10
MAX_SPAN_DAYS = 366
MAX_PAST_DAYS = 5 * 366  # a campaign recorded afterwards: at most five years back
MAX_AHEAD_DAYS = 366  # a planned one: at most a year ahead
Z95 = 1.959963984540054


class InvalidCampaign(DomainError):
    """A campaign that cannot be recorded; ``field`` names the input."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    name: str
    categories: tuple[str, ...]
    area_code: str
    start: date
    end: date  # inclusive
    note: str = ""


def check_campaign(
    spec: CampaignSpec,
    *,
    today: date,
    known_categories: Collection[str],
    known_areas: Collection[str],
) -> CampaignSpec:
    """``spec`` cleaned (name stripped, categories de-duplicated in order), or InvalidCampaign.

    ``known_categories``: every 大类 and 小类 code; ``known_areas``: the county, town and village
    codes the recorder may name (their scope).
    """
    name = spec.name.strip()
    check_text(name, "name")
    check_text(spec.note, "note")
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidCampaign("bad_name", f"name: 1 to {MAX_NAME} characters", "name")
    if len(spec.note) > MAX_NOTE:
        raise InvalidCampaign("bad_note", f"note: at most {MAX_NOTE} characters", "note")
    categories = tuple(dict.fromkeys(spec.categories))
    if not 1 <= len(categories) <= MAX_CATEGORIES:
        raise InvalidCampaign(
            "bad_categories", f"categories: 1 to {MAX_CATEGORIES} codes", "categories"
        )
    unknown = [c for c in categories if c not in known_categories]
    if unknown:
        raise InvalidCampaign(
            "unknown_category", f"categories: unknown code {unknown[0]!r}", "categories"
        )
    if spec.area_code not in known_areas:
        raise InvalidCampaign(
            "bad_area", f"area: {spec.area_code!r} is not a place in your area", "area"
        )
    if spec.end < spec.start:
        raise InvalidCampaign("bad_dates", "end: before the start", "end")
    if (spec.end - spec.start).days + 1 > MAX_SPAN_DAYS:
        raise InvalidCampaign("bad_dates", f"end: at most {MAX_SPAN_DAYS} days long", "end")
    if spec.start < today - timedelta(days=MAX_PAST_DAYS):
        raise InvalidCampaign("bad_dates", "start: more than five years ago", "start")
    if spec.start > today + timedelta(days=MAX_AHEAD_DAYS):
        raise InvalidCampaign("bad_dates", "start: more than a year ahead", "start")
    return CampaignSpec(name, categories, spec.area_code, spec.start, spec.end, spec.note)


def overlaps(start: date, end: date, first: date, last: date) -> bool:
    """Whether the inclusive day ranges [start, end] and [first, last] share a day."""
    return start <= last and first <= end


def period_weeks(start: date, end: date, today: date, before: int, after: int) -> dict[str, int]:
    """Whole weeks (aligned on the start day) of each period: ``before`` weeks before the
    start; the campaign's weeks (the last partial week counts as one); up to ``after`` weeks
    after it — only weeks that ended before ``today``."""
    during = -(-((end - start).days + 1) // 7)
    done = max(0, (today - start).days // 7)  # weeks from the start that are complete
    return {
        "before": before,
        "during": min(during, done),
        "after": max(0, min(after, done - during)),
    }


@dataclass(frozen=True, slots=True)
class Effect:
    """The campaign's change against the control, for one period (during or after)."""

    change_pct: float | None  # (R − 1) × 100; None when it cannot be estimated
    low_pct: float | None  # the 95 % interval
    high_pct: float | None
    treated_before: int
    treated_period: int
    control_before: int
    control_period: int
    weeks_before: int
    weeks_period: int
    significant: bool  # the interval excludes 0


def _dispersion(weeks: Sequence[Sequence[int]]) -> float:
    """Pooled Pearson dispersion of weekly counts around each period's mean (≥ 1)."""
    stat, df = 0.0, 0
    for counts in weeks:
        if len(counts) < 2:
            continue
        mean = sum(counts) / len(counts)
        if mean <= 0:
            continue
        stat += sum((c - mean) ** 2 for c in counts) / mean
        df += len(counts) - 1
    return max(1.0, stat / df) if df else 1.0


def effect(
    treated_before: Sequence[int],
    treated_period: Sequence[int],
    control_before: Sequence[int],
    control_period: Sequence[int],
) -> Effect:
    """The difference-in-differences of weekly counts (see the module docstring)."""
    groups = (treated_before, treated_period, control_before, control_period)
    tb, tp, cb, cp = (sum(x) for x in groups)
    weeks_before, weeks_period = len(treated_before), len(treated_period)
    base = Effect(None, None, None, tb, tp, cb, cp, weeks_before, weeks_period, False)
    if weeks_before == 0 or weeks_period == 0 or (tb == 0 and cb == 0) or (tp == 0 and cp == 0):
        return base
    if len(control_before) != weeks_before or len(control_period) != weeks_period:
        raise ValueError("treated and control must cover the same weeks")
    values = [float(v) for v in (tb, tp, cb, cp)]
    if min(values) == 0:
        values = [v + 0.5 for v in values]
    b, p, c_b, c_p = values
    log_r = math.log(p / b) - math.log(c_p / c_b)
    phi_t = _dispersion([treated_before, treated_period])
    phi_c = _dispersion([control_before, control_period])
    se = math.sqrt(phi_t * (1 / p + 1 / b) + phi_c * (1 / c_p + 1 / c_b))
    low, high = math.exp(log_r - Z95 * se) - 1, math.exp(log_r + Z95 * se) - 1
    return Effect(
        change_pct=round((math.exp(log_r) - 1) * 100, 1),
        low_pct=round(low * 100, 1),
        high_pct=round(high * 100, 1),
        treated_before=tb,
        treated_period=tp,
        control_before=cb,
        control_period=cp,
        weeks_before=weeks_before,
        weeks_period=weeks_period,
        significant=high < 0 or low > 0,
    )
