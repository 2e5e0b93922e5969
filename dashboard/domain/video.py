"""Video wall rules: which cameras are nearest a place, and how frames reach each screen.

``rank_by_distance`` orders places by great-circle distance inside a radius (the video check of a
case, a red village or a point on the map). ``bounding_box`` is the cheap pre-filter a query runs
before the exact distance.

``FlowControl`` is the per-screen flow control of the wall's tiles (VIDEO.md, "Getting frames to
the browser"): each screen watches a set of cameras; a new frame of a camera goes to a screen at
once when the screen has no unacknowledged frame of that camera, otherwise it waits in a one-frame
slot where a newer frame replaces it (latest frame wins). The screen's ``ack`` releases the slot.
So a slow screen gets fewer frames instead of a growing queue, and the demand on the capture side
is the union of what the screens watch, never one request per screen. Pure state: the caller
holds the lock, sends what the methods return and passes the time in (``now``, seconds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from dashboard.domain.geo import EARTH_RADIUS_M, haversine_m

T = TypeVar("T")
F = TypeVar("F")  # a frame, opaque here: only its camera id and sequence number matter

# A frame sent but never acknowledged (a page that crashed while drawing) stops holding its
# camera back after this long: the tile recovers by itself instead of freezing for good.
ACK_TIMEOUT_S = 10.0


def bounding_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) enclosing the circle: a pre-filter, never exact."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, dlat / cos_lat)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def rank_by_distance(
    places: Iterable[T],
    lon: float,
    lat: float,
    radius_m: float,
    position: Callable[[T], tuple[float, float]],
    limit: int | None = None,
) -> list[tuple[T, float]]:
    """The places within ``radius_m`` of (lon, lat) with their distance in metres, nearest first
    (ties keep the input order); at most ``limit`` of them."""
    found = []
    for place in places:
        plon, plat = position(place)
        distance = haversine_m(lon, lat, plon, plat)
        if distance <= radius_m:
            found.append((place, distance))
    found.sort(key=lambda pair: pair[1])
    return found if limit is None else found[: max(0, limit)]


# --- flow control ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send(Generic[F]):
    """Send ``frame`` of ``camera_id`` (sequence ``seq``) to the screen ``client``."""

    client: str
    camera_id: str
    seq: int
    frame: F


@dataclass
class _Tile(Generic[F]):
    in_flight: int | None = None  # seq of the unacknowledged frame
    sent_at: float = 0.0
    pending: tuple[int, F] | None = None  # the newest frame not yet sent


@dataclass
class _Screen(Generic[F]):
    tiles: dict[str, _Tile[F]] = field(default_factory=dict)


class FlowControl(Generic[F]):
    """Latest-frame-wins with at most one unacknowledged frame per screen and camera."""

    def __init__(self, ack_timeout: float = ACK_TIMEOUT_S) -> None:
        self._screens: dict[str, _Screen[F]] = {}
        self._newest: dict[str, tuple[int, F]] = {}  # camera -> newest frame offered
        self._ack_timeout = ack_timeout

    # --- screens --------------------------------------------------------------------------

    def watch(
        self, client: str, camera_ids: Iterable[str], now: float
    ) -> tuple[set[str], list[Send[F]]]:
        """Replace what ``client`` watches. Returns the cameras nobody watched before (new
        demand) and the newest known frame of each camera the screen just started watching, so
        a tile shows a picture at once instead of after the camera's next frame."""
        before = self.demand_ids()
        screen = self._screens.setdefault(client, _Screen())
        wanted = list(dict.fromkeys(camera_ids))
        old = screen.tiles
        screen.tiles = {cid: old.get(cid) or _Tile() for cid in wanted}
        self._forget_unwatched()
        sends = [
            self._send(client, cid, screen.tiles[cid], *self._newest[cid], now)
            for cid in wanted
            if cid not in old and cid in self._newest
        ]
        return set(wanted) - before, sends

    def remove(self, client: str) -> None:
        self._screens.pop(client, None)
        self._forget_unwatched()

    def watching(self, client: str) -> list[str]:
        screen = self._screens.get(client)
        return [] if screen is None else list(screen.tiles)

    def clients(self) -> list[str]:
        return list(self._screens)

    # --- demand ---------------------------------------------------------------------------

    def demand_ids(self) -> set[str]:
        """Every camera some screen watches."""
        return {cid for screen in self._screens.values() for cid in screen.tiles}

    def demand(self) -> dict[str, int]:
        """Camera -> the newest seq already offered (0: none yet), for the capture long-poll."""
        return {cid: self.newest_seq(cid) for cid in sorted(self.demand_ids())}

    def restart(self, camera_id: str | None = None) -> None:
        """Forget the newest seq of one camera (or all): the capture side restarted its count."""
        if camera_id is None:
            self._newest.clear()
        else:
            self._newest.pop(camera_id, None)

    # --- frames ---------------------------------------------------------------------------

    def offer(self, camera_id: str, seq: int, frame: F, now: float) -> list[Send[F]]:
        """A new frame: what to send now (the rest waits in the screens' one-frame slots)."""
        if camera_id not in self.demand_ids() or seq <= self.newest_seq(camera_id):
            return []  # unwatched, a repeat (two polls overlapped) or older than the newest
        self._newest[camera_id] = (seq, frame)
        sends: list[Send[F]] = []
        for client, screen in self._screens.items():
            tile = screen.tiles.get(camera_id)
            if tile is None:
                continue
            if tile.in_flight is None or now - tile.sent_at >= self._ack_timeout:
                sends.append(self._send(client, camera_id, tile, seq, frame, now))
            else:
                tile.pending = (seq, frame)
        return sends

    def ack(self, client: str, camera_id: str, seq: int, now: float) -> list[Send[F]]:
        """The screen drew frame ``seq``: release its slot, send the waiting frame if any."""
        screen = self._screens.get(client)
        tile = screen.tiles.get(camera_id) if screen else None
        if tile is None or tile.in_flight is None or seq < tile.in_flight:
            return []  # unknown, or an ack of a frame already superseded
        tile.in_flight = None
        if tile.pending is None:
            return []
        pending_seq, frame = tile.pending
        return [self._send(client, camera_id, tile, pending_seq, frame, now)]

    def expired(self, now: float) -> list[Send[F]]:
        """Waiting frames whose slot's acknowledgement is overdue (call now and then)."""
        sends: list[Send[F]] = []
        for client, screen in self._screens.items():
            for camera_id, tile in screen.tiles.items():
                overdue = tile.in_flight is not None and now - tile.sent_at >= self._ack_timeout
                if overdue and tile.pending is not None:
                    seq, frame = tile.pending
                    sends.append(self._send(client, camera_id, tile, seq, frame, now))
        return sends

    def _send(
        self, client: str, camera_id: str, tile: _Tile[F], seq: int, frame: F, now: float
    ) -> Send[F]:
        tile.in_flight, tile.sent_at, tile.pending = seq, now, None
        return Send(client, camera_id, seq, frame)

    def newest_seq(self, camera_id: str) -> int:
        """The seq of the newest frame offered for ``camera_id`` (0: none)."""
        newest = self._newest.get(camera_id)
        return 0 if newest is None else newest[0]

    def _forget_unwatched(self) -> None:
        watched = self.demand_ids()
        for cid in [c for c in self._newest if c not in watched]:
            del self._newest[cid]

    def in_flight(self) -> Mapping[str, Mapping[str, int | None]]:
        """Client -> camera -> unacknowledged seq (diagnostics and tests)."""
        return {
            client: {cid: tile.in_flight for cid, tile in screen.tiles.items()}
            for client, screen in self._screens.items()
        }
