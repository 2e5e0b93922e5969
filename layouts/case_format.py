"""What every part of the case workspace shares: the page context and how times, durations and
codes are put into words. Pure functions of their arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.domain.lifecycle import DEFAULT_POLICY, LifecyclePolicy
from dashboard.domain.roles import Role
from dashboard.i18n import TABLE, Lang, t

TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class CasePageContext:
    """What the workspace needs besides the case: language, zone, who looks, names."""

    lang: Lang
    tz: ZoneInfo
    now: datetime
    role: Role
    categories: Mapping[str, str] = field(default_factory=dict)  # 小类 code → name
    departments: Mapping[str, str] = field(default_factory=dict)  # code → name
    policy: LifecyclePolicy = DEFAULT_POLICY
    tile_url: str = ""
    can_view_cameras: bool = False
    can_view_tracks: bool = False  # the reporter's track link (issue 16)
    people: Mapping[str, str] = field(default_factory=dict)  # worker id / user name → name


def person(who: str, role: str, ctx: CasePageContext) -> str:
    """Who did it, by name: a department by its name, a worker or user by theirs."""
    if role == "department" and who in ctx.departments:
        return ctx.departments[who]
    return ctx.people.get(who, who)


def grid_name(grid_code: str, village_code: str, village_name: str, lang: Lang) -> str:
    """A grid by its village and number ("阳春村第3网格"): grid codes are the village's code
    and a 3-digit sequence."""
    seq = grid_code[len(village_code) :]
    if not village_name or not grid_code.startswith(village_code) or not seq.isdigit():
        return grid_code
    return f"{village_name}第{int(seq)}网格" if lang == "zh" else f"{village_name} grid {int(seq)}"


def local(when: datetime | None, tz: ZoneInfo, fmt: str = TIME_FORMAT) -> str:
    return when.astimezone(tz).strftime(fmt) if when else "—"


def duration(delta: timedelta, lang: Lang) -> str:
    """A positive duration in words: minutes, hours and minutes, or days and hours."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t("wall.dur_dh", lang).format(d=days, h=hours)
    if hours:
        return t("wall.dur_hm", lang).format(h=hours, m=mins)
    return t("wall.dur_m", lang).format(m=mins)


def _word(prefix: str, code: str | None, lang: Lang) -> str:
    """The translation of ``prefix + code``; an unknown code is shown as it is (plain text)."""
    if not code:
        return "—"
    key = prefix + code
    return t(key, lang) if key in TABLE else code


def action_word(action: str, lang: Lang) -> str:
    return _word("case_ws.action.", action, lang)


def status_word(status: str | None, lang: Lang) -> str:
    return _word("case.", status, lang)


def role_word(role: str, lang: Lang) -> str:
    return _word("role.", role, lang)


def source_word(source: str, lang: Lang) -> str:
    return _word("source.", source, lang)
