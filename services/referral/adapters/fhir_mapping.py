"""Referral <-> FHIR R4B (the BSeR pattern: Task + ServiceRequest + Patient + Observations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.referral.adapters.assessment_fhir import assessment_observations
from services.referral.adapters.clinical_resources import clinical_time_resources
from services.referral.adapters.clinical_times import (
    quality_extensions,
)
from services.referral.domain.commands import ReferralChange, RequestReferral
from services.referral.domain.errors import InvalidRequest
from services.referral.domain.model import Availability, Referral
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage, ResourceJson, build_message
from shared.fhir.ids import derived_id
from shared.fhir.models import Organization
from shared.workflow.task_state import TaskStatus

HN_SYSTEM = f"{codes.PROJECT_CANONICAL}/NamingSystem/hospital-number"


def patient_id(referral_id: str) -> str:
    """The Patient of a referral's messages."""
    return derived_id("p-", referral_id)


def service_request_id(referral_id: str) -> str:
    """The referral's ServiceRequest (what is asked for)."""
    return derived_id("sr-", referral_id)


# Hospital clocks drift; a request stamped a little ahead of ours is still accepted.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)


def referral_requested_message(
    request: RequestReferral, *, source_endpoint: str, message_id: str | None = None
) -> FhirMessage:
    """The referral-requested message the network sees (also what the web form produces).

    Its resources are written as FHIR JSON and sent as they are: no model is made to be dumped
    again (that was most of the intake's CPU outside the database); the command was checked when
    made, and the test suite parses every message built here back (FT_CHECK_BUILT_MESSAGES)."""
    patient_ref = patient_id(request.referral_id)
    request_ref = service_request_id(request.referral_id)
    patient: ResourceJson = {
        "resourceType": "Patient",
        "id": patient_ref,
        **(
            {
                "identifier": [
                    {
                        "system": request.patient_hn_system or HN_SYSTEM,
                        "value": request.patient_hn,
                    }
                ]
            }
            if request.patient_hn
            else {}
        ),
        **({"gender": request.patient_gender} if request.patient_gender else {}),
        **({"birthDate": request.patient_birth_date} if request.patient_birth_date else {}),
    }
    referral_request: ResourceJson = {
        "resourceType": "ServiceRequest",
        "id": request_ref,
        "status": "active",
        "intent": "order",
        "priority": "stat",
        "code": codes.PATIENT_REFERRAL_CODE,
        "subject": {"reference": f"Patient/{patient_ref}"},
        "authoredOn": request.requested_at.isoformat(),
        "requester": {"reference": organization_reference(request.requester_org)},
        "performer": [{"reference": organization_reference(request.owner_org)}],
    }
    task: ResourceJson = {
        "resourceType": "Task",
        "id": request.referral_id,
        "status": TaskStatus.REQUESTED.value,
        "intent": "order",
        "priority": "stat",
        # Made from a consult asked first: based on that teleconsult's Task.
        **(
            {"basedOn": [{"reference": f"Task/{request.from_consult}"}]}
            if request.from_consult
            else {}
        ),
        "focus": {"reference": f"ServiceRequest/{request_ref}"},
        "for": {"reference": f"Patient/{patient_ref}"},
        "authoredOn": request.requested_at.isoformat(),
        "requester": {"reference": organization_reference(request.requester_org)},
        "owner": {"reference": organization_reference(request.owner_org)},
        **(
            {"restriction": {"period": {"end": request.accept_by.isoformat()}}}
            if request.accept_by
            else {}
        ),
    }
    supporting: list[ResourceJson] = [referral_request, patient]
    if request.teleconsult_requested:
        supporting.append(
            {
                "resourceType": "ServiceRequest",
                "id": derived_id("tc-", request.referral_id),
                "status": "active",
                "intent": "order",
                "priority": "stat",
                "category": [
                    {
                        "coding": [
                            {"system": codes.SERVICE_CATEGORY_SYSTEM, "code": codes.TELECONSULT}
                        ]
                    }
                ],
                "subject": {"reference": f"Patient/{patient_ref}"},
                "requester": {"reference": organization_reference(request.requester_org)},
                "performer": [{"reference": organization_reference(request.owner_org)}],
            }
        )
    supporting.extend(_observations(request, patient_ref))
    supporting.extend(
        assessment_observations(
            request.assessment, referral_id=request.referral_id, patient_ref=patient_ref
        )
    )
    supporting.extend(
        clinical_time_resources(
            request.reported_times, referral_id=request.referral_id, patient_ref=patient_ref
        )
    )
    return build_message(
        event=EventCode.STROKE_PREALERT if request.prealert else EventCode.REFERRAL_REQUESTED,
        sender=organization_reference(request.requester_org),
        destinations=[organization_reference(request.owner_org)],
        focus=[task],
        supporting=supporting,
        source_endpoint=source_endpoint,
        message_id=message_id,
        timestamp=request.requested_at,
    )


def _observations(request: RequestReferral, patient_id: str) -> list[ResourceJson]:
    subject = {"reference": f"Patient/{patient_id}"}
    found: list[ResourceJson] = []
    if request.nihss is not None:
        found.append(
            {
                "resourceType": "Observation",
                "id": derived_id("nihss-", request.referral_id),
                "status": "final",
                "code": {"coding": [{"system": codes.LOINC, "code": codes.LOINC_NIHSS_TOTAL}]},
                "subject": subject,
                "valueInteger": request.nihss,
            }
        )
    if request.last_known_well is not None:
        found.append(
            {
                "resourceType": "Observation",
                "id": derived_id("lkw-", request.referral_id),
                "status": "final",
                "code": {
                    "coding": [
                        {
                            "system": codes.STROKE_OBSERVATION_SYSTEM,
                            "code": codes.LAST_KNOWN_WELL,
                        }
                    ]
                },
                "subject": subject,
                "effectiveDateTime": request.last_known_well.isoformat(),
                **(
                    {"extension": extensions}
                    if (
                        extensions := quality_extensions(
                            source=request.lkw_source, uncertain=request.lkw_uncertain
                        )
                    )
                    else {}
                ),
            }
        )
    if request.suspected_lvo is not None:
        found.append(
            {
                "resourceType": "Observation",
                "id": derived_id("lvo-", request.referral_id),
                "status": "final",
                "code": {
                    "coding": [
                        {"system": codes.STROKE_OBSERVATION_SYSTEM, "code": codes.LVO_SUSPECTED}
                    ]
                },
                "subject": subject,
                "valueBoolean": request.suspected_lvo,
            }
        )
    return found


def referral_task(
    referral: Referral,
    *,
    status_reason: str | None = None,
    business_status: str | None = None,
    last_modified: datetime | None = None,
) -> ResourceJson:
    """The referral as a FHIR Task (BSeR): what the network and the REST API show, as FHIR JSON
    (written as it is: the intake's answer and every step's event carry it; the test suite
    parses every built message back)."""
    if last_modified is not None:
        # Task inv-1: never before authoredOn (a change reported with an earlier clinical time,
        # or a re-routed referral's first step; the clinical time stays in the Provenance).
        last_modified = max(last_modified, referral.created_at)
    return {
        "resourceType": "Task",
        "id": referral.id,
        "status": referral.status.value,
        **({"statusReason": {"text": status_reason}} if status_reason else {}),
        **({"businessStatus": {"text": business_status}} if business_status else {}),
        "intent": "order",
        "priority": "stat",
        "focus": {"reference": f"ServiceRequest/{service_request_id(referral.id)}"},
        "for": {"reference": f"Patient/{patient_id(referral.id)}"},
        "authoredOn": referral.created_at.isoformat(),
        **({"lastModified": last_modified.isoformat()} if last_modified else {}),
        "requester": {"reference": organization_reference(referral.requester_org)},
        "owner": {"reference": organization_reference(referral.owner_org)},
    }


def referral_changed_message(
    referral: Referral, change: ReferralChange, *, business_status: str | None, source_endpoint: str
) -> FhirMessage:
    """The canonical event for the network: the Task in its new state, with its Provenance."""
    task = referral_task(
        referral,
        status_reason=change.status_reason,
        business_status=business_status,
        last_modified=change.occurred_at,
    )
    provenance: ResourceJson = {
        "resourceType": "Provenance",
        "id": derived_id("prov-", change.message_id),
        "target": [{"reference": f"Task/{referral.id}"}],
        "occurredDateTime": change.occurred_at.isoformat(),
        "recorded": datetime.now(UTC).isoformat(),
        "activity": {"coding": [{"system": codes.EVENT_SYSTEM, "code": change.event.value}]},
        "agent": [{"who": {"reference": organization_reference(change.sender_org)}}],
        # Why a time already recorded was changed (a person's correction in the web app).
        **({"reason": [{"text": change.correction_reason}]} if change.correction_reason else {}),
    }
    other_party = (
        referral.owner_org
        if change.sender_org == referral.requester_org
        else referral.requester_org
    )
    return build_message(
        event=change.event,
        sender=organization_reference(change.sender_org),
        destinations=[organization_reference(other_party)],
        focus=[task],
        supporting=[provenance],
        source_endpoint=source_endpoint,
    )


def availability_from_message(message: FhirMessage) -> tuple[str, list[str]]:
    """availability-changed: (organization id, capabilities out of service right now)."""
    organization = message.focus_resource(Organization)
    if organization is None or not organization.id:
        raise InvalidRequest("availability-changed needs the Organization as its focus")
    unavailable = [
        str(extension.valueCode)
        for extension in organization.extension or []
        if extension.url == codes.UNAVAILABLE_CAPABILITY_URL and extension.valueCode
    ]
    return str(organization.id), unavailable


def availability_organization(availability: Availability) -> ResourceJson:
    organization_id = availability.organization_id
    return {
        "resourceType": "Organization",
        "id": organization_id,
        # org-1: an Organization has a name or an identifier.
        "identifier": [{"system": codes.ORGANIZATION_ID_SYSTEM, "value": organization_id}],
        **(
            {
                "extension": [
                    {"url": codes.UNAVAILABLE_CAPABILITY_URL, "valueCode": code}
                    for code in sorted(availability.unavailable)
                ]
            }
            if availability.unavailable
            else {}
        ),
    }


def answer_focus(result: Referral | Availability) -> ResourceJson:
    """What the ``ok`` answer to a hospital's message carries: the referral Task in its new
    state, or the Organization with what it has out of service."""
    if isinstance(result, Availability):
        return availability_organization(result)
    return referral_task(result)


def redirected_message(
    old: Referral, new: Referral, *, reason: str, source_endpoint: str
) -> FhirMessage:
    """referral-redirected: the old Task (final) and the new one that replaces it."""
    old_task = referral_task(old, status_reason=reason)
    new_task = referral_task(new)
    return build_message(
        event=EventCode.REFERRAL_REDIRECTED,
        sender=codes.NETWORK_ORGANIZATION,
        destinations=[
            organization_reference(old.requester_org),
            organization_reference(old.owner_org),
            organization_reference(new.owner_org),
        ],
        focus=[old_task, new_task],
        source_endpoint=source_endpoint,
    )
