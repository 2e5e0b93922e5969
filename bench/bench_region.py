"""Benchmark: generating the demo regions and locating points in them.

Run ``python -m bench.bench_region`` (or ``python bench/bench_region.py``) from the project
root; it prints a markdown section. ``run()`` returns the same section for docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped]

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model
from dashboard.domain.regions import Region, RegionIndex
from dashboard.seed.cameras import generate_cameras
from dashboard.seed.geography import Scale, generate_region
from dashboard.seed.people import generate_workers

LOOKUP_POINTS = 100_000
SCAN_POINTS = 1_000
SEED = 7


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _points_inside(region: Region, n: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    outline = shapely.union_all([c.polygon for c in region.counties])
    shapely.prepare(outline)
    minx, miny, maxx, maxy = outline.bounds
    found: list[np.ndarray[Any, Any]] = []
    missing = n
    while missing > 0:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(2 * missing, 2))
        xy = xy[shapely.contains_xy(outline, xy[:, 0], xy[:, 1])][:missing]
        found.append(xy)
        missing -= len(xy)
    return np.concatenate(found)


def _percentiles_us(samples_ns: Sequence[int]) -> tuple[float, float]:
    p50, p99 = np.percentile(np.asarray(samples_ns, dtype=float), [50, 99])
    return p50 / 1000, p99 / 1000


def _bench_lookup(region: Region) -> dict[str, float]:
    rng = np.random.default_rng(SEED)
    points = _points_inside(region, LOOKUP_POINTS, rng)
    index, build_s = _timed(lambda: RegionIndex(region.grids, region.villages))
    clock = time.perf_counter_ns
    samples, hits = [], 0
    for lon, lat in points.tolist():
        start = clock()
        location = index.locate(lon, lat)
        samples.append(clock() - start)
        hits += location is not None
    p50, p99 = _percentiles_us(samples)
    bulk, bulk_s = _timed(lambda: index.locate_many(points[:, 0], points[:, 1]))

    # The baseline: test every grid polygon (vectorised in GEOS, so a generous baseline).
    polygons = np.array([g.polygon for g in region.grids])
    scan = []
    for lon, lat in points[:SCAN_POINTS].tolist():
        start = clock()
        found = np.flatnonzero(shapely.intersects_xy(polygons, lon, lat))
        _ = int(found[0]) if len(found) else None
        scan.append(clock() - start)
    scan_p50, scan_p99 = _percentiles_us(scan)
    return {
        "build_s": build_s,
        "p50": p50,
        "p99": p99,
        "hit_rate": hits / len(points),
        "bulk_us": bulk_s / len(bulk) * 1e6,
        "scan_p50": scan_p50,
        "scan_p99": scan_p99,
    }


def _generate(scale: Scale) -> dict[str, Any]:
    region, gen_s = _timed(lambda: generate_region(scale, seed=SEED))
    workers, workers_s = _timed(lambda: generate_workers(region, seed=SEED))
    cameras, cameras_s = _timed(lambda: generate_cameras(region, seed=SEED))
    return {
        "region": region,
        "gen_s": gen_s,
        "workers": len(workers),
        "workers_s": workers_s,
        "cameras": len(cameras),
        "cameras_s": cameras_s,
    }


def run() -> str:
    """Generate the three scales, time point lookups at city scale, return a markdown section."""
    results = {scale: _generate(scale) for scale in ("town", "county", "city")}
    lookup = _bench_lookup(results["city"]["region"])

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> str:
        return f"| {label} | " + " | ".join(cell(results[s]) for s in results) + " |"

    lines = [
        "## Region generation and point lookup (`bench/bench_region.py`)",
        "",
        f"Machine: {os.cpu_count()} cores, {cpu_model()}; Python {platform.python_version()}, "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), seed {SEED}.",
        "",
        "| | town (枫桥镇) | county (诸暨市) | city (绍兴市) |",
        "|---|---:|---:|---:|",
        row("region generation", lambda r: f"{r['gen_s']:.2f} s"),
        row("towns", lambda r: f"{len(r['region'].towns):,}"),
        row("villages", lambda r: f"{len(r['region'].villages):,}"),
        row("grids", lambda r: f"{len(r['region'].grids):,}"),
        row("grid workers", lambda r: f"{r['workers']:,} ({r['workers_s']:.2f} s)"),
        row("cameras", lambda r: f"{r['cameras']:,} ({r['cameras_s']:.2f} s)"),
        "",
        f"Point lookup at city scale ({len(results['city']['region'].grids):,} grids; random "
        "points uniform inside the city outline):",
        "",
        "| method | points | p50 | p99 |",
        "|---|---:|---:|---:|",
        f"| `RegionIndex.locate` (STRtree, `intersects`) | {LOOKUP_POINTS:,} "
        f"| {lookup['p50']:.1f} µs | {lookup['p99']:.1f} µs |",
        f"| brute-force scan (`intersects_xy` over every grid) | {SCAN_POINTS:,} "
        f"| {lookup['scan_p50']:.1f} µs | {lookup['scan_p99']:.1f} µs |",
        "",
        f"Index build {lookup['build_s'] * 1000:.0f} ms; `locate_many` (one bulk query) "
        f"{lookup['bulk_us']:.1f} µs per point; {lookup['hit_rate']:.3%} of the points found a "
        "grid (a miss would be a sliver between two separately simplified county outlines).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
