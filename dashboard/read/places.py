"""Places as the pages list them: the towns and villages of an area, a village's or region's name.

Scoped with ``dashboard.storage.scoping`` (the one home of that rule); each call reads in a
short transaction of its own.
"""

from __future__ import annotations

from sqlalchemy import select

from dashboard.storage.db import Database
from dashboard.storage.models import SchemaInfo, Town, Village
from dashboard.storage.scoping import in_area, towns_of_area


def towns_of(db: Database, area: str | None) -> list[tuple[str, str]]:
    """(code, name) of the towns inside ``area`` (or enclosing it), by code."""
    query = select(Town.code, Town.name).where(*towns_of_area(Town.code, area)).order_by(Town.code)
    with db.read() as session:
        return [(str(code), str(name)) for code, name in session.execute(query)]


def villages_of(db: Database, area: str | None) -> list[tuple[str, str]]:
    """(code, name) of the villages inside ``area``, by code."""
    query = select(Village.code, Village.name).where(*in_area(Village.code, area))
    with db.read() as session:
        return [
            (str(code), str(name)) for code, name in session.execute(query.order_by(Village.code))
        ]


def village_name(db: Database, code: str) -> str:
    """The village's name; "" when there is no such village."""
    with db.read() as session:
        return session.scalar(select(Village.name).where(Village.code == code)) or ""


def region_name(db: Database) -> str:
    """The name of the region the database was seeded with ("" before the seed)."""
    with db.read() as session:
        return session.scalar(select(SchemaInfo.value).where(SchemaInfo.key == "region")) or ""
