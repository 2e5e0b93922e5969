"""The status page (root page until the live wall arrives): a pure function of data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import html

from dashboard.domain.calendar import CalendarGap
from dashboard.i18n import TABLE, Lang, t
from dashboard.read.views import StatusSummary
from layouts import status_ids as ids
from layouts.village_format import red_why

_COUNTS = ["counties", "towns", "villages", "grids", "workers", "cameras", "departments"]


def _local(when: datetime | None, tz: ZoneInfo, fmt: str = "%m-%d %H:%M") -> str:
    return when.astimezone(tz).strftime(fmt) if when else "—"


def _kpi(label: str, value: str, tone: str = "") -> html.Div:
    return html.Div(
        [html.Div(value, className=f"kpi-value {tone}"), html.Div(label, className="kpi-label")],
        className="kpi",
    )


def _backend(name: str, lang: Lang) -> str:
    """The product behind a part, by its name ("PostgreSQL"), or in words ("进程内")."""
    key = f"status.backend.{name}"
    return t(key, lang) if key in TABLE else name or "—"


def _health(health: dict[str, Any], lang: Lang) -> html.Div:
    items = []
    for key in ("database", "bus"):
        part = health.get(key, {})
        ok = bool(part.get("ok"))
        items.append(
            html.Span(
                f"{t('status.' + key, lang)}: {t('status.ok' if ok else 'status.down', lang)}"
                f" ({_backend(str(part.get('backend', '')), lang)})",
                className="health ok" if ok else "health down",
            )
        )
    return html.Div(items, className="health-row")


def calendar_warning(gap: CalendarGap | None, lang: Lang) -> html.Div | None:
    """The working calendar lacks this or next year's holidays: say what it means for deadlines."""
    if gap is None:
        return None
    key = "calendar.gap_current" if gap.current else "calendar.gap_next"
    return html.Div(
        t(key, lang).format(year=gap.year), id=ids.CALENDAR_WARNING, className="notice warn"
    )


def _table(headers: list[str], rows: list[list[Any]], lang: Lang) -> html.Table:
    body = [html.Tr([html.Td(cell) for cell in row]) for row in rows] or [
        html.Tr([html.Td(t("empty.none", lang), colSpan=len(headers), className="empty")])
    ]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)])


def status_page(
    summary: StatusSummary,
    health: dict[str, Any],
    rates: dict[str, float | None],
    category_names: Mapping[str, str],
    lang: Lang,
    tz: ZoneInfo,
    now: datetime,
    gap: CalendarGap | None = None,
) -> html.Div:
    """Everything the page shows comes in as arguments; user text is passed as plain strings,
    which Dash renders as text, never as HTML."""
    counts = [_kpi(t(f"unit.{k}", lang), f"{summary.counts.get(k, 0):,}") for k in _COUNTS]
    by_status = sorted(summary.cases_by_status.items(), key=lambda kv: -kv[1])
    status_rows = [[t(f"case.{s}", lang), f"{n:,}"] for s, n in by_status]
    return html.Div(
        [
            html.Header(
                [
                    html.H1(t("status.heading", lang)),
                    html.Div(_local(now, tz, "%Y-%m-%d %H:%M"), className="clock"),
                ]
            ),
            calendar_warning(gap, lang),
            _health(health, lang),
            html.Section(counts, className="kpi-row small"),
            html.Section(_kpis(summary, rates, lang), className="kpi-row"),
            html.Div(
                [
                    _panel("table.cases_by_status", _STATUS_COLUMNS, status_rows, lang),
                    _panel("table.red_villages", _RED_COLUMNS, _red_rows(summary, lang, tz), lang),
                    _panel(
                        "table.latest_cases",
                        _LATEST_COLUMNS,
                        _latest_rows(summary, category_names, lang, tz),
                        lang,
                    ),
                ],
                className="panels",
            ),
        ],
        id=ids.STATUS_PAGE,
        className="page",
    )


_STATUS_COLUMNS = ("col.status", "col.count")
_RED_COLUMNS = (
    "col.village",
    "col.town",
    "col.red_since",
    "col.open_ratio",
    "col.red_why",
    "col.contact",
    "col.phone",
)
_LATEST_COLUMNS = (
    "col.case",
    "col.time",
    "col.category",
    "col.village",
    "col.status",
    "col.source",
)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}%"


def _kpis(summary: StatusSummary, rates: dict[str, float | None], lang: Lang) -> list[html.Div]:
    overdue, red = summary.overdue_now, summary.red_villages
    return [
        _kpi(t("kpi.reported_today", lang), f"{summary.reported_today:,}"),
        _kpi(t("kpi.closed_today", lang), f"{summary.closed_today:,}"),
        _kpi(t("kpi.open", lang), f"{summary.open_cases:,}"),
        _kpi(t("kpi.overdue", lang), f"{overdue:,}", "warn" if overdue else ""),
        _kpi(t("kpi.red_villages", lang), f"{len(red)}", "alarm" if red else ""),
        _kpi(
            f"{t('kpi.closure_rate', lang)} · {t('kpi.period_30d', lang)}",
            _pct(rates.get("closure_rate")),
        ),
        _kpi(
            f"{t('kpi.on_time_rate', lang)} · {t('kpi.period_30d', lang)}",
            _pct(rates.get("on_time_closure_rate")),
        ),
    ]


def _red_rows(summary: StatusSummary, lang: Lang, tz: ZoneInfo) -> list[list[Any]]:
    return [
        [
            v.name,
            v.town,
            _local(v.red_since, tz),
            "—" if v.open_ratio is None else f"{v.open_ratio:.0%}",
            red_why(v.reasons, lang),
            v.contact_name,
            v.contact_phone,
        ]
        for v in summary.red_villages
    ]


def _latest_rows(
    summary: StatusSummary, category_names: Mapping[str, str], lang: Lang, tz: ZoneInfo
) -> list[list[Any]]:
    return [
        [
            html.A(str(c.id), href=f"/cases/{c.id}?lang={lang}"),
            _local(c.reported_at, tz),
            category_names.get(c.category_code, c.category_code),
            c.village,
            t(f"case.{c.status}", lang),
            t(f"source.{c.source}", lang),
        ]
        for c in summary.latest
    ]


def _panel(title: str, columns: tuple[str, ...], rows: list[list[Any]], lang: Lang) -> html.Section:
    return html.Section(
        [html.H2(t(title, lang)), _table([t(k, lang) for k in columns], rows, lang)]
    )
