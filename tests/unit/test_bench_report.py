"""`python -m bench --update` keeps the sections it did not rerun."""

from __future__ import annotations

from bench.__main__ import existing_sections

REPORT = """# Benchmarks

Sections: a, b. Machine: x.

## A section

| x | y |

_(a: 3 s; load average 1 / 1 / 1 at the end)_

## B section

text

_(b: 4 s; load average 2 / 2 / 2 at the end)_
"""


def test_sections_are_split_at_their_footers_and_named_by_them() -> None:
    sections = existing_sections(REPORT)
    assert list(sections) == ["a", "b"]
    assert sections["a"].startswith("## A section") and sections["a"].rstrip().endswith(
        "at the end)_"
    )
    assert sections["b"].startswith("## B section") and "| x |" not in sections["b"]


def test_a_report_without_sections_has_none() -> None:
    assert existing_sections("# Benchmarks\n\nnothing yet\n") == {}
