"""Clinical times as FHIR resources in the messages the network sends: an Encounter per hospital
(door-in, door-out), ImagingStudy (CT), MedicationAdministration (needle), Procedure (groin
puncture); each names its hospital and says how sure its time is, exactly as a hospital sends
them to us (adapters/clinical_times.py reads them back)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from services.referral.adapters.clinical_times import quality_extensions
from services.referral.domain.clock import Milestone
from services.referral.domain.commands import ClinicalTime, ReportedTime
from shared.fhir.codes import organization_reference
from shared.fhir.envelope import ResourceJson
from shared.fhir.ids import derived_id
from shared.vocabulary.milestones import MilestoneCode

M = MilestoneCode
K = ClinicalTime
# Clock milestones as the clinical times a hospital reports (where they happened is kept).
_REPORTED_KIND = {
    M.DOOR_IN_FIRST: K.DOOR_IN,
    M.DOOR_IN_RECEIVING: K.DOOR_IN,
    M.DOOR_OUT_FIRST: K.DOOR_OUT,
    M.CT_STARTED: K.CT_STARTED,
    M.NEEDLE: K.NEEDLE,
    M.GROIN_PUNCTURE: K.GROIN_PUNCTURE,
}
_EMERGENCY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"}


def reported_from_clock(milestones: Iterable[Milestone]) -> tuple[ReportedTime, ...]:
    """The clinical times of a patient's clock, for the referral that re-routes the patient."""
    return tuple(
        ReportedTime(
            kind=_REPORTED_KIND[m.code],
            occurred_at=m.occurred_at,
            source=m.source.value,
            uncertain=m.uncertain,
            hospital=m.hospital,
        )
        for m in milestones
        if m.code in _REPORTED_KIND
    )


def _series(resource_id: str, performer: list[dict[str, Any]]) -> dict[str, Any]:
    """A CT series, only to name who performed it: a stable DICOM UID under the UUID arc 2.25."""
    digest = int(hashlib.sha256(resource_id.encode()).hexdigest()[:30], 16)
    return {
        "uid": f"2.25.{digest}",
        "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CT"},
        "performer": performer,
    }


def _quality(time: ReportedTime) -> dict[str, Any]:
    extensions = quality_extensions(source=time.source, uncertain=time.uncertain)
    return {"extension": extensions} if extensions else {}


def clinical_time_resources(
    times: Iterable[ReportedTime], *, referral_id: str, patient_ref: str
) -> list[ResourceJson]:
    """The resources that carry ``times`` (unknown hospitals are left unnamed), as FHIR JSON
    (shared.fhir.envelope.ResourceJson: written as it is, no model made)."""
    subject = {"reference": f"Patient/{patient_ref}"}
    found: list[ResourceJson] = []
    encounters: dict[str | None, dict[str, Any]] = {}
    for n, time in enumerate(times):
        at = time.hospital
        actor = [{"actor": {"reference": organization_reference(at)}}] if at else []
        resource_id = derived_id(f"t{n}-", referral_id)
        if time.kind in (K.DOOR_IN, K.DOOR_OUT):
            encounter = encounters.setdefault(
                at,
                {
                    "resourceType": "Encounter",
                    "id": derived_id(f"enc{len(encounters)}-", referral_id),
                    "status": "in-progress",
                    "class": _EMERGENCY,
                    "subject": subject,
                    **(
                        {"serviceProvider": {"reference": organization_reference(at)}} if at else {}
                    ),
                    "period": {},
                },
            )
            edge = "start" if time.kind is K.DOOR_IN else "end"
            encounter["period"][edge] = time.occurred_at.isoformat()
            if time.kind is K.DOOR_OUT:
                encounter["status"] = "finished"
            quality = _quality(time)
            if quality:
                encounter["period"][f"_{edge}"] = quality
        elif time.kind is K.CT_STARTED:
            found.append(
                {
                    "resourceType": "ImagingStudy",
                    "id": resource_id,
                    "status": "available",
                    "subject": subject,
                    "started": time.occurred_at.isoformat(),
                    **({"series": [_series(resource_id, actor)]} if actor else {}),
                    **_quality(time),
                }
            )
        elif time.kind is K.NEEDLE:
            found.append(
                {
                    "resourceType": "MedicationAdministration",
                    "id": resource_id,
                    "status": "completed",
                    "medicationCodeableConcept": {"text": "thrombolytic"},
                    "subject": subject,
                    "effectiveDateTime": time.occurred_at.isoformat(),
                    **({"performer": actor} if actor else {}),
                    **_quality(time),
                }
            )
        elif time.kind is K.GROIN_PUNCTURE:
            found.append(
                {
                    "resourceType": "Procedure",
                    "id": resource_id,
                    "status": "in-progress",
                    "subject": subject,
                    "performedDateTime": time.occurred_at.isoformat(),
                    **({"performer": actor} if actor else {}),
                    **_quality(time),
                }
            )
    found[:0] = encounters.values()
    return found
