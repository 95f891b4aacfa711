"""A MessageDefinition per event code: what the message's focus is and what else it carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.messagedefinition import MessageDefinition

from shared.fhir.codes import (
    EVENT_SYSTEM,
    EVENT_TERMS,
    PROJECT_CANONICAL,
    EventCode,
)
from shared.fhir.conformance.metadata import canonical_header
from shared.fhir.conformance.profiles import NOTIFICATION_REQUEST, TASK

E = EventCode
_REFERRAL = "Task (focus), ServiceRequest, Patient, Observations (NIHSS, last known well, LVO)"
_LIFECYCLE = "the referral Task in its new state (statusReason when declined or cancelled)"
_CLINICAL = (
    "the referral Task; Encounter (door-in/out), ImagingStudy (CT), MedicationAdministration "
    "(needle), Procedure (groin puncture)"
)
# event -> (focus type, focus profile, min, max, what the message carries)
FOCUS: Mapping[EventCode, tuple[str, str | None, int, str, str]] = {
    E.STROKE_PREALERT: (
        "Task",
        TASK.url,
        1,
        "1",
        f"{_REFERRAL}; the Patient's hospital number may be missing; last known well required",
    ),
    E.REFERRAL_REQUESTED: ("Task", TASK.url, 1, "1", f"{_REFERRAL}, optionally a teleconsult"),
    E.REFERRAL_RECEIVED: ("Task", TASK.url, 1, "1", _LIFECYCLE),
    E.REFERRAL_ACCEPTED: ("Task", TASK.url, 1, "1", _LIFECYCLE),
    E.REFERRAL_DECLINED: ("Task", TASK.url, 1, "1", _LIFECYCLE),
    E.REFERRAL_CANCELLED: ("Task", TASK.url, 1, "1", _LIFECYCLE),
    E.REFERRAL_REDIRECTED: ("Task", TASK.url, 2, "2", "the old Task and the one replacing it"),
    E.REFERRAL_COMPLETED: ("Task", TASK.url, 1, "1", f"{_LIFECYCLE}; Task.output the outcome"),
    E.CLINICAL_UPDATE: ("Task", TASK.url, 1, "1", _CLINICAL),
    E.TRANSFER_DEPARTED: ("Task", TASK.url, 1, "1", _CLINICAL),
    E.PATIENT_ARRIVED: ("Task", TASK.url, 1, "1", _CLINICAL),
    E.TELECONSULT_REQUESTED: (
        "Task",
        TASK.url,
        1,
        "1",
        "the teleconsult Task, partOf the referral",
    ),
    E.TELECONSULT_UPDATED: (
        "Task",
        TASK.url,
        1,
        "1",
        "the teleconsult Task, partOf the referral, its stage as businessStatus (paging, "
        "accepted, in-video, ...), statusReason when declined, cancelled or failed",
    ),
    E.TELECONSULT_RECOMMENDED: (
        "Task",
        TASK.url,
        1,
        "1",
        "the teleconsult Task (completed); ClinicalImpression (the decision), Observations "
        "(NIHSS, glucose, blood pressure, weight), Communication (the advice as text)",
    ),
    E.NOTIFICATION_REQUESTED: (
        "CommunicationRequest",
        NOTIFICATION_REQUEST.url,
        1,
        "1",
        "the CommunicationRequest (English and Thai texts)",
    ),
    E.NOTIFICATION_SENT: ("Communication", None, 1, "1", "the Communication (status, medium)"),
    E.NOTIFICATION_DELIVERED: ("Communication", None, 1, "1", "the Communication (received)"),
    E.NOTIFICATION_FAILED: (
        "Communication",
        None,
        1,
        "1",
        "the Communication (not-done); statusReason coded from the notification-failure "
        "CodeSystem: delivery-failed (one recipient on one channel, with its medium) or "
        "nobody-reached (the request's final failure: no recipient, or every channel failed)",
    ),
    E.NOTIFICATION_ACKNOWLEDGED: ("Communication", None, 1, "1", "the Communication"),
    E.NOTIFICATION_ESCALATED: ("Communication", None, 1, "1", "the Communication"),
    E.MESSAGE_RESPONSE: ("Task", TASK.url, 0, "*", "the Task in its new state"),
    E.AVAILABILITY_CHANGED: (
        "Organization",
        None,
        1,
        "1",
        "the Organization with an unavailable-capability extension per capability out of service",
    ),
    E.TRANSFER_REQUESTED: (
        "Task",
        TASK.url,
        1,
        "1",
        "the transfer referral Task (from the spoke to the thrombectomy centre the signed "
        "teleconsult recommendation chose)",
    ),
    E.TIME_CRITICAL_ALERT: (
        "CommunicationRequest",
        NOTIFICATION_REQUEST.url,
        1,
        "1",
        "the CommunicationRequest of the alert",
    ),
    E.MONITORING_CHECK_IN: (
        "Observation",
        None,
        1,
        "*",
        "vital-signs Observations (LOINC: SpO2 59408-5, body temperature 8310-5, respiratory "
        "rate 9279-1, heart rate 8867-4; symptoms 75325-1 with a SNOMED CT value) of one "
        "patient, basedOn the episode's CarePlan",
    ),
    E.MONITORING_FLAG_CHANGED: (
        "Flag",
        None,
        1,
        "1",
        "the episode's Flag (its level green, yellow or red, and why); the EpisodeOfCare",
    ),
    E.DIRECTORY_CHANGED: (
        "Organization",
        None,
        1,
        "*",
        "every hospital of the network's directory, whole (id, name, Thai name, stroke "
        "capabilities): a hospital it does not list is not in the network",
    ),
}


def message_definition_url(event: EventCode) -> str:
    return f"{PROJECT_CANONICAL}/MessageDefinition/{event.value}"


def message_definition(event: EventCode, *, answered: bool) -> dict[str, Any]:
    """``answered``: hospital systems send this event, and each one gets a response message."""
    kind, profile, least, most, carries = FOCUS[event]
    data = {
        **canonical_header(
            "MessageDefinition",
            id=event.value,
            name="".join(part.capitalize() for part in event.value.split("-")),
            title=EVENT_TERMS[event].english,
            description=f"{EVENT_TERMS[event].english}. Carries {carries}.",
        ),
        "eventCoding": {"system": EVENT_SYSTEM, "code": event.value},
        "category": "notification",
        "focus": [
            {
                "code": kind,
                **({"profile": profile} if profile else {}),
                "min": least,
                "max": most,
            }
        ],
        "responseRequired": "always" if answered else "never",
    }
    dumped: dict[str, Any] = MessageDefinition.model_validate(data).model_dump(
        mode="json", exclude_none=True
    )
    return dumped
