"""Fixtures and helpers of the intake API tests (test_api_*.py); this module holds no tests.

The app is the real one: ``create_app(build_services(config))`` over the seeded town of
tests/integration/conftest.py (SQLite file and PostgreSQL database, seeded once per session),
with the clock fixed at TOWN_NOW. One app per backend per session; before and after every test
the tables the API writes are emptied and the photo directory cleared.

Multipart bodies are encoded in memory (``data={"photos": [(bytes, name)], ...}``): the test
client would spool a large one to a temporary file it never closes. A 500 answer re-raises the
exception the server logged, so a test fails (or a strict xfail matches) on the real error
instead of on "500 != 200".
"""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from dashboard.accounts import create_token, create_user
from dashboard.app import create_app
from dashboard.clock import FixedClock
from dashboard.config import parse_config
from dashboard.container import Services
from dashboard.domain.roles import Role
from dashboard.storage.models import (
    ApiToken,
    Attachment,
    CameraLayout,
    Campaign,
    Case,
    CaseEvent,
    Grid,
    GridWorker,
    Open311Request,
    Open311Update,
    OutboxEvent,
    PointsClaim,
    PointsEntry,
    PointsRedemption,
    PointsReward,
    PositionFix,
    Resident,
    ResidentFile,
    ServiceRequest,
    ServiceRequestEvent,
    User,
    Village,
    WebhookDelivery,
    WebhookSubscription,
    WebSession,
    WorkerPosition,
)
from dashboard.wiring import build_services
from tests.integration.support import TOWN_NOW, SeededTown, token_scope

MAX_PHOTO_MB = 1  # small, so the 413 test needs only a megabyte
# In delete order (rows that point to others first).
# The residents' tables (issue 18): PostgreSQL's trigger keeps the points ledger append-only, so
# they are emptied there with TRUNCATE (the owner's right), as test_residents_api does.
_RESIDENTS = (
    *(ResidentFile, ServiceRequestEvent, ServiceRequest, PointsRedemption),
    *(PointsEntry, PointsClaim, PointsReward, Resident),
)
_WRITTEN = (
    *_RESIDENTS,
    *(Campaign, CameraLayout),  # issue 13; the video wall's layouts
    *(WebhookDelivery, WebhookSubscription, Open311Update, Open311Request),  # issue 17
    *(PositionFix, WorkerPosition, OutboxEvent, Attachment, CaseEvent, Case),
)


class _ServerErrors(logging.Handler):
    """Keeps the exceptions the API's 500 handler logs, to re-raise them in the test."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


@dataclass
class Api:
    """One test's handle on the app: the client, the services, tokens, row counts."""

    app: Flask
    services: Services
    clock: FixedClock
    photos_dir: Path
    errors: _ServerErrors
    client: FlaskClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = self.app.test_client()

    @property
    def backend(self) -> str:
        return self.services.db.dialect

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        if isinstance(kwargs.get("data"), dict):
            boundary, kwargs["data"] = encode_multipart(_files(kwargs["data"]))
            kwargs["content_type"] = f"multipart/form-data; boundary={boundary}"
        self.errors.errors.clear()
        response = self.client.open(path, method=method, **kwargs)
        response.make_sequence()  # read a streamed body (a served file) now ...
        response.close()  # ... and close the file behind it
        if response.status_code == 500 and self.errors.errors:
            raise self.errors.errors[-1]
        return response

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def token(
        self, role: Role, name: str | None = None, area: str | None = None, **scope: Any
    ) -> dict[str, str]:
        """Headers carrying a new bearer token (the name defaults to the role; the scope to
        ``support.token_scope``'s)."""
        name = name or role.value
        with self.services.db.transaction() as session:
            scope = token_scope(session, role, name, area_code=area, **scope)
            issued = create_token(session, name, role, TOWN_NOW, **scope)
        return {"Authorization": f"Bearer {issued.token}"}

    def user(self, username: str, role: Role, **kwargs: Any) -> None:
        with self.services.db.transaction() as session:
            create_user(session, username, role, "correct horse battery", TOWN_NOW, **kwargs)

    def counts(self) -> dict[str, int]:
        """Rows of every table the API writes, in one round trip (the fuzzer asks per call)."""
        each = [
            select(func.count()).select_from(m).scalar_subquery().label(m.__tablename__)
            for m in _WRITTEN
        ]
        with self.services.db.read() as session:
            return dict(session.execute(select(*each)).one()._mapping)

    def photo_files(self) -> list[str]:
        return sorted(p.name for p in self.photos_dir.glob("*")) if self.photos_dir.exists() else []

    def grid(self, index: int = 0) -> Grid:
        with self.services.db.read() as session:
            return session.scalars(select(Grid).order_by(Grid.code).offset(index).limit(1)).one()

    def workers(self, n: int) -> list[GridWorker]:
        with self.services.db.read() as session:
            return list(session.scalars(select(GridWorker).order_by(GridWorker.id).limit(n)))


def case_body(api: Api, grid_index: int = 0, **overrides: Any) -> dict[str, Any]:
    """A grid worker's report at the centroid of a grid (inside it: the seed makes sure)."""
    grid = api.grid(grid_index)
    body: dict[str, Any] = {
        "category": "01002",
        "description": "两户因排水沟堵塞发生争执",
        "lat": grid.lat,
        "lon": grid.lon,
        "source": "grid_worker",
    }
    body.update(overrides)
    return body


def _files(fields: dict[str, Any]) -> dict[str, Any]:
    """Form fields with ``(bytes, name)`` pairs (alone or in a list) turned into files."""

    def one(value: Any) -> Any:
        if isinstance(value, tuple):
            data, name = value
            return FileStorage(io.BytesIO(data), name, "photos")
        return value if isinstance(value, FileStorage) else str(value)

    return {
        k: [one(v) for v in value] if isinstance(value, list) else one(value)
        for k, value in fields.items()
    }


def image(ext: str = ".jpg", width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A real, decodable image made with OpenCV (different ``seed`` → different bytes)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(ext, pixels)
    assert ok
    return bytes(encoded.tobytes())


def _reset(services: Services, photos_dir: Path) -> None:
    with services.db.transaction() as session:
        truncated = _RESIDENTS if services.db.dialect == "postgresql" else ()
        if truncated:
            session.execute(text(f"TRUNCATE {', '.join(m.__tablename__ for m in truncated)}"))
        for model in (*_WRITTEN, WebSession, User, ApiToken):
            if model not in truncated:  # below the ORM: its guard refuses to empty the ledger
                session.connection().execute(model.__table__.delete())  # type: ignore[attr-defined]
        session.execute(
            update(Village).values(
                status="ok", red_since=None, red_reasons="", open_ratio=None, status_changed_at=None
            )
        )
    shutil.rmtree(photos_dir, ignore_errors=True)


def _build(seeded: SeededTown, data_dir: Path) -> tuple[Services, Flask, _ServerErrors]:
    url = seeded.db.engine.url.render_as_string(hide_password=False)
    config = parse_config(
        f'[server]\ndata_dir = "{data_dir}"\n[database]\nurl = "{url}"\n'
        "[security]\ntoken_rate_per_second = 10000\ntoken_burst = 100000\n"
        "search_burst = 100000\nexport_burst = 100000\n"
        f"max_photo_mb = {MAX_PHOTO_MB}\n",
        "test config",
    )
    services = build_services(config, FixedClock(TOWN_NOW))
    app = create_app(services)
    app.testing = True
    errors = _ServerErrors()
    logging.getLogger("dashboard.http.api").addHandler(errors)
    return services, app, errors


@pytest.fixture(name="_apps", scope="session")
def apps_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    built: dict[str, Any] = {}
    yield built
    for services, _app, errors, _dir in built.values():
        logging.getLogger("dashboard.http.api").removeHandler(errors)
        services.close()


def _api(request: pytest.FixtureRequest, backend: str) -> Iterator[Api]:
    built: dict[str, Any] = request.getfixturevalue("_apps")
    if backend not in built:
        seeded: SeededTown = request.getfixturevalue(f"_town_{backend}")
        data_dir = request.getfixturevalue("tmp_path_factory").mktemp(f"api-{backend}")
        built[backend] = (*_build(seeded, data_dir), data_dir / "photos")
    services, app, errors, photos_dir = built[backend]
    clock = services.clock
    assert isinstance(clock, FixedClock)
    clock.set(TOWN_NOW)
    _reset(services, photos_dir)
    yield Api(app, services, clock, photos_dir, errors)
    _reset(services, photos_dir)


@pytest.fixture(name="api", params=["sqlite", "postgresql"])
def api_fixture(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The API over the seeded town, on each backend."""
    yield from _api(request, request.param)


@pytest.fixture(name="lite_api")
def lite_api_fixture(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The API on SQLite alone: for the many error cases, whose handling is backend-free."""
    yield from _api(request, "sqlite")


@pytest.fixture(name="pg_api")
def pg_api_fixture(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The API on PostgreSQL alone: for what only PostgreSQL does (row locks held by a test)."""
    yield from _api(request, "postgresql")
