"""HTTP entry points of the notifier: the delivery log of a referral."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.notifier.adapters import repository
from shared.runtime import RuntimeDep

router = APIRouter()


@router.get("/deliveries", response_class=JSONResponse)
async def delivery_log(referral: str, runtime: RuntimeDep) -> JSONResponse:
    async with runtime.pool.acquire() as connection:
        deliveries = await repository.deliveries_for_referral(connection, referral_id=referral)
    return JSONResponse(jsonable_encoder(deliveries))
