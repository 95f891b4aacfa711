"""A recommendation as a hospital system or the consult page sends it (JSON, or the page's
form turned into the same shape), checked for its form here and for its clinical sense by
domain/recommendation.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from services.telemedicine.domain.dose import Thrombolytic
from services.telemedicine.domain.recommendation import (
    Findings,
    LvoSite,
    Recommendation,
    ThrombolysisDecision,
    recommend,
)
from services.telemedicine.domain.thrombolysis_checklist import Answer

AnswerText = Literal["yes", "no", "unknown"]


class FindingsIn(BaseModel):
    nihss_items: dict[str, int] = Field(max_length=15)
    systolic_mmhg: int = Field(ge=40, le=300)
    diastolic_mmhg: int = Field(ge=20, le=200)
    heart_rate: int | None = Field(default=None, ge=20, le=250)
    weight_kg: Decimal = Field(max_digits=5, decimal_places=1)
    glucose_mg_dl: int = Field(ge=10, le=1500)
    anticoagulant: str | None = Field(default=None, max_length=60)
    anticoagulant_last_dose: datetime | None = None
    haemorrhage: AnswerText
    aspects: int | None = None
    lvo_site: Literal["none", "ica", "m1", "m2", "basilar", "other", "unknown"] = "unknown"


class RecommendationIn(BaseModel):
    # The consultant who signs (a Practitioner id in the hospital's directory).
    signed_by: str = Field(pattern=r"^[A-Za-z0-9\-\.]{1,64}$")
    findings: FindingsIn
    checklist: dict[str, AnswerText] = Field(max_length=40)
    override_reason: str | None = Field(default=None, max_length=300)
    decision: Literal["give", "do-not-give"]
    drug: Literal["alteplase", "tenecteplase"] | None = None
    thrombectomy_transfer: bool
    target_centre: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-\.]{1,64}$")


def to_recommendation(
    body: RecommendationIn,
    *,
    formulary: frozenset[Thrombolytic],
    now: datetime,
    version: int,
) -> Recommendation:
    findings = body.findings
    return recommend(
        findings=Findings(
            nihss_items=findings.nihss_items,
            systolic_mmhg=findings.systolic_mmhg,
            diastolic_mmhg=findings.diastolic_mmhg,
            heart_rate=findings.heart_rate,
            weight_kg=findings.weight_kg,
            glucose_mg_dl=findings.glucose_mg_dl,
            anticoagulant=findings.anticoagulant,
            anticoagulant_last_dose=findings.anticoagulant_last_dose,
            haemorrhage=Answer(findings.haemorrhage),
            aspects=findings.aspects,
            lvo_site=LvoSite(findings.lvo_site),
        ),
        checklist={code: Answer(answer) for code, answer in body.checklist.items()},
        override_reason=body.override_reason,
        decision=ThrombolysisDecision(body.decision),
        drug=Thrombolytic(body.drug) if body.drug else None,
        formulary=formulary,
        thrombectomy_transfer=body.thrombectomy_transfer,
        target_centre=body.target_centre,
        signed_by=f"Practitioner/{body.signed_by}",
        signed_at=now,
        version=version,
    )
