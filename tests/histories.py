"""Generated weekly count histories for the rising-problem finder and the campaign estimate.

Counts are negative-binomial (a gamma-mixed Poisson, dispersion ``phi``) around a yearly
sinusoid, lower in festival and holiday windows, from a seeded ``random.Random``; the tests and
bench/bench_rising.py share them, so the power stated in docs/rising-and-campaigns.md is measured
on the same histories the tests use.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

HOLIDAY_FACTOR = {"sf0": 0.4, "sf-1": 0.8, "sf+1": 0.7, "holiday": 0.8}


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def overdispersed(rng: random.Random, mu: float, phi: float) -> int:
    """A count with mean ``mu`` and variance ``phi * mu``."""
    if phi <= 1:
        return poisson(rng, mu)
    return poisson(rng, rng.gammavariate(mu / (phi - 1), phi - 1))


def weekly_means(labels: Sequence[str], base: float, amplitude: float = 0.25) -> list[float]:
    return [
        base * (1 + amplitude * math.sin(2 * math.pi * i / 52.18)) * HOLIDAY_FACTOR.get(label, 1.0)
        for i, label in enumerate(labels)
    ]


def history(
    rng: random.Random,
    labels: Sequence[str],
    base: float,
    *,
    phi: float = 1.5,
    rise: float = 0.0,
    effect: float = 0.0,
    effect_from: int | None = None,
    effect_to: int | None = None,
) -> list[int]:
    """Weekly counts; ``rise``: the last window × (1 + rise); ``effect``: windows
    ``effect_from`` ≤ i < ``effect_to`` × (1 + effect) (a campaign)."""
    means = weekly_means(labels, base)
    out = []
    for i, mu in enumerate(means):
        if i == len(means) - 1:
            mu *= 1 + rise
        if effect_from is not None and effect_from <= i < (effect_to or len(means)):
            mu *= 1 + effect
        out.append(overdispersed(rng, mu, phi))
    return out
