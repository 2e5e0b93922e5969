"""The monthly briefing's page (月度简报): a pure function of a ``TrendView`` giving the HTML that
dashboard.services.trend_briefing prints to an A4 PDF. Every text is escaped; the charts are the
trends page's own figures (layouts.trend_charts), drawn by the plotly.js the ``plotly`` package
ships, loaded from the disk."""

from __future__ import annotations

import html
import json

from dashboard.i18n import Lang, t
from dashboard.read.trend_views import PLOTLY_JS, BriefingSection, Kpi, TrendView
from layouts.trend_charts import figure
from layouts.trends import fmt_change, fmt_value, formula

CHARTS = ("trend", "categories", "places")


def _value(kpi: Kpi, lang: Lang) -> str:
    return fmt_value(kpi.key, kpi.value, lang)


def _change(kpi: Kpi, which: str, lang: Lang) -> str:
    value = kpi.previous_change if which == "mom" else kpi.last_year_change
    return fmt_change(kpi.key, value, lang)


def _charts(view: TrendView) -> tuple[str, str, str]:
    """The trend, the categories, and the places (or, with a single place, the sources)."""
    return ("trend", "categories", "places" if len(view.places) > 1 else "sources")


def summary_sentences(view: TrendView, lang: Lang) -> list[str]:
    """Three to five sentences written from the figures (nothing else is said)."""
    k = {kpi.key: kpi for kpi in view.kpis}
    out = [
        t("br.s_reported", lang).format(
            n=_value(k["reported"], lang),
            mom=_change(k["reported"], "mom", lang),
            yoy=_change(k["reported"], "yoy", lang),
        ),
        t("br.s_closure", lang).format(
            rate=_value(k["closure_rate"], lang),
            closed=f"{k['closure_rate'].numerator or 0:,}",
            should=f"{k['closure_rate'].denominator or 0:,}",
            on_time=_value(k["on_time_closure_rate"], lang),
            on_time_n=f"{k['on_time_closure_rate'].numerator or 0:,}",
            mom=_change(k["on_time_closure_rate"], "mom", lang),
        ),
    ]
    if view.majors:
        top = view.majors[0]
        out.append(t("br.s_top", lang).format(name=top.name, n=f"{top.figures['reported']:,}"))
    if view.rising:
        names = "、".join(view.names.get(f"major:{m}", m) for m in view.rising)
        out.append(
            t("br.s_rising", lang).format(
                names=names if lang == "zh" else names.replace("、", ", ")
            )
        )
    worst = [d for d in view.departments if d.figures["on_time_closure_rate"] is not None]
    if worst:
        low = min(worst, key=lambda d: (d.figures["on_time_closure_rate"], d.code))
        out.append(
            t("br.s_department", lang).format(
                name=low.name, rate=f"{low.figures['on_time_closure_rate']:.2f}%"
            )
        )
    return out


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def briefing_html(view: TrendView, lang: Lang, title: str, sections: list[BriefingSection]) -> str:
    charts = {
        name: figure(name, view).update_layout(height=205, width=340, legend={"font": {"size": 9}},
                                               margin={"l": 36, "r": 8, "t": 34, "b": 28},
                                               title={"font": {"size": 12}}).to_plotly_json()
        for name in _charts(view)
    }  # fmt: skip
    charts["trend"]["layout"]["width"] = 700
    charts["trend"]["layout"]["height"] = 190
    charts["trend"]["layout"]["showlegend"] = False
    kpi_rows = "".join(
        f"<tr><td>{_esc(t(f'tr.kpi.{k.key}', lang))}</td><td class='n'>{_esc(_value(k, lang))}</td>"
        f"<td class='n'>{_esc(_change(k, 'mom', lang))}</td>"
        f"<td class='n'>{_esc(_change(k, 'yoy', lang))}</td>"
        f"<td class='f'>{_esc(_formula(k, lang))}</td></tr>"
        for k in view.kpis
    )
    dept_rows = "".join(
        f"<tr><td>{_esc(d.name)}</td><td class='n'>{d.figures['reported']}</td>"
        f"<td class='n'>{d.figures['closed']}</td>"
        f"<td class='n'>{_esc(_pct(d.figures['closure_rate']))}</td>"
        f"<td class='n'>{_esc(_pct(d.figures['on_time_closure_rate']))}</td>"
        f"<td class='n'>{_esc(_pct(d.figures['rework_rate']))}</td></tr>"
        for d in view.departments[:6]
    )
    extra = "".join(
        f"<h2>{_esc(s.title)}</h2>" + "".join(f"<p>{_esc(p)}</p>" for p in s.paragraphs)
        for s in sections
    )
    summary = "".join(f"<li>{_esc(s)}</li>" for s in summary_sentences(view, lang))
    c = view.comparison
    period = t("br.periods", lang).format(
        cur=f"{c.current.first} — {c.current.last}",
        prev=f"{c.previous.first} — {c.previous.last}",
        year=f"{c.last_year.range.first} — {c.last_year.range.last}",
    )
    head = [t(f"br.col_{n}", lang) for n in ("kpi", "value", "mom", "yoy", "formula")]
    dhead = [t(f"tr.col.{n}", lang) for n in ("department", "reported", "closed", "closure",
                                              "on_time", "rework")]  # fmt: skip
    data = json.dumps(charts).replace("</", "<\\/")
    return f"""<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>
<meta charset="utf-8"><title>{_esc(title)}</title>
<script src="{PLOTLY_JS.as_uri()}"></script>
<style>
@page {{ size: A4 portrait; margin: 10mm 11mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 10.5px;
  color: #111; margin: 0; }}
h1 {{ font-size: 19px; margin: 0 0 2px; text-align: center; letter-spacing: 2px; }}
h2 {{ font-size: 12.5px; margin: 6px 0 3px; border-left: 3px solid #c8102e; padding-left: 5px; }}
.sub {{ text-align: center; color: #444; margin-bottom: 4px; }}
table {{ width: 100%; border-collapse: collapse; }}
td, th {{ border: 1px solid #bbb; padding: 1.5px 4px; }} th {{ background: #eef1f6; }}
td.n {{ text-align: right; white-space: nowrap; }} td.f {{ color: #333; font-size: 9.5px; }}
ul {{ margin: 2px 0 2px 16px; padding: 0; }} li {{ margin: 1px 0; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 4px; justify-content: space-between; }}
p {{ margin: 2px 0; }}
.foot {{ color: #555; font-size: 9px; margin-top: 4px; }}
</style></head><body>
<h1>{_esc(title)}</h1><div class="sub">{_esc(period)}</div>
<h2>{_esc(t("br.summary", lang))}</h2><ul>{summary}</ul>
<h2>{_esc(t("br.kpis", lang))}</h2>
<table><tr>{"".join(f"<th>{_esc(h)}</th>" for h in head)}</tr>{kpi_rows}</table>
<h2>{_esc(t("br.charts", lang))}</h2>
<div class="charts">{"".join(f'<div id="c-{n}"></div>' for n in charts)}</div>
<h2>{_esc(t("br.departments", lang))}</h2>
<table><tr>{"".join(f"<th>{_esc(h)}</th>" for h in dhead)}</tr>{dept_rows}</table>
{extra}
<div class="foot">{_esc(t("tr.note_rates", lang))}</div>
<script>var charts = {data};
for (var name in charts) {{ Plotly.newPlot('c-' + name, charts[name].data, charts[name].layout,
  {{staticPlot: true}}); }}</script>
</body></html>"""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _formula(kpi: Kpi, lang: Lang) -> str:
    return formula(kpi, lang)
