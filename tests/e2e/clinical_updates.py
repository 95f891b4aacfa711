"""Clinical updates as a hospital system sends them: its Encounter (door-in/out), CT, needle."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.medicationadministration import MedicationAdministration

from shared.fhir.codes import EventCode
from shared.fhir.envelope import build_message
from shared.fhir.models import Task


def encounter(start: datetime | None = None, end: datetime | None = None) -> Encounter:
    period = {
        **({"start": start.isoformat()} if start else {}),
        **({"end": end.isoformat()} if end else {}),
    }
    return Encounter.model_validate(
        {
            "resourceType": "Encounter",
            "id": f"enc-{uuid.uuid4()}",
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
            "period": period,
        }
    )


def ct(started: datetime) -> ImagingStudy:
    return ImagingStudy.model_validate(
        {
            "resourceType": "ImagingStudy",
            "id": f"ct-{uuid.uuid4()}",
            "status": "available",
            "subject": {"reference": "Patient/p"},
            "started": started.isoformat(),
        }
    )


def needle(given: datetime, at_hospital: str) -> MedicationAdministration:
    return MedicationAdministration.model_validate(
        {
            "resourceType": "MedicationAdministration",
            "id": f"rtpa-{uuid.uuid4()}",
            "status": "completed",
            "medicationCodeableConcept": {"text": "alteplase"},
            "subject": {"reference": "Patient/p"},
            "effectiveDateTime": given.isoformat(),
            "performer": [{"actor": {"reference": f"Organization/{at_hospital}"}}],
        }
    )


def clinical_update(
    referral_id: str, sender: str, receiver: str, *resources: Any
) -> dict[str, Any]:
    task = Task.model_validate(
        {"resourceType": "Task", "id": referral_id, "status": "requested", "intent": "order"}
    )
    message = build_message(
        event=EventCode.CLINICAL_UPDATE,
        sender=f"Organization/{sender}",
        destinations=[f"Organization/{receiver}"],
        focus=[task],
        supporting=list(resources),
        source_endpoint=f"urn:test:{sender}",
    )
    document: dict[str, Any] = json.loads(message.to_json())
    return document
