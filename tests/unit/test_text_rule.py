"""The control-character rule (dashboard.domain.text): one home, used by every way text enters."""

from __future__ import annotations

import pytest

from dashboard.domain.text import InvalidText, check_text, control_character


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("井盖缺失", None),
        ("line one\nline two\ttabbed\r\n", None),  # ordinary whitespace is text
        ("a\x00b", "U+0000"),
        ("\x1b[31mred", "U+001B"),
        ("bell\x07", "U+0007"),
        ("del\x7f", "U+007F"),
        ("\x0b", "U+000B"),
    ],
)
def test_control_characters_are_found(text: str, found: str | None) -> None:
    assert control_character(text) == found


def test_check_text_names_the_field_and_passes_clean_text() -> None:
    check_text(None, "note")
    check_text("正常文字", "note")
    with pytest.raises(InvalidText) as refused:
        check_text("x\x00", "description")
    assert (refused.value.code, refused.value.field) == ("control_character", "description")
    assert "U+0000" in refused.value.message
