"""The rankings' score weights come from configuration ([evaluation], dashboard/config.py)."""

from __future__ import annotations

import pytest

from dashboard.config import ConfigError, parse_config
from dashboard.domain.metrics import ClosureCounts
from dashboard.domain.scores import score_for
from dashboard.services.rankings import explain, weights


def test_the_weights_are_read_and_used() -> None:
    config = parse_config("[evaluation]\nclosure_weight = 0.5\nrework_weight = 0.1\n")
    w = weights(config.evaluation)
    assert (w.closure, w.on_time_handling, w.rework) == (0.5, 0.3, 0.1)
    counts = ClosureCounts(closed=9, closed_on_time=8, open_overdue=1, handled=9, handled_on_time=9)
    figures = explain(counts, w)
    # 2 volume points + 90 × 0.5 + 100 × 0.3 + (100 − 0) × 0.1
    assert figures["score"] == score_for(counts, w) == 87.0 and figures["grade"] == "B"
    assert figures["closure_rate"] == {"value": 90.0, "numerator": 9, "denominator": 10}


@pytest.mark.parametrize("line", ["closure_weight = 2", "period_days = 0", "weight = 1"])
def test_bad_weights_are_refused_naming_the_key(line: str) -> None:
    with pytest.raises(ConfigError, match="evaluation"):
        parse_config(f"[evaluation]\n{line}\n")
