"""HTTP entry points of the notifier: the delivery log of a referral."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.notifier.adapters import delivery_views
from services.notifier.entrypoints.deps import (
    ContactsDep,
    DeliveryMetricsDep,
    DispatcherDep,
)
from services.notifier.service.acknowledgements import acknowledge
from services.notifier.service.replay import replay
from shared.auth import CallerDep
from shared.runtime import RuntimeDep

router = APIRouter()


@router.get("/deliveries", response_class=JSONResponse)
async def delivery_log(referral: str, runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """Who was told what about a referral, on which channel, and who acknowledged.

    For the hospitals of the referral as the notifier knows them: those its alerts about the
    referral were sent to (the notifier has no other record of a referral's parties).
    """
    async with runtime.pool.acquire() as connection:
        deliveries = await delivery_views.deliveries_for_referral(connection, referral_id=referral)
    if deliveries and all(delivery.hospital != caller for delivery in deliveries):
        raise HTTPException(403, "This referral's alerts were not sent to your hospital")
    return JSONResponse(jsonable_encoder(deliveries))


@router.get("/on-call", response_class=JSONResponse)
async def on_call_now(contacts: ContactsDep, caller: CallerDep) -> JSONResponse:
    """Who the caller's hospital pages right now, role by role, and for which alerts."""
    return JSONResponse({"hospital": caller, **contacts.roster_now(caller, at=datetime.now(UTC))})


@router.get("/dead-letters", response_class=JSONResponse)
async def list_dead_letters(runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """The caller's hospital's deliveries that finally failed, with the reason, to replay
    (operators see every hospital's with ``python -m services.notifier.replay``)."""
    async with runtime.pool.acquire() as connection:
        failed = await delivery_views.dead_letters(connection, hospital=caller)
    return JSONResponse(jsonable_encoder(failed))


@router.post("/deliveries/{delivery_id}/replay", response_class=JSONResponse)
async def replay_delivery(
    delivery_id: str, runtime: RuntimeDep, dispatcher: DispatcherDep, caller: CallerDep
) -> JSONResponse:
    """Sends one of the caller's hospital's failed deliveries again."""
    async with runtime.pool.acquire() as connection:
        await replay(connection, delivery_id=delivery_id, hospital=caller)
    dispatcher.wake()
    return JSONResponse({"id": delivery_id, "status": "pending"})


@router.post("/deliveries/{delivery_id}/acknowledge", response_class=JSONResponse)
async def acknowledge_delivery(
    delivery_id: str, runtime: RuntimeDep, metrics: DeliveryMetricsDep, caller: CallerDep
) -> JSONResponse:
    """Acknowledgement from the web page or a hospital system (LINE uses its own webhook);
    a hospital acknowledges only what was sent to it."""
    async with runtime.pool.acquire() as connection, connection.transaction():
        first = await acknowledge(
            connection,
            delivery_id=delivery_id,
            acknowledged_by=caller,
            channel="web",
            at=datetime.now(UTC),
            hospital=caller,
        )
    if first:
        metrics.acknowledged(channel="web")
    return JSONResponse({"id": delivery_id, "acknowledged": True, "first": first})
