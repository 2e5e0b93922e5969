"""A schema-driven fuzz of every /api/v1 endpoint: no request, however malformed, gets a 5xx.

Driven by the app itself: the routes come from its URL map (every ``/api/v1`` rule and method),
path parameters from each rule's converters, body keys and query parameter names from the
request models (``dashboard.http``'s pydantic bodies) and the search parameters, their values
from JSON-ish strategies that favour the edges issue 11 found (NUL and other control
characters, ids past 32 bits, years 1 and 9999, strings for booleans). The budget is bounded
(a fixed number of examples per backend, no deadline per example) so the run stays well under a
minute on the shared machine; a 500 re-raises the server's own exception (test_api_support.Api).
Both backends: PostgreSQL refuses what SQLite stores (a NUL in a text), so each finds its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import delete
from werkzeug.routing import IntegerConverter

from dashboard.domain.roles import Role
from dashboard.http import (
    api_camera_layouts,
    api_cameras,
    api_supervision,
    api_supervision_actions,
    schemas,
)
from dashboard.read.case_params import OTHER_PARAMS
from dashboard.storage.models import CameraLayout
from tests.integration.test_api_support import (
    Api,
    api_fixture,  # noqa: F401
    apps_fixture,  # noqa: F401 - the fixture api (both backends) and the apps it shares
)

EXAMPLES = 300
_MODELS: tuple[type[BaseModel], ...] = (
    schemas.CaseIn,
    schemas.ActionIn,
    schemas.PositionsIn,
    api_supervision_actions.CallLogIn,
    api_supervision_actions.SnoozeIn,
    api_supervision_actions.ReplyIn,
    api_supervision_actions.CloseIn,
    api_supervision.OrdersQuery,
    api_supervision.CallsQuery,
    api_camera_layouts.LayoutIn,
    api_cameras.EvidenceIn,
)
_KEYS = sorted({name for model in _MODELS for name in model.model_fields})
_PARAMS = sorted(
    {*_KEYS, *OTHER_PARAMS, "id", "text", "place", "status", "light", "overdue", "from", "to"}
    | {"due_within_hours", "since", "until", "before", "limit", "actor", "action", "near"}
)
_EDGES = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\x1b[2J",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31",
        "2026-11-23T09:00:00+08:00",
        "yes",
        "true",
        "-1",
        str(2**31),
        str(2**63),
        "1e309",
        "NaN",
        "01002",
        "justice",
        "open",
        "-deadline",
        "",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    _EDGES,
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)
_BODIES = st.one_of(
    st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=8),
    _JSON,
    st.binary(max_size=40),
)
_QUERIES = st.dictionaries(
    st.sampled_from(_PARAMS), st.one_of(_EDGES, st.text(max_size=12)), max_size=4
)


def _routes(api: Api) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(method, rule, [(argument, converter kind)]) of every /api/v1 endpoint but the catch-all."""
    found = []
    for rule in api.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or "_rest" in rule.arguments:
            continue
        arguments = [
            (name, "int" if isinstance(conv, IntegerConverter) else "text")
            for name, conv in rule._converters.items()
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, arguments))
    return sorted(found)


def _path(rule: str, arguments: list[tuple[str, str]], values: list[Any]) -> str:
    path = rule
    for (name, _kind), value in zip(arguments, values, strict=True):
        text = quote(str(value), safe="") or "x"  # a path segment, whatever was drawn
        for marker in (f"<int:{name}>", f"<{name}>", f"<string:{name}>", f"<path:{name}>"):
            path = path.replace(marker, text)
    return path


@pytest.fixture
def fuzzed(api: Api) -> Iterator[Api]:
    yield api
    with api.services.db.transaction() as session:
        session.execute(delete(CameraLayout))


def test_no_request_to_any_api_endpoint_gets_a_5xx(fuzzed: Api) -> None:
    api = fuzzed
    routes = _routes(api)
    assert len(routes) >= 20  # the whole API is in the map, not a stub of it
    headers = api.token(Role.ADMIN, "fuzz-admin") | {"Idempotency-Key": "fuzz-1"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        method, rule, arguments = data.draw(st.sampled_from(routes))
        values = [
            data.draw(
                st.integers(0, 2**40) | st.just(2**31)
                if kind == "int"
                else st.text(max_size=70) | _EDGES
            )
            for _, kind in arguments
        ]
        path = _path(rule, arguments, values)
        query = data.draw(_QUERIES)
        body = data.draw(_BODIES)
        kwargs: dict[str, Any] = {"query_string": query, "headers": headers}
        if isinstance(body, bytes):
            kwargs |= {"data": body, "content_type": "application/json"}
        else:
            kwargs["json"] = body
        response = api.request(method, path, **kwargs)
        assert response.status_code < 500, (method, path, query, body, response.data[:300])

    one_request()
