from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.domain.status import CaseStatus, Source
from dashboard.i18n import TABLE, normalise_lang, t

ROOT = Path(__file__).resolve().parents[2]


def test_every_entry_has_both_languages() -> None:
    """Every Chinese entry is Chinese — or has no words at all (a pattern of placeholders and
    punctuation such as ``{n} = {v}（{c}）``, whose words come from other entries)."""
    for key, (zh, en) in TABLE.items():
        assert zh.strip() and en.strip(), key
        words = re.sub(r"\{[^{}]*\}", "", zh)
        wordless = not re.search(r"[A-Za-z]", words)
        assert re.search(r"[\u4e00-\u9fff]", zh) or wordless or key == "lang.switch", (
            f"{key}: not Chinese: {zh}"
        )


@pytest.mark.parametrize("status", list(CaseStatus))
def test_every_case_status_is_translated(status: CaseStatus) -> None:
    assert t(f"case.{status.value}", "zh") != t(f"case.{status.value}", "en")


@pytest.mark.parametrize("source", list(Source))
def test_every_source_is_translated(source: Source) -> None:
    assert t(f"source.{source.value}", "zh")


def test_keys_used_in_layouts_exist() -> None:
    used: set[str] = set()
    for path in [*ROOT.glob("layouts/*.py"), *ROOT.glob("callbacks/*.py")]:
        used.update(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text()))
    assert used, "no translated strings found in layouts"
    missing = sorted(k for k in used if k not in TABLE)
    assert not missing


def test_unknown_key_is_a_bug() -> None:
    with pytest.raises(KeyError):
        t("no.such.key")


@pytest.mark.parametrize(
    ("raw", "expected"), [("en", "en"), ("zh", "zh"), ("fr", "zh"), (None, "zh"), ("<b>", "zh")]
)
def test_language_from_user_input(raw: str | None, expected: str) -> None:
    assert normalise_lang(raw) == expected
