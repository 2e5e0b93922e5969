"""Residents' personal data: checked on the way in, masked on the way out."""

from __future__ import annotations

import pytest

from dashboard.domain.personal_data import (
    InvalidPersonalData,
    check_id_number,
    check_phone,
    mask_id_number,
    mask_name,
    mask_phone,
)

VALID = "11010519491231002X"  # the standard's own example number


def test_a_valid_id_number_passes_and_is_normalised() -> None:
    assert check_id_number(" 11010519491231002x ") == VALID


@pytest.mark.parametrize(
    "bad", ["110105194912310021", "1101051949123100", "11010519491231002Y", ""]
)
def test_a_wrong_id_number_is_refused(bad: str) -> None:
    with pytest.raises(InvalidPersonalData):
        check_id_number(bad)


def test_phones() -> None:
    assert check_phone("138-1234 5678") == "13812345678"
    with pytest.raises(InvalidPersonalData):
        check_phone("call me")


def test_masks_keep_only_what_tells_two_people_apart() -> None:
    assert mask_id_number(VALID) == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("王小明") == "王**"
    assert mask_id_number(None) is None and mask_phone("") == ""
    assert VALID not in (mask_id_number(VALID) or "")
