"""The consultant's structured recommendation over REST: signed by the consultant hospital's
system (or the consult page) for a named consultant; every version readable by the consult's
two hospitals. A third hospital is told 404, as for a consult that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.telemedicine.adapters import recommendation_store, repository
from services.telemedicine.adapters.recommendation_json import recommendation_json
from services.telemedicine.domain.dose import Thrombolytic
from services.telemedicine.domain.errors import ConsultNotFound
from services.telemedicine.domain.recommendation import (
    Findings,
    LvoSite,
    Recommendation,
    ThrombolysisDecision,
    recommend,
)
from services.telemedicine.domain.thrombolysis_checklist import Answer
from services.telemedicine.entrypoints.deps import ContextDep, json_body_schema, read_body
from services.telemedicine.service import recommendations
from shared.auth import CallerDep
from shared.runtime import RuntimeDep

router = APIRouter()
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


def _recommendation(
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


@router.post(
    "/consults/{consult_id}/recommendations",
    response_class=JSONResponse,
    openapi_extra=json_body_schema(RecommendationIn),
)
async def sign_recommendation(
    consult_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: ContextDep,
    caller: CallerDep,
) -> JSONResponse:
    """The consultant signs the recommendation (the first version, or an amendment: the next
    version; none is ever overwritten). Refused with 409 when a "give" meets an absolute
    exclusion, or an unknown answer has no override reason."""
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as connection, connection.transaction():
        consult = await repository.get_consult(connection, consult_id=consult_id, party=caller)
        if consult is None:
            raise ConsultNotFound(consult_id)
        body = await read_body(request, RecommendationIn)
        signed = await recommendations.sign(
            connection,
            consult_id=consult_id,
            party=caller,
            write=lambda version: _recommendation(
                body,
                formulary=context.formulary(consult.requester_org),
                now=now,
                version=version,
            ),
            context=context,
            now=now,
        )
    return JSONResponse(recommendation_json(signed), status_code=201)


@router.get("/consults/{consult_id}/recommendations", response_class=JSONResponse)
async def read_recommendations(
    consult_id: str, runtime: RuntimeDep, caller: CallerDep
) -> JSONResponse:
    """Every signed version, oldest first."""
    async with runtime.pool.acquire() as connection:
        consult = await repository.get_consult(connection, consult_id=consult_id, party=caller)
        if consult is None:
            raise ConsultNotFound(consult_id)
        found = await recommendation_store.versions(connection, consult_id=consult_id)
    return JSONResponse(found)
