"""The Open311 GeoReport v2 door over the real app (both backends): discovery and services from
the category tree, keys and their source, the standard filters and paging, JSON and XML, the
spec's error format, scope, media_url, and servicerequestupdates both ways. Every JSON answer is
validated against the schemas written from the spec (open311_schemas)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from dashboard.domain.roles import Role
from dashboard.storage.models import Case, Open311Request, Open311Update
from tests.integration import open311_schemas as schemas
from tests.integration.support import TO_CLOSED
from tests.integration.support import request as step
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401
    apps_fixture,  # noqa: F401
    lite_api_fixture,  # noqa: F401
)

ROOT = "/open311/v2"


def key(api: Api, source: str = "hotline", name: str = "hotline-12345", **scope: Any) -> str:
    headers = api.token(Role.INTEGRATION, name=name, source=source, **scope)
    return headers["Authorization"].removeprefix("Bearer ")


def form(api: Api, api_key: str, grid_index: int = 0, **extra: Any) -> dict[str, str]:
    grid = api.grid(grid_index)
    values = {
        "api_key": api_key,
        "service_code": "01002",
        "lat": str(grid.lat),
        "long": str(grid.lon),
        "description": "市民来电：两户因排水沟堵塞发生争执",
        "first_name": "小明",
        "last_name": "王",
        "phone": "138 0000 0000",
    }
    values.update({k: str(v) for k, v in extra.items()})
    return values


def post(api: Api, path: str, data: dict[str, str], **kwargs: Any) -> Any:
    return api.client.post(f"{ROOT}/{path}", data=data, **kwargs)


def get(api: Api, path: str, **params: Any) -> Any:
    return api.client.get(f"{ROOT}/{path}", query_string=params)


def error_of(response: Any) -> dict[str, Any]:
    assert response.mimetype == "application/json", response.data[:200]
    body = schemas.check(schemas.ERRORS, response.get_json())
    assert body[0]["code"] == response.status_code
    return body[0]


def test_discovery_and_services_come_from_the_category_tree(api: Api) -> None:
    found = schemas.check(schemas.DISCOVERY, get(api, "discovery.json").get_json())
    assert found["endpoints"][0]["url"].endswith("/open311/v2")
    services = schemas.check(schemas.SERVICES, get(api, "services.json").get_json())
    tree = api.services.reference.categories
    assert [s["service_code"] for s in services] == [sub.code for sub in tree.subs]
    dispute = next(s for s in services if s["service_code"] == "01002")
    assert dispute["service_name"] == tree.get("01002").name_zh
    assert dispute["group"] == tree.major("01").name_zh
    definition = get(api, "services/01002.json").get_json()
    schemas.check(schemas.SERVICE_DEFINITION, definition)
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["closure", "occurred_at", "emergency"]
    xml = ET.fromstring(get(api, "services.xml").data)
    assert xml.tag == "services" and len(xml.findall("service")) == len(services)
    assert xml.find("service/service_code").text == services[0]["service_code"]
    missing = get(api, "services/99999.xml")
    assert missing.status_code == 404 and missing.mimetype == "text/xml"
    assert ET.fromstring(missing.data).find("error/code").text == "404"
    error_of(get(api, "services/99999.json"))


def test_a_request_becomes_a_case_with_the_keys_source(api: Api) -> None:
    api_key = key(api, "police", "police-110")
    before = api.counts()
    answer = post(api, "requests.json", form(api, api_key, media_url="https://img.example/1.jpg"))
    assert answer.status_code == 201, answer.data
    created = schemas.check(schemas.CREATED, answer.get_json())[0]
    case_id = int(created["service_request_id"])
    after = api.counts()
    assert after["cases"] == before["cases"] + 1
    with api.services.db.read() as session:
        case = session.get(Case, case_id)
        intake = session.get(Open311Request, case_id)
        assert case is not None and intake is not None
        assert (case.source, case.status, case.reporter) == (
            "police",
            "reported",
            "王小明 138 0000 0000",
        )
        assert intake.token == created["token"] and intake.media_url == "https://img.example/1.jpg"
    # The key reads it back, by id, by token, in JSON and XML.
    one = schemas.check(
        schemas.REQUESTS, get(api, f"requests/{case_id}.json", api_key=api_key).get_json()
    )
    assert one[0]["status"] == "open" and one[0]["media_url"] == "https://img.example/1.jpg"
    assert one[0]["address_id"] == case.grid_code and one[0]["service_code"] == "01002"
    token = schemas.check(
        schemas.TOKENS, get(api, f"tokens/{created['token']}.json", api_key=api_key).get_json()
    )
    assert token == [{"service_request_id": str(case_id), "token": created["token"]}]
    xml = ET.fromstring(get(api, f"requests/{case_id}.xml", api_key=api_key).data)
    assert xml.tag == "service_requests"
    assert xml.find("request/service_request_id").text == str(case_id)
    assert xml.find("request/lat").text == str(one[0]["lat"])


def test_refusals_use_the_spec_format_and_write_nothing(lite_api: Api) -> None:
    api = lite_api
    api_key = key(api)
    no_source = key(api, source="", name="no-source")
    phone = api.token(Role.GRID_WORKER)["Authorization"].removeprefix("Bearer ")
    good = form(api, api_key)
    refused = [
        ({**good, "api_key": ""}, 403),
        ({**good, "api_key": "gcc_not-a-key"}, 403),
        ({**good, "api_key": phone}, 403),  # a phone's token is not an integration key
        ({**good, "api_key": no_source}, 403),
        ({**good, "service_code": ""}, 400),
        ({**good, "service_code": "99999"}, 400),
        ({**good, "lat": "NaN"}, 400),
        ({**good, "lat": "91"}, 400),
        ({k: v for k, v in good.items() if k != "long"}, 400),
        ({k: v for k, v in good.items() if k not in ("lat", "long")}, 400),
        ({**good, "lat": "0", "long": "0"}, 400),  # outside every village
        ({**good, "address_id": "x", "lat": "", "long": ""}, 400),
        ({**good, "description": ""}, 400),
        ({**good, "description": "字" * 2001}, 400),
        ({**good, "description": "a\x00b"}, 400),
        ({**good, "media_url": "file:///etc/passwd"}, 400),
        ({**good, "attribute[emergency]": "yes"}, 400),
        ({**good, "attribute[occurred_at]": "2026-11-23T08:00:00"}, 400),  # no zone
        ({**good, "attribute[occurred_at]": "0001-01-01T00:00:00Z"}, 400),
        ({**good, "phone": "<script>"}, 400),
        ({**good, "jurisdiction_id": "999999"}, 404),
    ]
    before = api.counts()
    for data, status in refused:
        answer = post(api, "requests.json", data)
        assert answer.status_code == status, (data, answer.data)
        error_of(answer)
        assert api.counts() == before, data
    json_body = api.client.post(f"{ROOT}/requests.json", json=good)
    assert json_body.status_code == 403  # the key first: a JSON body carries no form field
    error_of(json_body)
    bearer = {"Authorization": f"Bearer {api_key}"}
    json_body = api.client.post(f"{ROOT}/requests.json", json=good, headers=bearer)
    assert json_body.status_code == 400  # then the body: a form, not JSON
    assert "form-encoded" in error_of(json_body)["description"]
    assert error_of(api.client.delete(f"{ROOT}/requests.json"))["code"] in (404, 405)
    assert error_of(get(api, "nothing-here.json"))["code"] == 404
    assert api.counts() == before


def test_a_request_by_grid_code_and_an_area_key(api: Api) -> None:
    first, other = api.grid(0), api.grid(60)
    area_key = key(api, name="town-key", area=first.village_code)
    by_grid = post(
        api,
        "requests.json",
        {**form(api, area_key), "lat": "", "long": "", "address_id": first.code},
    )
    assert by_grid.status_code == 201, by_grid.data
    elsewhere = post(api, "requests.json", form(api, area_key, grid_index=60))
    if other.village_code.startswith(first.village_code):
        pytest.skip("the seeded town put both grids in one village")
    assert elsewhere.status_code == 403
    error_of(elsewhere)
    # The area key reads only its area: a case elsewhere is a 404, not a leak.
    all_key = key(api, name="county-key")
    far = schemas.check(
        schemas.CREATED, post(api, "requests.json", form(api, all_key, grid_index=60)).get_json()
    )
    far_id = far[0]["service_request_id"]
    assert get(api, f"requests/{far_id}.json", api_key=area_key).status_code == 404
    listed = get(api, "requests.json", api_key=area_key).get_json()
    assert far_id not in [r["service_request_id"] for r in listed]


def test_filters_and_paging(api: Api) -> None:
    api_key = key(api)
    ids = []
    for i in range(5):
        api.clock.set(api.clock.now() + timedelta(minutes=1))
        code = "01002" if i % 2 == 0 else "01001"
        answer = post(
            api, "requests.json", form(api, api_key, service_code=code, description=f"第{i}件")
        )
        ids.append(schemas.check(schemas.CREATED, answer.get_json())[0]["service_request_id"])
    listed = schemas.check(schemas.REQUESTS, get(api, "requests.json", api_key=api_key).get_json())
    assert [r["service_request_id"] for r in listed] == ids[::-1]  # newest first
    disputes = get(api, "requests.json", api_key=api_key, service_code="01002").get_json()
    assert [r["service_request_id"] for r in disputes] == [ids[4], ids[2], ids[0]]
    page2 = get(api, "requests.json", api_key=api_key, page=2, page_size=2).get_json()
    assert [r["service_request_id"] for r in page2] == [ids[2], ids[1]]
    chosen = get(
        api,
        "requests.json",
        api_key=api_key,
        service_request_id=f"{ids[1]},{ids[3]}",
        status="closed",
    ).get_json()
    assert [r["service_request_id"] for r in chosen] == [ids[1], ids[3]]  # ids override the rest
    assert get(api, "requests.json", api_key=api_key, status="closed").get_json() == []
    now = api.clock.now()
    window = get(
        api,
        "requests.json",
        api_key=api_key,
        start_date=(now - timedelta(minutes=1, seconds=30)).isoformat(),
        end_date=now.isoformat(),
    ).get_json()
    assert [r["service_request_id"] for r in window] == [ids[4], ids[3]]
    for params in (
        {"start_date": (now - timedelta(days=91)).isoformat(), "end_date": now.isoformat()},
        {"start_date": "yesterday"},
        {"start_date": "2026-11-23T09:00:00"},
        {"end_date": "9999-12-31T00:00:00Z"},
        {"status": "pending"},
        {"page_size": "0"},
        {"page_size": "201"},
        {"page": "-1"},
        {"service_request_id": "1,abc"},
        {"service_request_id": ",".join(["1"] * 101)},
        {"service_code": "01002,x"},
    ):
        answer = get(api, "requests.json", api_key=api_key, **params)
        assert answer.status_code == 400, (params, answer.data)
        error_of(answer)
    assert get(api, "requests.json").status_code == 403  # no key, no anonymous reads


def test_updates_both_ways(api: Api) -> None:
    api_key = key(api)
    created = post(api, "requests.json", form(api, api_key)).get_json()[0]
    case_id = int(created["service_request_id"])
    for action in TO_CLOSED:
        api.clock.set(api.clock.now() + timedelta(minutes=5))
        api.services.cases.act(case_id, step(action))
    updates = schemas.check(
        schemas.UPDATES, get(api, "servicerequestupdates.json", api_key=api_key).get_json()
    )
    mine = [u for u in updates if u["service_request_id"] == str(case_id)]
    assert [u["external_status_code"] for u in mine] == [
        "reported",
        "accepted",
        "registered",
        "dispatched",
        "handling",
        "handled",
        "checked",
        "closed",
    ]
    assert [u["status"] for u in mine][-1] == "closed" and mine[0]["status"] == "open"
    closed = schemas.check(
        schemas.REQUESTS, get(api, f"requests/{case_id}.json", api_key=api_key).get_json()
    )[0]
    assert closed["status"] == "closed" and closed["agency_responsible"]
    # In: the hotline passes on the caller's rating; sent twice, taken once.
    update = {
        "api_key": api_key,
        "service_request_id": str(case_id),
        "update_id": "hotline-7781",
        "status": "closed",
        "updated_datetime": api.clock.now().isoformat(),
        "description": "市民回访：满意",
        "satisfaction": "5",
    }
    first = post(api, "servicerequestupdates.json", update)
    assert first.status_code == 201, first.data
    taken = schemas.check(schemas.UPDATE_TAKEN, first.get_json())
    again = post(api, "servicerequestupdates.json", update)
    assert again.get_json() == taken
    with api.services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and (case.status, case.satisfaction) == ("evaluated", 5)
        assert session.query(Open311Update).count() == 1
    bad = post(api, "servicerequestupdates.json", {**update, "update_id": "x2", "status": "fixed"})
    assert bad.status_code == 400
    error_of(bad)
    unknown = post(
        api,
        "servicerequestupdates.json",
        {**update, "update_id": "x3", "service_request_id": "999999"},
    )
    assert unknown.status_code == 404
    error_of(unknown)


def test_searches_spend_the_keys_search_bucket(lite_api: Api) -> None:
    from dashboard.security.ratelimit import MemoryBuckets

    api = lite_api
    api_key = key(api)
    limits = api.app.extensions["gcc_heavy_limits"]
    before = limits["search"]
    limits["search"] = MemoryBuckets(rate=0.001, burst=2)
    try:
        for _ in range(2):
            assert get(api, "requests.json", api_key=api_key).status_code == 200
        limited = get(api, "servicerequestupdates.xml", api_key=api_key)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert ET.fromstring(limited.data).find("error/code").text == "429"
        assert get(api, "requests/1.json", api_key=api_key).status_code == 404  # not a search
    finally:
        limits["search"] = before
