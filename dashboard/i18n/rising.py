"""Rising problems, campaigns and rankings (issue 13, the leader's pages)."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    "rising.sentence.rise": (
        "{place}：近7天{category}上报比常态高 {pct} %"
        "（{observed} 件，常态约 {expected} 件）{source}。",
        "{place}: {category} reports in the last 7 days are {pct} % above normal "
        "({observed}; normally about {expected}){source}.",
    ),
    "rising.sentence.fall": (
        "{place}：专项整治后，近7天{category}上报比常态低 {pct} %"
        "（{observed} 件，常态约 {expected} 件）{source}。",
        "{place}: after the campaign, {category} reports in the last 7 days are {pct} % below "
        "normal ({observed}; normally about {expected}){source}.",
    ),
    "rising.from_one": ("，主要来自{a}", ", mostly from {a}"),
    "rising.from_two": ("，主要来自{a}、{b}", ", mostly from {a} and {b}"),
    "rising.unknown_category": ("未分类", "Uncategorised"),
}
