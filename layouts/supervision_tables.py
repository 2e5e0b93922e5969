"""The tables of the supervisors' page as display data: each function turns one section's rows
into JSON (texts in the page's language, times in the command room's zone, CSS classes) that
assets/supervision.js draws with textContent. A table of a few hundred rows as Dash components
costs the Dash 4 renderer seconds per update (every component re-checks the whole layout on
every store change), so the page keeps one Dash component per table and lets the script draw
the rows. Every case id links to ``/cases/<id>``; phone numbers become ``tel:`` links."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dashboard.i18n import Lang, t
from layouts.village_format import red_why
from layouts.wall_feed import red_for

if TYPE_CHECKING:
    from layouts.supervision import SupervisionView

OUTCOMES = ("reached", "promised", "no_answer", "busy", "wrong_number", "other")
EMERGENCY_KINDS = ("fire", "mass_dispute", "traffic_accident")
_LIGHT_RANK = {"red": 0, "yellow": 1, "green": 2}


@dataclass(frozen=True)
class SectionData:
    """The rows of the three sections (any may be empty when only one section is redrawn)."""

    overdue: Sequence[Mapping[str, Any]] = ()  # case_queries rows, overdue now
    soon: Sequence[Mapping[str, Any]] = ()  # case_queries rows, due within `window` hours
    overdue_total: int = 0
    soon_total: int = 0
    window: int = 24
    cap: int = 200
    orders: Sequence[Mapping[str, Any]] = ()
    calls: Sequence[Mapping[str, Any]] = ()
    history: Sequence[Mapping[str, Any]] = ()


def when(value: Any) -> datetime | None:
    """A datetime from a row value (a datetime, an ISO string, or nothing)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def local(value: Any, view: SupervisionView) -> str:
    moment = when(value)
    if moment is None:
        return "—"
    moment = moment.astimezone(view.tz)
    today = view.now.astimezone(view.tz).date()
    return f"{moment:%H:%M}" if moment.date() == today else f"{moment:%m-%d %H:%M}"


def duration(minutes: int, lang: Lang) -> str:
    """45分钟, 2小时10分, 3天4小时 (the wall's wording)."""
    days, rest = divmod(max(0, minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text, values = t("wall.dur_dh", lang), {"d": days, "h": hours}
    elif hours:
        text, values = t("wall.dur_hm", lang), {"h": hours, "m": mins}
    else:
        text, values = t("wall.dur_m", lang), {"m": mins}
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def fill(text: str, **values: Any) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


# --- (1) overdue and soon-due cases ----------------------------------------------------------

CASE_COLUMNS = (
    ("id", "sup.col_id"),
    ("light", "sup.col_light"),
    ("category", "sup.col_category"),
    ("village", "sup.col_village"),
    ("department", "sup.col_department"),
    ("status", "sup.col_status"),
    ("deadline", "sup.col_deadline"),
    ("overdue", "sup.col_overdue"),
)


def _sort_key(key: str) -> Callable[[Mapping[str, Any]], Any]:
    def deadline(row: Mapping[str, Any]) -> float:
        moment = when(row.get("deadline"))
        return float("inf") if moment is None else moment.timestamp()

    keys: dict[str, Callable[[Mapping[str, Any]], Any]] = {
        "id": lambda r: r["id"],
        "light": lambda r: (_LIGHT_RANK.get(r.get("light") or "", 3), deadline(r)),
        "category": lambda r: str(r.get("category") or ""),
        "village": lambda r: str(r.get("village_name") or r.get("village") or ""),
        "department": lambda r: str(r.get("department_name") or ""),
        "status": lambda r: str(r.get("status") or ""),
        "deadline": deadline,
        "overdue": deadline,  # the most overdue first, then the nearest deadline
    }
    return keys.get(key, deadline)


def sorted_cases(data: SectionData, sort: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    key = str(sort.get("key") or "overdue")
    rows = [*data.overdue, *data.soon]
    return sorted(rows, key=_sort_key(key), reverse=bool(sort.get("desc")))


def cases_summary(data: SectionData, lang: Lang) -> str:
    text = fill(
        t("sup.cases_summary", lang),
        overdue=data.overdue_total,
        soon=data.soon_total,
        hours=data.window,
    )
    if data.overdue_total > data.cap or data.soon_total > data.cap:
        text += " " + fill(t("sup.cases_capped", lang), n=data.cap)
    return text


def _left(row: Mapping[str, Any], view: SupervisionView) -> tuple[str, str]:
    late = row.get("overdue_minutes")
    if late is not None:
        return fill(t("sup.overdue_by", view.lang), t=duration(int(late), view.lang)), "late"
    deadline = when(row.get("deadline"))
    if deadline is None:
        return "—", ""
    minutes = int((deadline - view.now).total_seconds() // 60)
    return fill(t("sup.left", view.lang), t=duration(minutes, view.lang)), "soon"


def _case_row(r: Mapping[str, Any], view: SupervisionView) -> dict[str, Any]:
    light = r.get("light")
    left, left_class = _left(r, view)
    category = str(r.get("category") or "")
    return {
        "id": r["id"],
        "light": light or "",
        "light_label": t(f"sup.light.{light}", view.lang) if light else "—",
        "category": view.categories.get(category, category),
        "village": r.get("village_name") or r.get("village") or "",
        "department": r.get("department_name") or "—",
        "status": t(f"case.{r['status']}", view.lang),
        "deadline": local(r.get("deadline"), view),
        "left": left,
        "left_class": left_class,
        "emergency": bool(r.get("emergency")),
    }


def case_table(data: SectionData, view: SupervisionView, sort: Mapping[str, Any]) -> dict[str, Any]:
    """The overdue and soon-due cases, sorted; ``next`` is the nearest deadline still ahead
    (the script redraws then: the case turns overdue without any event)."""
    soon = [
        d for d in (when(r.get("deadline")) for r in data.soon) if d is not None and d > view.now
    ]
    return {
        "columns": [[key, t(label, view.lang)] for key, label in CASE_COLUMNS],
        "sort": {"key": sort.get("key") or "overdue", "desc": bool(sort.get("desc"))},
        "rows": [_case_row(r, view) for r in sorted_cases(data, sort)],
        "next": min(soon).isoformat() if soon else "",
        "empty": t("sup.no_cases", view.lang),
    }


# --- (2) supervision orders ------------------------------------------------------------------

ORDER_COLUMNS = (
    "sup.col_order",
    "sup.col_id",
    "sup.col_department",
    "sup.col_opinion",
    "sup.col_issued",
    "sup.col_reply",
    "sup.col_order_status",
)


def _order_row(o: Mapping[str, Any], view: SupervisionView) -> dict[str, Any]:
    lang = view.lang
    code = str(o.get("department") or "")
    status = str(o.get("status") or "open")
    replied = bool(o.get("reply"))
    return {
        "id": o["id"],
        "case_id": o["case_id"],
        "department": view.departments.get(code, code or "—"),
        "opinion": str(o.get("opinion") or ""),
        "issued": local(o.get("issued_at"), view),
        "reply": str(o["reply"]) if replied else t("sup.no_reply", lang),
        "replied": replied,
        "reply_meta": f"{o.get('replied_by') or ''} · {local(o.get('replied_at'), view)}"
        if replied
        else "",
        "status": status,
        "status_label": t(f"sup.order_status.{status}", lang),
        "closable": status != "closed",
    }


def order_table(data: SectionData, view: SupervisionView) -> dict[str, Any]:
    return {
        "columns": [t(c, view.lang) for c in ORDER_COLUMNS] + [""],
        "rows": [_order_row(o, view) for o in data.orders],
        "close": t("sup.order_close", view.lang),
        "confirm": t("sup.order_close_confirm", view.lang),
        "empty": t("sup.no_orders", view.lang),
    }


# --- (3) the call list and its history -------------------------------------------------------

CALL_COLUMNS = (
    "sup.col_village",
    "sup.col_contact",
    "sup.col_red_for",
    "sup.col_open",
    "sup.col_last_call",
)
HISTORY_COLUMNS = (
    "sup.col_time",
    "sup.col_village",
    "sup.col_caller",
    "sup.col_callee",
    "sup.col_result",
)


def waiting_calls(data: SectionData, view: SupervisionView) -> list[Mapping[str, Any]]:
    """Entries to call now: open ones, and snoozed ones whose time has come (longest red first)."""

    def due(entry: Mapping[str, Any]) -> bool:
        if entry.get("status") == "open":
            return True
        until = when(entry.get("snoozed_until"))
        return entry.get("status") == "snoozed" and until is not None and until <= view.now

    rows = [e for e in data.calls if due(e)]
    return sorted(rows, key=lambda e: str(e.get("red_since") or ""))


def _last_call(entry: Mapping[str, Any], view: SupervisionView) -> list[str]:
    last = entry.get("last_call")
    if not last:
        return []
    outcome = last.get("outcome")
    said = t(f"sup.outcome.{outcome}", view.lang) if outcome in OUTCOMES else str(outcome or "")
    return [f"{local(last.get('at'), view)} {last.get('caller', '')}", said]


def _call_row(e: Mapping[str, Any], view: SupervisionView) -> dict[str, Any]:
    red_since = when(e.get("red_since"))
    return {
        "id": e["id"],
        "village": str(e.get("village") or ""),
        "village_name": str(e.get("village_name") or e.get("village") or ""),
        "town_name": str(e.get("town_name") or ""),
        "contact": str(e.get("contact_name") or "—"),
        "phone": str(e.get("contact_phone") or ""),
        "red_for": red_for(red_since.isoformat() if red_since else None, view.now, view.lang),
        "why": red_why(e.get("reasons") or [], view.lang),
        "counts": f"{e.get('open_cases', 0)} / {e.get('overdue_cases', 0)} / "
        f"{e.get('emergencies', 0)}",
        "last_call": _last_call(e, view),
    }


def call_table(data: SectionData, view: SupervisionView, selected: int | None) -> dict[str, Any]:
    return {
        "columns": [t(c, view.lang) for c in CALL_COLUMNS] + [""],
        "rows": [_call_row(e, view) for e in waiting_calls(data, view)],
        "selected": selected,
        "pick": t("sup.pick", view.lang),
        "never": t("sup.never_called", view.lang),
        "empty": t("sup.no_calls", view.lang),
    }


def _result(row: Mapping[str, Any], view: SupervisionView) -> str:
    lang = view.lang
    kind = row.get("kind")
    if kind == "snooze":
        head = f"{t('sup.kind.snooze', lang)} → {local(row.get('snooze_until'), view)}"
    elif kind == "resolve":
        head = t("sup.kind.resolve", lang)
    else:
        outcome = row.get("outcome")
        head = t(f"sup.outcome.{outcome}", lang) if outcome in OUTCOMES else str(outcome or "")
    note = str(row.get("note") or "")
    return f"{head} · {note}" if note else head


def history_table(data: SectionData, view: SupervisionView) -> dict[str, Any]:
    rows = [
        {
            "at": local(r.get("at"), view),
            "village": str(r.get("village_name") or r.get("village") or ""),
            "caller": str(r.get("caller") or ""),
            "callee": f"{r.get('callee') or ''} {r.get('phone') or ''}".strip() or "—",
            "result": _result(r, view),
            "kind": str(r.get("kind") or ""),
        }
        for r in data.history
    ]
    return {
        "columns": [t(c, view.lang) for c in HISTORY_COLUMNS],
        "rows": rows,
        "empty": t("sup.no_history", view.lang),
    }
