"""Referral <-> FHIR R4B (the BSeR pattern: Task + ServiceRequest + Patient + Observations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance

from services.referral.adapters.clinical_resources import clinical_time_resources
from services.referral.adapters.clinical_times import (
    quality_extensions,
)
from services.referral.domain.lifecycle import ReferralChange
from services.referral.domain.model import (
    InvalidRequest,
    Referral,
    RequestReferral,
)
from services.referral.domain.readable_time import english_moment, thai_moment
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.codesystems import TIME_ALERT
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.ids import derived_id
from shared.fhir.models import Organization, ServiceRequest, Task
from shared.fhir.notifications import notification_request_message

HN_SYSTEM = f"{codes.PROJECT_CANONICAL}/NamingSystem/hospital-number"


def patient_id(referral_id: str) -> str:
    """The Patient of a referral's messages."""
    return derived_id("p-", referral_id)


def service_request_id(referral_id: str) -> str:
    """The referral's ServiceRequest (what is asked for)."""
    return derived_id("sr-", referral_id)


# Clinicians read clock times in the province's own zone.
LOCAL_ZONE = ZoneInfo("Asia/Bangkok")
# Hospital clocks drift; a request stamped a little ahead of ours is still accepted.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)


def referral_requested_message(
    request: RequestReferral, *, source_endpoint: str, message_id: str | None = None
) -> FhirMessage:
    """The referral-requested message the network sees (also what the web form produces)."""
    patient_ref = patient_id(request.referral_id)
    request_ref = service_request_id(request.referral_id)
    patient = Patient.model_validate(
        {
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
    )
    referral_request = ServiceRequest.model_validate(
        {
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
    )
    task = Task.model_validate(
        {
            "resourceType": "Task",
            "id": request.referral_id,
            "status": "requested",
            "intent": "order",
            "priority": "stat",
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
    )
    supporting: list[object] = [referral_request, patient]
    if request.teleconsult_requested:
        supporting.append(
            ServiceRequest.model_validate(
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
        )
    supporting.extend(_observations(request, patient_ref))
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
        supporting=supporting,  # type: ignore[arg-type]
        source_endpoint=source_endpoint,
        message_id=message_id,
        timestamp=request.requested_at,
    )


def _observations(request: RequestReferral, patient_id: str) -> list[Observation]:
    subject = {"reference": f"Patient/{patient_id}"}
    found: list[Observation] = []
    if request.nihss is not None:
        found.append(
            Observation.model_validate(
                {
                    "resourceType": "Observation",
                    "id": derived_id("nihss-", request.referral_id),
                    "status": "final",
                    "code": {"coding": [{"system": codes.LOINC, "code": codes.LOINC_NIHSS_TOTAL}]},
                    "subject": subject,
                    "valueInteger": request.nihss,
                }
            )
        )
    if request.last_known_well is not None:
        found.append(
            Observation.model_validate(
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
        )
    if request.suspected_lvo is not None:
        found.append(
            Observation.model_validate(
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
        )
    return found


def stroke_team_alert(
    request: RequestReferral,
    *,
    requester_name: str,
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """notification-requested for the receiving hospital's stroke team (PDPA: minimum data)."""
    kind = "Stroke pre-alert" if request.prealert else "Stroke referral"
    kind_th = "แจ้งเตือนล่วงหน้าผู้ป่วย stroke" if request.prealert else "ส่งต่อผู้ป่วย stroke"
    facts = [f"from {requester_name}"]
    facts_th = [f"จาก {requester_name}"]
    if request.nihss is not None:
        facts.append(f"NIHSS {request.nihss}")
        facts_th.append(f"NIHSS {request.nihss}")
    if request.last_known_well is not None:
        # With its date: an LKW of 23:50 read after midnight must not pass for today's.
        english, thai = (
            english_moment(request.last_known_well),
            thai_moment(request.last_known_well),
        )
        if request.lkw_uncertain:
            facts.append(f"LKW about {english}, estimated")
            facts_th.append(f"ปกติครั้งสุดท้ายประมาณ {thai} (เวลาโดยประมาณ)")
        else:
            facts.append(f"LKW {english}")
            facts_th.append(f"ปกติครั้งสุดท้าย {thai}")
    return notification_request_message(
        request_id=derived_id("cr-stroke-team-", request.referral_id),
        category="stroke-alert",
        referral_id=request.referral_id,
        recipients=[request.owner_org],
        english=f"{kind} {', '.join(facts)}. Open: {referral_url}",
        thai=f"{kind_th} {' '.join(facts_th)} เปิด: {referral_url}",
        sender=organization_reference(request.requester_org),
        source_endpoint=source_endpoint,
    )


def referral_task(
    referral: Referral,
    *,
    status_reason: str | None = None,
    business_status: str | None = None,
    last_modified: datetime | None = None,
) -> Task:
    """The referral as a FHIR Task (BSeR): what the network and the REST API show."""
    if last_modified is not None:
        # Task inv-1: never before authoredOn (a change reported with an earlier clinical time,
        # or a re-routed referral's first step; the clinical time stays in the Provenance).
        last_modified = max(last_modified, referral.created_at)
    return Task.model_validate(
        {
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
    )


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
    provenance = Provenance.model_validate(
        {
            "resourceType": "Provenance",
            "id": derived_id("prov-", change.message_id),
            "target": [{"reference": f"Task/{referral.id}"}],
            "occurredDateTime": change.occurred_at.isoformat(),
            "recorded": datetime.now(UTC).isoformat(),
            "activity": {"coding": [{"system": codes.EVENT_SYSTEM, "code": change.event.value}]},
            "agent": [{"who": {"reference": organization_reference(change.sender_org)}}],
        }
    )
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


def status_notice(
    referral: Referral, change: ReferralChange, *, referral_url: str, source_endpoint: str
) -> FhirMessage:
    """Tells the referring hospital that its referral was accepted or declined."""
    accepted = change.event is EventCode.REFERRAL_ACCEPTED
    verb = "accepted" if accepted else "declined"
    text = f"Your stroke referral was {verb}"
    thai = "โรงพยาบาลปลายทางตอบรับการส่งต่อแล้ว" if accepted else "โรงพยาบาลปลายทางปฏิเสธการส่งต่อ"
    if change.status_reason:
        text += f" ({change.status_reason})"
        thai += f" ({change.status_reason})"
    return requester_notice(
        referral,
        text=text,
        thai=thai,
        notice_id=f"{verb}-{change.message_id}",
        referral_url=referral_url,
        source_endpoint=source_endpoint,
    )


def requester_notice(
    referral: Referral,
    *,
    text: str,
    thai: str,
    notice_id: str,
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """A notification-requested for the referring hospital (PDPA: no patient data)."""
    return notification_request_message(
        request_id=derived_id("cr-", notice_id),
        category="referral-status",
        referral_id=referral.id,
        recipients=[referral.requester_org],
        english=f"{text}. Open: {referral_url}",
        thai=f"{thai} เปิด: {referral_url}",
        sender=organization_reference(referral.owner_org),
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


def availability_organization(organization_id: str, unavailable: list[str]) -> Organization:
    return Organization.model_validate(
        {
            "resourceType": "Organization",
            "id": organization_id,
            # org-1: an Organization has a name or an identifier.
            "identifier": [{"system": codes.ORGANIZATION_ID_SYSTEM, "value": organization_id}],
            "extension": [
                {"url": codes.UNAVAILABLE_CAPABILITY_URL, "valueCode": code}
                for code in sorted(unavailable)
            ],
        }
    )


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


def time_alert(
    referral: Referral,
    *,
    code: str,
    text: str,
    thai: str,
    recipients: list[str],
    referral_url: str,
    source_endpoint: str,
) -> FhirMessage:
    """A time-critical alert for the stroke teams (needs acknowledgement: priority stat)."""
    return notification_request_message(
        request_id=derived_id(f"cr-alert-{code}-", referral.id),
        category=TIME_ALERT,
        referral_id=referral.id,
        recipients=recipients,
        english=f"Stroke alert ({code}): {text} Open: {referral_url}",
        thai=f"แจ้งเตือนเวลาวิกฤต ({code}): {thai} เปิด: {referral_url}",
        sender=codes.NETWORK_ORGANIZATION,
        source_endpoint=source_endpoint,
    )
