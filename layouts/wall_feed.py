"""The rolling case feed and the emergency banner: pure functions of snapshot data.

Every piece of user text (descriptions, names) is passed to Dash as a plain string, which React
renders as text; wall.js inserts the same fields with ``textContent``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard.i18n import Lang, t
from layouts import wall_ids as ids
from layouts.village_format import red_why


def local_time(iso: str | None, tz: ZoneInfo, now: datetime, with_seconds: bool = False) -> str:
    """HH:MM for today, MM-DD HH:MM for older times (in the command room's zone)."""
    if not iso:
        return "—"
    when = datetime.fromisoformat(iso).astimezone(tz)
    clock = when.strftime("%H:%M:%S" if with_seconds else "%H:%M")
    if when.date() == now.astimezone(tz).date():
        return clock
    return f"{when:%m-%d} {clock}"


RED_LIST_ROWS = 6
FEED_VISIBLE = 8  # what the panel shows (the last one fading out); the snapshot keeps more


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


def red_list(villages: Sequence[Mapping[str, Any]], lang: Lang, now: datetime) -> list[Any]:
    """The red villages, longest red first (the supervisors' call order), over the map."""
    red = sorted(
        (v for v in villages if v.get("status") == "red"),
        key=lambda v: (v.get("red_since") or "", v["code"]),
    )
    rows: list[Any] = [
        html.Div(
            [
                html.Span(v["name"], className="red-name"),
                html.Span(
                    "—" if v.get("open_ratio") is None else f"{100 * v['open_ratio']:.0f}%",
                    className="red-ratio",
                ),
                html.Span(red_for(v.get("red_since"), now, lang), className="red-since"),
                html.Span(red_why(v.get("reasons") or [], lang), className="red-why"),
            ],
            className="red-row",
            **{"data-key": v["code"]},
        )
        for v in red[:RED_LIST_ROWS]
    ]
    if len(red) > RED_LIST_ROWS:
        more = t("wall.red_more", lang).replace("{n}", str(len(red) - RED_LIST_ROWS))
        rows.append(html.Div(more, className="red-more"))
    return [html.Div(t("wall.red_list", lang), className="red-title"), *rows]


def feed_item(
    case: Mapping[str, Any],
    villages: Mapping[str, str],
    categories: Mapping[str, str],
    lang: Lang,
    tz: ZoneInfo,
    now: datetime,
) -> html.Li:
    source = str(case.get("source", ""))
    status = str(case.get("status", ""))
    emergency = bool(case.get("emergency"))
    line2 = [
        html.Span(villages.get(case["village"], case["village"]), className="feed-village"),
        html.Span(t(f"source.{source}", lang), className="feed-source", **{"data-source": source}),
        html.Span(t(f"case.{status}", lang), className="feed-status"),
    ]
    head = [html.Span(categories.get(case["category"], case["category"]), className="feed-cat")]
    if emergency:
        head.insert(0, html.Span(t("wall.emergency", lang), className="feed-flag"))
    return html.Li(
        [
            html.Div(
                [
                    html.Div(head, className="feed-head"),
                    html.Span(local_time(case.get("reported_at"), tz, now), className="feed-time"),
                ],
                className="feed-line1",
            ),
            html.Div(line2, className="feed-line2"),
        ],
        className="feed-item emergency" if emergency else "feed-item",
        **{"data-id": str(case["id"])},
    )


def feed_list(
    feed: Sequence[Mapping[str, Any]],
    villages: Mapping[str, str],
    categories: Mapping[str, str],
    lang: Lang,
    tz: ZoneInfo,
    now: datetime,
) -> html.Ul:
    items = [feed_item(c, villages, categories, lang, tz, now) for c in feed[:FEED_VISIBLE]]
    return html.Ul(items or [html.Li(t("empty.none", lang), className="empty")], className="feed")


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
        **{"data-case": str(first["case_id"]) if first is not None else ""},
    )
