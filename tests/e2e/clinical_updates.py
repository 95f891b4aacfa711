"""Clinical updates as a hospital system sends them (its Encounter for door-in/out, CT, needle),
and days for KPI tests that no other test counted."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.medicationadministration import MedicationAdministration

from shared.fhir.codes import EventCode
from shared.fhir.envelope import build_message
from shared.fhir.models import Task
from tests.support import as_hospital

BANGKOK = timezone(timedelta(hours=7))


def resource_in(bundle: dict[str, Any], resource_type: str, id_prefix: str = "") -> dict[str, Any]:
    """The first resource of a type (and id prefix) in a message Bundle, to change it."""
    found: dict[str, Any] = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == resource_type
        and e["resource"].get("id", "").startswith(id_prefix)
    )
    return found


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


async def a_day_of_its_own(api: httpx.AsyncClient, hospitals: Iterable[str]) -> datetime:
    """09:00 on a day in a month of the last century that no earlier test counted for these
    hospitals (the test database keeps every run's referrals), so the KPI rows are this test's.
    From 1921: Bangkok's clock has been +07:00 since 1920, local mean time before."""
    while True:
        day = datetime(random.randint(1921, 1999), random.randint(1, 12), 10, 9, 0, tzinfo=BANGKOK)
        month = f"{day.year}-{day.month:02d}"
        rows = [
            await api.get("/reports/kpi", params={"month": month}, headers=as_hospital(org))
            for org in hospitals
        ]
        if all(r.status_code == 200 and r.json() == [] for r in rows):
            return day
