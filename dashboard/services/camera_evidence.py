"""A camera's frame saved as evidence on a case (the video check's "save snapshot").

The frame goes the way every case photo goes (dashboard.services.photos: checked by
``PhotoStore.inspect``, content-addressed file, ``attachments`` row) and reaches the case's trail
the way photos of a step do: a ``CaseEvent`` (action ``evidence``, status unchanged) naming the
attachment in ``attachments.ids`` and the camera in ``details``. The audit hook mirrors that event
into the audit log as ``case.evidence`` in the same transaction, beside the ``camera_evidence``
view entry, so "who saved which camera's frame, when" is answered by both trails.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from dashboard.domain.errors import DomainError
from dashboard.security.audit import record_camera_view
from dashboard.security.principal import Principal
from dashboard.security.scoping import case_visible, ensure_may_change
from dashboard.services.cases import CaseNotFound
from dashboard.services.photos import Photo, attach_photos
from dashboard.storage.models import Case, CaseEvent

if TYPE_CHECKING:
    from dashboard.container import Services

EVIDENCE_ACTION = "evidence"


class CaseFinished(DomainError):
    """The case is closed or void: no new evidence (HTTP 409)."""


class CapturedFrame(Protocol):
    """What is kept of the frame (streams.capture.client.Frame has it)."""

    @property
    def at(self) -> datetime: ...


def save_evidence(
    services: Services,
    case_id: int,
    who: Principal,
    camera: dict[str, Any],
    frame: CapturedFrame,
    photo: Photo,
    ip: str = "",
) -> dict[str, Any]:
    """Attach ``photo`` (the frame's JPEG) to the case and write the trail step; one transaction.

    Raises CaseNotFound (missing or outside the principal's scope), ReadOnlyRole, CaseFinished,
    DuplicatePhoto.
    """
    now = services.clock.now()
    with services.db.transaction() as session:
        row = session.get(Case, case_id)
        if row is None or not case_visible(who, row):
            raise CaseNotFound("case_not_found", f"there is no case {case_id}")
        ensure_may_change(who, row)
        if not row.open:
            raise CaseFinished("case_finished", f"case {case_id} is {row.status}; no new evidence")
        (attachment_id,) = attach_photos(session, case_id, [photo], who.name, now)
        session.add(
            CaseEvent(
                case_id=case_id,
                action=EVIDENCE_ACTION,
                from_status=row.status,
                to_status=row.status,
                at=now,
                actor=who.name,
                role=who.role.value,
                note="",
                reason=None,
                details={
                    "camera_id": camera["id"],
                    "camera_name": camera["name"],
                    "frame_at": frame.at.isoformat(),
                },
                attachments={"ids": [attachment_id]},
            )
        )
        record_camera_view(session, who.actor(ip), camera["id"], now, kind="evidence")
    return {
        "attachment_id": attachment_id,
        "camera_id": camera["id"],
        "at": frame.at.isoformat(),
        "saved_at": now.isoformat(),
    }
