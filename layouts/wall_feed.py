"""The emergency banner's frame (shared with the supervisors' page) and the wall's time words.

assets/alarm.js fills the banner and assets/wall_render.js draws the feed and the red list; user
text always goes in as text (React renders a plain string as text, the scripts use textContent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import Lang, t
from layouts import wall_ids as ids
from layouts.controls import data_attrs


def local_time(iso: str | None, tz: ZoneInfo, now: datetime, with_seconds: bool = False) -> str:
    """HH:MM for today, MM-DD HH:MM for older times (in the command room's zone)."""
    if not iso:
        return "—"
    when = datetime.fromisoformat(iso).astimezone(tz)
    clock = when.strftime("%H:%M:%S" if with_seconds else "%H:%M")
    if when.date() == now.astimezone(tz).date():
        return clock
    return f"{when:%m-%d} {clock}"


RED_LIST_ROWS = 6  # rows of the red list per page (pages turn by themselves: all are named)


def red_for(since: str | None, now: datetime, lang: Lang) -> str:
    """How long a village has been red: 45分钟, 2小时10分, 3天4小时 (calls start at 2 h)."""
    if not since:
        return "—"
    minutes = max(0, int((now - datetime.fromisoformat(since)).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        key, values = "wall.dur_dh", {"d": days, "h": hours}
    elif hours:
        key, values = "wall.dur_hm", {"h": hours, "m": mins}
    else:
        key, values = "wall.dur_m", {"m": mins}
    text = t(key, lang)
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def alarm_banner(
    alarms: Sequence[Mapping[str, Any]],
    villages: Mapping[str, str],
    categories: Mapping[str, str],
    lang: Lang,
    tz: ZoneInfo,
    now: datetime,
    can_ack: bool,
) -> html.Div:
    """The full-width alarm for the oldest unacknowledged emergency (hidden when none)."""
    first = alarms[-1] if alarms else None  # the snapshot lists newest first
    what, where, detail, number = "", "", "", ""
    if first is not None:
        what = categories.get(first["category"], first["category"])
        where = f"{villages.get(first['village'], first['village'])} · " + local_time(
            first.get("reported_at"), tz, now, with_seconds=True
        )
        detail = str(first.get("description", ""))
        number = t("wall.case_no", lang).replace("{n}", str(first["case_id"]))
    more = t("wall.alarm_more", lang).replace("{n}", str(len(alarms) - 1))
    ack: list[Any] = (
        [
            dcc.Input(
                id=ids.ALARM_NAME,
                type="text",
                placeholder=t("wall.alarm_name", lang),
                maxLength=40,
                autoComplete="off",
                className="alarm-name",
            ),
            html.Button(t("wall.alarm_ack", lang), id=ids.ALARM_ACK, className="alarm-ack"),
        ]
        if can_ack
        else [html.Div(t("wall.alarm_desk", lang), className="alarm-desk")]
    )
    return html.Div(
        [
            html.Div("!", className="alarm-icon"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(t("wall.alarm_title", lang), className="alarm-title"),
                            html.Span(number, className="alarm-number"),
                        ]
                    ),
                    html.Div(
                        [
                            html.Span(what, className="alarm-what"),
                            html.Span(where, className="alarm-where"),
                        ]
                    ),
                    html.Div(detail, className="alarm-detail"),
                    html.Div(
                        more if len(alarms) > 1 else "",
                        className="alarm-more",
                    ),
                ],
                id=ids.ALARM_TEXT,
                className="alarm-text",
            ),
            html.Div(
                [*ack, html.Div("", id=ids.ALARM_MSG, className="alarm-msg")],
                className="alarm-actions",
            ),
        ],
        id=ids.ALARM,
        className="alarm-banner" if first is not None else "alarm-banner hidden",
        **data_attrs(case=str(first["case_id"]) if first is not None else ""),
    )
