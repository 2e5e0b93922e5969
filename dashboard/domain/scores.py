"""Department composite score and grade (DOMAIN.md, "Metrics"); the weights are configuration.

The published scheme: volume band + closure rate × 0.3 + on-time handling rate × 0.3
+ (100 − rework rate) × 0.3, graded A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E.

The volume band rewards departments that carry real load. Our default (configuration, not a
standard) gives 0–10 points by cases handled in the period, so a perfect department with 200+
cases scores exactly 100:

    handled     0    1–19   20–49   50–99   100–199   200+
    points      0      2      4       6        8       10

Arithmetic is decimal and the score is rounded half-up to 2 decimals; the grade is taken from the
rounded score, so the published score and its grade always agree (89.995 shows as 90.00 → A).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dashboard.domain.metrics import (
    ClosureCounts,
    closure_rate,
    on_time_handling_rate,
    rework_rate,
)

__all__ = [
    "DEFAULT_VOLUME_BANDS",
    "DEFAULT_WEIGHTS",
    "GRADES",
    "ScoreWeights",
    "department_score",
    "grade",
    "score_for",
    "volume_points",
]

# (minimum cases handled, points), ascending; the first threshold must be 0.
DEFAULT_VOLUME_BANDS: tuple[tuple[int, float], ...] = (
    (0, 0.0),
    (1, 2.0),
    (20, 4.0),
    (50, 6.0),
    (100, 8.0),
    (200, 10.0),
)

# (minimum score, grade), descending; the last entry catches every other score.
GRADES: tuple[tuple[float, str], ...] = (
    (90.0, "A"),
    (75.0, "B"),
    (60.0, "C"),
    (40.0, "D"),
    (-math.inf, "E"),
)

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    closure: float = 0.3
    on_time_handling: float = 0.3
    rework: float = 0.3  # applied to (100 − rework rate)
    volume_bands: tuple[tuple[int, float], ...] = DEFAULT_VOLUME_BANDS

    def __post_init__(self) -> None:
        for name in ("closure", "on_time_handling", "rework"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"weight {name} must be a finite number >= 0, got {value}")
        bands = self.volume_bands
        if not bands or bands[0][0] != 0:
            raise ValueError(f"volume_bands must start at 0 cases, got {bands}")
        for (low, _), (high, _) in itertools.pairwise(bands):
            if high <= low:
                raise ValueError(f"volume_bands thresholds must increase strictly, got {bands}")
        for _, points in bands:
            if not (math.isfinite(points) and points >= 0):
                raise ValueError(f"volume_bands points must be finite and >= 0, got {bands}")


DEFAULT_WEIGHTS = ScoreWeights()


def volume_points(cases_handled: int, weights: ScoreWeights = DEFAULT_WEIGHTS) -> float:
    """The volume band's points for ``cases_handled`` cases."""
    if cases_handled < 0:
        raise ValueError(f"cases_handled must not be negative, got {cases_handled}")
    bands = weights.volume_bands
    points = bands[0][1]
    for threshold, band_points in bands:
        if cases_handled < threshold:
            break
        points = band_points
    return points


def department_score(
    closure_rate: float,
    on_time_handling_rate: float,
    rework_rate: float,
    *,
    cases_handled: int,
    weights: ScoreWeights = DEFAULT_WEIGHTS,
) -> float:
    """The composite score from three percentages (each within [0, 100]) and the volume.

    ``cases_handled`` picks the volume band. Rates that are None (no cases) have no score: use
    :func:`score_for`, which returns None then, rather than inventing a figure.
    """
    for name, value in (
        ("closure_rate", closure_rate),
        ("on_time_handling_rate", on_time_handling_rate),
        ("rework_rate", rework_rate),
    ):
        if not 0.0 <= value <= 100.0:
            raise ValueError(f"{name} must be a percentage within [0, 100], got {value}")
    # Decimal(str(x)) takes the float as written (93.72, 0.3), so 93.72 × 0.3 is exactly 28.116.
    score = (
        _dec(volume_points(cases_handled, weights))
        + _dec(closure_rate) * _dec(weights.closure)
        + _dec(on_time_handling_rate) * _dec(weights.on_time_handling)
        + (100 - _dec(rework_rate)) * _dec(weights.rework)
    )
    return float(score.quantize(_CENT, rounding=ROUND_HALF_UP))


def score_for(counts: ClosureCounts, weights: ScoreWeights = DEFAULT_WEIGHTS) -> float | None:
    """The department score from its counts; None when it had nothing to close or handle."""
    closure = closure_rate(counts)
    on_time = on_time_handling_rate(counts)
    rework = rework_rate(counts)
    if closure is None or on_time is None or rework is None:
        return None
    return department_score(closure, on_time, rework, cases_handled=counts.handled, weights=weights)


def grade(score: float, scale: tuple[tuple[float, str], ...] = GRADES) -> str:
    """The letter for ``score``: the first entry of ``scale`` whose minimum it reaches."""
    for minimum, letter in scale:
        if score >= minimum:
            return letter
    raise ValueError(f"no grade for score {score!r} in {scale}")


def _dec(value: float) -> Decimal:
    return Decimal(str(value))
