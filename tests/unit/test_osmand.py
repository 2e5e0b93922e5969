"""The OsmAnd protocol's parsing (dashboard.domain.osmand): every timestamp form, units, bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.domain.osmand import KNOT_MPS, OsmandError, parse_json, parse_query, parse_timestamp

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1795395600", datetime(2026, 11, 23, 1, 0, tzinfo=UTC)),  # unix seconds
        ("1795395600000", datetime(2026, 11, 23, 1, 0, tzinfo=UTC)),  # milliseconds (≥ 2^31)
        ("1795395600500", datetime(2026, 11, 23, 1, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-23T00:59:00Z", datetime(2026, 11, 23, 0, 59, tzinfo=UTC)),
        ("2026-11-23T08:59:00+08:00", datetime(2026, 11, 23, 0, 59, tzinfo=UTC)),
        ("2026-11-23T00:59:00.862Z", datetime(2026, 11, 23, 0, 59, 0, 862000, tzinfo=UTC)),
        ("2026-11-23 00:58:00", datetime(2026, 11, 23, 0, 58, tzinfo=UTC)),  # bare: UTC
        (None, NOW),
        ("", NOW),
    ],
)
def test_every_timestamp_form(text: str | None, expected: datetime) -> None:
    assert parse_timestamp(text, NOW) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "1377177267", "2099-01-01T00:00:00Z", "1e400", "99999999999999999999"]
)
def test_bad_or_unbounded_timestamps_are_refused(text: str) -> None:
    with pytest.raises(OsmandError) as err:
        parse_timestamp(text, NOW)
    assert err.value.field == "timestamp"


def test_query_variant_units_and_attributes() -> None:
    fix = parse_query(
        {
            "deviceid": "abc",
            "location": "29.62,120.30",
            "speed": "10",
            "heading": "90",
            "accuracy": "8",
            "valid": "false",
            "alarm": "sos",
            "batt": "80",
            "driverUniqueId": "x1",
        },
        NOW,
    )
    assert (fix.device_id, fix.lat, fix.lon, fix.bearing, fix.accuracy) == (
        "abc",
        29.62,
        120.30,
        90.0,
        8.0,
    )
    assert fix.speed == pytest.approx(10 * KNOT_MPS)  # knots → m/s
    assert fix.valid is False and fix.sos
    assert fix.attributes == {"alarm": "sos", "batt": 80.0, "driverUniqueId": "x1"}
    assert fix.at == NOW  # no timestamp: now


def test_json_variant_units_and_unknowns() -> None:
    body = {
        "device_id": "48241179",
        "location": {
            "timestamp": "2026-11-23T00:45:12.862Z",
            "coords": {
                "latitude": 29.6,
                "longitude": 120.3,
                "accuracy": 5,
                "speed": -1,
                "heading": -1,
                "altitude": 5,
            },
            "is_moving": False,
            "odometer": 0,
            "event": "motionchange",
            "battery": {"level": 0.79, "is_charging": False},
            "activity": {"type": "still"},
            "extras": {},
        },
    }
    (fix,) = parse_json(body, NOW)
    assert fix.speed is None and fix.bearing is None  # negative: unknown
    assert fix.attributes == {
        "is_moving": False,
        "odometer": 0,
        "event": "motionchange",
        "batt": 79.0,
        "charge": False,
        "activity": "still",
    }
    body["location"]["coords"]["speed"] = 1.5  # type: ignore[index]
    assert parse_json(body, NOW)[0].speed == 1.5  # m/s as sent


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "1", "lon": "1"}, "id"),
        ({"id": "a", "lat": "95", "lon": "1"}, "lat"),
        ({"id": "a", "lat": "1"}, "lon"),
        ({"id": "a", "lat": "nan", "lon": "1"}, "lat"),
        ({"id": "a", "lat": "1", "lon": "1", "speed": "5000"}, "speed"),
        ({"id": "a", "lat": "1", "lon": "1", "valid": "maybe"}, "valid"),
        ({"id": "a", "lat": "1", "lon": "1", "note": "x" * 201}, "attributes"),
        ({"id": "a" * 65, "lat": "1", "lon": "1"}, "id"),
    ],
)
def test_bad_requests_name_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(OsmandError) as err:
        parse_query(params, NOW)
    assert err.value.field == field
