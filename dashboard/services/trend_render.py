"""Server-side rendering of the trends' charts (PNG) and the monthly briefing (PDF) with the
headless Chromium the install brings (Debian's ``chromium``; scripts/system-deps.sh).

Why Chromium: Plotly's own exporter (kaleido) drives a Chrome too, and would need a download or
a second browser; the page's figures are drawn by the plotly.js the ``plotly`` package ships
(``plotly/package_data/plotly.min.js``), loaded from the disk — no network. Chinese renders with
the CJK fonts of ``fonts-noto-cjk``.

A chart: a small HTML file holding the figure's JSON, screenshotted at its size. A briefing: an
HTML page printed to PDF (A4 from its CSS ``@page``). At most ``PARALLEL`` renders run at once
(a Chromium is ~150 MB); each is stopped after ``TIMEOUT`` seconds.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from dashboard.read.trend_views import PLOTLY_JS

logger = logging.getLogger(__name__)

PARALLEL = 2
TIMEOUT = 90.0
_SLOTS = threading.BoundedSemaphore(PARALLEL)
MAX_SIDE = 4000


class RenderUnavailable(Exception):
    """No Chromium on this machine, or it failed: the export cannot be made now."""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RenderUnavailable("chart rendering needs Chromium (scripts/system-deps.sh run)")


def _run(args: list[str], out: Path) -> bytes:
    base = [
        chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=15000",
        "--run-all-compositor-stages-before-draw",
    ]
    with _SLOTS:
        home = out.parent / "profile"
        try:
            done = subprocess.run(
                [*base, f"--user-data-dir={home}", *args],
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RenderUnavailable("the renderer did not finish in time") from None
    if not out.exists() or out.stat().st_size == 0:
        logger.warning("chromium render failed: %s", done.stderr[-800:])
        raise RenderUnavailable("the renderer failed")
    return out.read_bytes()


def _chart_html(figure: dict[str, Any], width: int, height: int) -> str:
    data = json.dumps(figure).replace("</", "<\\/")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<script src='{PLOTLY_JS.as_uri()}'></script>"
        "<style>html,body{margin:0;background:#fff}</style></head><body>"
        f"<div id='c' style='width:{width}px;height:{height}px'></div><script>"
        f"var f={data};f.layout=f.layout||{{}};f.layout.width={width};f.layout.height={height};"
        "Plotly.newPlot('c',f.data,f.layout,{staticPlot:true});</script></body></html>"
    )


def chart_png(figure: dict[str, Any], width: int = 1200, height: int = 600) -> bytes:
    """The figure (``fig.to_plotly_json()``) as a PNG of ``width`` × ``height`` pixels."""
    if not (100 <= width <= MAX_SIDE and 100 <= height <= MAX_SIDE):
        raise ValueError("chart size out of bounds")
    with tempfile.TemporaryDirectory(prefix="gcc-chart-") as tmp:
        page, out = Path(tmp) / "chart.html", Path(tmp) / "chart.png"
        page.write_text(_chart_html(figure, width, height), encoding="utf-8")
        return _run([f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri()], out)


def html_pdf(html: str) -> bytes:
    """An HTML page (its scripts may load ``PLOTLY_JS`` by its file address) printed to PDF."""
    with tempfile.TemporaryDirectory(prefix="gcc-pdf-") as tmp:
        page, out = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        return _run(["--no-pdf-header-footer", f"--print-to-pdf={out}", page.as_uri()], out)
