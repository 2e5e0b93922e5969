"""The case workspace's timeline: every step of the audit trail (处处留痕) with the reminders and
supervision orders the watchers raised, oldest first. Pure functions of data; every text a user
or a device wrote (notes, reasons, opinions, replies, names) is passed as a plain string, which
Dash renders as text, never as HTML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dash import html

from dashboard.i18n import TABLE, Lang, t
from dashboard.read.views import TimelineItem
from layouts.case_format import (
    CasePageContext,
    action_word,
    local,
    person,
    role_word,
    source_word,
    status_word,
)
from layouts.controls import data_attrs

ATTACHMENT_URL = "/api/v1/attachments/{id}"


def photo_link(attachment_id: str, lang: Lang, small: bool = False) -> html.A:
    """A thumbnail linking to the full image (assets/case.js opens it in a lightbox)."""
    url = ATTACHMENT_URL.format(id=attachment_id)
    return html.A(
        html.Img(src=url, alt=t("case_ws.photo_alt", lang)),
        href=url,
        target="_blank",
        className="case-photo small" if small else "case-photo",
    )


def timeline(items: tuple[TimelineItem, ...], ctx: CasePageContext) -> html.Ol:
    return html.Ol([_item(item, ctx) for item in items], className="case-ws-timeline")


def _item(item: TimelineItem, ctx: CasePageContext) -> html.Li:
    if item.kind == "reminder":
        return _reminder(item, ctx)
    if item.kind == "order":
        return _order(item, ctx)
    return _event(item, ctx)


def _when_who(at: datetime, who: str, role: str, ctx: CasePageContext) -> list[html.Span]:
    lang = ctx.lang
    who = person(who, role, ctx)
    if role:  # full-width brackets in Chinese text
        words = role_word(role, lang)
        actor = f"{who}（{words}）" if lang == "zh" else f"{who} ({words})"
    else:
        actor = who
    return [
        html.Span(local(at, ctx.tz), className="tl-time"),
        html.Span(actor, className="tl-actor"),
    ]


def _line(label: str, value: str, cls: str = "") -> html.Div:
    colon = ": " if label.isascii() else "："
    return html.Div(
        [html.Span(label + colon, className="tl-label"), html.Span(value, className="tl-value")],
        className=f"tl-line {cls}".strip(),
    )


def _event(item: TimelineItem, ctx: CasePageContext) -> html.Li:
    lang = ctx.lang
    head = [html.Span(action_word(item.action, lang), className="tl-action")]
    if item.from_status and item.from_status != item.to_status:
        moved = f"{status_word(item.from_status, lang)} → {status_word(item.to_status, lang)}"
        head.append(html.Span(moved, className="tl-move"))
    elif item.to_status:
        head.append(html.Span(status_word(item.to_status, lang), className="tl-move"))
    body: list[Any] = [html.Div(head + _when_who(item.at, item.actor, item.role, ctx))]
    if item.reason:
        body.append(_line(t("case_ws.t_reason", lang), item.reason, "tl-reason"))
    if item.note:
        body.append(_line(t("case_ws.t_note", lang), item.note, "tl-note"))
    body += _details(item.details, ctx)
    if item.attachments:
        photos = [photo_link(a, lang, small=True) for a in item.attachments]
        body.append(html.Div(photos, className="tl-photos"))
    return html.Li(body, className=f"tl-item tl-{item.action}", **data_attrs(action=item.action))


def _reminder(item: TimelineItem, ctx: CasePageContext) -> html.Li:
    lang = ctx.lang
    head = [html.Span(t("case_ws.reminder", lang), className="tl-action")]
    system = t("case_ws.system", lang)
    body = [
        html.Div(head + _when_who(item.at, system, "", ctx)),
        _line(t("case_ws.t_stage", lang), status_word(item.stage, lang)),
        _line(t("case_ws.t_deadline", lang), local(item.deadline, ctx.tz)),
    ]
    if item.department:
        body.append(_line(t("case_ws.t_department", lang), _department(item.department, ctx)))
    return html.Li(body, className="tl-item tl-reminder", **data_attrs(action="reminder"))


def _order(item: TimelineItem, ctx: CasePageContext) -> html.Li:
    lang = ctx.lang
    head = [html.Span(t("case_ws.order", lang), className="tl-action")]
    who = t("case_ws.system", lang) if item.actor == "system" else item.actor
    status = f"case_ws.order.{item.status}"
    body = [
        html.Div(head + _when_who(item.at, who, "", ctx)),
        _line(t("case_ws.t_stage", lang), status_word(item.stage, lang)),
        _line(t("case_ws.t_deadline", lang), local(item.deadline, ctx.tz)),
        _line(t("case_ws.t_order_status", lang), _known(status, item.status, lang)),
    ]
    if item.department:
        body.append(_line(t("case_ws.t_department", lang), _department(item.department, ctx)))
    if item.opinion:
        body.append(_line(t("case_ws.t_opinion", lang), item.opinion))
    if item.reply:
        replied = f"{item.reply} — {item.replied_by or ''} {local(item.replied_at, ctx.tz)}"
        body.append(_line(t("case_ws.t_reply", lang), replied))
    return html.Li(body, className="tl-item tl-order", **data_attrs(action="order"))


def _known(key: str, fallback: str, lang: Lang) -> str:
    return t(key, lang) if key in TABLE else fallback


def _department(code: str, ctx: CasePageContext) -> str:
    return ctx.departments.get(code, code)


_TIMES = ("deadline", "new_deadline", "old_deadline", "suspended_at", "frame_at")


def _details(details: dict[str, Any], ctx: CasePageContext) -> list[html.Div]:
    """The step's details in words: names for codes, local times for ISO instants; a key this
    page does not know (another part's trail entry) is shown as ``key: value``."""
    lang = ctx.lang
    words: dict[str, Callable[[str], str]] = {
        "department": lambda v: _department(v, ctx),
        "category": lambda v: ctx.categories.get(v) or v,
        "source": lambda v: source_word(v, lang),
        "resume_status": lambda v: status_word(v, lang),
        "closed_on_time": lambda v: t("case_ws.yes" if v == "true" else "case_ws.no", lang),
    }
    lines = []
    for key, raw in details.items():
        value = str(raw)
        if key in _TIMES:
            value = _time(value, ctx)
        elif key in words:
            value = words[key](value)
        label = f"case_ws.t_{key}"
        lines.append(_line(t(label, lang) if label in TABLE else key, value))
    return lines


def _time(iso: str, ctx: CasePageContext) -> str:
    try:
        return local(datetime.fromisoformat(iso), ctx.tz)
    except ValueError:
        return iso
