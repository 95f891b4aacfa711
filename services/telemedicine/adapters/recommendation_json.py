"""A signed recommendation as JSON: how it is stored (each version a row) and shown to the two
hospitals."""

from __future__ import annotations

from typing import Any

from services.telemedicine.domain.recommendation import Recommendation


def recommendation_json(recommendation: Recommendation) -> dict[str, Any]:
    findings = recommendation.findings
    dose = recommendation.dose
    return {
        "version": recommendation.version,
        "signed_by": recommendation.signed_by,
        "signed_at": recommendation.signed_at.isoformat(),
        "findings": {
            "nihss_items": dict(findings.nihss_items),
            "nihss_total": findings.nihss_total,
            "systolic_mmhg": findings.systolic_mmhg,
            "diastolic_mmhg": findings.diastolic_mmhg,
            "heart_rate": findings.heart_rate,
            "weight_kg": str(findings.weight_kg),
            "glucose_mg_dl": findings.glucose_mg_dl,
            "anticoagulant": findings.anticoagulant,
            "anticoagulant_last_dose": (
                findings.anticoagulant_last_dose.isoformat()
                if findings.anticoagulant_last_dose
                else None
            ),
            "haemorrhage": findings.haemorrhage.value,
            "aspects": findings.aspects,
            "lvo_site": findings.lvo_site.value,
        },
        "checklist": {code: answer.value for code, answer in recommendation.checklist.items()},
        "override_reason": recommendation.override_reason,
        "decision": recommendation.decision.value,
        "drug": recommendation.drug.value if recommendation.drug else None,
        "dose": (
            {
                "total_mg": str(dose.total_mg),
                "bolus_mg": str(dose.bolus_mg),
                "infusion_mg": str(dose.infusion_mg),
                "infusion_minutes": dose.infusion_minutes,
            }
            if dose is not None
            else None
        ),
        "thrombectomy_transfer": recommendation.thrombectomy_transfer,
        "target_centre": recommendation.target_centre,
    }
