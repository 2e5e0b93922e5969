"""Residents' points (积分制): the item catalogue, claims, their confirmation, and the ledger.

Zhongxiang's model: five kinds of subjects (residents, households, organisations, Party members,
cadres) earn points in three areas (平安 safety, 德治 morality, 美丽 a beautiful village) for
items of a catalogue. A deed is reported by the subject, a neighbour, the grid worker or a
cadre; a grid worker or a desk user enters the claim; the role the item names confirms it; only
then does the ledger gain an entry. The ledger is never edited: a correction is a new entry
with a reason, a redemption a negative one.

Pure rules: they take the catalogue, what the ledger already holds and ``now``-free dates, and
say yes (the entry to write) or raise ``PointsRuleBroken`` with a stable code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from dashboard.domain.errors import DomainError, InvalidData

MAX_ITEM_POINTS = 1000  # one deed is worth at most this many points (either sign)
MAX_CORRECTION = 10_000  # a correction moves a balance by at most this much
# A deed is claimed within this many days: without a bound, a cap per month would let one deed
# a month be claimed back to the year 1 (hardening, issue 18).
MAX_DEED_AGE_DAYS = 90
_ITEM_RE = re.compile(r"^[A-Z]\d{3}$")


class PointsRuleBroken(DomainError):
    """A claim, confirmation, correction or redemption the points rules refuse."""


class PointsArea(StrEnum):
    SAFETY = "safety"  # 平安
    MORALITY = "morality"  # 德治
    BEAUTY = "beauty"  # 美丽


class SubjectKind(StrEnum):
    RESIDENT = "resident"  # 村民（居民）
    HOUSEHOLD = "household"  # 家庭
    ORGANISATION = "organisation"  # 组织
    PARTY_MEMBER = "party_member"  # 党员
    CADRE = "cadre"  # 干部


class ReporterKind(StrEnum):
    SELF = "self"  # 本人申报
    NEIGHBOUR = "neighbour"  # 邻里举荐
    WORKER = "worker"  # 网格员代报
    CADRE = "cadre"  # 干部推荐


class Confirmer(StrEnum):
    """Who may confirm a claim of an item: the village committee or the town's desk."""

    VILLAGE = "village"  # 村（社区）两委
    TOWN = "town"  # 乡镇（街道）


class Period(StrEnum):
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class PointsItem:
    code: str  # a letter for the area and three digits, e.g. "B012"; stored, never reused
    area: PointsArea
    name_zh: str
    name_en: str
    points: int  # awarded on confirmation; negative for a deduction item
    subjects: frozenset[SubjectKind]
    confirmer: Confirmer
    cap: int  # confirmed claims per subject and period
    period: Period


@dataclass(frozen=True)
class PointsCatalogue:
    items: dict[str, PointsItem]

    def item(self, code: str) -> PointsItem:
        try:
            return self.items[code]
        except KeyError:
            raise PointsRuleBroken("unknown_item", f"no points item {code!r}") from None

    def by_area(self, area: PointsArea) -> list[PointsItem]:
        return [i for i in self.items.values() if i.area is area]


def period_key(item: PointsItem, deed_date: date) -> str:
    """The period a deed counts in for the item's cap: ``2026-11`` or ``2026``."""
    if item.period is Period.MONTH:
        return f"{deed_date.year:04d}-{deed_date.month:02d}"
    return f"{deed_date.year:04d}"


@dataclass(frozen=True)
class Claim:
    """A deed entered for a subject, waiting for confirmation."""

    item_code: str
    subject_id: int
    subject_kind: SubjectKind
    deed_date: date
    reporter: ReporterKind
    entered_by: str  # the user (username) who entered it


@dataclass(frozen=True)
class PastClaim:
    """What the rules need to know of a claim already made for the same subject."""

    item_code: str
    deed_date: date
    status: str  # "pending" | "confirmed" | "rejected"


def check_claim(
    catalogue: PointsCatalogue, claim: Claim, past: Iterable[PastClaim], today: date
) -> PointsItem:
    """The item of an acceptable claim, or PointsRuleBroken: unknown item, a subject the item is
    not for, a deed in the future or more than ``MAX_DEED_AGE_DAYS`` ago, the same deed claimed
    twice (same item, same day, not rejected), or the item's cap for the period already reached
    by confirmed and pending claims."""
    item = catalogue.item(claim.item_code)
    if claim.subject_kind not in item.subjects:
        raise PointsRuleBroken("wrong_subject", f"{item.code} is not for a {claim.subject_kind}")
    if claim.deed_date > today:
        raise PointsRuleBroken("deed_in_future", "a deed cannot lie in the future")
    if (today - claim.deed_date).days > MAX_DEED_AGE_DAYS:
        raise PointsRuleBroken("deed_too_old", f"a deed is claimed within {MAX_DEED_AGE_DAYS} days")
    period = period_key(item, claim.deed_date)
    counted = 0
    for other in past:
        if other.item_code != item.code or other.status == "rejected":
            continue
        if other.deed_date == claim.deed_date:
            raise PointsRuleBroken("duplicate_deed", "this deed was already claimed")
        if period_key(item, other.deed_date) == period:
            counted += 1
    if counted >= item.cap:
        raise PointsRuleBroken(
            "cap_reached", f"{item.code} counts at most {item.cap} times per {item.period}"
        )
    return item


@dataclass(frozen=True)
class Confirmation:
    confirmer_user: str
    confirmer_level: Confirmer | None  # None: the user may confirm nothing
    confirmer_subject_id: int | None  # the confirmer's own subject record, if they have one


def check_confirmation(
    item: PointsItem, claim_entered_by: str, subject_id: int, confirmation: Confirmation
) -> None:
    """Refuse self-confirmation (the user who entered the claim, or the subject themself) and
    a confirmer of the wrong level (a town item needs the town; the town may confirm a village
    item)."""
    if confirmation.confirmer_user == claim_entered_by:
        raise PointsRuleBroken("self_confirmation", "the one who entered a claim cannot confirm it")
    if confirmation.confirmer_subject_id == subject_id:
        raise PointsRuleBroken("self_confirmation", "nobody confirms points for themself")
    level = confirmation.confirmer_level
    allowed = {
        Confirmer.VILLAGE: {Confirmer.VILLAGE, Confirmer.TOWN},
        Confirmer.TOWN: {Confirmer.TOWN},
    }
    if level is None or level not in allowed[item.confirmer]:
        raise PointsRuleBroken(
            "wrong_confirmer", f"{item.code} is confirmed by the {item.confirmer}"
        )


class EntryKind(StrEnum):
    AWARD = "award"  # a confirmed claim
    CORRECTION = "correction"  # a mistake put right, with a reason
    REDEMPTION = "redemption"  # points exchanged for a reward


def check_correction(amount: int, reason: str, balance: int) -> None:
    if amount == 0 or abs(amount) > MAX_CORRECTION:
        raise PointsRuleBroken(
            "bad_amount", f"a correction is 1..{MAX_CORRECTION} points either way"
        )
    if not reason.strip():
        raise PointsRuleBroken("reason_required", "a correction needs a reason")
    if balance + amount < 0:
        raise PointsRuleBroken("negative_balance", "a correction cannot make a balance negative")


def check_redemption(cost: int, quantity: int, stock: int, balance: int) -> int:
    """The points a redemption takes, or PointsRuleBroken (no stock, not enough points)."""
    if quantity < 1 or quantity > 100:
        raise PointsRuleBroken("bad_quantity", "1 to 100 at a time")
    if stock < quantity:
        raise PointsRuleBroken("out_of_stock", "not enough of this reward in stock")
    total = cost * quantity
    if balance < total:
        raise PointsRuleBroken("not_enough_points", f"{total} points needed, {balance} held")
    return total


def load_points_items(text: str) -> PointsCatalogue:
    """The catalogue from ``points_items.toml``; InvalidData naming the entry on any fault."""
    raw = tomllib.loads(text)
    items: dict[str, PointsItem] = {}
    for entry in raw.get("item", []):
        item = _item(entry)
        if item.code in items:
            raise InvalidData("points_items", f"item {item.code} defined twice")
        items[item.code] = item
    if not items:
        raise InvalidData("points_items", "the points catalogue is empty")
    return PointsCatalogue(items)


def _item(entry: dict[str, Any]) -> PointsItem:
    code = str(entry.get("code", ""))
    where = f"points item {code or '?'}"
    try:
        if not _ITEM_RE.match(code):
            raise ValueError("code must be a capital letter and three digits")
        points = int(entry["points"])
        if points == 0 or abs(points) > MAX_ITEM_POINTS:
            raise ValueError(f"points must be 1..{MAX_ITEM_POINTS} either way")
        cap = int(entry.get("cap", 1))
        if not 1 <= cap <= 366:
            raise ValueError("cap must be 1..366")
        subjects = frozenset(SubjectKind(s) for s in entry["subjects"])
        if not subjects:
            raise ValueError("an item is for at least one kind of subject")
        return PointsItem(
            code=code,
            area=PointsArea(entry["area"]),
            name_zh=str(entry["name_zh"]),
            name_en=str(entry["name_en"]),
            points=points,
            subjects=subjects,
            confirmer=Confirmer(entry.get("confirmer", "village")),
            cap=cap,
            period=Period(entry.get("period", "month")),
        )
    except (KeyError, ValueError, TypeError) as err:
        raise InvalidData("points_items", f"{where}: {err}") from err
