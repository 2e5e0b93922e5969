"""A worker's patrol summary as (label, value) rows: the replay page's panel and the printable
track map show the same figures in the same words."""

from __future__ import annotations

from collections.abc import Callable

from dashboard.i18n import Lang, t
from dashboard.read.track_views import WorkerReplay


def summary_rows(
    w: WorkerReplay, lang: Lang, duration: Callable[[float, Lang], str]
) -> list[tuple[str, str]]:
    """Distance, moving, stopped, inside (with its share), outside, coverage and silent
    episodes of ``w``'s summary; ``duration`` writes a number of seconds."""
    s = w.summary
    share = s["inside_share"]
    return [
        (
            t("tracks.distance", lang),
            t("tracks.km", lang).format(n=f"{s['distance_m'] / 1000:.2f}"),
        ),
        (t("tracks.moving", lang), duration(s["moving_s"], lang)),
        (t("tracks.stopped", lang), duration(s["stopped_s"], lang)),
        (
            t("tracks.inside", lang),
            duration(s["inside_s"], lang) + ("" if share is None else f"（{share * 100:.0f}%）"),
        ),
        (t("tracks.outside", lang), duration(s["outside_s"], lang)),
        (t("tracks.coverage", lang), "—" if w.coverage is None else f"{w.coverage * 100:.0f}%"),
        (t("tracks.silent", lang), str(len(s["silent"]))),
    ]
