"""The signed recommendation as a FHIR message back to the referral (teleconsult-recommended):
the consult Task, completed, with the decision in ``Task.output``; the findings as Observations
(NIHSS total, blood pressure, glucose, weight); the advice as a Communication from the
consultant to the spoke (the teleconsult pattern: a Communication carries the advice)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.telemedicine.adapters.fhir_mapping import consult_task
from services.telemedicine.domain.model import Consult
from services.telemedicine.domain.recommendation import Recommendation, ThrombolysisDecision
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.ids import derived_id
from shared.fhir.models import Communication, Task, get_fhir_model_class

UCUM = "http://unitsofmeasure.org"
OUTPUT_SYSTEM = codes.TELECONSULT_OUTPUT_SYSTEM


def recommendation_message(
    consult: Consult, recommendation: Recommendation, *, source_endpoint: str
) -> FhirMessage:
    task = consult_task(consult)
    # The step's time is the signature's (the referral's timeline and the consult's decision
    # time read it; without it they would take the request's time, authoredOn).
    task["lastModified"] = recommendation.signed_at.isoformat()
    task["output"] = _outputs(recommendation)
    observations = _observations(consult, recommendation)
    return build_message(
        event=EventCode.TELECONSULT_RECOMMENDED,
        sender=organization_reference(consult.consultant_org),
        destinations=[organization_reference(consult.requester_org)],
        focus=[Task.model_validate(task)],
        supporting=[_advice(consult, recommendation, observations), *observations],
        source_endpoint=source_endpoint,
        timestamp=recommendation.signed_at,
    )


def _output(code: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": {"coding": [{"system": OUTPUT_SYSTEM, "code": code}], "text": code}, **value}


def _outputs(recommendation: Recommendation) -> list[dict[str, Any]]:
    outputs = [
        _output("version", {"valueInteger": recommendation.version}),
        _output("signed-by", {"valueReference": {"reference": recommendation.signed_by}}),
        _output("thrombolysis", {"valueString": recommendation.decision.value}),
        _output("thrombectomy-transfer", {"valueBoolean": recommendation.thrombectomy_transfer}),
    ]
    if recommendation.dose is not None:
        outputs.append(_output("drug", {"valueString": recommendation.dose.drug.value}))
        outputs.append(
            _output(
                "dose",
                {"valueQuantity": _mg(recommendation.dose.total_mg)},
            )
        )
    if recommendation.target_centre:
        outputs.append(
            _output(
                "target-centre",
                {
                    "valueReference": {
                        "reference": organization_reference(recommendation.target_centre)
                    }
                },
            )
        )
    return outputs


def _mg(value: object) -> dict[str, Any]:
    return {"value": float(str(value)), "unit": "mg", "system": UCUM, "code": "mg"}


def _observations(consult: Consult, recommendation: Recommendation) -> list[Any]:
    observation = get_fhir_model_class("Observation")
    findings = recommendation.findings
    base = {
        "resourceType": "Observation",
        "status": "final" if recommendation.version == 1 else "amended",
        "effectiveDateTime": recommendation.signed_at.isoformat(),
        "performer": [{"reference": recommendation.signed_by}],
        **({"subject": {"reference": consult.patient}} if consult.patient else {}),
        "basedOn": [{"reference": f"ServiceRequest/{derived_id('sr-', consult.referral_id)}"}],
    }

    def made(kind: str, code: str, display: str, **value: Any) -> Any:
        return observation.model_validate(
            {
                **base,
                "id": derived_id(f"{kind}-v{recommendation.version}-", consult.id),
                "code": {"coding": [{"system": codes.LOINC, "code": code, "display": display}]},
                **value,
            }
        )

    return [
        made(
            "nihss",
            codes.LOINC_NIHSS_TOTAL,
            "NIH Stroke Scale total",
            valueInteger=findings.nihss_total,
        ),
        made(
            "glucose",
            "2339-0",
            "Glucose [Mass/volume] in Blood",
            valueQuantity={
                "value": findings.glucose_mg_dl,
                "unit": "mg/dL",
                "system": UCUM,
                "code": "mg/dL",
            },
        ),
        made(
            "weight",
            "29463-7",
            "Body weight",
            valueQuantity={
                "value": float(findings.weight_kg),
                "unit": "kg",
                "system": UCUM,
                "code": "kg",
            },
        ),
        made(
            "bp",
            "85354-9",
            "Blood pressure panel",
            component=[
                _pressure("8480-6", "Systolic blood pressure", findings.systolic_mmhg),
                _pressure("8462-4", "Diastolic blood pressure", findings.diastolic_mmhg),
            ],
        ),
    ]


def _pressure(code: str, display: str, value: int) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": codes.LOINC, "code": code, "display": display}]},
        "valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
    }


def _advice(consult: Consult, recommendation: Recommendation, observations: list[Any]) -> Any:
    return Communication.model_validate(
        {
            "resourceType": "Communication",
            "id": derived_id(f"advice-v{recommendation.version}-", consult.id),
            "status": "completed",
            "partOf": [{"reference": f"Task/{consult.id}"}],
            "about": [{"reference": f"Task/{consult.referral_id}"}],
            "sender": {"reference": recommendation.signed_by},
            "recipient": [{"reference": organization_reference(consult.requester_org)}],
            "sent": recommendation.signed_at.isoformat(),
            "reasonReference": [{"reference": f"Observation/{o.id}"} for o in observations],
            "payload": [{"contentString": advice_text(recommendation)}],
        }
    )


def advice_text(recommendation: Recommendation) -> str:
    """The advice in one line of English (the structured fields say the same in Task.output)."""
    dose = recommendation.dose
    if recommendation.decision is ThrombolysisDecision.GIVE and dose is not None:
        lysis = f"Give {dose.drug.value} {dose.total_mg} mg"
        if dose.infusion_minutes:
            lysis += (
                f" ({dose.bolus_mg} mg bolus, {dose.infusion_mg} mg over "
                f"{dose.infusion_minutes} min)"
            )
        else:
            lysis += " (single bolus)"
    else:
        lysis = "Do not give thrombolysis"
    transfer = (
        f"transfer for thrombectomy to {recommendation.target_centre}"
        if recommendation.thrombectomy_transfer
        else "no thrombectomy transfer"
    )
    amended = (
        f" (amendment, version {recommendation.version})" if recommendation.version > 1 else ""
    )
    return f"{lysis}; {transfer}.{amended}"


def needle_confirmed_message(
    consult: Consult,
    *,
    version: int,
    needle_at: datetime,
    confirmed_by: str,
    source_endpoint: str,
    now: datetime,
) -> FhirMessage:
    """teleconsult-updated from the spoke: the thrombolysis of recommendation ``version`` was
    started at ``needle_at`` (Task.output ``needle``), as ``confirmed_by`` confirmed."""
    task = consult_task(consult)
    task["lastModified"] = now.isoformat()
    task["output"] = [
        _output("version", {"valueInteger": version}),
        _output("needle", {"valueDateTime": needle_at.isoformat()}),
        _output("needle-confirmed-by", {"valueString": confirmed_by}),
    ]
    return build_message(
        event=EventCode.TELECONSULT_UPDATED,
        sender=organization_reference(consult.requester_org),
        destinations=[organization_reference(consult.consultant_org)],
        focus=[Task.model_validate(task)],
        source_endpoint=source_endpoint,
        timestamp=now,
    )
