"""The replay page (``/tracks``): thin glue between the request and the pure layout.

Query: ``worker`` (ids, comma-separated) or ``area`` (a grid, village or town code), ``date``
(YYYY-MM-DD, the command room's time zone; default today), ``from`` / ``to`` (HH:MM; default the
patrol shift) — or ``at`` (HH:MM) for everyone's position at one moment. A case's workspace links
here with ``worker``, ``date``, ``from`` and ``to`` around the report time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import dash
from dash import html

from callbacks.frame_pages import page_title
from dashboard.domain.permissions import Permission
from dashboard.domain.time_bounds import MAX_TRACK_SPAN, TimeOutOfBounds, check_query_time
from dashboard.i18n import normalise_lang
from dashboard.security.pages import page_guard
from dashboard.security.principal import Principal
from dashboard.services.track_replay import build_moment, build_replay, pick_workers
from layouts.tracks import TracksView, tracks_page

if TYPE_CHECKING:
    from dashboard.container import Services

_FIELDS = ("worker", "area", "date", "from", "to", "at")


class _Bad(ValueError):
    pass


def _day(text: str | None, today: date) -> date:
    if not text:
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad("date") from None


def _clock(text: str | None, default: time) -> time:
    if not text:
        return default
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise _Bad("time") from None


def register_tracks_page(services: Services) -> None:
    """Register ``/tracks`` for principals that may view positions (their area's workers)."""

    def layout(principal: Principal, lang: str | None = None, **query: str) -> html.Div:
        language = normalise_lang(lang, services.config.ui.language)
        tz = services.reference.calendar.tz
        now = services.clock.now()
        given = {k: (query.get(k) or "")[:200] for k in _FIELDS}
        view = TracksView(language, tz, principal, given)
        try:
            day = _day(given["date"], now.astimezone(tz).date())
            area = given["area"].strip()
            if area and (not area.isdigit() or len(area) > 15):
                raise _Bad("area")
            if given["at"]:
                at = datetime.combine(day, _clock(given["at"], time()), tz)
                at = check_query_time(at, now, "at")
                moment = build_moment(services.db, principal.scope, area or None, at)
                return tracks_page(
                    TracksView(language, tz, principal, given, moment_at=at, moment=moment)
                )
            ids = [w.strip() for w in given["worker"].split(",") if w.strip()][:50]
            if not ids and not area:
                return tracks_page(view)
            shift = services.config.supervision
            start = datetime.combine(day, _clock(given["from"], shift.shift_start), tz)
            end = datetime.combine(day, _clock(given["to"], shift.shift_end), tz)
            if end <= start:
                end += timedelta(days=1)  # a night shift: to the next morning
            check_query_time(start, now, "from")
            check_query_time(end, now, "to")
            if end - start > MAX_TRACK_SPAN:
                raise _Bad("range")
            workers = pick_workers(services.db, principal.scope, ids, area or None)
            replay = build_replay(services.db, services.config.tracks, workers, start, end)
            return tracks_page(TracksView(language, tz, principal, given, replay=replay))
        except (_Bad, TimeOutOfBounds) as err:
            reason = str(err) if isinstance(err, _Bad) else "range"
            return tracks_page(TracksView(language, tz, principal, given, error=reason))

    dash.register_page(
        "tracks",
        path="/tracks",
        layout=page_guard(Permission.VIEW_POSITIONS)(layout),
        title=page_title("title.tracks", services),
    )
