"""The wall at every level (town, county, city): units, drilling in and out, the paged red list."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    "wall.back": ("‹ 返回上级", "‹ Back"),
    "wall.red_units": ("红色预警乡镇（街道）", "Towns with red villages"),
    "wall.red_page": ("第 {n} / {m} 页", "page {n} of {m}"),
    "wall.unit_red": ("{r} / {n} 村红", "{r} of {n} red"),
    "wall.drill_hint": ("点击乡镇查看其村社", "Click a town for its villages"),
    "wall.loading": ("载入中…", "Loading…"),
    "level.town": ("镇级", "Town"),
    "level.county": ("县级", "County"),
    "level.city": ("市级", "City"),
}
