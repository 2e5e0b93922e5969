"""The simulator's client inside the server process: the app's own services, no HTTP.

Cases go through ``CaseService`` exactly as the API's would (same validation, same state
machine, same transaction with the audit trail, the village light and the outbox event), and
position fixes through ``PositionService`` (stored, then published to the wall as one batch).
Permissions are the API's business; here every simulated person acts with their own role.
Result photos are synthetic JPEGs stored like uploads (the case page shows them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dashboard.domain.errors import DomainError
from dashboard.domain.permissions import UNLIMITED
from dashboard.domain.status import CaseStatus, Source
from dashboard.services.cases import CaseRecord, CaseReport
from dashboard.services.photos import PhotoStore
from dashboard.services.positions import Fix as PositionFix
from dashboard.services.positions import PositionService
from dashboard.simulator.client import (
    Act,
    CaseRef,
    Fix,
    OpenCase,
    Refused,
    Report,
    SimClient,
    Unavailable,
    VillageInfo,
)
from dashboard.simulator.photos import synthetic_jpeg
from dashboard.storage.db import StorageError
from dashboard.storage.models import Case, Village

if TYPE_CHECKING:
    from dashboard.container import Services

logger = logging.getLogger(__name__)


class InProcessClient(SimClient):
    def __init__(self, services: Services, photo_salt: str = "") -> None:
        self.services = services
        self.positions = PositionService(services.db, services.bus, services.locator)
        # Result photos are real JPEGs in the app's photo store, so the case page shows them.
        self.photos = PhotoStore(services.config.data_dir() / "photos")
        self._salt = photo_salt

    def report(self, report: Report) -> CaseRef:
        request = CaseReport(
            category_code=report.category,
            description=report.description,
            lon=report.lon,
            lat=report.lat,
            source=report.source,
            actor=report.actor,
            role=report.role,
            reporter=report.reporter,
            emergency=report.emergency,
            occurred_at=report.occurred_at,
            idempotency_key=report.idempotency_key,
        )
        with _translated():
            return _ref(self.services.cases.report(request))

    def act(self, case_id: int, act: Act) -> CaseRef:
        photos = [
            self.photos.inspect(synthetic_jpeg(case_id, n, self._salt)) for n in range(act.photos)
        ]
        request = act.request(tuple(p.sha256 for p in photos))
        with _translated():
            return _ref(self.services.cases.act(case_id, request, photos))

    def send_fixes(self, fixes: Sequence[Fix]) -> int:
        if not fixes:
            return 0
        batch = [PositionFix(f.worker, f.lon, f.lat, f.at, f.accuracy) for f in fixes]
        with _translated():
            result = self.positions.submit(batch, self.services.clock.now(), UNLIMITED)
        return result.stored

    def open_cases(self) -> list[OpenCase]:
        with _translated(), self.services.db.read() as session:
            rows = session.scalars(select(Case).where(Case.open.is_(True)).order_by(Case.id))
            return [
                OpenCase(
                    id=row.id,
                    status=CaseStatus(row.status),
                    source=Source(row.source),
                    emergency=bool(row.emergency),
                    category=row.category_code or row.reported_category,
                    village=row.village_code,
                    grid=row.grid_code,
                    department=row.department_code,
                    deadline=row.deadline,
                )
                for row in rows
            ]

    def villages(self) -> list[VillageInfo]:
        with _translated(), self.services.db.read() as session:
            rows = session.execute(
                select(Village.code, Village.status, Village.open_ratio).order_by(Village.code)
            ).all()
        return [VillageInfo(code, status, ratio) for code, status, ratio in rows]


@contextmanager
def _translated() -> Iterator[None]:
    """Turn the services' exceptions into the simulator's three (see ``client``)."""
    try:
        yield
    except DomainError as err:
        raise Refused(err.code, err.message) from err
    except IntegrityError as err:  # e.g. a fix of a worker the database does not know
        raise Refused("integrity", type(err.orig).__name__) from err
    except (SQLAlchemyError, StorageError) as err:
        raise Unavailable("database", type(err).__name__) from err


def _ref(record: CaseRecord) -> CaseRef:
    return CaseRef(
        id=record.id,
        status=CaseStatus(record.status),
        village=record.village_code,
        grid=record.grid_code,
        deadline=record.deadline,
    )
