"""What schemas miss, by hand, at both doors (/api/v1 and /open311/v2; both backends where
storage is involved): oversized and malformed bodies, unicode edge cases, numbers at their
limits, photos that lie about their type, and an Idempotency-Key sent again with another body.
Every refused request leaves the row counts as they were; nothing answers 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dashboard.domain.roles import Role
from dashboard.storage.models import Attachment, Case
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401
    apps_fixture,  # noqa: F401
    case_body,
    image,
    lite_api_fixture,  # noqa: F401
)

O311 = "/open311/v2/requests.json"


def _key(api: Api) -> str:
    return api.token(Role.INTEGRATION, "hand-key", source="hotline")["Authorization"]


def _form(api: Api, **extra: Any) -> dict[str, str]:
    grid = api.grid(0)
    values = {"service_code": "01002", "lat": str(grid.lat), "long": str(grid.lon)}
    values["description"] = "路灯不亮"
    values.update(extra)
    return values


def _refused(api: Api, answer: Any, before: dict[str, int]) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.data[:300])
    assert api.counts() == before


def test_oversized_and_malformed_bodies(lite_api: Api) -> None:
    api = lite_api
    phone, key = api.token(Role.GRID_WORKER), {"Authorization": _key(api)}
    before = api.counts()
    big = b"x" * (33 * 1024 * 1024)
    _refused(
        api,
        api.post("/api/v1/cases", data=big, headers=phone, content_type="application/json"),
        before,
    )
    _refused(
        api,
        api.client.post(
            O311, data=big, headers=key, content_type="application/x-www-form-urlencoded"
        ),
        before,
    )
    for raw in (b"{", b"[]", b"null", b'{"category": "01002"', b"\xff\xfe", b'{"a":' * 5000):
        _refused(
            api,
            api.post("/api/v1/cases", data=raw, headers=phone, content_type="application/json"),
            before,
        )
    for raw in (
        b"service_code=01002&lat=%zz&long=1",
        b"%",
        b"&&&&=&=",
        b"service_code=01002&" + b"a=1&" * 100,  # too many parameters
        b"description=" + b"a" * 5000,
        b"service_code=01002&service_code=01001&lat=29.7&long=120.2&description=x",
        b"\xff\xfe\x00",
    ):
        answer = api.client.post(
            O311, data=raw, headers=key, content_type="application/x-www-form-urlencoded"
        )
        _refused(api, answer, before)
        assert isinstance(answer.get_json(), list)  # the spec's error format
    xml_body = api.client.post(O311, data=b"<request/>", headers=key, content_type="text/xml")
    _refused(api, xml_body, before)


@pytest.mark.parametrize(
    "text",
    [
        "🚧 井盖缺失 🕳️ 👨‍👩‍👧",  # 4-byte characters and joiners
        "\u202eRTL override\u202c 与 ‮反向‬",
        "zero\u200bwidth\ufeffBOM",
        "e\u0301 é Å Å",  # combining and precomposed
        "𠀀𪚥 rare CJK",
    ],
)
def test_unicode_edges_are_stored_as_sent(api: Api, text: str) -> None:
    key = {"Authorization": _key(api)}
    answer = api.client.post(
        O311, data=_form(api, description=text, address_string=text), headers=key
    )
    assert answer.status_code == 201, answer.data
    case_id = int(answer.get_json()[0]["service_request_id"])
    with api.services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.description == text.strip() and case.address == text
    shown = api.client.get(f"/open311/v2/requests/{case_id}.json", headers=key).get_json()[0]
    assert shown["description"] == text.strip()
    xml = api.client.get(f"/open311/v2/requests/{case_id}.xml", headers=key)
    assert xml.status_code == 200
    from xml.etree import ElementTree as ET

    assert ET.fromstring(xml.data).find("request/description").text == text.strip()


def test_bad_unicode_is_refused(lite_api: Api) -> None:
    api = lite_api
    key = {"Authorization": _key(api)}
    before = api.counts()
    for raw in (
        b"description=%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
        b"description=\xc3\x28",  # invalid UTF-8
        b"description=a%00b",
        b"description=%1B%5B2J",  # an escape sequence
    ):
        body = b"service_code=01002&lat=29.7&long=120.2&" + raw
        answer = api.client.post(
            O311, data=body, headers=key, content_type="application/x-www-form-urlencoded"
        )
        _refused(api, answer, before)
    phone = api.token(Role.GRID_WORKER)
    for raw in (b'{"description": "\\ud800"}', b'{"description": "a\\u0000b"}'):
        answer = api.post("/api/v1/cases", data=raw, headers=phone, content_type="application/json")
        _refused(api, answer, before)


def test_numbers_at_their_limits(lite_api: Api) -> None:
    api = lite_api
    key = {"Authorization": _key(api)}
    before = api.counts()
    for lat, long in (
        ("90.0000001", "120"),
        ("-90.1", "120"),
        ("29", "180.000001"),
        ("1e308", "1"),
        ("inf", "1"),
        ("-inf", "1"),
        ("nan", "nan"),
        ("0x1d", "120"),
        ("1e-400", "0"),
        ("29,7", "120"),
        ("", "120.2"),
    ):
        _refused(
            api, api.client.post(O311, data=_form(api, lat=lat, long=long), headers=key), before
        )
    for params in (
        {"page": "10001"},
        {"page": "0"},
        {"page_size": "201"},
        {"page": "9" * 30},
        {"service_request_id": str(2**63)},
        {"service_request_id": "-1"},
        {"page": "١"},
    ):  # an Arabic-Indic digit: isdigit() but not ASCII
        answer = api.client.get("/open311/v2/requests.json", query_string=params, headers=key)
        assert answer.status_code == 400, (params, answer.data)
    assert (
        api.client.get(
            "/open311/v2/requests.json",
            query_string={"page": "10000", "page_size": "200"},
            headers=key,
        ).status_code
        == 200
    )
    assert api.client.get(f"/open311/v2/requests/{2**31}.json", headers=key).status_code == 404
    assert (
        api.client.get("/open311/v2/requests/99999999999999999999.json", headers=key).status_code
        == 404
    )
    phone = api.token(Role.GRID_WORKER)
    for lat in (90.0000001, -91, 1e308):
        _refused(
            api, api.post("/api/v1/cases", json=case_body(api, lat=lat), headers=phone), before
        )
    _refused(
        api,
        api.post(
            "/api/v1/cases", data=b'{"lat": 1e999}', headers=phone, content_type="application/json"
        ),
        before,
    )
    assert api.get(f"/api/v1/cases/{2**31}", headers=phone).status_code == 404


def test_photos_that_lie_about_their_type(api: Api) -> None:
    phone = api.token(Role.GRID_WORKER)
    jpeg = image(".jpg")
    liars = [
        (b"GIF89a" + b"\x00" * 64, "photo.jpg"),  # a GIF header named .jpg
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png"),
        (b"%PDF-1.7\n" + b"0" * 100, "scan.jpg"),
        (jpeg[:40], "cut.jpg"),  # a JPEG cut off after its header
        (jpeg[:4] + b"\x00" * 2000, "fake.jpg"),  # JPEG magic, then nothing
        (b"#!/bin/sh\nrm -rf /\n", "run.webp"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "w.webp"),
        (b"", "empty.jpg"),
    ]
    before = api.counts()
    for data, name in liars:
        answer = api.post(
            "/api/v1/cases", data={**case_body(api), "photos": [(data, name)]}, headers=phone
        )
        assert answer.status_code in (413, 422), (name, answer.status_code, answer.data)
        assert api.counts() == before, name
        assert api.photo_files() == []
    png = image(".png")
    named_jpeg = api.post(
        "/api/v1/cases", data={**case_body(api), "photos": [(png, "really.jpg")]}, headers=phone
    )
    assert named_jpeg.status_code == 201  # a real PNG with a wrong name: stored as what it is
    with api.services.db.read() as session:
        stored = session.scalars(select(Attachment)).one()
        assert stored.content_type == "image/png"


def test_an_idempotency_key_sent_again_with_another_body(api: Api) -> None:
    phone = api.token(Role.GRID_WORKER)
    first = api.post(
        "/api/v1/cases", json=case_body(api), headers={**phone, "Idempotency-Key": "k-1"}
    )
    assert first.status_code == 201
    again = api.post(
        "/api/v1/cases", json=case_body(api), headers={**phone, "Idempotency-Key": "k-1"}
    )
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    before = api.counts()
    other = api.post(
        "/api/v1/cases",
        json=case_body(api, description="另一件事"),
        headers={**phone, "Idempotency-Key": "k-1"},
    )
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_key_reused"
    assert api.counts() == before
    key = {"Authorization": _key(api), "Idempotency-Key": "hotline-call-881"}
    made = api.client.post(O311, data=_form(api), headers=key)
    assert made.status_code == 201
    retried = api.client.post(O311, data=_form(api), headers=key)
    assert retried.get_json() == made.get_json()  # the same request id and token
    before = api.counts()
    changed = api.client.post(O311, data=_form(api, description="换了内容"), headers=key)
    _refused(api, changed, before)
    assert "Idempotency-Key" in changed.get_json()[0]["description"]
    bad = api.client.post(O311, data=_form(api), headers={**key, "Idempotency-Key": "x" * 65})
    _refused(api, bad, before)
