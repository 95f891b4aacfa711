"""The network's directory over REST: the hospitals with their capabilities, and what is out of
service at a hospital right now (set by that hospital only)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.referral.adapters import repository
from services.referral.service import handlers
from shared.auth import CallerDep
from shared.runtime import RuntimeDep

router = APIRouter()


class AvailabilityUpdate(BaseModel):
    """What is out of service right now, e.g. ["ct-24h"] while the CT scanner is down."""

    unavailable: list[str]


@router.put("/directory/{organization_id}/availability", response_class=JSONResponse)
async def update_availability(
    organization_id: str, update: AvailabilityUpdate, runtime: RuntimeDep, caller: CallerDep
) -> JSONResponse:
    async with runtime.pool.acquire() as connection, connection.transaction():
        await handlers.set_availability(
            connection,
            organization_id=organization_id,
            sender_org=caller,
            unavailable=update.unavailable,
        )
    return JSONResponse({"id": organization_id, "unavailable": sorted(set(update.unavailable))})


@router.get("/directory", response_class=JSONResponse)
async def directory(runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """The hospitals of the network with their capabilities and what is out of service now."""
    async with runtime.pool.acquire() as connection:
        entries = await repository.directory(connection)
    return JSONResponse(
        [
            {
                "id": entry.id,
                "name": entry.name,
                "capabilities": list(entry.capabilities),
                "unavailable": list(entry.unavailable),
                "latitude": entry.latitude,
                "longitude": entry.longitude,
            }
            for entry in entries
        ]
    )
