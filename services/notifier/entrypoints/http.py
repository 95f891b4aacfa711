"""HTTP entry points of the notifier: the delivery log of a referral, for its hospitals and
operators; dead letters and their replay, for operators only (shared/auth.py: operator keys,
or a signed-in operator through the proxy); a hospital's key there is answered 403."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.notifier.adapters import delivery_views, operator_access
from services.notifier.entrypoints.deps import (
    ContactsDep,
    DeliveryMetricsDep,
    DispatcherDep,
)
from services.notifier.service.acknowledgements import acknowledge, person_acknowledging
from services.notifier.service.replay import replay
from shared.auth import (
    CallerDep,
    CallerOrOperatorDep,
    OperatorDep,
    caller_organization,
    operator_or_hospital,
)
from shared.runtime import RuntimeDep
from shared.web_identity import MaybePersonDep

router = APIRouter()


@router.get("/deliveries", response_class=JSONResponse)
async def delivery_log(
    referral: str, runtime: RuntimeDep, caller: CallerOrOperatorDep
) -> JSONResponse:
    """Who was told what about a referral, on which channel, and who acknowledged.

    For operators, and for the hospitals of the referral as the notifier knows them: the one
    that asked for its notifications and those they were sent to (scoped in the query).
    """
    async with runtime.pool.acquire() as connection:
        deliveries = await delivery_views.deliveries_for_referral(
            connection, referral_id=referral, hospital=caller.hospital
        )
        if (
            not deliveries
            and not caller.is_operator
            and await operator_access.referral_known(connection, referral_id=referral)
        ):
            raise HTTPException(403, "Your hospital takes no part in this referral")
    return JSONResponse(jsonable_encoder(deliveries))


@router.get("/on-call", response_class=JSONResponse)
async def on_call_now(contacts: ContactsDep, caller: CallerDep) -> JSONResponse:
    """Who the caller's hospital pages right now, role by role, and for which alerts."""
    return JSONResponse({"hospital": caller, **contacts.roster_now(caller, at=datetime.now(UTC))})


@router.get("/dead-letters", response_class=JSONResponse)
async def list_dead_letters(
    runtime: RuntimeDep, _: OperatorDep, hospital: str | None = None
) -> JSONResponse:
    """Every hospital's deliveries that finally failed (or one ``hospital``'s), newest first,
    with the reason, to replay."""
    async with runtime.pool.acquire() as connection:
        failed = await delivery_views.dead_letters(connection, hospital=hospital)
    return JSONResponse(jsonable_encoder(failed))


@router.post("/deliveries/{delivery_id}/replay", response_class=JSONResponse)
async def replay_delivery(
    delivery_id: str, runtime: RuntimeDep, dispatcher: DispatcherDep, operator: OperatorDep
) -> JSONResponse:
    """Sends a failed delivery again; the audit records who, when and which."""
    async with runtime.pool.acquire() as connection:
        await replay(connection, delivery_id=delivery_id, by=operator.who)
    dispatcher.wake()
    return JSONResponse({"id": delivery_id, "status": "pending"})


@router.post("/deliveries/{delivery_id}/acknowledge", response_class=JSONResponse)
async def acknowledge_delivery(
    delivery_id: str,
    request: Request,
    runtime: RuntimeDep,
    metrics: DeliveryMetricsDep,
    person: MaybePersonDep,
) -> JSONResponse:
    """Acknowledgement from the live page of a signed-in person (through the proxy: the person
    is recorded) or from a hospital system (the hospital is); LINE uses its own webhook. A
    hospital acknowledges only what was sent to it; an operator has no alerts to acknowledge."""
    if person is None:
        hospital = caller_organization(request)  # a hospital system's key; 401 without
    else:
        persons = operator_or_hospital(request).hospital  # a page's script (CSRF header)
        if persons is None:
            raise HTTPException(403, "Alerts are acknowledged by their hospital, not operators")
        hospital = persons
    async with runtime.pool.acquire() as connection, connection.transaction():
        first = await acknowledge(
            connection,
            delivery_id=delivery_id,
            acknowledged_by=person_acknowledging(person) if person else hospital,
            channel="web",
            at=datetime.now(UTC),
            hospital=hospital,
        )
    if first:
        metrics.acknowledged(channel="web")
    return JSONResponse({"id": delivery_id, "acknowledged": True, "first": first})
