"""A case and a case step in Open311 words (the mapping of dashboard.domain.open311)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.domain.open311 import open311_status
from dashboard.i18n import t
from dashboard.reference import ReferenceData
from dashboard.storage.models import Case, CaseEvent, Open311Request


def _iso(moment: datetime | None) -> str | None:
    """UTC with its offset, whether the time came from the database or the clock."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def status_notes(case: Case, void_reason: str | None) -> str:
    """The case status in words (Chinese, the command room's language); a voided case's
    reason after it."""
    words = t(f"case.{case.status}", "zh")
    return f"{words}：{void_reason}" if void_reason else words


def request_of(
    case: Case,
    reference: ReferenceData,
    intake: Open311Request | None,
    void_reason: str | None = None,
    *,
    with_description: bool = True,
) -> dict[str, Any]:
    code = case.category_code or case.reported_category
    sub = reference.categories.get(code) if code in reference.categories else None
    department = reference.department(case.department_code) if case.department_code else None
    return {
        "service_request_id": str(case.id),
        "status": open311_status(case.status),
        "status_notes": status_notes(case, void_reason),
        "service_name": sub.name_zh if sub else "",
        "service_code": code,
        "description": case.description if with_description else "",
        "agency_responsible": department.name_zh if department else "",
        "service_notice": "",
        "requested_datetime": _iso(case.reported_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.deadline),
        "address": case.address,
        "address_id": case.grid_code,
        "zipcode": "",
        "lat": case.lat,
        "long": case.lon,
        "media_url": intake.media_url if intake is not None else "",
    }


def update_of(case: Case, step: CaseEvent) -> dict[str, Any]:
    """One step of a case as a mySociety ``servicerequestupdates`` item (and webhook body)."""
    note = step.reason or step.note or ""
    words = t(f"case.{step.to_status}", "zh")
    return {
        "update_id": str(step.id),
        "service_request_id": str(case.id),
        "status": open311_status(step.to_status),
        "external_status_code": step.to_status,
        "action": step.action,
        "description": f"{words}：{note}" if note else words,
        "updated_datetime": _iso(step.at),
        "media_url": "",
    }
