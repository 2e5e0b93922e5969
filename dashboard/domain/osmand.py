"""The OsmAnd protocol of the Traccar Client app and hundreds of trackers (PROTOCOLS.md).

Two variants, parsed here into ``OsmandFix`` values (pure: ``now`` is an argument):

- query / form (GET query string or POST form): ``id`` or ``deviceid``; ``timestamp`` as unix
  seconds (milliseconds when ≥ 2^31), ISO-8601, or ``yyyy-MM-dd HH:mm:ss`` (UTC), missing → now;
  ``lat`` + ``lon`` or ``location=lat,lon``; ``speed`` in knots; ``bearing`` or ``heading``;
  ``altitude``; ``accuracy``; ``hdop``; ``batt`` (%); ``charge``; ``valid``; ``driverUniqueId``;
  every other key is kept as an attribute (``alarm=sos`` among them);
- JSON (``{"device_id", "location": {"timestamp", "coords": {…}, "battery": {…}, …}}``, or a
  list of locations: the client's offline backlog): speed in m/s, a negative speed or heading
  means unknown, battery level 0..1.

Bad input is an ``OsmandError`` naming the field; nothing is stored for it. Every number and
text is bounded; a time is bounded by ``time_bounds`` (a year back, ``MAX_FIX_AHEAD`` ahead).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dashboard.domain.errors import DomainError
from dashboard.domain.time_bounds import MAX_FIX_AHEAD, MAX_OCCURRED_BEFORE, check_within

KNOT_MPS = 1852 / 3600  # one knot in m/s
MS_THRESHOLD = 2**31  # a numeric timestamp at or above this is in milliseconds
MAX_ATTRIBUTES = 32
MAX_KEY = 40
MAX_VALUE = 200
MAX_DEVICE_ID = 64
_NUMERIC = re.compile(r"^-?\d{1,15}(\.\d{1,15})?$")
MAX_LOCATIONS = 1000  # per JSON body (the client's backlog)
_KNOWN = frozenset(
    {
        "id",
        "deviceid",
        "timestamp",
        "lat",
        "lon",
        "location",
        "speed",
        "bearing",
        "heading",
        "altitude",
        "accuracy",
        "valid",
    }
)
_BOUNDS = {
    "speed": (0.0, 1000.0),  # m/s after conversion
    "bearing": (0.0, 360.0),
    "altitude": (-1000.0, 20000.0),
    "accuracy": (0.0, 1_000_000.0),
}


class OsmandError(DomainError):
    """A request the protocol refuses (400; an unknown device in the JSON variant: 404)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field


@dataclass(frozen=True, slots=True)
class OsmandFix:
    device_id: str
    at: datetime  # UTC
    lat: float
    lon: float
    speed: float | None = None  # m/s
    bearing: float | None = None
    altitude: float | None = None
    accuracy: float | None = None  # metres
    valid: bool = True
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def sos(self) -> bool:
        return str(self.attributes.get("alarm", "")).lower() == "sos"


def parse_query(params: Mapping[str, str], now: datetime) -> OsmandFix:
    """One fix of the query / form variant."""
    device = _device(params.get("id") or params.get("deviceid"))
    if "location" in params and not ("lat" in params and "lon" in params):
        lat_text, _, lon_text = params["location"].partition(",")
        lat, lon = _coordinate(lat_text, "lat", 90), _coordinate(lon_text, "lon", 180)
    else:
        lat = _coordinate(params.get("lat"), "lat", 90)
        lon = _coordinate(params.get("lon"), "lon", 180)
    speed_knots = _number(params.get("speed"), "speed")
    bearing = _number(params.get("bearing") or params.get("heading"), "bearing")
    attributes = _attributes({k: v for k, v in params.items() if k not in _KNOWN}, "attributes")
    return OsmandFix(
        device_id=device,
        at=parse_timestamp(params.get("timestamp"), now),
        lat=lat,
        lon=lon,
        speed=_bounded(None if speed_knots is None else speed_knots * KNOT_MPS, "speed"),
        bearing=_bounded(bearing, "bearing"),
        altitude=_bounded(_number(params.get("altitude"), "altitude"), "altitude"),
        accuracy=_bounded(_number(params.get("accuracy"), "accuracy"), "accuracy"),
        valid=_flag(params.get("valid"), "valid", default=True),
        attributes=attributes,
    )


def device_of(params: Mapping[str, str] | None, body: Any = None) -> str | None:
    """The device id of a request before the rest is parsed (None when it has none)."""
    value = body.get("device_id") if isinstance(body, dict) else None
    if params is not None:
        value = params.get("id") or params.get("deviceid")
    text = _text(value)
    return text.strip() if text and text.strip() else None


def parse_json(body: Any, now: datetime) -> list[OsmandFix]:
    """The fixes of a JSON body (one location, or a list of them)."""
    if not isinstance(body, dict):
        raise OsmandError("bad_body", "the body must be a JSON object", None)
    device = _device(body.get("device_id"))
    locations = body.get("location")
    if isinstance(locations, dict):
        locations = [locations]
    if not isinstance(locations, list) or not locations:
        raise OsmandError("missing_location", "location is required", "location")
    if len(locations) > MAX_LOCATIONS:
        raise OsmandError(
            "too_many_locations", f"at most {MAX_LOCATIONS} locations per request", "location"
        )
    return [_json_location(device, loc, now, i) for i, loc in enumerate(locations)]


def _json_location(device: str, loc: Any, now: datetime, i: int) -> OsmandFix:
    where = f"location.{i}"
    if not isinstance(loc, dict):
        raise OsmandError("bad_location", "a location must be an object", where)
    coords = loc.get("coords")
    if not isinstance(coords, dict):
        raise OsmandError("missing_coords", "location.coords is required", f"{where}.coords")
    speed = _json_number(coords.get("speed"), "speed")
    heading = _json_number(coords.get("heading"), "heading")
    attributes: dict[str, Any] = {}
    for key in ("is_moving", "odometer", "event"):
        if key in loc:
            attributes[key] = loc[key]
    battery = loc.get("battery")
    if isinstance(battery, dict):
        level = _json_number(battery.get("level"), "battery")
        if level is not None and level >= 0:
            attributes["batt"] = round(min(level, 1.0) * 100, 1)
        if "is_charging" in battery:
            attributes["charge"] = bool(battery["is_charging"])
    activity = loc.get("activity")
    if isinstance(activity, dict) and "type" in activity:
        attributes["activity"] = activity["type"]
    extras = loc.get("extras")
    if isinstance(extras, dict):
        attributes.update(extras)
    return OsmandFix(
        device_id=device,
        at=parse_timestamp(_text(loc.get("timestamp")), now),
        lat=_coordinate(_text(coords.get("latitude")), "latitude", 90),
        lon=_coordinate(_text(coords.get("longitude")), "longitude", 180),
        speed=None if speed is None or speed < 0 else _bounded(speed, "speed"),
        bearing=None if heading is None or heading < 0 else _bounded(heading, "bearing"),
        altitude=_bounded(_json_number(coords.get("altitude"), "altitude"), "altitude"),
        accuracy=_bounded(_json_number(coords.get("accuracy"), "accuracy"), "accuracy"),
        valid=True,
        attributes=_attributes(attributes, f"{where}.extras"),
    )


def parse_timestamp(text: str | None, now: datetime) -> datetime:
    """Every timestamp form of the protocol, in UTC; missing or empty → ``now``."""
    if text is None or text.strip() == "":
        return now.astimezone(UTC)
    value = text.strip()
    moment: datetime | None = None
    if value.lstrip("-").replace(".", "", 1).isdigit():
        number = float(value)
        if not math.isfinite(number) or abs(number) > 1e15:
            raise OsmandError("bad_timestamp", f"timestamp {value!r} is out of range", "timestamp")
        seconds = number / 1000 if number >= MS_THRESHOLD else number
        try:
            moment = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise OsmandError(
                "bad_timestamp", f"timestamp {value!r} is out of range", "timestamp"
            ) from None
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise OsmandError(
                    "bad_timestamp",
                    f"timestamp {value[:40]!r}: unix seconds or milliseconds, ISO-8601, or "
                    "yyyy-MM-dd HH:mm:ss",
                    "timestamp",
                ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # Traccar reads a bare time as UTC
    try:
        return check_within(
            moment, now, before=MAX_OCCURRED_BEFORE, after=MAX_FIX_AHEAD, field="timestamp"
        )
    except DomainError as err:
        raise OsmandError("timestamp_out_of_range", err.message, "timestamp") from None


def _device(value: Any) -> str:
    text = _text(value)
    if not text or not text.strip():
        raise OsmandError("missing_device", "id (or deviceid) is required", "id")
    text = text.strip()
    if len(text) > MAX_DEVICE_ID or not text.isprintable():
        raise OsmandError("bad_device", f"a device id has at most {MAX_DEVICE_ID} characters", "id")
    return text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(text: str | None, name: str) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise OsmandError("bad_number", f"{name} must be a number", name) from None
    if not math.isfinite(value):
        raise OsmandError("bad_number", f"{name} must be a finite number", name)
    return value


def _json_number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OsmandError("bad_number", f"{name} must be a number", name)
    return _number(str(value), name)


def _coordinate(text: str | None, name: str, limit: float) -> float:
    value = _number(text, name)
    if value is None:
        raise OsmandError("missing_position", f"{name} is required", name)
    if not -limit <= value <= limit:
        raise OsmandError("bad_coordinates", f"{name} must lie within ±{limit:g}", name)
    return value


def _bounded(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    low, high = _BOUNDS[name]
    if not low <= value <= high:
        raise OsmandError("out_of_range", f"{name} must lie within {low:g} … {high:g}", name)
    return value


def _flag(text: str | None, name: str, *, default: bool) -> bool:
    if text is None or text == "":
        return default
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise OsmandError("bad_flag", f"{name} must be true or false", name)


def _attributes(items: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Extra keys kept as attributes: bounded in number and length, plain values only."""
    if len(items) > MAX_ATTRIBUTES:
        raise OsmandError("too_many_attributes", f"at most {MAX_ATTRIBUTES} extra keys", where)
    kept: dict[str, Any] = {}
    for key, value in items.items():
        if len(key) > MAX_KEY or not key.isprintable():
            raise OsmandError("bad_attribute", f"a key has at most {MAX_KEY} characters", where)
        if isinstance(value, bool | int | float) and not (
            isinstance(value, float) and not math.isfinite(value)
        ):
            kept[key] = value
            continue
        text = value if isinstance(value, str) else None
        if text is not None and _NUMERIC.match(text):
            kept[key] = float(text)  # batt=80, hdop=6.0: numbers, as Traccar keeps them
            continue
        if text is None or len(text) > MAX_VALUE or not text.isprintable():
            raise OsmandError(
                "bad_attribute",
                f"{key}: a value is a number, true/false or a text of at most {MAX_VALUE} "
                "characters",
                where,
            )
        kept[key] = text
    return kept
