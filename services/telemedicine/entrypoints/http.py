"""HTTP entry points of the telemedicine service."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.telemedicine.adapters import repository
from shared.runtime import RuntimeDep

router = APIRouter()


@router.get("/consults", response_class=JSONResponse)
async def list_consults(referral: str, runtime: RuntimeDep) -> JSONResponse:
    async with runtime.pool.acquire() as connection:
        consults = await repository.consults_for_referral(connection, referral_id=referral)
    return JSONResponse(
        [
            {
                "id": c.id,
                "referral": c.referral_id,
                "status": c.status.value,
                "requester": c.requester_org,
                "consultant": c.consultant_org,
            }
            for c in consults
        ]
    )
