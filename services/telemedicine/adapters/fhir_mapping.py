"""Teleconsult <-> FHIR R4B: a consult Task partOf the referral Task, and the neurologist's page."""

from __future__ import annotations

from datetime import UTC, datetime

from services.telemedicine.adapters.wording import NOTICES, Notice
from services.telemedicine.domain.model import Consult
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.ids import derived_id
from shared.fhir.models import ServiceRequest, Task
from shared.fhir.notifications import notification_request_message
from shared.vocabulary.notification_categories import NotificationCategory
from shared.vocabulary.terms import Language


def referral_parties(message: FhirMessage) -> tuple[str, str, str] | None:
    """(referral id, requester org, owner org) when the referral asks for a teleconsult."""
    task = message.focus_resource(Task)
    if task is None or task.requester is None or task.owner is None:
        return None
    wants_teleconsult = any(
        (coding.system, coding.code) == (codes.SERVICE_CATEGORY_SYSTEM, codes.TELECONSULT)
        for request in message.resources(ServiceRequest)
        for category in request.category or []
        for coding in category.coding or []
    )
    if not wants_teleconsult:
        return None
    return (
        str(task.id),
        str(task.requester.reference).removeprefix("Organization/"),
        str(task.owner.reference).removeprefix("Organization/"),
    )


def teleconsult_requested_message(consult: Consult, *, source_endpoint: str) -> FhirMessage:
    task = Task.model_validate(
        {
            "resourceType": "Task",
            "id": consult.id,
            "status": consult.status.value,
            "intent": "order",
            "priority": "stat",
            "partOf": [{"reference": f"Task/{consult.referral_id}"}],
            "authoredOn": datetime.now(UTC).isoformat(),
            "requester": {"reference": organization_reference(consult.requester_org)},
            "owner": {"reference": organization_reference(consult.consultant_org)},
        }
    )
    return build_message(
        event=EventCode.TELECONSULT_REQUESTED,
        sender=organization_reference(consult.requester_org),
        destinations=[organization_reference(consult.consultant_org)],
        focus=[task],
        source_endpoint=source_endpoint,
    )


def neurologist_alert(consult: Consult, *, consult_url: str, source_endpoint: str) -> FhirMessage:
    """Pages the consultant hospital's on-call neurologist; no patient data beyond the link."""
    return notification_request_message(
        request_id=derived_id("cr-", consult.id),
        category=NotificationCategory.TELECONSULT_REQUEST,
        referral_id=consult.referral_id,
        recipients=[consult.consultant_org],
        english=NOTICES[Notice.CONSULT_REQUESTED].text(Language.ENGLISH),
        thai=NOTICES[Notice.CONSULT_REQUESTED].text(Language.THAI),
        link=consult_url,
        sender=organization_reference(consult.requester_org),
        source_endpoint=source_endpoint,
    )
