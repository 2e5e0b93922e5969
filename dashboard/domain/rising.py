"""Rising problems: which category × town (× village) reports more than its own normal.

The method, after the public-health outbreak detectors (TRENDS.md; Farrington flexible, Noufaily
et al. 2013, and the CDC's EARS for short histories), on **7-day windows** ending at the local
midnight that starts the day of ``now`` (so "this week" is the last seven whole days):

1. **Labels.** Each window gets a label from the holiday calendar: ``sf-2`` … ``sf+2`` when it
   is within two windows of a Spring Festival (the festival window is ``sf0``), ``holiday`` when
   at least two weekdays in it are public holidays, else ``normal``.
2. **Reference windows** (the baseline), by the label of the current window:
   * *seasonal* (at least a year of history): for each of the last ``years_back`` years, the
     windows within ±``half_window`` of the same time of year — for a festival window, of the
     same distance from that year's festival (a festival week is compared with the festival
     weeks of past years, never with the same ISO week) — keeping those with the same label
     (if fewer than ``min_reference`` share it, all of them);
   * *recent* (shorter histories, EARS-like): the ``recent_weeks`` windows before the current
     one with the same label.
   Fewer than ``min_reference`` windows, or none with a report: not tested.
3. **Baseline.** A quasi-Poisson regression of the reference counts (with a linear trend when
   at least ``trend_years`` years are used, dropped unless significant), refitted once with
   past outbreaks down-weighted (Anscombe residual above 2.58 → weight ``s^-2``, Noufaily).
   Expected count ``mu``; variance ``phi·mu + var(mu-hat)`` (dispersion and the uncertainty of
   the baseline itself).
4. **Test.** The upper p-value ``P(X >= observed)`` of a negative binomial with that mean and
   variance, averaged over 16 equally likely values of the dispersion given its estimate (its
   chi-square sampling distribution: a plug-in dispersion made the far tail too eager);
   windows with fewer than ``min_count`` reports are tested but never flagged (Farrington's
   rule against alarms on tiny counts).
5. **False discoveries.** Benjamini–Hochberg at ``q`` over every series tested in one run (towns
   and the villages whose expected count reaches ``village_min_expected``): among the flagged
   rises, the expected share of false ones is at most ``q``.
6. **Falls after a campaign.** The same baseline, the lower p-value ``P(X <= observed)``, tested
   only for the series a campaign touches, with their own Benjamini–Hochberg family.

Pure: counts, dates and the calendar come in; no clock or storage here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dashboard.domain.count_tests import (
    PoissonFit,
    benjamini_hochberg,
    count_cdf,
    count_sf,
    dispersion_draws,
    fit_poisson,
)

__all__ = [
    "SPRING_FESTIVALS",
    "Baseline",
    "Finding",
    "RisingConfig",
    "RisingResult",
    "SeriesKey",
    "baseline",
    "find_changes",
    "window_label",
    "window_labels",
]

# 正月初一 (TRENDS.md lists 2023–2027); the lunar calendar is fixed long in advance.
SPRING_FESTIVALS: tuple[date, ...] = (
    date(2018, 2, 16),
    date(2019, 2, 5),
    date(2020, 1, 25),
    date(2021, 2, 12),
    date(2022, 2, 1),
    date(2023, 1, 22),
    date(2024, 2, 10),
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
    date(2030, 2, 3),
)

WEEK = timedelta(days=7)
_YEAR_WEEKS = 365.2425 / 7
_OUTLIER = 2.58


@dataclass(frozen=True, slots=True)
class RisingConfig:
    q: float = 0.05  # Benjamini–Hochberg false-discovery rate
    years_back: int = 3
    half_window: int = 3  # reference windows either side of the same time of year
    recent_weeks: int = 8  # the recent baseline when there is less than a year of history
    min_reference: int = 3
    min_count: int = 5  # fewer reports than this in the window are never flagged
    min_expected: float = 1.0  # a town series expecting less is not tested
    village_min_expected: float = 3.0  # a village series is tested from this expected count
    trend_years: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.q < 1:
            raise ValueError(f"q must lie in (0, 1), got {self.q}")
        for name in ("years_back", "half_window", "recent_weeks", "min_reference", "trend_years"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


DEFAULT_CONFIG = RisingConfig()


@dataclass(frozen=True, slots=True, order=True)
class SeriesKey:
    """A category code (大类 or 小类) in a town, or in one of its villages."""

    category: str
    town: str
    village: str | None = None


def window_label(start: date, holidays: frozenset[date] | set[date]) -> str:
    """The label of the 7-day window starting on ``start`` (see the module docstring)."""
    for festival in SPRING_FESTIVALS:
        offset = -((festival - start).days // 7)
        if -2 <= offset <= 2:
            return f"sf{offset:+d}" if offset else "sf0"
    days = (start + timedelta(days=i) for i in range(7))
    if sum(1 for d in days if d.weekday() < 5 and d in holidays) >= 2:
        return "holiday"
    return "normal"


def window_labels(last_end: date, weeks: int, holidays: frozenset[date]) -> list[str]:
    """Labels of ``weeks`` windows, oldest first, the last one ending (exclusive) at
    ``last_end``."""
    return [window_label(last_end - WEEK * (weeks - i), holidays) for i in range(weeks)]


@dataclass(frozen=True, slots=True)
class Baseline:
    expected: float
    variance: float
    reference: tuple[int, ...]  # indices of the reference windows
    method: Literal["seasonal", "recent"]
    same_label: bool  # False: too few windows shared the label, all were used
    trend: bool
    dispersions: tuple[float, ...] = (1.0,)  # draws of the dispersion (count_tests)
    mean_variance: float = 0.0  # variance of the fitted mean itself

    def variance_at(self, phi: float) -> float:
        return phi * self.expected + self.mean_variance

    def upper_p(self, observed: int, above: float = 1.0) -> float:
        """``P(X >= observed)``, averaged over the dispersion's uncertainty. The tail grows with
        the dispersion, so when it is above ``above`` at the smallest draw the average is too:
        that bound is returned without the other draws (Benjamini–Hochberg at ``q`` never
        rejects a p-value above ``q``, so passing ``above=q`` changes no finding)."""
        return self._averaged(lambda v: count_sf(observed, self.expected, v), above)

    def lower_p(self, observed: int, above: float = 1.0) -> float:
        """``P(X <= observed)``, likewise (for a fall below the expected count)."""
        return self._averaged(lambda v: count_cdf(observed, self.expected, v), above)

    def _averaged(self, tail: Callable[[float], float], above: float) -> float:
        draws = sorted(self.dispersions)
        first = tail(self.variance_at(draws[0]))
        if first > above:
            return first
        rest = [tail(self.variance_at(d)) for d in draws[1:]]
        return (first + sum(rest)) / len(draws)


def _reference(labels: Sequence[str], t: int, config: RisingConfig) -> tuple[list[int], str, bool]:
    label = labels[t]
    year_back = round(_YEAR_WEEKS)
    if t - year_back - config.half_window >= 0:
        candidates: list[int] = []
        for y in range(1, config.years_back + 1):
            centre = t - round(y * _YEAR_WEEKS)
            if label.startswith("sf"):  # the same distance from that year's festival
                near = [i for i in range(centre - 4, centre + 5) if 0 <= i < t]
                matched = [i for i in near if labels[i] == label]
                if matched:
                    centre = min(matched, key=lambda i: abs(i - centre))
            lo = centre - config.half_window
            if lo < 0:
                break
            candidates += range(lo, centre + config.half_window + 1)
        method = "seasonal"
    else:
        candidates = list(range(max(0, t - config.recent_weeks), t))
        method = "recent"
    same = [i for i in candidates if labels[i] == label]
    if len(same) >= config.min_reference:
        return same, method, True
    if method == "recent":
        return same, method, True  # not enough comparable recent windows: not tested
    return candidates, method, False


def _fit(times: list[float], counts: list[int], weights: list[float], trend: bool) -> PoissonFit:
    fit = fit_poisson(times, counts, weights, trend=trend)
    if fit.trend:
        significant = abs(fit.b) > 1.96 * math.sqrt(max(fit.cov[2], 1e-300))
        if not significant or fit.mean(0.0) > max(counts):
            fit = fit_poisson(times, counts, weights, trend=False)
    return fit


def baseline(counts: Sequence[int], labels: Sequence[str], config: RisingConfig) -> Baseline | None:
    """The expected count of the last window of ``counts`` from its own history (None: not
    enough history, or no report in any reference window)."""
    t = len(counts) - 1
    if t < 1 or len(labels) != len(counts):
        return None
    indices, method, same_label = _reference(labels, t, config)
    if len(indices) < config.min_reference:
        return None
    ys = [counts[i] for i in indices]
    if sum(ys) == 0:
        return None
    times = [float(i - t) for i in indices]  # the current window is time 0
    years = len({round((t - i) / _YEAR_WEEKS) for i in indices})
    trend = method == "seasonal" and years >= config.trend_years
    fit = _fit(times, ys, [1.0] * len(ys), trend)
    weights = []
    for ti, yi in zip(times, ys, strict=True):
        mu = fit.mean(ti)
        anscombe = 1.5 * (yi ** (2 / 3) - mu ** (2 / 3)) / (mu ** (1 / 6) * math.sqrt(fit.phi))
        weights.append(anscombe**-2 if anscombe > _OUTLIER else 1.0)
    fit = _fit(times, ys, weights, trend)
    expected = fit.mean(0.0)
    variance = fit.phi * expected + fit.mean_variance(0.0)
    draws = dispersion_draws(fit.pearson, fit.df)
    return Baseline(
        expected=expected,
        variance=variance,
        reference=tuple(indices),
        method=method,  # type: ignore[arg-type]
        same_label=same_label,
        trend=fit.trend,
        dispersions=tuple(draws),
        mean_variance=fit.mean_variance(0.0),
    )


@dataclass(frozen=True, slots=True)
class Finding:
    key: SeriesKey
    direction: Literal["rise", "fall"]
    observed: int
    expected: float
    p_value: float
    change_pct: float  # (observed / expected − 1) × 100
    method: Literal["seasonal", "recent"]
    label: str  # the current window's label
    reference_windows: int
    # For a town: the villages that contributed most, (village code, observed, excess over
    # their share of the expected count), largest excess first, at most three.
    villages: tuple[tuple[str, int, float], ...] = ()


@dataclass(frozen=True, slots=True)
class RisingResult:
    tested: int  # series tested for rises (the Benjamini–Hochberg family)
    tested_falls: int
    rises: tuple[Finding, ...]
    falls: tuple[Finding, ...]
    untested: int  # series with too short a history or too few reports
    q: float


@dataclass(frozen=True, slots=True)
class _Tested:
    key: SeriesKey
    base: Baseline
    observed: int


def _share_excess(
    town: Sequence[int], villages: Mapping[str, Sequence[int]], base: Baseline
) -> tuple[tuple[str, int, float], ...]:
    ref_total = sum(town[i] for i in base.reference)
    rows = []
    for code, counts in villages.items():
        share = sum(counts[i] for i in base.reference) / ref_total if ref_total else 0.0
        observed = counts[-1]
        excess = observed - base.expected * share
        if excess > 0 and observed > 0:
            rows.append((code, observed, round(excess, 2)))
    rows.sort(key=lambda r: (-r[2], r[0]))
    return tuple(rows[:3])


def _finding(
    item: _Tested,
    direction: Literal["rise", "fall"],
    p: float,
    labels: Sequence[str],
    villages: tuple[tuple[str, int, float], ...] = (),
) -> Finding:
    return Finding(
        key=item.key,
        direction=direction,
        observed=item.observed,
        expected=round(item.base.expected, 2),
        p_value=p,
        change_pct=round((item.observed / item.base.expected - 1) * 100, 1),
        method=item.base.method,
        label=labels[-1],
        reference_windows=len(item.base.reference),
        villages=villages,
    )


def find_changes(
    towns: Mapping[SeriesKey, Sequence[int]],
    villages: Mapping[SeriesKey, Sequence[int]],
    labels: Sequence[str],
    config: RisingConfig = DEFAULT_CONFIG,
    campaign_keys: frozenset[SeriesKey] = frozenset(),
) -> RisingResult:
    """Rises over every series, falls over the ones in ``campaign_keys`` (town keys).

    ``towns``: weekly counts per (category, town) key, oldest first, the current window last,
    all of the length of ``labels``; ``villages``: the same per (category, town, village).
    """
    tested: list[_Tested] = []
    untested = 0
    by_town: dict[SeriesKey, dict[str, Sequence[int]]] = {}
    for key, counts in villages.items():
        if key.village is not None:
            by_town.setdefault(SeriesKey(key.category, key.town), {})[key.village] = counts
    for key, counts in [*towns.items(), *villages.items()]:
        if len(counts) != len(labels):
            raise ValueError(f"series {key} has {len(counts)} windows, labels {len(labels)}")
        base = baseline(counts, labels, config)
        floor = config.village_min_expected if key.village else config.min_expected
        if base is None or base.expected < floor:
            untested += key.village is None
            continue
        tested.append(_Tested(key, base, counts[-1]))
    up = [x.base.upper_p(x.observed, config.q) for x in tested]
    rejected = benjamini_hochberg(up, config.q) if tested else []
    rises = [
        _finding(
            item,
            "rise",
            p,
            labels,
            _share_excess(towns[item.key], by_town.get(item.key, {}), item.base)
            if item.key.village is None
            else (),
        )
        for item, p, flagged in zip(tested, up, rejected, strict=True)
        if flagged and item.observed >= config.min_count and item.observed > item.base.expected
    ]
    fall_items = [x for x in tested if x.key.village is None and x.key in campaign_keys]
    down = [x.base.lower_p(x.observed, config.q) for x in fall_items]
    fall_rejected = benjamini_hochberg(down, config.q) if fall_items else []
    falls = [
        _finding(item, "fall", p, labels)
        for item, p, flagged in zip(fall_items, down, fall_rejected, strict=True)
        if flagged and item.observed < item.base.expected
    ]
    # towns first (their sentences name the villages), then the strongest evidence
    rises.sort(key=lambda f: (f.key.village is not None, f.p_value, -f.change_pct, f.key))
    falls.sort(key=lambda f: (f.p_value, f.change_pct, f.key))
    return RisingResult(
        tested=len(tested),
        tested_falls=len(fall_items),
        rises=tuple(rises),
        falls=tuple(falls),
        untested=untested,
        q=config.q,
    )
