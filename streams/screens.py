"""Per-screen state of the live stream: who is connected, what each may see, in which order.

``LiveHub`` turns bus events into the messages of streams.protocol for every connected screen.
It knows nothing about Socket.IO: it talks to an ``Emitter`` (emit to a sid or a room, put a sid
in a room), so the ordering rules below are plain code. What a screen may see is decided by
dashboard.security.scoping (``event_visible``, ``filter_fixes``, ``can_view_camera``, rooms).

Ordering and gaps. Screens with the same scope (area and department) share a chain: every delta
sent to that scope carries ``prev``, the ``seq`` of the delta sent to the same scope before it (or
the ``seq`` of the snapshot). A screen that sees ``prev`` other than its own last ``seq`` missed
something and asks for a snapshot. A snapshot is built outside the lock (it reads the database),
then sent under the lock together with the deltas its scope got meanwhile (kept in a short log),
and only then does the screen join its scope's room: no delta is lost or doubled between a
snapshot and the stream. The relay's deployment-wide ``prev`` lets the hub notice that the bus
itself dropped events (a Redis subscriber that reconnected); then every screen gets a snapshot.

Refreshes. A screen that holds a snapshot may ask for a *refresh* (``resync`` with ``{"refresh":
true}``): the snapshot's panels again, but no positions (they stream as ``positions`` batches and
the screen keeps its own) and, of the villages, only those whose row differs from what this screen
was last sent or that had a ``village`` delta since (the hub remembers a digest of each village
row it sent a screen, and forgets it when a delta about that village goes to the screen's scope).
A screen's first snapshot, and any the server decides on (a gap in the bus, a slow screen
rejoining), are whole.

Rate limits: at most one snapshot per ``SNAPSHOT_MIN_INTERVAL_S`` per screen (more resyncs are
merged into one, whole if any of them asked for a whole one), at most one ``positions`` batch per
``POSITIONS_INTERVAL_S`` (newest fix per worker wins; a fix older than one already seen is
dropped), and ``ACK_MIN_INTERVAL_S`` between two alarm acknowledgements of one screen.

Positions under load. A batch goes out only while fewer than ``POSITIONS_MAX_QUEUED`` messages wait
in the screen's outgoing queue; otherwise its fixes stay merged in the screen's pending set (one
fix per worker of its scope, the newest), so a screen that reads slowly holds at most that many
queued messages plus one fix per worker, whatever the rate of fixes, and gets the newest positions
when it reads again.

Slow screens: a screen whose unsent backlog passes ``BACKLOG_HIGH`` messages (a wall PC that
cannot keep up, a stalled network) leaves the stream; once its backlog is under ``BACKLOG_LOW``
it gets a fresh snapshot and rejoins. Its deltas would be stale by then anyway, the server's
memory stays bounded, and the other screens do not wait for it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dashboard.domain.permissions import Scope
from dashboard.security.principal import Principal
from dashboard.security.scoping import can_view_camera, event_visible, filter_fixes, room_for
from dashboard.storage.bus import Event
from streams import protocol as p

logger = logging.getLogger(__name__)

LOG_SIZE = 10_000  # recent deltas kept for replay after a snapshot and to drop repeats
SNAPSHOT_MIN_INTERVAL_S = 1.0
ACK_MIN_INTERVAL_S = 0.2
BACKLOG_HIGH = 2_000  # messages queued for one screen: it is not keeping up
BACKLOG_LOW = 50
POSITIONS_MAX_QUEUED = 2  # a positions batch waits while this many messages are queued
KEYED_LISTS = {"villages": "code"}  # snapshot lists a refresh sends by changed row (key field)
KEYED_TOPICS = {p.TOPIC_VILLAGE: "villages"}  # a delta of this topic changes a row of that list


class Emitter(Protocol):
    def emit(self, event: str, data: dict[str, Any], to: str) -> None: ...

    def enter_room(self, sid: str, room: str) -> None: ...

    def leave_room(self, sid: str, room: str) -> None: ...

    def backlog(self, sid: str) -> int:
        """Messages queued for ``sid`` and not yet sent."""
        ...


SnapshotBuilder = Callable[[Principal, bool], dict[str, Any]]  # (principal, with positions)
WorkerVillages = Callable[[], Mapping[str, str]]  # worker id -> village code


def room_of(principal: Principal) -> str:
    """The Socket.IO room of a screen's scope (other processes may emit to it via the queue)."""
    room = room_for(principal)
    dept = principal.scope.department_code
    return room if dept is None else f"{room}:dept:{dept}"


@dataclass
class _Chain:
    """The stream of one scope: who stands for it, its room, the seq it sent last."""

    principal: Principal
    room: str
    last: int


@dataclass
class Screen:
    sid: str
    principal: Principal
    ready: bool = False  # its first snapshot went out
    streaming: bool = False  # in its scope's room, getting deltas
    fixes: dict[str, list[Any]] = field(default_factory=dict)  # newest pending fix per worker
    positions_at: float = float("-inf")
    snapshot_at: float = float("-inf")
    snapshot_pending: bool = False
    whole_wanted: bool = True  # the next snapshot is whole unless the screen asked a refresh
    held: dict[str, dict[str, int]] = field(default_factory=dict)  # list -> key -> row digest
    ack_at: float = float("-inf")

    @property
    def scope(self) -> Scope:
        return self.principal.scope


class LiveHub:
    def __init__(
        self,
        emitter: Emitter,
        build_snapshot: SnapshotBuilder,
        now_iso: Callable[[], str],
        last_seq: int = 0,
        worker_villages: WorkerVillages = dict,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emitter = emitter
        self._build_snapshot = build_snapshot
        self._now_iso = now_iso
        self._worker_villages = worker_villages
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._screens: dict[str, Screen] = {}
        self._chains: dict[Scope, _Chain] = {}
        self._bus_last = last_seq  # the last seq this process received from the bus
        self._log: deque[tuple[int, Event]] = deque(maxlen=LOG_SIZE)
        self._logged: set[int] = set()
        self._order = 0  # position in the log (seq can arrive out of id order)
        self._newest_fix: dict[str, str] = {}  # worker -> time of the newest fix seen

    # --- screens ----------------------------------------------------------------------------

    def add(self, sid: str, principal: Principal) -> Screen:
        screen = Screen(sid, principal)
        with self._lock:
            self._screens[sid] = screen
            if screen.scope not in self._chains:
                self._chains[screen.scope] = _Chain(principal, room_of(principal), self._bus_last)
        return screen

    def remove(self, sid: str) -> None:
        with self._lock:
            screen = self._screens.pop(sid, None)
            if screen and all(s.scope != screen.scope for s in self._screens.values()):
                self._chains.pop(screen.scope, None)

    def screen(self, sid: str) -> Screen | None:
        with self._lock:
            return self._screens.get(sid)

    def allow_ack(self, sid: str) -> bool:
        with self._lock:
            screen = self._screens.get(sid)
            now = self._monotonic()
            if screen is None or now - screen.ack_at < ACK_MIN_INTERVAL_S:
                return False
            screen.ack_at = now
            return True

    # --- snapshots --------------------------------------------------------------------------

    def request_snapshot(self, sid: str, refresh: bool = False) -> bool:
        """Send a snapshot now if the rate limit allows; else one goes out when it does.
        ``refresh``: the screen holds a snapshot and merges a refresh (module docstring)."""
        with self._lock:
            screen = self._screens.get(sid)
            if screen is None:
                return False
            if not refresh:
                screen.whole_wanted = True
            elif not screen.snapshot_pending:
                screen.whole_wanted = False  # merged with a pending whole one, it stays whole
            if self._monotonic() - screen.snapshot_at < SNAPSHOT_MIN_INTERVAL_S:
                screen.snapshot_pending = True
                return False
        self.send_snapshot(sid)
        return True

    def send_snapshot(self, sid: str) -> None:
        with self._lock:
            screen = self._screens.get(sid)
            if screen is None:
                return
            refresh = screen.ready and not screen.whole_wanted
            screen.snapshot_pending = False
            screen.whole_wanted = True  # the default again (any retry below is whole)
            screen.snapshot_at = self._monotonic()
            chain = self._chains[screen.scope]
            seq, mark = chain.last, self._order
            if not refresh:
                screen.held = {}  # a whole snapshot replaces everything the screen holds
        try:
            # Reads the database: outside the lock. A refresh leaves the positions out.
            data = self._build_snapshot(screen.principal, not refresh)
            digests = _row_digests(data)
        except Exception:  # a database hiccup or a provider bug: the ticker tries again
            logger.exception("live: the snapshot for screen %s failed", sid)
            with self._lock:
                screen.snapshot_pending = True
            return
        with self._lock:
            if self._screens.get(sid) is not screen:
                return  # disconnected meanwhile
            missed = [(o, ev) for o, ev in self._log if o > mark]
            if self._order > mark and (not missed or missed[0][0] != mark + 1):
                screen.snapshot_pending = True  # the log overflowed: try again later
                return
            data = _keep_changed_rows(screen, data, digests, refresh)
            snapshot = {"seq": seq, "at": self._now_iso(), "data": data}
            if refresh:
                snapshot["refresh"] = True
            self._emitter.emit(p.EV_SNAPSHOT, snapshot, sid)
            for _, ev in missed:  # what the scope's room got while the snapshot was built
                if event_visible(chain.principal, ev.topic, ev.payload):
                    self._send_delta(ev, seq, sid)
                    seq = ev.seq
                    self._forget_rows(ev, {screen.scope}, only=screen)
            if not screen.streaming:
                self._emitter.enter_room(sid, chain.room)
                screen.streaming = screen.ready = True

    # --- bus events -------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """The bus handler: every event of the deployment passes here, in publish order."""
        if event.seq > 0:
            self._on_delta(event)
        elif event.topic == p.TOPIC_POSITIONS:
            self._on_positions(event.payload)
        elif event.topic == p.TOPIC_CAMERA:
            self._on_camera(event.payload)
        else:
            logger.debug("live hub ignores the unsequenced topic %s", event.topic)

    def _on_delta(self, event: Event) -> None:
        with self._lock:
            if event.seq in self._logged:
                return  # published twice (the database failed after the bus took it)
            if event.prev is not None and event.prev != self._bus_last and self._screens:
                logger.warning(
                    "live: the bus skipped from seq %s to %s; screens get fresh snapshots",
                    self._bus_last,
                    event.prev,
                )
                for screen in self._screens.values():
                    screen.snapshot_pending = screen.whole_wanted = True
            self._bus_last = event.seq
            self._remember(event)
            sent_to: set[Scope] = set()
            for scope, chain in self._chains.items():
                if event_visible(chain.principal, event.topic, event.payload):
                    self._send_delta(event, chain.last, chain.room)
                    chain.last = event.seq
                    sent_to.add(scope)
            self._forget_rows(event, sent_to)

    def _forget_rows(self, event: Event, scopes: set[Scope], only: Screen | None = None) -> None:
        """A delta changed a row of a keyed list on the screens of ``scopes`` (or on ``only``):
        the next refresh of each of them carries that row whatever the database says then."""
        listed = KEYED_TOPICS.get(event.topic)
        key = _key(event.payload, KEYED_LISTS[listed]) if listed else None
        if listed is None or key is None:
            return
        for screen in [only] if only else self._screens.values():
            if screen.scope in scopes:
                screen.held.get(listed, {}).pop(key, None)

    def _remember(self, event: Event) -> None:
        if len(self._log) == self._log.maxlen:
            self._logged.discard(self._log[0][1].seq)
        self._order += 1
        self._log.append((self._order, event))
        self._logged.add(event.seq)

    def _send_delta(self, event: Event, prev: int, to: str) -> None:
        delta = {
            "seq": event.seq,
            "prev": prev,
            "topic": event.topic,
            "payload": event.payload,
            "at": self._now_iso(),
        }
        self._emitter.emit(p.EV_DELTA, delta, to)
        if is_new_emergency(event):
            alarm = {"case_id": event.payload.get("id"), **event.payload}
            self._emitter.emit(p.EV_ALARM, alarm, to)

    def _on_positions(self, payload: dict[str, Any]) -> None:
        parsed = list(parse_fixes(payload))
        with self._lock:
            # Phones send their backlog late: a fix older than one already seen never moves
            # the worker back on any screen.
            fixes = [fix for fix, _ in parsed if self._advance(fix)]
            if not fixes or not self._screens:
                return
            villages: Mapping[str, str] = self._worker_villages()
            given = {fix[0]: place for fix, place in parsed if place}
            if given:
                villages = {**villages, **given}
            for screen in self._screens.values():
                for fix in filter_fixes(screen.principal, fixes, villages):
                    screen.fixes[fix[0]] = list(fix)

    def _advance(self, fix: list[Any]) -> bool:
        known = self._newest_fix.get(fix[0])
        if known is not None and not _newer(fix[3], known):
            return False
        self._newest_fix[fix[0]] = fix[3]
        return True

    def _on_camera(self, payload: dict[str, Any]) -> None:
        village = payload.get("village")
        with self._lock:
            for screen in self._screens.values():
                if screen.ready and can_view_camera(
                    screen.principal, village if isinstance(village, str) else None
                ):
                    self._emitter.emit(p.EV_CAMERA, payload, screen.sid)

    # --- the ticker -------------------------------------------------------------------------

    def tick(self) -> None:
        """Called ~10 times a second: flush due position batches, serve merged resyncs."""
        now = self._monotonic()
        due: list[str] = []
        with self._lock:
            for screen in self._screens.values():
                if not self._keeps_up(screen):
                    continue
                if (
                    screen.ready
                    and screen.fixes
                    and now - screen.positions_at >= p.POSITIONS_INTERVAL_S
                    and self._emitter.backlog(screen.sid) < POSITIONS_MAX_QUEUED
                ):
                    batch = {"at": self._now_iso(), "fixes": list(screen.fixes.values())}
                    screen.fixes = {}
                    screen.positions_at = now
                    self._emitter.emit(p.EV_POSITIONS, batch, screen.sid)
                if screen.snapshot_pending and now - screen.snapshot_at >= SNAPSHOT_MIN_INTERVAL_S:
                    due.append(screen.sid)
        for sid in due:
            self.send_snapshot(sid)

    def _keeps_up(self, screen: Screen) -> bool:
        """False while a slow screen is out of the stream (see the module docstring)."""
        backlog = self._emitter.backlog(screen.sid)
        if screen.streaming and backlog > BACKLOG_HIGH:
            logger.warning(
                "live: screen %s (%s) is %s messages behind; it gets a snapshot when it catches up",
                screen.sid,
                screen.principal.name,
                backlog,
            )
            self._emitter.leave_room(screen.sid, self._chains[screen.scope].room)
            screen.streaming = False
            screen.snapshot_pending = screen.whole_wanted = True
            return False
        return screen.streaming or backlog < BACKLOG_LOW


Digests = dict[str, list[tuple[str | None, int]]]  # keyed list -> (key, digest) per row


def _row_digests(data: dict[str, Any]) -> Digests:
    """A digest of each row of the keyed lists of ``data`` (computed outside the hub's lock)."""
    digests: Digests = {}
    for listed, key in KEYED_LISTS.items():
        rows = data.get(listed)
        if isinstance(rows, list):
            digests[listed] = [(_key(row, key), _digest(row)) for row in rows]
    return digests


def _key(row: Any, key: str) -> str | None:
    value = row.get(key) if isinstance(row, dict) else None
    return value if isinstance(value, str) else None


def _digest(row: Any) -> int:
    return hash(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str))


def _keep_changed_rows(
    screen: Screen, data: dict[str, Any], digests: Digests, refresh: bool
) -> dict[str, Any]:
    """Remember the digest of each keyed row sent to ``screen``; for a refresh, keep only the rows
    it does not hold as they are now (and no positions: the screen keeps its own)."""
    if refresh:
        data = {k: v for k, v in data.items() if k != "positions"}
    for listed, rows in digests.items():
        held = screen.held.setdefault(listed, {})
        changed = []
        for row, (code, digest) in zip(data[listed], rows, strict=True):
            if code is None or held.get(code) != digest:
                changed.append(row)
                if code is not None:
                    held[code] = digest
        if refresh:
            data = {**data, listed: changed}
    return data


def is_new_emergency(event: Event) -> bool:
    payload = event.payload
    return (
        event.topic == p.TOPIC_CASE
        and payload.get("emergency") is True
        and payload.get("action") == "report"
    )


def parse_fixes(payload: dict[str, Any]) -> Iterable[tuple[list[Any], str | None]]:
    """([worker, lon, lat, iso], place or None) for each well-formed fix of a positions event.

    Accepts the list form ``[worker, lon, lat, iso, place?]`` and the object form ``{"worker_id",
    "lon", "lat", "at", "grid"|"village"?}`` (see streams.protocol); malformed fixes are skipped.
    """
    for item in payload.get("fixes") or ():
        try:
            if isinstance(item, dict):
                worker, lon, lat, at = item["worker_id"], item["lon"], item["lat"], item["at"]
                place = item.get("village") or item.get("grid")
            else:
                worker, lon, lat, at = item[0], item[1], item[2], item[3]
                place = item[4] if len(item) > 4 else None
            fix = [str(worker), float(lon), float(lat), str(at)]
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        yield fix, place if isinstance(place, str) and place else None


def _newer(at: str, known: str) -> bool:
    try:
        return datetime.fromisoformat(at) > datetime.fromisoformat(known)
    except (TypeError, ValueError):
        return True  # unparsable or incomparable times: the later message wins
