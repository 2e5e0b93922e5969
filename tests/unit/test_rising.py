"""The rising-problem finder (dashboard.domain.rising) on generated histories, fixed seeds.

Stated performance (docs/rising-and-campaigns.md, bench/bench_rising.py for the full study):
with an expected 20 reports a week, a rise of +150 % in the last window is found in at least 90 %
of runs; with no rise, at most q = 5 % of families of series raise any alarm.
"""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from dashboard.config import DATA_DIR
from dashboard.domain.calendar import load_calendar
from dashboard.domain.count_tests import benjamini_hochberg, count_cdf, count_sf, fit_poisson
from dashboard.domain.rising import (
    RisingConfig,
    SeriesKey,
    baseline,
    find_changes,
    window_label,
    window_labels,
)
from tests.histories import history

END = date(2026, 11, 30)
WINDOWS = 170
HOLIDAYS = load_calendar((DATA_DIR / "calendar_cn.toml").read_text(encoding="utf-8")).holidays
LABELS = window_labels(END, WINDOWS, HOLIDAYS)


def test_poisson_tails_match_direct_sums() -> None:
    mu = 2.0
    pmf = [math.exp(-mu) * mu**k / math.factorial(k) for k in range(60)]
    assert count_sf(5, mu, mu) == pytest.approx(1 - sum(pmf[:5]), rel=1e-9)
    assert count_cdf(1, mu, mu) == pytest.approx(pmf[0] + pmf[1], rel=1e-9)
    assert count_sf(0, mu, mu) == 1.0
    assert count_sf(40, mu, mu) == pytest.approx(sum(pmf[40:]), rel=1e-6)


def test_negative_binomial_tail_is_wider_than_poisson() -> None:
    # mean 10, variance 20: r = 10, p = 0.5; P(X >= 20) by direct sum of the pmf
    r, p = 10, 0.5
    pmf = [math.comb(k + r - 1, k) * p**r * (1 - p) ** k for k in range(400)]
    assert count_sf(20, 10.0, 20.0) == pytest.approx(sum(pmf[20:]), rel=1e-8)
    assert count_sf(20, 10.0, 20.0) > count_sf(20, 10.0, 10.0)


def test_benjamini_hochberg_rejects_the_step_up_set() -> None:
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
    # m = 10, q = 0.05: thresholds 0.005, 0.01, 0.015 ... the largest k with p_(k) <= k q / m is 2
    assert benjamini_hochberg(p, 0.05) == [True, True] + [False] * 8
    assert benjamini_hochberg([0.04, 0.01], 0.05) == [True, True]


def test_poisson_fit_recovers_a_trend() -> None:
    times = [float(t) for t in range(-40, 0)]
    counts = [round(20 * math.exp(0.02 * t)) for t in range(-40, 0)]
    fit = fit_poisson(times, counts, trend=True)
    assert fit.trend and fit.b == pytest.approx(0.02, abs=0.004)


def test_festival_and_holiday_windows_are_labelled() -> None:
    assert window_label(date(2026, 2, 16), HOLIDAYS) == "sf0"  # holds 2026-02-17
    assert window_label(date(2026, 2, 9), HOLIDAYS) == "sf-1"
    assert window_label(date(2025, 10, 1), HOLIDAYS) == "holiday"  # National Day 2025
    assert window_label(date(2025, 11, 3), HOLIDAYS) == "normal"


def test_a_festival_week_is_compared_with_past_festival_weeks() -> None:
    # Ends on the Monday after the 2026 festival week: the last window is sf0.
    labels = window_labels(date(2026, 2, 23), WINDOWS, HOLIDAYS)
    assert labels[-1] == "sf0"
    counts = [8 if label == "sf0" else 40 for label in labels]
    base = baseline(counts, labels, RisingConfig())
    assert base is not None and base.method == "seasonal"
    assert all(labels[i] == "sf0" for i in base.reference)
    assert base.expected == pytest.approx(8, rel=0.01)  # not the 40 of an ordinary week


def test_injected_rises_of_200_percent_are_found_90_percent_of_the_time() -> None:
    rng = random.Random(1301)
    target, found, runs = SeriesKey("06", "target"), 0, 20
    for _ in range(runs):
        towns = {SeriesKey("06", f"t{k}"): history(rng, LABELS, 20) for k in range(9)}
        towns[target] = history(rng, LABELS, 20, rise=2.0)
        found += any(f.key == target for f in find_changes(towns, {}, LABELS).rises)
    assert found >= 0.9 * runs


def test_histories_without_a_rise_stay_within_the_false_discovery_rate() -> None:
    rng = random.Random(1302)
    families, alarmed = 60, 0
    for _ in range(families):
        towns = {
            SeriesKey("06", f"t{k}"): history(rng, LABELS, rng.choice((5, 10, 20, 40)))
            for k in range(10)
        }
        alarmed += bool(find_changes(towns, {}, LABELS).rises)
    # With nothing rising, BH bounds P(any alarm) by q = 0.05: 3 of 60 expected; 7 or more
    # would happen by chance with probability < 1 % (binomial).
    assert alarmed <= 6


def test_a_town_rise_names_the_villages_it_comes_from() -> None:
    rng = random.Random(1303)
    villages = {}
    for code, base in (("001", 6.0), ("002", 6.0), ("003", 6.0)):
        rise = 3.0 if code == "002" else 0.0
        villages[SeriesKey("06", "town", code)] = history(rng, LABELS, base, rise=rise, phi=1.0)
    town = [sum(v[i] for v in villages.values()) for i in range(WINDOWS)]
    result = find_changes({SeriesKey("06", "town"): town}, villages, LABELS)
    rises = [f for f in result.rises if f.key.village is None]
    assert rises and rises[0].villages[0][0] == "002"
    assert rises[0].change_pct == pytest.approx(
        (rises[0].observed / rises[0].expected - 1) * 100, abs=0.1
    )


def test_falls_are_flagged_only_where_a_campaign_ran() -> None:
    rng = random.Random(1304)
    treated, other = SeriesKey("06", "a"), SeriesKey("06", "b")
    towns = {
        treated: history(rng, LABELS, 30, rise=-0.8, phi=1.0),
        other: history(rng, LABELS, 30, rise=-0.8, phi=1.0),
    }
    result = find_changes(towns, {}, LABELS, campaign_keys=frozenset({treated}))
    assert [f.key for f in result.falls] == [treated]
    assert result.falls[0].change_pct < -50
    assert result.tested_falls == 1


def test_a_short_history_uses_the_recent_windows() -> None:
    labels = window_labels(END, 6, HOLIDAYS)
    base = baseline([10, 12, 9, 11, 10, 30], labels, RisingConfig())
    assert base is not None and base.method == "recent"
    assert base.expected == pytest.approx(10.4, abs=0.01)
    assert baseline([0, 0, 0, 0, 0, 3], labels, RisingConfig()) is None
