"""A consult asked first <-> FHIR R4B. In: a hospital system's teleconsult-requested message
(the teleconsult Task with no ``partOf``, its ServiceRequest, the Patient, the last-known-well
and NIHSS Observations, the Encounter of the patient's arrival). Out: the same resources in the
network's teleconsult-requested, so the referral service can start the referral a
recommendation to transfer asks for from what the spoke sent, as it would from a referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient

from services.telemedicine.domain.first_consult import ConsultQuestion
from services.telemedicine.domain.model import Consult
from shared.errors import InvalidInput
from shared.fhir import codes
from shared.fhir.codes import organization_reference
from shared.fhir.envelope import FhirMessage
from shared.fhir.ids import derived_id
from shared.fhir.models import Observation, ServiceRequest, Task
from shared.fhir.references import organization_id
from shared.workflow.task_state import TaskStatus

HN_SYSTEM = f"{codes.PROJECT_CANONICAL}/NamingSystem/hospital-number"
TIME_UNCERTAIN_URL = f"{codes.PROJECT_CANONICAL}/StructureDefinition/time-uncertain"
_TELECONSULT = (codes.SERVICE_CATEGORY_SYSTEM, codes.TELECONSULT)
_LKW = (codes.STROKE_OBSERVATION_SYSTEM, codes.LAST_KNOWN_WELL)
_NIHSS = (codes.LOINC, codes.LOINC_NIHSS_TOTAL)


@dataclass(frozen=True)
class AskedFirst:
    """A hospital system's request for a consult before any referral."""

    request_id: str
    requester_org: str
    consultant_org: str
    requested_at: datetime | None
    question: ConsultQuestion


def asks_first(message: FhirMessage) -> bool:
    """Is this teleconsult-requested a consult asked before any referral (no ``partOf``)?"""
    task = message.focus_resource(Task)
    return task is not None and not task.partOf


def asked_first(message: FhirMessage) -> AskedFirst:
    """Reads a hospital's teleconsult-requested; raises InvalidInput naming what is wrong."""
    task = message.focus_resource(Task)
    if task is None or not task.id:
        raise InvalidInput("The message's focus must be the teleconsult Task", expression="focus")
    if task.status != TaskStatus.REQUESTED:
        raise InvalidInput(
            "A new teleconsult's Task.status must be 'requested'", expression="Task.status"
        )
    requester = organization_id(task.requester.reference if task.requester else None)
    owner = organization_id(task.owner.reference if task.owner else None)
    if requester is None or owner is None:
        raise InvalidInput(
            "Task.requester and Task.owner must reference the spoke and the consultant hospital",
            expression="Task.owner" if requester else "Task.requester",
        )
    if organization_id(message.sender) != requester:
        raise InvalidInput(
            "MessageHeader.sender must be the requesting organization (Task.requester)",
            expression="MessageHeader.sender",
        )
    request = next(
        (
            r
            for r in message.resources(ServiceRequest)
            if any(
                (c.system, c.code) == _TELECONSULT
                for category in r.category or []
                for c in category.coding or []
            )
        ),
        None,
    )
    if request is None:
        raise InvalidInput(
            f"A teleconsult needs its ServiceRequest, category {_TELECONSULT[0]}#{_TELECONSULT[1]}",
            expression="ServiceRequest.category",
        )
    patient_reference = task.for_fhir.reference if task.for_fhir else None
    patient = message.resolve(patient_reference, Patient, within=task)
    if patient is None or not patient.id:
        raise InvalidInput("Task.for must reference a Patient in the Bundle", expression="Task.for")
    hn, hn_system = _hospital_number(patient)
    lkw, lkw_uncertain = _last_known_well(message)
    question = ConsultQuestion(
        patient=f"Patient/{patient.id}",
        hospital_number=hn,
        hospital_number_system=None if hn_system == HN_SYSTEM else hn_system,
        last_known_well=lkw,
        lkw_uncertain=lkw_uncertain,
        door_in=_door_in(message),
        nihss=_nihss(message),
        question=" ".join(str(note.text) for note in request.note or [] if note.text).strip(),
    )
    return AskedFirst(
        request_id=str(task.id),
        requester_org=requester,
        consultant_org=owner,
        requested_at=_aware(task.authoredOn, "Task.authoredOn"),
        question=question,
    )


def _aware(value: object, element: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{element} must be a full date and time", expression=element) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{element} needs a time zone (e.g. +07:00)", expression=element)
    return moment


def _hospital_number(patient: Any) -> tuple[str, str | None]:
    identifiers = [i for i in patient.identifier or [] if i.value]
    chosen = next((i for i in identifiers if i.system == HN_SYSTEM), None) or next(
        iter(identifiers), None
    )
    if chosen is None:
        raise InvalidInput(
            f"The Patient needs its hospital number (an identifier, e.g. system {HN_SYSTEM})",
            expression="Patient.identifier",
        )
    return str(chosen.value), str(chosen.system) if chosen.system else None


def _coded(resource: Any) -> set[tuple[str | None, str | None]]:
    return {(c.system, c.code) for c in (resource.code.coding if resource.code else None) or []}


def _last_known_well(message: FhirMessage) -> tuple[datetime | None, bool]:
    for observation in message.resources(Observation):
        if _LKW in _coded(observation):
            uncertain = any(
                e.url == TIME_UNCERTAIN_URL and e.valueBoolean for e in observation.extension or []
            )
            return _aware(observation.effectiveDateTime, "Observation.effective"), uncertain
    return None, False


def _nihss(message: FhirMessage) -> int | None:
    for observation in message.resources(Observation):
        if _NIHSS in _coded(observation) and observation.valueInteger is not None:
            return int(observation.valueInteger)
    return None


def _door_in(message: FhirMessage) -> datetime | None:
    for encounter in message.resources(Encounter):
        if encounter.period is not None and encounter.period.start is not None:
            return _aware(encounter.period.start, "Encounter.period.start")
    return None


def question_resources(consult: Consult, question: ConsultQuestion) -> list[Any]:
    """The ServiceRequest, Patient, Observations and Encounter the consult was asked with."""
    patient_id = consult.patient.removeprefix("Patient/") if consult.patient else consult.id
    subject = {"reference": f"Patient/{patient_id}"}
    spoke = {"reference": organization_reference(consult.requester_org)}
    resources: list[Any] = [
        ServiceRequest.model_validate(
            {
                "resourceType": "ServiceRequest",
                "id": consult.id,
                "status": "active",
                "intent": "order",
                "priority": "stat",
                "category": [{"coding": [{"system": _TELECONSULT[0], "code": _TELECONSULT[1]}]}],
                "subject": subject,
                "authoredOn": consult.requested_at.isoformat(),
                "requester": spoke,
                "performer": [{"reference": organization_reference(consult.consultant_org)}],
                **({"note": [{"text": question.question}]} if question.question else {}),
            }
        ),
        Patient.model_validate(
            {
                "resourceType": "Patient",
                "id": patient_id,
                "identifier": [
                    {
                        "system": question.hospital_number_system or HN_SYSTEM,
                        "value": question.hospital_number,
                    }
                ],
            }
        ),
    ]
    if question.last_known_well is not None:
        resources.append(
            Observation.model_validate(
                {
                    "resourceType": "Observation",
                    "id": derived_id("lkw-", consult.id),
                    **(
                        {"extension": [{"url": TIME_UNCERTAIN_URL, "valueBoolean": True}]}
                        if question.lkw_uncertain
                        else {}
                    ),
                    "status": "final",
                    "code": {"coding": [{"system": _LKW[0], "code": _LKW[1]}]},
                    "subject": subject,
                    "effectiveDateTime": question.last_known_well.isoformat(),
                }
            )
        )
    if question.nihss is not None:
        resources.append(
            Observation.model_validate(
                {
                    "resourceType": "Observation",
                    "id": derived_id("nihss-", consult.id),
                    "status": "final",
                    "code": {
                        "coding": [
                            {"system": _NIHSS[0], "code": _NIHSS[1], "display": "NIHSS total"}
                        ]
                    },
                    "subject": subject,
                    "valueInteger": question.nihss,
                }
            )
        )
    if question.door_in is not None:
        resources.append(
            Encounter.model_validate(
                {
                    "resourceType": "Encounter",
                    "id": derived_id("er-", consult.id),
                    "status": "in-progress",
                    "class": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "EMER",
                        "display": "emergency",
                    },
                    "subject": subject,
                    "period": {"start": question.door_in.isoformat()},
                    "serviceProvider": spoke,
                }
            )
        )
    return resources
