"""Home-isolation check-ins in FHIR, as both ends of the LINE path need them: the notifier turns
a patient's LINE answer into a monitoring-check-in message, telemedicine reads it. A symptom is
an Observation coded LOINC 75325-1 ("Symptom") whose value is a SNOMED CT finding; the LINE user
who answered is the performer (an identifier: LINE users are in no FHIR directory)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from shared.fhir.codes import LOINC, NETWORK_ORGANIZATION, SNOMED, EventCode
from shared.fhir.envelope import build_message
from shared.fhir.ids import derived_id
from shared.fhir.message import FhirMessage
from shared.fhir.models import Observation

LOINC_SYMPTOM = "75325-1"
# The answers a patient gives (the symptom codes telemedicine's rules know) -> SNOMED CT.
SYMPTOM_SNOMED: Mapping[str, str] = {
    "none": "84387000",  # Asymptomatic
    "dyspnoea": "267036007",
    "chest-pain": "29857009",
    "confusion": "286933003",
    "fever": "386661006",
    "cough": "49727002",
}
LINE_USER_SYSTEM = "https://developers.line.biz/userId"
SURVEY_CATEGORY = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
    ]
}


def care_plan_reference(episode_id: str) -> str:
    """The CarePlan of an episode's check-ins (what a check-in's Observations are based on)."""
    return f"CarePlan/{derived_id('cp-', episode_id)}"


def symptom_observation(
    *, answer: str, care_plan: str, at: datetime, line_user: str | None = None
) -> Observation:
    return Observation.model_validate(
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [SURVEY_CATEGORY],
            "code": {"coding": [{"system": LOINC, "code": LOINC_SYMPTOM}]},
            "basedOn": [{"reference": care_plan}],
            "effectiveDateTime": at.isoformat(),
            "valueCodeableConcept": {
                "coding": [{"system": SNOMED, "code": SYMPTOM_SNOMED[answer]}]
            },
            **(
                {"performer": [{"identifier": {"system": LINE_USER_SYSTEM, "value": line_user}}]}
                if line_user
                else {}
            ),
        }
    )


def line_check_in_message(
    *,
    episode_id: str,
    answer: str,
    line_user: str,
    at: datetime,
    event_id: str,
    source_endpoint: str,
) -> FhirMessage:
    """monitoring-check-in from the network (the notifier's LINE webhook); its id is derived
    from LINE's webhook event id, so a redelivered event is the same message."""
    return build_message(
        event=EventCode.MONITORING_CHECK_IN,
        sender=NETWORK_ORGANIZATION,
        destinations=[],
        focus=[
            symptom_observation(
                answer=answer,
                care_plan=care_plan_reference(episode_id),
                at=at,
                line_user=line_user,
            )
        ],
        source_endpoint=source_endpoint,
        message_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"line-webhook-event:{event_id}")),
        timestamp=at,
    )
