"""Power study of the rising-problem finder (dashboard.domain.rising) on generated histories.

Families of ``SERIES`` weekly series (3 years + a bit, the real holiday calendar, negative-
binomial counts with dispersion 1.5, a yearly season, festival and holiday dips; tests/histories)
are searched together, as one town's categories would be. For each base level and injected rise
of the last window, the share of runs in which the injected series is flagged (power); with no
rise, the share of series flagged (false alarms) and of families with any alarm.

Run alone: ``python -m bench.bench_rising`` (about a minute on one core).
"""

from __future__ import annotations

import random
from datetime import date

from dashboard.config import DATA_DIR
from dashboard.domain.calendar import load_calendar
from dashboard.domain.rising import SeriesKey, find_changes, window_labels
from tests.histories import history

END = date(2026, 11, 30)
WINDOWS = 170
SERIES = 20
RUNS = 100
BASES = (5, 10, 20, 40)
RISES = (0.5, 1.0, 1.5, 2.0, 3.0)


def _labels() -> list[str]:
    calendar = load_calendar((DATA_DIR / "calendar_cn.toml").read_text(encoding="utf-8"))
    return window_labels(END, WINDOWS, calendar.holidays)


def power(rng: random.Random, labels: list[str], base: float, rise: float, runs: int) -> float:
    hits = 0
    target = SeriesKey("06", "target")
    for _ in range(runs):
        towns = {SeriesKey("06", f"t{k}"): history(rng, labels, base) for k in range(SERIES - 1)}
        towns[target] = history(rng, labels, base, rise=rise)
        found = find_changes(towns, {}, labels)
        hits += any(f.key == target for f in found.rises)
    return hits / runs


def null_rates(rng: random.Random, labels: list[str], runs: int) -> tuple[float, float]:
    alarms = families = 0
    for _ in range(runs):
        towns = {
            SeriesKey("06", f"t{k}"): history(rng, labels, rng.choice(BASES)) for k in range(SERIES)
        }
        found = find_changes(towns, {}, labels)
        alarms += len(found.rises)
        families += bool(found.rises)
    return alarms / (runs * SERIES), families / runs


def run() -> str:
    rng = random.Random(20261205)
    labels = _labels()
    per_series, per_family = null_rates(rng, labels, RUNS)
    lines = [
        "## Rising problems: power and false alarms",
        "",
        f"{RUNS} runs per cell, families of {SERIES} series of {WINDOWS} weekly windows "
        "(dispersion 1.5), Benjamini–Hochberg q = 0.05 (`python -m bench.bench_rising`).",
        "",
        f"No rise: {per_series:.4f} of series flagged, {per_family:.2f} of families with any "
        "alarm (BH bounds this by q = 0.05 when nothing rises).",
        "",
        "| expected / week | " + " | ".join(f"+{r:.0%}" for r in RISES) + " |",
        "|---|" + "---|" * len(RISES),
    ]
    for base in BASES:
        cells = [f"{power(rng, labels, base, rise, RUNS):.2f}" for rise in RISES]
        lines.append(f"| {base} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
