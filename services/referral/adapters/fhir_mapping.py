"""Referral <-> FHIR R4B (the BSeR pattern: Task + ServiceRequest + Patient + Observations)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance

from services.referral.adapters.clinical_times import (
    as_datetime,
    last_known_well,
    quality_extensions,
    reported_times,
)
from services.referral.domain.lifecycle import ReferralChange
from services.referral.domain.model import (
    InvalidReferral,
    InvalidRequest,
    Referral,
    RequestReferral,
)
from services.referral.domain.task_state import TaskStatus
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.codesystems import TIME_ALERT
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.models import Organization, ServiceRequest, Task
from shared.fhir.notifications import notification_request_message

HN_SYSTEM = f"{codes.PROJECT_CANONICAL}/NamingSystem/hospital-number"
# Clinicians read clock times in the province's own zone.
LOCAL_ZONE = ZoneInfo("Asia/Bangkok")
# Hospital clocks drift; a request stamped a little ahead of ours is still accepted.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)


def _org_id(reference: str | None, *, element: str) -> str:
    if not reference or not reference.startswith("Organization/"):
        raise InvalidReferral(f"{element} must reference an Organization", expression=element)
    return reference.removeprefix("Organization/")


def request_from_message(message: FhirMessage, *, now: datetime) -> RequestReferral:
    """Reads a referral-requested message; raises InvalidReferral saying what is missing."""
    task = message.focus_resource(Task)
    if task is None:
        raise InvalidReferral("The message's focus must be the referral Task", expression="focus")
    if task.status != "requested":
        raise InvalidReferral(
            f"A new referral's Task.status must be 'requested', got {task.status!r}",
            expression="Task.status",
        )
    requester = _org_id(
        task.requester.reference if task.requester else None, element="Task.requester"
    )
    # Without Task.owner the network routes the patient (routing advice picks the hospital).
    owner = _org_id(task.owner.reference, element="Task.owner") if task.owner else ""
    if message.sender != organization_reference(requester):
        raise InvalidReferral(
            "MessageHeader.sender must be the requesting organization (Task.requester)",
            expression="MessageHeader.sender",
        )
    patient = next(
        (
            p
            for p in message.resources(Patient)
            if task.for_fhir and task.for_fhir.reference == f"Patient/{p.id}"
        ),
        None,
    )
    if patient is None:
        raise InvalidReferral(
            "Task.for must reference a Patient in the Bundle", expression="Task.for"
        )
    prealert = message.event is EventCode.STROKE_PREALERT
    hn = next(
        (i.value for i in patient.identifier or [] if i.system == HN_SYSTEM and i.value), None
    )
    if hn is None and prealert:
        hn = ""  # EMS may not know it yet; the full referral brings it
    if hn is None:
        raise InvalidReferral(
            f"The Patient needs an identifier with system {HN_SYSTEM}",
            expression="Patient.identifier",
        )
    nihss: int | None = None
    lvo: bool | None = None
    for observation in message.resources(Observation):
        coding = {(c.system, c.code) for c in observation.code.coding or []}
        if (codes.LOINC, codes.LOINC_NIHSS_TOTAL) in coding:
            nihss = observation.valueInteger
            if nihss is None and observation.valueQuantity is not None:
                assert observation.valueQuantity.value is not None
                nihss = int(observation.valueQuantity.value)
        elif (codes.STROKE_OBSERVATION_SYSTEM, codes.LVO_SUSPECTED) in coding:
            lvo = observation.valueBoolean
    lkw = last_known_well(message)
    teleconsult = any(
        (c.system, c.code) == (codes.SERVICE_CATEGORY_SYSTEM, codes.TELECONSULT)
        for request in message.resources(ServiceRequest)
        for category in request.category or []
        for c in category.coding or []
    )
    # Clinical time: when the sending hospital made the request (recorded time is the row's).
    requested_at = as_datetime(task.authoredOn) or now
    if requested_at > now + CLOCK_SKEW_ALLOWANCE:
        raise InvalidReferral("Task.authoredOn is in the future", expression="Task.authoredOn")
    return RequestReferral(
        referral_id=str(task.id) if task.id else str(uuid.uuid4()),
        request_message_id=message.message_id,
        requester_org=requester,
        owner_org=owner,
        patient_hn=hn,
        patient_gender=patient.gender,
        patient_birth_date=str(patient.birthDate) if patient.birthDate else None,
        last_known_well=lkw.occurred_at if lkw else None,
        lkw_source=lkw.source if lkw else "recorded",
        lkw_uncertain=lkw.uncertain if lkw else False,
        nihss=nihss,
        suspected_lvo=lvo,
        teleconsult_requested=teleconsult,
        requested_at=requested_at,
        prealert=prealert,
        accept_by=as_datetime(
            task.restriction.period.end if task.restriction and task.restriction.period else None
        ),
        reported_times=reported_times(message),
    )


def referral_requested_message(
    request: RequestReferral, *, source_endpoint: str, message_id: str | None = None
) -> FhirMessage:
    """The referral-requested message the network sees (also what the web form produces)."""
    patient_id = f"p-{request.referral_id}"
    service_request_id = f"sr-{request.referral_id}"
    patient = Patient.model_validate(
        {
            "resourceType": "Patient",
            "id": patient_id,
            **(
                {"identifier": [{"system": HN_SYSTEM, "value": request.patient_hn}]}
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
            "id": service_request_id,
            "status": "active",
            "intent": "order",
            "priority": "stat",
            "code": codes.PATIENT_REFERRAL_CODE,
            "subject": {"reference": f"Patient/{patient_id}"},
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
            "focus": {"reference": f"ServiceRequest/{service_request_id}"},
            "for": {"reference": f"Patient/{patient_id}"},
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
                    "id": f"tc-{request.referral_id}",
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
                    "subject": {"reference": f"Patient/{patient_id}"},
                    "requester": {"reference": organization_reference(request.requester_org)},
                    "performer": [{"reference": organization_reference(request.owner_org)}],
                }
            )
        )
    supporting.extend(_observations(request, patient_id))
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
                    "id": f"nihss-{request.referral_id}",
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
                    "id": f"lkw-{request.referral_id}",
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
                    "id": f"lvo-{request.referral_id}",
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
        clock = request.last_known_well.astimezone(LOCAL_ZONE).strftime("%H:%M")
        if request.lkw_uncertain:
            facts.append(f"LKW about {clock} (estimated)")
            facts_th.append(f"ปกติครั้งสุดท้ายประมาณ {clock} น. (เวลาโดยประมาณ)")
        else:
            facts.append(f"LKW {clock}")
            facts_th.append(f"ปกติครั้งสุดท้าย {clock} น.")
    return notification_request_message(
        request_id=f"cr-stroke-team-{request.referral_id}",
        category="stroke-alert",
        referral_id=request.referral_id,
        recipients=[request.owner_org],
        english=f"{kind} {', '.join(facts)}. Open: {referral_url}",
        thai=f"{kind_th} {' '.join(facts_th)} เปิด: {referral_url}",
        sender=organization_reference(request.requester_org),
        source_endpoint=source_endpoint,
    )


def change_from_message(message: FhirMessage, *, now: datetime) -> ReferralChange:
    """Reads a lifecycle message (accepted, declined, departed, ...) about an existing referral."""
    task = message.focus_resource(Task)
    if task is None or not task.id:
        raise InvalidReferral("The message's focus must be the referral Task", expression="focus")
    try:
        status = TaskStatus(task.status) if task.status else None
    except ValueError:
        raise InvalidReferral(
            f"Unknown Task.status {task.status!r}", expression="Task.status"
        ) from None
    reason = task.statusReason.text if task.statusReason else None
    if task.statusReason and not reason:
        reason = next((c.display or c.code for c in task.statusReason.coding or []), None)
    return ReferralChange(
        referral_id=str(task.id),
        event=message.event,
        sender_org=message.sender.removeprefix("Organization/"),
        message_id=message.message_id,
        task_status=status,
        status_reason=reason,
        outcome=_outcome(task),
        occurred_at=as_datetime(task.lastModified) or now,
        reported_times=reported_times(message),
        redirect_to=_redirect_target(message, referral_id=str(task.id)),
    )


def _outcome(task: Task) -> str | None:
    """Task.output as text: a string, or a CodeableConcept's text or first display."""
    for output in task.output or []:
        if output.valueString:
            return str(output.valueString)
        concept = output.valueCodeableConcept
        if concept is not None:
            return concept.text or next(
                (c.display or c.code for c in concept.coding or [] if c.display or c.code), None
            )
    return None


def _redirect_target(message: FhirMessage, *, referral_id: str) -> str | None:
    """For referral-redirected: the owner of the focus Task that is not the referral itself."""
    for reference in message.focus:
        if reference == f"Task/{referral_id}" or not reference.startswith("Task/"):
            continue
        other = next((t for t in message.resources(Task) if f"Task/{t.id}" == reference), None)
        if other is not None and other.owner is not None and other.owner.reference:
            return _org_id(other.owner.reference, element="Task.owner")
    return None


def referral_task(
    referral: Referral,
    *,
    status_reason: str | None = None,
    business_status: str | None = None,
    last_modified: datetime | None = None,
) -> Task:
    """The referral as a FHIR Task (BSeR): what the network and the REST API show."""
    return Task.model_validate(
        {
            "resourceType": "Task",
            "id": referral.id,
            "status": referral.status.value,
            **({"statusReason": {"text": status_reason}} if status_reason else {}),
            **({"businessStatus": {"text": business_status}} if business_status else {}),
            "intent": "order",
            "priority": "stat",
            "focus": {"reference": f"ServiceRequest/sr-{referral.id}"},
            "for": {"reference": f"Patient/p-{referral.id}"},
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
            "id": f"prov-{change.message_id}",
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
        request_id=f"cr-{notice_id}",
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
        request_id=f"cr-alert-{code}-{referral.id}",
        category=TIME_ALERT,
        referral_id=referral.id,
        recipients=recipients,
        english=f"Stroke alert ({code}): {text} Open: {referral_url}",
        thai=f"แจ้งเตือนเวลาวิกฤต ({code}): {thai} เปิด: {referral_url}",
        sender=codes.NETWORK_ORGANIZATION,
        source_endpoint=source_endpoint,
    )
