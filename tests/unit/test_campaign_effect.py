"""Campaign validation and the difference-in-differences effect (dashboard.domain.campaigns)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from dashboard.domain.campaigns import (
    CampaignSpec,
    InvalidCampaign,
    check_campaign,
    effect,
    period_weeks,
)
from dashboard.domain.text import InvalidText
from tests.histories import history

TODAY = date(2026, 11, 30)
KNOWN = {"06", "06001", "06002", "01"}
AREAS = {"330681", "330681106", "330681106201"}


def _spec(**changes: object) -> CampaignSpec:
    values: dict[str, object] = {
        "name": " 违建百日攻坚 ",
        "categories": ("06", "06"),
        "area_code": "330681106",
        "start": date(2026, 9, 1),
        "end": date(2026, 10, 31),
    }
    values.update(changes)
    return CampaignSpec(**values)  # type: ignore[arg-type]


def test_a_valid_campaign_is_cleaned() -> None:
    spec = check_campaign(_spec(), today=TODAY, known_categories=KNOWN, known_areas=AREAS)
    assert spec.name == "违建百日攻坚" and spec.categories == ("06",)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"categories": ()}, "categories"),
        ({"categories": ("99",)}, "categories"),
        ({"categories": tuple(str(i) for i in range(11))}, "categories"),
        ({"area_code": "330682"}, "area"),
        ({"end": date(2026, 8, 1)}, "end"),
        ({"end": date(2027, 10, 1)}, "end"),
        ({"start": date(2020, 1, 1), "end": date(2020, 2, 1)}, "start"),
        ({"start": date(2028, 1, 1), "end": date(2028, 2, 1)}, "start"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_bad_campaigns_are_refused_naming_the_field(changes: dict, field: str) -> None:
    with pytest.raises((InvalidCampaign, InvalidText)) as caught:
        check_campaign(_spec(**changes), today=TODAY, known_categories=KNOWN, known_areas=AREAS)
    assert getattr(caught.value, "field", None) == field


def test_period_weeks_count_only_finished_weeks() -> None:
    weeks = period_weeks(date(2026, 9, 1), date(2026, 10, 31), TODAY, 8, 8)
    assert weeks == {"before": 8, "during": 9, "after": 3}  # 12 weeks done by 30 Nov
    assert period_weeks(date(2026, 11, 20), date(2026, 12, 31), TODAY, 8, 8)["during"] == 1


def test_an_injected_campaign_effect_is_recovered() -> None:
    """Treated: reports −40 % during the campaign; control: the same season, no campaign."""
    rng = random.Random(1313)
    labels = ["normal"] * 24
    hits, runs = 0, 40
    estimates = []
    for _ in range(runs):
        treated = history(rng, labels, 30, effect=-0.4, effect_from=12, effect_to=24)
        control = [
            sum(col) for col in zip(*(history(rng, labels, 30) for _ in range(3)), strict=True)
        ]
        found = effect(treated[:12], treated[12:], control[:12], control[12:])
        assert found.low_pct is not None and found.high_pct is not None
        assert found.change_pct is not None
        estimates.append(found.change_pct)
        hits += found.low_pct <= -40 <= found.high_pct
    # the 95 % interval holds the true −40 % in most runs, and the estimates centre on it
    assert hits >= 0.85 * runs
    assert sum(estimates) / runs == pytest.approx(-40, abs=5)


def test_no_campaign_no_effect() -> None:
    rng = random.Random(1314)
    labels = ["normal"] * 20
    significant = 0
    for _ in range(40):
        treated = history(rng, labels, 25)
        control = history(rng, labels, 60)
        significant += effect(treated[:10], treated[10:], control[:10], control[10:]).significant
    assert significant <= 5  # 2 of 40 expected at 95 %


def test_a_shared_trend_is_not_credited_to_the_campaign() -> None:
    # Everything halves in both groups: the campaign did nothing beyond the control.
    found = effect([40] * 6, [20] * 6, [80] * 6, [40] * 6)
    assert found.change_pct == 0.0 and not found.significant


def test_empty_periods_give_no_estimate() -> None:
    assert effect([], [1], [], [1]).change_pct is None
    assert effect([0, 0], [0, 0], [0, 0], [0, 0]).change_pct is None
