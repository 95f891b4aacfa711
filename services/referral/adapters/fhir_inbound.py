"""Reading hospital systems' messages into the domain, liberally and correctly.

What a referral must contain is REFERRAL_REQUIREMENTS, published in the README and the AsyncAPI
document; ``request_from_message`` is its reading.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from services.referral.adapters.assessment_fhir import assessment_from_message
from services.referral.adapters.clinical_times import (
    as_datetime,
    last_known_well,
    reported_times,
)
from services.referral.adapters.fhir_mapping import CLOCK_SKEW_ALLOWANCE, HN_SYSTEM
from services.referral.domain.commands import ReferralChange, RequestReferral
from services.referral.domain.errors import InvalidReferral
from shared.fhir import codes
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import ServiceRequest, Task
from shared.fhir.references import organization_id
from shared.workflow.task_state import TaskStatus

V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
MEDICAL_RECORD_NUMBER = "MR"
# Published in the AsyncAPI document (and, in the same words, the README).
REFERRAL_REQUIREMENTS = """\
What a referral (`referral-requested`, or `stroke-prealert`) must contain:

- the MessageHeader first, `focus` = the referral Task; `sender` = your Organization;
- the Task: `status` `requested`, `intent` `order`, `requester` = your Organization, `owner` =
  the receiving Organization (leave it out and the network routes the patient), `for` = the
  Patient;
- the Patient with its hospital number as an `identifier`: in the system
  `https://fasttrack.example.org/fhir/NamingSystem/hospital-number`, or in your hospital's own
  system (declared in the directory: Organization extension
  `https://fasttrack.example.org/fhir/StructureDefinition/patient-identifier-system`, valueUri),
  or typed `MR` (http://terminology.hl7.org/CodeSystem/v2-0203), or the Patient's only
  identifier (a pre-alert may leave it out);
- last known well, as `Condition.onsetDateTime` of the stroke Condition, or as an Observation
  coded `https://fasttrack.example.org/fhir/CodeSystem/stroke-observation#lkw` with
  `effectiveDateTime` (the Observation wins when both are there), with a time zone; required for a
  `stroke-prealert`, optional (but it drives the windows and alerts) for `referral-requested`;
- optionally NIHSS (LOINC 72089-6, valueInteger 0-42), `stroke-observation#lvo-suspected`
  (valueBoolean) and a teleconsult ServiceRequest (category `service-category#teleconsult`);
- optionally the bedside findings: blood pressure (LOINC panel 85354-9 with components 8480-6
  and 8462-4, mm[Hg]), glucose (LOINC 2339-0, mg/dL) and, as `stroke-observation` codes with
  valueBoolean, `fast-face`, `fast-arm`, `fast-speech`, `anticoagulant` (dataAbsentReason
  `unknown` when nobody knows) and `ct-hemorrhage` (dataAbsentReason `temp-unknown` while the
  CT is not read, `not-performed` when there was none).

References may be relative (`Patient/p1`), absolute (`https://his.example/fhir/Patient/p1`) or
`urn:uuid:` (resolved through the entries' `fullUrl`, by the FHIR R4B Bundle rules). Check a
message before sending it with `POST /fhir/Bundle/$validate`: the answer is the OperationOutcome
the real send would give. Profiles: `/fhir/StructureDefinition`; one MessageDefinition per event:
`/fhir/MessageDefinition`.
"""
# Events that exist to start the clock: refused without last known well.
LKW_REQUIRED = frozenset({EventCode.STROKE_PREALERT})
LKW_EXPRESSION = "Condition.onset"


def org_id(reference: str | None, *, element: str) -> str:
    """The Organization id of a reference (relative or absolute)."""
    found = organization_id(reference)
    if found is None:
        raise InvalidReferral(f"{element} must reference an Organization", expression=element)
    return found


def sent_by(message: FhirMessage, organization: str) -> bool:
    """Is MessageHeader.sender (relative or absolute) this Organization?"""
    return organization_id(message.sender) == organization


def sender_mismatch(organization_id: str) -> str:
    return f"MessageHeader.sender must be your organization (Organization/{organization_id})"


def request_from_message(
    message: FhirMessage, *, now: datetime, patient_systems: Mapping[str, str] | None = None
) -> RequestReferral:
    """Reads a referral-requested or stroke-prealert message; raises InvalidReferral saying what
    is missing. ``patient_systems``: each hospital's own patient identifier system."""
    task = message.focus_resource(Task)
    if task is None:
        raise InvalidReferral("The message's focus must be the referral Task", expression="focus")
    if task.status != TaskStatus.REQUESTED:
        raise InvalidReferral(
            f"A new referral's Task.status must be {TaskStatus.REQUESTED.value!r}, "
            f"got {task.status!r}",
            expression="Task.status",
        )
    requester = org_id(
        task.requester.reference if task.requester else None, element="Task.requester"
    )
    # Without Task.owner the network routes the patient (routing advice picks the hospital).
    owner = org_id(task.owner.reference, element="Task.owner") if task.owner else ""
    if org_id(message.sender, element="MessageHeader.sender") != requester:
        raise InvalidReferral(
            "MessageHeader.sender must be the requesting organization (Task.requester)",
            expression="MessageHeader.sender",
        )
    patient_reference = task.for_fhir.reference if task.for_fhir else None
    patient = message.resolve(patient_reference, Patient, within=task)
    if patient is None:
        raise InvalidReferral(
            "Task.for must reference a Patient in the Bundle", expression="Task.for"
        )
    prealert = message.event is EventCode.STROKE_PREALERT
    own_system = (patient_systems or {}).get(requester)
    found = patient_identifier(patient, own_system=own_system)
    if found is None and not prealert:  # EMS may not know it yet; the full referral brings it
        accepted = " or ".join(s for s in (HN_SYSTEM, own_system) if s)
        raise InvalidReferral(
            f"The Patient needs its hospital number: an identifier with system {accepted}, "
            "or one typed MR",
            expression="Patient.identifier",
        )
    hn, hn_system = found or ("", None)
    lkw = last_known_well(message)
    if lkw is None and message.event in LKW_REQUIRED:
        raise InvalidReferral(
            f"A {message.event.value} needs last known well: Condition.onsetDateTime or an "
            f"Observation {codes.STROKE_OBSERVATION_SYSTEM}#{codes.LAST_KNOWN_WELL}",
            expression=LKW_EXPRESSION,
        )
    nihss, lvo = _nihss_and_lvo(message)
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
        patient_hn_system=hn_system,
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
        assessment=assessment_from_message(message),
    )


def patient_identifier(patient: Patient, *, own_system: str | None) -> tuple[str, str] | None:
    """(value, system) of the Patient's hospital number, by the preference documented above."""
    identifiers = [i for i in patient.identifier or [] if i.value and i.system]
    for system in (HN_SYSTEM, own_system):
        for identifier in identifiers:
            if system and identifier.system == system:
                return str(identifier.value), system
    for identifier in identifiers:
        typed = identifier.type.coding or [] if identifier.type else []
        if any((c.system, c.code) == (V2_IDENTIFIER_TYPE, MEDICAL_RECORD_NUMBER) for c in typed):
            return str(identifier.value), str(identifier.system)
    if len(identifiers) == 1:
        return str(identifiers[0].value), str(identifiers[0].system)
    return None


def _nihss_and_lvo(message: FhirMessage) -> tuple[int | None, bool | None]:
    nihss: int | None = None
    lvo: bool | None = None
    for observation in message.resources(Observation):
        coding = {
            (c.system, c.code)
            for c in (observation.code.coding if observation.code else None) or []
        }
        if (codes.LOINC, codes.LOINC_NIHSS_TOTAL) in coding:
            nihss = observation.valueInteger
            if nihss is None and observation.valueQuantity is not None:
                if observation.valueQuantity.value is None:
                    raise InvalidReferral(
                        "The NIHSS Observation's valueQuantity has no value",
                        expression="Observation.valueQuantity.value",
                    )
                nihss = int(observation.valueQuantity.value)
        elif (codes.STROKE_OBSERVATION_SYSTEM, codes.LVO_SUSPECTED) in coding:
            lvo = observation.valueBoolean
    return nihss, lvo


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
        sender_org=org_id(message.sender, element="MessageHeader.sender"),
        message_id=message.message_id,
        task_status=status,
        status_reason=reason,
        outcome=_outcome(task),
        occurred_at=as_datetime(task.lastModified) or now,
        reported_times=reported_times(message),
        redirect_to=_redirect_target(message, referral=task),
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


def _redirect_target(message: FhirMessage, *, referral: Task) -> str | None:
    """For referral-redirected: the owner of the focus Task that is not the referral itself."""
    for reference in message.focus:
        other = message.resolve(reference, Task)
        if other is None or other is referral:
            continue
        if other.owner is not None and other.owner.reference:
            return org_id(other.owner.reference, element="Task.owner")
    return None
