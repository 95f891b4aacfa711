"""The bedside findings (domain/assessment.py) <-> FHIR R4B Observations, both ways, so a
referral from the web form and one from a hospital system say the same things the same way.

Blood pressure is the LOINC panel 85354-9 with systolic 8480-6 and diastolic 8462-4 components
(mm[Hg]); glucose LOINC 2339-0 in mg/dL; FAST signs, anticoagulant use and the CT's hemorrhage
have no standard code: the project's stroke-observation CodeSystem, valueBoolean, and
dataAbsentReason (http://terminology.hl7.org/CodeSystem/data-absent-reason) for "unknown",
"CT not read yet" (temp-unknown) and "no CT" (not-performed)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.observation import Observation

from services.referral.domain.assessment import (
    Anticoagulant,
    CtResult,
    FastSign,
    StrokeAssessment,
)
from services.referral.domain.errors import InvalidReferral
from shared.fhir import codes
from shared.fhir.envelope import FhirMessage, ResourceJson
from shared.fhir.ids import derived_id

FAST_CODES = {
    FastSign.FACE: codes.FAST_FACE,
    FastSign.ARM: codes.FAST_ARM,
    FastSign.SPEECH: codes.FAST_SPEECH,
}
_ABSENT_ANTICOAGULANT = "unknown"
_CT_ABSENT = {CtResult.PENDING: "temp-unknown", CtResult.NOT_DONE: "not-performed"}
_MM_HG = {"unit": "mmHg", "system": codes.UCUM, "code": "mm[Hg]"}


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _absent(reason: str) -> dict[str, Any]:
    return {"dataAbsentReason": _coding(codes.DATA_ABSENT_REASON_SYSTEM, reason)}


def assessment_observations(
    assessment: StrokeAssessment, *, referral_id: str, patient_ref: str
) -> list[ResourceJson]:
    """The findings as Observations of the referral's Patient (none for what was not recorded),
    as FHIR JSON (shared.fhir.envelope.ResourceJson: written as it is, no model made)."""
    subject = {"reference": f"Patient/{patient_ref}"}
    found: list[ResourceJson] = []

    def observation(prefix: str, code: dict[str, Any], **value: Any) -> None:
        found.append(
            {
                "resourceType": "Observation",
                "id": derived_id(prefix, referral_id),
                "status": "final",
                "code": code,
                "subject": subject,
                **value,
            }
        )

    project = codes.STROKE_OBSERVATION_SYSTEM
    if assessment.fast_signs is not None:
        for sign, code in FAST_CODES.items():
            present = sign in assessment.fast_signs
            observation(f"{code}-", _coding(project, code), valueBoolean=present)
    if assessment.systolic_bp is not None and assessment.diastolic_bp is not None:
        observation(
            "bp-",
            _coding(codes.LOINC, codes.LOINC_BLOOD_PRESSURE_PANEL),
            component=[
                {
                    "code": _coding(codes.LOINC, codes.LOINC_SYSTOLIC),
                    "valueQuantity": {"value": assessment.systolic_bp, **_MM_HG},
                },
                {
                    "code": _coding(codes.LOINC, codes.LOINC_DIASTOLIC),
                    "valueQuantity": {"value": assessment.diastolic_bp, **_MM_HG},
                },
            ],
        )
    if assessment.glucose_mg_dl is not None:
        observation(
            "glucose-",
            _coding(codes.LOINC, codes.LOINC_GLUCOSE),
            valueQuantity={
                "value": assessment.glucose_mg_dl,
                "unit": "mg/dL",
                "system": codes.UCUM,
                "code": "mg/dL",
            },
        )
    if assessment.anticoagulant is not None:
        anticoagulant = _coding(project, codes.ANTICOAGULANT)
        if assessment.anticoagulant is Anticoagulant.UNKNOWN:
            observation("anticoagulant-", anticoagulant, **_absent(_ABSENT_ANTICOAGULANT))
        else:
            observation(
                "anticoagulant-",
                anticoagulant,
                valueBoolean=assessment.anticoagulant is Anticoagulant.YES,
            )
    if assessment.ct is not None:
        ct = _coding(project, codes.CT_HEMORRHAGE)
        if assessment.ct in _CT_ABSENT:
            observation("ct-", ct, **_absent(_CT_ABSENT[assessment.ct]))
        else:
            observation("ct-", ct, valueBoolean=assessment.ct is CtResult.HEMORRHAGE)
    return found


def _codes_of(observation: Observation) -> set[tuple[str | None, str | None]]:
    return {
        (c.system, c.code) for c in (observation.code.coding if observation.code else None) or []
    }


def _absent_code(observation: Observation) -> str | None:
    reason = observation.dataAbsentReason
    return next((str(c.code) for c in reason.coding or [] if c.code), None) if reason else None


def _whole(value: Any, what: str) -> int:
    if value is None:
        raise InvalidReferral(f"{what} has no value", expression="Observation.valueQuantity.value")
    return round(float(value))


def assessment_from_message(message: FhirMessage) -> StrokeAssessment:
    """The findings a referral message carries; raises InvalidReferral on a value out of range."""
    project = codes.STROKE_OBSERVATION_SYSTEM
    fast: dict[FastSign, bool] = {}
    values: dict[str, Any] = {}
    for observation in message.resources(Observation):
        found = _codes_of(observation)
        for sign, code in FAST_CODES.items():
            if (project, code) in found and observation.valueBoolean is not None:
                fast[sign] = bool(observation.valueBoolean)
        if (codes.LOINC, codes.LOINC_BLOOD_PRESSURE_PANEL) in found:
            for component in observation.component or []:
                parts = {(c.system, c.code) for c in component.code.coding or []}
                quantity = component.valueQuantity
                value = quantity.value if quantity is not None else None
                if (codes.LOINC, codes.LOINC_SYSTOLIC) in parts:
                    values["systolic_bp"] = _whole(value, "Systolic blood pressure")
                elif (codes.LOINC, codes.LOINC_DIASTOLIC) in parts:
                    values["diastolic_bp"] = _whole(value, "Diastolic blood pressure")
        elif (codes.LOINC, codes.LOINC_GLUCOSE) in found and observation.valueQuantity:
            values["glucose_mg_dl"] = _whole(observation.valueQuantity.value, "Glucose")
        elif (project, codes.ANTICOAGULANT) in found:
            if observation.valueBoolean is not None:
                yes = bool(observation.valueBoolean)
                values["anticoagulant"] = Anticoagulant.YES if yes else Anticoagulant.NO
            else:
                values["anticoagulant"] = Anticoagulant.UNKNOWN
        elif (project, codes.CT_HEMORRHAGE) in found:
            if observation.valueBoolean is not None:
                bleed = bool(observation.valueBoolean)
                values["ct"] = CtResult.HEMORRHAGE if bleed else CtResult.NO_HEMORRHAGE
            else:
                absent = _absent_code(observation)
                values["ct"] = CtResult.NOT_DONE if absent == "not-performed" else CtResult.PENDING
    if fast:
        values["fast_signs"] = frozenset(sign for sign, present in fast.items() if present)
    return StrokeAssessment(**values)
