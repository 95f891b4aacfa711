"""The consultant's structured recommendation over REST: signed by the consultant hospital's
system (or the consult page) for a named consultant; every version readable by the consult's
two hospitals. A third hospital is told 404, as for a consult that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.telemedicine.adapters import recommendation_store, repository
from services.telemedicine.adapters.recommendation_input import (
    RecommendationIn,
    to_recommendation,
)
from services.telemedicine.adapters.recommendation_json import recommendation_json
from services.telemedicine.domain.errors import ConsultNotFound
from services.telemedicine.entrypoints.deps import ContextDep, json_body_schema, read_body
from services.telemedicine.service import recommendations
from shared.auth import CallerDep
from shared.runtime import RuntimeDep

router = APIRouter()


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
            write=lambda version: to_recommendation(
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
