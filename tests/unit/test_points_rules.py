"""The points rules (积分制): the shipped catalogue, caps, duplicates, confirmation, corrections,
redemptions (dashboard.domain.points)."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

import pytest

from dashboard.domain.errors import InvalidData
from dashboard.domain.points import (
    Claim,
    Confirmation,
    Confirmer,
    PastClaim,
    PointsArea,
    PointsCatalogue,
    PointsRuleBroken,
    ReporterKind,
    SubjectKind,
    check_claim,
    check_confirmation,
    check_correction,
    check_redemption,
    load_points_items,
    period_key,
)

TODAY = date(2026, 11, 20)


@cache
def catalogue() -> PointsCatalogue:
    text = resources.files("dashboard").joinpath("data/points_items.toml").read_text("utf-8")
    return load_points_items(text)


def claim(
    item: str = "B002", deed: date = date(2026, 11, 3), kind: SubjectKind = SubjectKind.RESIDENT
) -> Claim:
    return Claim(
        item,
        subject_id=7,
        subject_kind=kind,
        deed_date=deed,
        reporter=ReporterKind.NEIGHBOUR,
        entered_by="worker-li",
    )


def test_the_shipped_catalogue_covers_the_three_areas() -> None:
    areas = {item.area for item in catalogue().items.values()}
    assert areas == set(PointsArea)
    assert catalogue().item("B002").points == 50  # Wu's 500 points are ten months of B002
    assert any(item.points < 0 for item in catalogue().items.values())  # deductions exist


def test_an_acceptable_claim_returns_its_item() -> None:
    assert check_claim(catalogue(), claim(), [], TODAY).code == "B002"


@pytest.mark.parametrize(
    ("the_claim", "past", "code"),
    [
        (claim(item="Z999"), [], "unknown_item"),
        (claim(item="C001", kind=SubjectKind.RESIDENT), [], "wrong_subject"),  # households only
        (claim(deed=date(2026, 11, 21)), [], "deed_in_future"),
        (claim(deed=date(2026, 8, 21)), [], "deed_too_old"),  # 91 days before TODAY
        (claim(deed=date(1, 1, 1)), [], "deed_too_old"),
        (claim(), [PastClaim("B002", date(2026, 11, 3), "pending")], "duplicate_deed"),
        (claim(), [PastClaim("B002", date(2026, 11, 3), "confirmed")], "duplicate_deed"),
        # cap 2 a month: two others this month, pending or confirmed, fill it
        (
            claim(),
            [
                PastClaim("B002", date(2026, 11, 1), "confirmed"),
                PastClaim("B002", date(2026, 11, 2), "pending"),
            ],
            "cap_reached",
        ),
    ],
)
def test_claims_the_rules_refuse(the_claim: Claim, past: list[PastClaim], code: str) -> None:
    with pytest.raises(PointsRuleBroken) as err:
        check_claim(catalogue(), the_claim, past, TODAY)
    assert err.value.code == code


def test_rejected_claims_and_other_periods_do_not_count() -> None:
    past = [
        PastClaim("B002", date(2026, 11, 3), "rejected"),  # the same deed, rejected: may come again
        PastClaim("B002", date(2026, 11, 1), "rejected"),
        PastClaim("B002", date(2026, 10, 30), "confirmed"),  # last month
        PastClaim("B002", date(2026, 10, 31), "confirmed"),
        PastClaim("A001", date(2026, 11, 2), "confirmed"),  # another item
    ]
    assert check_claim(catalogue(), claim(), past, TODAY).code == "B002"


def test_a_yearly_cap_counts_the_calendar_year() -> None:
    item = catalogue().item("A004")  # 见义勇为: twice a year
    assert period_key(item, date(2026, 3, 1)) == "2026"
    past = [
        PastClaim("A004", date(2026, 1, 5), "confirmed"),
        PastClaim("A004", date(2026, 7, 5), "confirmed"),
    ]
    with pytest.raises(PointsRuleBroken, match="at most 2"):
        check_claim(catalogue(), claim(item="A004", deed=date(2026, 11, 1)), past, TODAY)
    assert check_claim(catalogue(), claim(item="A004", deed=date(2026, 11, 1)), past[:1], TODAY)


@pytest.mark.parametrize(
    ("item", "level", "user", "subject", "code"),
    [
        ("B002", Confirmer.VILLAGE, "worker-li", None, "self_confirmation"),  # entered it
        ("B002", Confirmer.VILLAGE, "cadre-wang", 7, "self_confirmation"),  # is the subject
        ("B002", None, "cadre-wang", None, "wrong_confirmer"),
        ("A004", Confirmer.VILLAGE, "cadre-wang", None, "wrong_confirmer"),  # a town item
    ],
)
def test_confirmations_the_rules_refuse(
    item: str, level: Confirmer | None, user: str, subject: int | None, code: str
) -> None:
    with pytest.raises(PointsRuleBroken) as err:
        check_confirmation(
            catalogue().item(item), "worker-li", 7, Confirmation(user, level, subject)
        )
    assert err.value.code == code


def test_the_town_confirms_village_items_too() -> None:
    for level in (Confirmer.VILLAGE, Confirmer.TOWN):
        check_confirmation(
            catalogue().item("B002"), "worker-li", 7, Confirmation("cadre", level, 3)
        )
    check_confirmation(
        catalogue().item("A004"), "worker-li", 7, Confirmation("town", Confirmer.TOWN, None)
    )


@pytest.mark.parametrize(
    ("amount", "reason", "balance", "code"),
    [
        (0, "x", 10, "bad_amount"),
        (20_000, "x", 10, "bad_amount"),
        (5, "  ", 10, "reason_required"),
        (-11, "entered twice", 10, "negative_balance"),
    ],
)
def test_corrections_need_an_amount_a_reason_and_keep_the_balance(
    amount: int, reason: str, balance: int, code: str
) -> None:
    with pytest.raises(PointsRuleBroken) as err:
        check_correction(amount, reason, balance)
    assert err.value.code == code
    check_correction(-10, "entered twice", 10)


def test_redemptions_need_stock_and_points() -> None:
    assert check_redemption(cost=200, quantity=2, stock=5, balance=500) == 400
    for qty, stock, balance, code in [
        (0, 5, 500, "bad_quantity"),
        (2, 1, 500, "out_of_stock"),
        (3, 5, 500, "not_enough_points"),
    ]:
        with pytest.raises(PointsRuleBroken) as err:
            check_redemption(cost=200, quantity=qty, stock=stock, balance=balance)
        assert err.value.code == code


@pytest.mark.parametrize(
    ("entry", "fault"),
    [
        ('code = "b1"', "capital letter"),
        ("points = 0", "points must be"),
        ("points = 5000", "points must be"),
        ("cap = 0", "cap must be"),
        ('subjects = ["alien"]', "alien"),
        ('area = "weather"', "weather"),
    ],
)
def test_a_bad_catalogue_names_the_entry_and_the_fault(entry: str, fault: str) -> None:
    good = {
        "code": '"A001"',
        "area": '"safety"',
        "name_zh": '"x"',
        "name_en": '"x"',
        "points": "5",
        "subjects": '["resident"]',
        "cap": "1",
    }
    key = entry.split(" = ")[0]
    good[key] = entry.split(" = ", 1)[1]
    text = "[[item]]\n" + "\n".join(f"{k} = {v}" for k, v in good.items())
    with pytest.raises(InvalidData, match=fault):
        load_points_items(text)


def test_an_item_defined_twice_or_an_empty_catalogue_is_refused() -> None:
    one = (
        '[[item]]\ncode = "A001"\narea = "safety"\nname_zh = "x"\nname_en = "x"\n'
        'points = 5\nsubjects = ["resident"]\n'
    )
    assert load_points_items(one).item("A001").cap == 1  # the defaults: once a month
    with pytest.raises(InvalidData, match="twice"):
        load_points_items(one + one)
    with pytest.raises(InvalidData, match="empty"):
        load_points_items("")
